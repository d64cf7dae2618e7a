"""Serving one charged generation on any surface, streamed or not.

Every generating route (/chat, /v1/chat/completions, /api/chat,
/api/generate) builds a `ChargedRequest` and a renderer for its wire format,
and hands them to `serve`: admission, idempotency, disconnects, settlement
and the credit headers happen here once, so every surface bills alike.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from gemmachat import idempotency
from gemmachat.api.billing import credit_headers, note_for_log
from gemmachat.api.deps import Caller
from gemmachat.backends.base import GenerationRequest
from gemmachat.errors import GemmaChatError
from gemmachat.gateway import Gateway
from gemmachat.metering import MeteredGeneration, Outcome


class Renderer(Protocol):
    """A surface's wire format. One instance serves one request."""

    media_type: str

    def body(self, outcome: Outcome) -> dict: ...

    def start(self) -> list[bytes]: ...

    def piece(self, text: str) -> bytes: ...

    def end(self, outcome: Outcome) -> list[bytes]: ...

    def error(self, error: GemmaChatError) -> bytes: ...


@dataclass
class ChargedRequest:
    route: str
    generation: GenerationRequest
    input_tokens: int
    stream: bool
    renderer: Renderer
    # Runs once the answer is complete, e.g. to store a session's turns; it
    # may add fields to `outcome.extra`.
    after: Callable[[Outcome], Awaitable[None]] | None = None


class _Idempotency:
    def __init__(self, request: Request, gateway: Gateway, caller: Caller, route):
        self.engine = gateway.engine
        self.key = idempotency.checked_key(request.headers.get("idempotency-key"))
        self.where = (f"charged:{route}", f"account:{caller.account.id}", self.key)

    async def claim(self, request: Request) -> Outcome | None:
        if self.key is None:
            return None
        fingerprint = idempotency.fingerprint(await request.body())
        stored = await idempotency.claim(self.engine, *self.where, fingerprint)
        return Outcome.from_json(stored) if stored else None

    async def store(self, outcome: Outcome) -> None:
        if self.key is not None:
            await idempotency.store(self.engine, *self.where, outcome.to_json())

    async def abandon(self) -> None:
        if self.key is not None:
            with anyio.CancelScope(shield=True):
                await idempotency.abandon(self.engine, *self.where)


async def serve(
    request: Request, gateway: Gateway, caller: Caller, charged: ChargedRequest
) -> Response:
    once = _Idempotency(request, gateway, caller, charged.route)
    stored = await once.claim(request)
    if stored is not None:
        return _replay(charged, stored)
    call = MeteredGeneration(
        gateway,
        caller.account,
        charged.route,
        request.state.request_id,
        charged.generation,
        charged.input_tokens,
    )
    try:
        await call.admit()
    except BaseException:
        await once.abandon()
        raise
    if charged.stream:
        return StreamingResponse(
            _stream(request, call, charged, once),
            media_type=charged.renderer.media_type,
            headers={"Cache-Control": "no-cache", **_limit_headers(call)},
        )
    return await _whole(request, call, charged, once)


async def _whole(request, call, charged: ChargedRequest, once) -> Response:
    try:
        text = await _complete(request, call)
    except BaseException as error:
        await call.finish(error)
        await once.abandon()
        note_for_log(request, call)
        raise
    await call.finish(None)
    note_for_log(request, call)
    if text is None:
        await once.abandon()
        return Response(status_code=499)  # nobody is listening any more
    outcome = await _conclude(call, charged, text, once)
    headers = _headers(outcome) | _limit_headers(call)
    return JSONResponse(charged.renderer.body(outcome), headers=headers)


async def _stream(request, call, charged: ChargedRequest, once) -> AsyncIterator[bytes]:
    renderer, parts, failure = charged.renderer, [], None
    try:
        for chunk in renderer.start():
            yield chunk
        async for piece in call.pieces():
            parts.append(piece)
            if chunk := renderer.piece(piece):
                yield chunk
    except GemmaChatError as error:
        failure = error
    except BaseException as error:  # the caller hung up: stop and settle
        await call.finish(error)
        await once.abandon()
        note_for_log(request, call)
        raise
    await call.finish(failure)
    note_for_log(request, call)
    if failure is not None:
        await once.abandon()
        yield renderer.error(failure)
        return
    outcome = await _conclude(call, charged, "".join(parts), once)
    for chunk in renderer.end(outcome):
        yield chunk


async def _conclude(call, charged: ChargedRequest, text: str, once) -> Outcome:
    outcome = call.outcome(text)
    if charged.after is not None:
        await charged.after(outcome)
    await once.store(outcome)
    return outcome


def _replay(charged: ChargedRequest, outcome: Outcome) -> Response:
    """The stored answer again, in the form this request asked for."""
    headers = _headers(outcome) | {"Idempotent-Replayed": "true"}
    renderer = charged.renderer
    if not charged.stream:
        return JSONResponse(renderer.body(outcome), headers=headers)
    chunks = [*renderer.start(), renderer.piece(outcome.text), *renderer.end(outcome)]

    async def again() -> AsyncIterator[bytes]:
        for chunk in chunks:
            if chunk:
                yield chunk

    return StreamingResponse(again(), media_type=renderer.media_type, headers=headers)


def _headers(outcome: Outcome) -> dict[str, str]:
    headers = credit_headers(outcome.charge)
    if outcome.clamped_from is not None:
        headers["X-Max-Tokens-Lowered"] = (
            f"{outcome.clamped_from}->{outcome.max_tokens}"
        )
    return headers


def _limit_headers(call: MeteredGeneration) -> dict[str, str]:
    """Where a rate-limited key stands after this request; nothing for
    unlimited keys, and nothing on a replay, which is not counted."""
    return call.window.headers() if call.window is not None else {}


async def _complete(request: Request, call: MeteredGeneration) -> str | None:
    """The whole answer, or None if the caller disconnected first (the
    generation is then cancelled, and charged for what it produced)."""
    generation = asyncio.ensure_future(call.text())
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({generation, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        generation.cancel()
        raise
    finally:
        watcher.cancel()
    if not generation.done():
        call.disconnected = True
        generation.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await generation
        return None
    return generation.result()


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass

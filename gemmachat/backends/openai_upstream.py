"""An OpenAI-compatible server as the model: `POST {base}/chat/completions`
streamed as server-sent events. Fronts llama.cpp's server, llama-cpp-python's
server, vLLM or another gateway."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx

from gemmachat.backends.base import (
    Finished,
    GenerationRequest,
    Message,
    ModelInfo,
    estimate_tokens,
    wire_messages,
)
from gemmachat.backends.openai_stream import StreamTally, upstream_error
from gemmachat.backends.sse import sse_events
from gemmachat.errors import BackendFailed, BackendTimeout, BackendUnavailable
from gemmachat.settings import Settings

# While the upstream is unreachable or lacks the model, look again this
# often so that /health recovers without traffic. Never while it answers:
# llama-cpp-python serves /models only between generations.
PROBE_EVERY_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 5.0


class OpenAIUpstreamBackend:
    name = "openai"

    def __init__(self, settings: Settings):
        self.base_url = settings.openai_base_url.rstrip("/")
        self.model = settings.openai_model
        self.info = ModelInfo(self.model, "", "", "", settings.context_window)
        headers = {}
        if settings.openai_api_key is not None:
            key = settings.openai_api_key.get_secret_value()
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(settings.upstream_timeout_seconds, connect=5.0),
        )
        self._serving = False
        self._prober: asyncio.Task | None = None

    async def start(self) -> None:
        """Look for the model upstream; an upstream that is down or lacks
        it leaves the backend not ready, and is looked at again later."""
        await self._probe()
        self._keep_probing()

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
        await self._client.aclose()

    def ready(self) -> bool:
        """Whether the upstream, when last asked, served the model."""
        return self._serving

    def count_tokens(self, messages: list[Message]) -> int:
        return estimate_tokens(messages)

    async def generate(
        self, request: GenerationRequest
    ) -> AsyncIterator[str | Finished]:
        try:
            async with contextlib.aclosing(self._stream(request)) as stream:
                async for item in stream:
                    yield item
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            self._serving = False
            self._keep_probing()
            raise BackendUnavailable("The model server is unreachable.") from error
        except httpx.TimeoutException as error:
            raise BackendTimeout("The model server did not answer in time.") from error
        except httpx.RequestError as error:
            raise BackendFailed(
                "The connection to the model server broke off."
            ) from error

    async def _stream(self, request: GenerationRequest):
        # Leaving this block, early or not, closes the upstream connection:
        # that is what stops the upstream generating.
        async with self._client.stream(
            "POST", "/chat/completions", json=self._body(request)
        ) as response:
            if response.status_code != 200:
                body = (await response.aread()).decode(errors="replace")
                raise upstream_error(response.status_code, body, response.headers)
            self._serving = True
            request.progress.started = True
            tally = StreamTally()
            async for kind, data in sse_events(response.aiter_lines()):
                text = tally.read(kind, data)
                if text:
                    yield text
                if tally.done:
                    break
            yield tally.finished(self.count_tokens(request.messages))

    def _body(self, request: GenerationRequest) -> dict:
        body = {
            "model": self.model,
            "messages": wire_messages(request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.stop:
            body["stop"] = request.stop
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    def _keep_probing(self) -> None:
        if self._serving or (self._prober and not self._prober.done()):
            return
        self._prober = asyncio.create_task(self._probe_until_serving())

    async def _probe_until_serving(self) -> None:
        while not self._serving:
            await asyncio.sleep(PROBE_EVERY_SECONDS)
            await self._probe()

    async def _probe(self) -> None:
        try:
            response = await self._client.get("/models", timeout=PROBE_TIMEOUT_SECONDS)
        except httpx.HTTPError:
            self._serving = False
            return
        self._serving = response.status_code == 200 and self.model in _model_ids(
            response.text
        )


def _model_ids(text: str) -> set[str]:
    """The ids in a `GET /models` answer; none if it is not one."""
    try:
        entries = json.loads(text).get("data") or []
        return {entry.get("id") for entry in entries if isinstance(entry, dict)}
    except (ValueError, AttributeError, TypeError):
        return set()

"""Steps every generating route shares: sizing the request to the model,
and running it to the end unless the caller goes away."""

import anyio
from fastapi import Request

from gemmachat.backends.base import GenerationRequest, Message
from gemmachat.conversations import fit_context
from gemmachat.errors import ContextTooLong, InvalidRequest
from gemmachat.gateway import Gateway
from gemmachat.metering import MeteredGeneration


def plan(gateway: Gateway, history: list[Message], new: list[Message],
         max_tokens: int | None, **sampling) -> tuple[GenerationRequest, int]:
    """The generation request, and the prompt's size in tokens."""
    settings = gateway.settings
    if max_tokens is None:
        max_tokens = settings.default_max_tokens
    if max_tokens > settings.max_tokens_limit:
        raise InvalidRequest(
            f"max_tokens may be at most {settings.max_tokens_limit}.",
            param="max_tokens")
    for message in new:
        if len(message.content) > settings.max_prompt_chars:
            raise InvalidRequest(
                f"The prompt is over {settings.max_prompt_chars} characters.",
                param="prompt")
    backend = gateway.backend
    window = backend.info.context_window
    messages = fit_context(backend.count_tokens, history, new, window - max_tokens)
    input_tokens = backend.count_tokens(messages)
    if input_tokens >= window:
        raise ContextTooLong(
            f"The prompt takes {input_tokens} tokens; the model's context "
            f"window is {window}.", param="prompt")
    max_tokens = min(max_tokens, window - input_tokens)
    sampling = {k: v for k, v in sampling.items() if v is not None}
    return GenerationRequest(messages, max_tokens, **sampling), input_tokens


async def complete(request: Request, call: MeteredGeneration) -> str | None:
    """The whole answer, or None if the caller disconnected first (the
    generation is then cancelled, and charged for what it produced)."""
    answer: list[str] = []
    async with anyio.create_task_group() as group:

        async def watch_disconnect() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()

        async def generate() -> None:
            answer.append(await call.text())
            group.cancel_scope.cancel()

        group.start_soon(watch_disconnect)
        group.start_soon(generate)
    return answer[0] if answer else None

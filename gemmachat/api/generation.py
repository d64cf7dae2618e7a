"""Sizing a generation to the model and the limits, for every route."""

from gemmachat.backends.base import GenerationRequest, Message
from gemmachat.conversations import fit_context
from gemmachat.errors import ContextTooLong, InvalidRequest, ModelNotFound
from gemmachat.gateway import Gateway


def plan(
    gateway: Gateway,
    history: list[Message],
    new: list[Message],
    max_tokens: int | None,
    prompt_param: str = "prompt",
    **sampling,
) -> tuple[GenerationRequest, int]:
    """The generation request, and the prompt's size in tokens. Errors
    about the prompt name `prompt_param`, the field the caller sent."""
    settings = gateway.settings
    if max_tokens is None:
        max_tokens = settings.default_max_tokens
    if max_tokens > settings.max_tokens_limit:
        raise InvalidRequest(
            f"max_tokens may be at most {settings.max_tokens_limit}.",
            param="max_tokens",
        )
    for message in new:
        if len(message.content) > settings.max_prompt_chars:
            raise InvalidRequest(
                f"The prompt is over {settings.max_prompt_chars} characters.",
                param=prompt_param,
            )
    backend = gateway.backend
    window = backend.info.context_window
    messages = fit_context(backend.count_tokens, history, new, window - max_tokens)
    input_tokens = backend.count_tokens(messages)
    if input_tokens >= window:
        raise ContextTooLong(
            f"The prompt takes {input_tokens} tokens; the model's context "
            f"window is {window}.",
            param=prompt_param,
        )
    max_tokens = min(max_tokens, window - input_tokens)
    sampling = {k: v for k, v in sampling.items() if v is not None}
    return GenerationRequest(messages, max_tokens, **sampling), input_tokens


def served_model(gateway: Gateway, name: str) -> str:
    """`name` if it is the model GemmaChat serves, else a 404."""
    if name not in (gateway.backend.info.name, f"{gateway.backend.info.name}:latest"):
        raise ModelNotFound(
            f"The model {name!r} is not served here; the served model is "
            f"{gateway.backend.info.name!r}.",
            param="model",
        )
    return name

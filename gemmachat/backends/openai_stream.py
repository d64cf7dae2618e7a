"""Reading an OpenAI-compatible chat completion stream, and turning the
errors such servers report into GemmaChat's."""

import json
import re
from dataclasses import dataclass

from gemmachat.backends.base import Finished
from gemmachat.errors import (
    BackendBusy,
    BackendFailed,
    ContextTooLong,
    GemmaChatError,
    ModelNotFound,
)

# OpenAI and vLLM say "context_length_exceeded"; llama.cpp's server says
# "exceed_context_size_error". Servers that give no code still say so in
# words.
CONTEXT_LABELS = {"context_length_exceeded", "exceed_context_size_error"}
CONTEXT_WORDS = re.compile(r"context (length|size|window)", re.IGNORECASE)
MAX_MESSAGE_CHARS = 300


@dataclass
class StreamTally:
    """What a stream has said so far: how the answer ended, the usage if
    the upstream reports it, and how many pieces of text it sent."""

    finish_reason: str | None = None
    usage: dict | None = None
    pieces: int = 0
    done: bool = False

    def read(self, kind: str, data: str) -> str:
        """The text one event carries ("" if none). Raises the upstream's
        error if the event reports one."""
        if data.strip() == "[DONE]":
            self.done = True
            return ""
        chunk = _parse(data)
        if kind == "error" or chunk.get("error") or chunk.get("object") == "error":
            raise upstream_error(None, chunk)
        # Usage comes on a chunk of its own with `choices: []` (OpenAI), or
        # on the last content chunk (some servers); other chunks carry null.
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choices = chunk.get("choices") or []
        if not choices:
            return ""
        choice = choices[0]
        self.finish_reason = choice.get("finish_reason") or self.finish_reason
        text = (choice.get("delta") or {}).get("content") or ""
        self.pieces += bool(text)
        return text

    def finished(self, estimated_input_tokens: int) -> Finished:
        # A stream that stops without a finish reason was cut short, for
        # example by llama-cpp-python interrupting it for another request.
        if self.finish_reason is None:
            raise BackendFailed("The model server ended the answer unfinished.")
        reason = "length" if self.finish_reason == "length" else "stop"
        usage = self.usage or {}
        # Not every server reports usage when streaming (llama-cpp-python's
        # never does): then the prompt is estimated like count_tokens does,
        # and each piece of text is counted as one token, which is what
        # llama.cpp-based servers send.
        return Finished(
            _count(usage, "prompt_tokens", estimated_input_tokens),
            _count(usage, "completion_tokens", self.pieces),
            reason,
        )


def upstream_error(status: int | None, body, headers=None) -> GemmaChatError:
    """GemmaChat's error for an error the upstream answered with `status`
    (None: an error event in the middle of a stream)."""
    message, labels = _error_fields(body)
    if status == 404 and ("model_not_found" in labels or "model" in message.lower()):
        return ModelNotFound(f"The model server does not have the model: {message}")
    if status in (429, 503):
        retry_after = (headers or {}).get("retry-after")
        return BackendBusy(
            "The model server is busy; try again shortly.",
            headers={"Retry-After": retry_after} if retry_after else None,
        )
    if status in (None, 400, 413) and (
        labels & CONTEXT_LABELS or CONTEXT_WORDS.search(message)
    ):
        return ContextTooLong(
            f"The prompt is too long for the model: {message}", param="messages"
        )
    if status is None:
        return BackendFailed(f"The model server failed: {message}")
    return BackendFailed(f"The model server answered {status}: {message}")


def _parse(data: str) -> dict:
    try:
        chunk = json.loads(data)
    except ValueError as error:
        raise BackendFailed(
            "The model server sent an event that is not JSON."
        ) from error
    if not isinstance(chunk, dict):
        raise BackendFailed("The model server sent an event that is not an object.")
    return chunk


def _error_fields(body: str | dict) -> tuple[str, set[str]]:
    """The message and the code and type labels of an error body, in the
    shapes OpenAI, vLLM, llama.cpp and FastAPI-based servers use."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return _short(body.strip() or "no details"), set()
    error = body.get("error", body) if isinstance(body, dict) else body
    if not isinstance(error, dict):
        return _short(str(error)), set()
    message = error.get("message") or error.get("detail") or json.dumps(error)
    labels = {str(error[key]) for key in ("code", "type") if error.get(key)}
    return _short(str(message)), labels


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "…"


def _count(usage: dict, field: str, fallback: int) -> int:
    value = usage.get(field)
    return value if isinstance(value, int) and value >= 0 else fallback

"""OpenAI's chat-completion wire format: one JSON object, or
`chat.completion.chunk` server-sent events ending in `data: [DONE]`."""

import json
import time

from gemmachat.api.billing import credits_view
from gemmachat.api.errors import envelope
from gemmachat.errors import GemmaChatError
from gemmachat.metering import Outcome

FINGERPRINT = "fp_gemmachat"


def _data(payload: dict | str) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {text}\n\n".encode()


def usage(outcome: Outcome) -> dict:
    return {
        "prompt_tokens": outcome.input_tokens,
        "completion_tokens": outcome.output_tokens,
        "total_tokens": outcome.input_tokens + outcome.output_tokens,
    }


class OpenAIFormat:
    media_type = "text/event-stream"

    def __init__(self, request_id: str, model: str, include_usage: bool = False):
        self.request_id = request_id
        self.id = f"chatcmpl-{request_id}"
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage
        # The finish reason rides on the last content chunk, so each piece
        # is sent when the next one arrives.
        self._held: str | None = None

    def body(self, outcome: Outcome) -> dict:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": outcome.text},
                    "logprobs": None,
                    "finish_reason": outcome.finish_reason,
                }
            ],
            "usage": usage(outcome),
            "credits": credits_view(outcome.charge).model_dump(),
        }

    def _chunk(self, delta: dict, finish_reason: str | None = None) -> dict:
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {
                    "index": 0,
                    "delta": delta,
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def start(self) -> list[bytes]:
        return [_data(self._chunk({"role": "assistant", "content": ""}))]

    def piece(self, text: str) -> bytes:
        held, self._held = self._held, text
        return _data(self._chunk({"content": held})) if held is not None else b""

    def end(self, outcome: Outcome) -> list[bytes]:
        last = self._chunk({"content": self._held or ""}, outcome.finish_reason)
        last["credits"] = credits_view(outcome.charge).model_dump()
        chunks = [_data(last)]
        if self.include_usage:
            final = self._chunk({}) | {"choices": [], "usage": usage(outcome)}
            chunks.append(_data(final))
        return [*chunks, _data("[DONE]")]

    def error(self, error: GemmaChatError) -> bytes:
        _, body = envelope("/v1/", error, self.request_id)
        held = _data(self._chunk({"content": self._held})) if self._held else b""
        return held + _data(body)

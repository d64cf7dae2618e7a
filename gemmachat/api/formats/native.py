"""GemmaChat's own wire format for /chat: JSON, or server-sent events."""

import json

from gemmachat.api.billing import credits_view
from gemmachat.api.errors import envelope
from gemmachat.errors import GemmaChatError
from gemmachat.metering import Outcome


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class NativeFormat:
    media_type = "text/event-stream"

    def __init__(self, request_id: str):
        self.request_id = request_id

    def body(self, outcome: Outcome) -> dict:
        reply = {
            "answer": outcome.text,
            "session_id": outcome.extra.get("session_id"),
            "model": outcome.model,
            "finish_reason": outcome.finish_reason,
            "usage": {
                "input_tokens": outcome.input_tokens,
                "output_tokens": outcome.output_tokens,
            },
            "credits": credits_view(outcome.charge).model_dump(),
        }
        if outcome.clamped_from is not None:
            reply["notice"] = (
                f"max_tokens was lowered from {outcome.clamped_from} to "
                f"{outcome.max_tokens}: that is what the balance can pay for."
            )
        return reply

    def start(self) -> list[bytes]:
        return []

    def piece(self, text: str) -> bytes:
        return sse("delta", {"text": text})

    def end(self, outcome: Outcome) -> list[bytes]:
        return [sse("done", self.body(outcome))]

    def error(self, error: GemmaChatError) -> bytes:
        _, body = envelope("/chat", error, self.request_id)
        return sse("error", body)

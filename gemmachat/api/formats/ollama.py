"""Ollama's wire format: NDJSON lines (or one object), the last with
`done: true`, the token counts and the durations in nanoseconds."""

import json
import time
from datetime import UTC, datetime

from gemmachat.api.billing import credits_view
from gemmachat.errors import GemmaChatError
from gemmachat.metering import Outcome


def created_at() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _line(data: dict) -> bytes:
    return (json.dumps(data) + "\n").encode()


class OllamaFormat:
    """`kind` is "chat" (text in `message.content`) or "generate" (in
    `response`)."""

    media_type = "application/x-ndjson"

    def __init__(self, model: str, kind: str):
        self.model = model
        self.kind = kind
        self._started = time.perf_counter_ns()
        self._first_piece: int | None = None

    def _text(self, text: str) -> dict:
        if self.kind == "chat":
            return {"message": {"role": "assistant", "content": text}}
        return {"response": text}

    def _head(self) -> dict:
        return {"model": self.model, "created_at": created_at()}

    def body(self, outcome: Outcome) -> dict:
        return self._final(outcome, outcome.text)

    def _final(self, outcome: Outcome, text: str) -> dict:
        now = time.perf_counter_ns()
        first = self._first_piece or now
        final = {
            **self._head(),
            **self._text(text),
            "done": True,
            "done_reason": outcome.finish_reason,
            "total_duration": now - self._started,
            "load_duration": 0,
            "prompt_eval_count": outcome.input_tokens,
            "prompt_eval_duration": first - self._started,
            "eval_count": outcome.output_tokens,
            "eval_duration": now - first,
            "credits": credits_view(outcome.charge).model_dump(),
        }
        if self.kind == "generate":
            final["context"] = []
        return final

    def start(self) -> list[bytes]:
        return []

    def piece(self, text: str) -> bytes:
        if self._first_piece is None:
            self._first_piece = time.perf_counter_ns()
        return _line({**self._head(), **self._text(text), "done": False})

    def end(self, outcome: Outcome) -> list[bytes]:
        return [_line(self._final(outcome, ""))]

    def error(self, error: GemmaChatError) -> bytes:
        return _line({"error": error.message})

    def loaded(self) -> dict:
        """Ollama's answer to an empty request: the model is loaded."""
        return {**self._head(), **self._text(""), "done": True, "done_reason": "load"}

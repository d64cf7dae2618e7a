"""A stand-in for Ollama's HTTP API, for testing the ollama backend.

Ollama cannot be installed on these machines. This server follows the wire
format of Ollama's API documentation (docs/api.md: /api/chat streams
NDJSON objects with `message.content`, the last with `done: true`,
`done_reason`, `prompt_eval_count`, `eval_count` and durations in
nanoseconds; errors are `{"error": "..."}`, mid-stream as a final line) and
can be told to fail in the ways a real one does.
"""

import asyncio
import json
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

ANSWER = ["The", " capital", " of", " France", " is", " Paris", "."]
MODEL = "gemma3:1b"


class FakeOllama:
    """`mode`: ok, error_mid_stream, drop_mid_stream, http_500, hang."""

    def __init__(self):
        self.mode = "ok"
        self.received: list[dict] = []
        self.app = Starlette(
            routes=[
                Route("/api/chat", self.chat, methods=["POST"]),
                Route("/api/tags", self.tags),
                Route("/api/version", self.version),
            ]
        )

    async def chat(self, request: Request):
        body = await request.json()
        self.received.append(body)
        if body.get("model") != MODEL:
            return JSONResponse(
                {"error": f"model '{body.get('model')}' not found"}, status_code=404
            )
        if self.mode == "http_500":
            return JSONResponse(
                {"error": "llama runner process has terminated"}, status_code=500
            )
        if self.mode == "hang":
            await asyncio.sleep(3)
        limit = body.get("options", {}).get("num_predict", len(ANSWER))
        pieces = ANSWER[:limit]
        if body.get("stream", True):
            return StreamingResponse(
                self._lines(pieces, body), media_type="application/x-ndjson"
            )
        return JSONResponse(self._final(pieces, body, "".join(pieces)))

    async def _lines(self, pieces, body):
        for index, piece in enumerate(pieces):
            if index == 3 and self.mode == "error_mid_stream":
                yield _line(
                    {"error": "an error was encountered while running the model"}
                )
                return
            if index == 3 and self.mode == "drop_mid_stream":
                raise ConnectionResetError("the model server died")
            yield _line(
                {
                    "model": MODEL,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
            )
            await asyncio.sleep(0.01)
        yield _line(self._final(pieces, body, ""))

    def _final(self, pieces, body, content):
        prompt_tokens = sum(len(m["content"].split()) + 4 for m in body["messages"])
        limit = body.get("options", {}).get("num_predict")
        return {
            "model": MODEL,
            "created_at": _now(),
            "message": {"role": "assistant", "content": content},
            "done": True,
            "done_reason": "length" if limit and limit < len(ANSWER) else "stop",
            "total_duration": 5_191_566_416,
            "load_duration": 2_154_458,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 383_809_000,
            "eval_count": len(pieces),
            "eval_duration": 4_709_213_000,
        }

    async def tags(self, request: Request):
        return JSONResponse(
            {
                "models": [
                    {
                        "name": MODEL,
                        "model": MODEL,
                        "modified_at": _now(),
                        "size": 815_319_791,
                        "digest": "8648f39daa8fbf5b",
                        "details": {
                            "parent_model": "",
                            "format": "gguf",
                            "family": "gemma3",
                            "families": ["gemma3"],
                            "parameter_size": "999.89M",
                            "quantization_level": "Q4_K_M",
                        },
                    }
                ]
            }
        )

    async def version(self, request: Request):
        return JSONResponse({"version": "0.6.5"})


def _line(data: dict) -> bytes:
    return (json.dumps(data) + "\n").encode()


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")

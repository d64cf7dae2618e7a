"""A stand-in for an OpenAI-compatible server, for the wire details and
failures the real one in these tests (llama-cpp-python's server) cannot show.

It follows the OpenAI API reference for chat completions: `stream: true`
answers with server-sent events `data: {chat.completion.chunk}`, the first
delta carrying the role, the finish reason on a chunk with an empty delta,
and with `stream_options.include_usage` every chunk has `usage: null` and
one more chunk with `choices: []` and the usage comes just before
`data: [DONE]`. Errors are `{"error": {"message", "type", "param", "code"}}`.

Mode llama_cpp_error_line answers as llama.cpp's server (tools/server) does
when a streamed prompt does not fit: status 200, then a non-standard
`error: {...}` line instead of a `data:` event.
"""

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

ANSWER = ["The", " capital", " of", " France", " is", " Paris", "."]
MODEL = "gemma-3-270m-it"
LLAMA_CPP_CONTEXT_ERROR = (
    b'error: {"code": 400, "message": "the request exceeds the available '
    b'context size, try increasing it", "type": "exceed_context_size_error", '
    b'"n_prompt_tokens": 3010, "n_ctx": 2048}\n\n'
)
CHUNK_ID = "chatcmpl-B9MHDbslfQ9Mdi6ZWk3pLdJ5bzeYg"


class FakeOpenAIUpstream:
    """`mode`: ok, usage_on_last_chunk, no_usage, error_mid_stream,
    llama_cpp_error_line, drop_mid_stream, unfinished, http_500, busy,
    context_too_long, hang."""

    def __init__(self):
        self.mode = "ok"
        self.received: list[dict] = []
        self.authorization: list[str | None] = []
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/models", self.models),
            ]
        )

    async def chat(self, request: Request):
        body = await request.json()
        self.received.append(body)
        self.authorization.append(request.headers.get("authorization"))
        if body.get("model") != MODEL:
            return _error(
                404,
                f"The model `{body.get('model')}` does not exist or you do not "
                "have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        if failure := self._failure():
            return failure
        if self.mode == "hang":
            await asyncio.sleep(3)
        pieces = ANSWER[: body.get("max_tokens", len(ANSWER))]
        return StreamingResponse(
            self._events(pieces, body), media_type="text/event-stream"
        )

    def _failure(self):
        if self.mode == "http_500":
            return _error(500, "The server had an error.", "server_error", None)
        if self.mode == "busy":
            response = _error(
                429, "Rate limit reached.", "requests", "rate_limit_exceeded"
            )
            response.headers["Retry-After"] = "7"
            return response
        if self.mode == "context_too_long":
            return _error(
                400,
                "This model's maximum context length is 2048 tokens. However, "
                "your messages resulted in 3010 tokens.",
                "invalid_request_error",
                "context_length_exceeded",
            )
        return None

    async def _events(self, pieces, body):
        asked = body.get("stream_options", {}).get("include_usage", False)
        with_usage = asked and self.mode != "no_usage"
        usage = _usage(pieces, body)
        if self.mode == "llama_cpp_error_line":
            yield LLAMA_CPP_CONTEXT_ERROR
            return
        # A keep-alive comment, as sse-starlette (llama-cpp-python's server)
        # and hosted gateways send while a prompt is being read.
        yield b": ping - 2025-03-10 01:25:52.123456+00:00\n\n"
        yield _event(_chunk({"role": "assistant", "content": ""}, None, with_usage))
        for index, piece in enumerate(pieces):
            if index == 3 and (failure := self._mid_stream_failure()):
                yield failure
                return
            yield _event(_chunk({"content": piece}, None, with_usage))
            await asyncio.sleep(0.01)
        reason = "length" if len(pieces) < len(ANSWER) else "stop"
        last = _chunk({}, reason, with_usage)
        if with_usage and self.mode == "usage_on_last_chunk":
            last["usage"] = usage
        yield _event(last)
        if with_usage and self.mode != "usage_on_last_chunk":
            yield _event(_chunk(None, None, True) | {"choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"

    def _mid_stream_failure(self) -> bytes | None:
        if self.mode == "error_mid_stream":
            return _event(
                {
                    "error": {
                        "message": "The server had an error while processing "
                        "your request.",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                }
            )
        if self.mode == "drop_mid_stream":
            raise ConnectionResetError("the model server died")
        if self.mode == "unfinished":
            return b"data: [DONE]\n\n"
        return None

    async def models(self, request: Request):
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {
                        "id": MODEL,
                        "object": "model",
                        "created": 1686935002,
                        "owned_by": "gemmachat-tests",
                    }
                ],
            }
        )


def _chunk(delta: dict | None, finish_reason: str | None, with_usage: bool):
    chunk = {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": MODEL,
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [
            {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
    }
    if with_usage:
        chunk["usage"] = None
    return chunk


def _usage(pieces: list[str], body: dict) -> dict:
    """Distinct from anything GemmaChat could estimate: the prompt as words
    plus a turn overhead, and, when the answer ended by itself, the
    end-of-turn token counted too (as vLLM does)."""
    prompt = sum(len(m["content"].split()) + 7 for m in body["messages"])
    completion = len(pieces) + (len(pieces) == len(ANSWER))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _event(data: dict) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


def _error(status: int, message: str, kind: str, code: str | None):
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}},
        status_code=status,
    )

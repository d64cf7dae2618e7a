"""The outermost middleware: a request id, one log line per request, and
the generic 500 for anything unexpected (logged once, with its traceback)."""

import json
import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gemmachat.api.errors import GENERIC_500, envelope
from gemmachat.errors import GemmaChatError

log = logging.getLogger("gemmachat.access")


class AccessMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error request_id=%s", request_id)
            if status["code"] == 0:
                await _send_500(scope["path"], request_id, send_with_id)
            status["code"] = status["code"] or 500
        finally:
            _log_line(scope, state, status["code"], started)


async def _send_500(path: str, request_id: str, send: Send) -> None:
    code, body = envelope(path, GemmaChatError(GENERIC_500), request_id)
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": code,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def _log_line(scope: Scope, state: dict, status: int, started: float) -> None:
    latency_ms = (time.perf_counter() - started) * 1000
    log.info(
        "request_id=%s key=%s method=%s route=%s status=%s input_tokens=%s "
        "output_tokens=%s credits=%s latency_ms=%.1f",
        state["request_id"], state.get("key_prefix", "-"), scope["method"],
        scope["path"], status, state.get("input_tokens", 0),
        state.get("output_tokens", 0), state.get("credits", 0), latency_ms,
    )

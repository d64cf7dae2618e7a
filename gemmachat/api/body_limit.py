"""Refuse request bodies over MAX_BODY_BYTES before anything parses them."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gemmachat.api.errors import envelope
from gemmachat.errors import BodyTooLarge


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(scope, send)
        # A chunked body declares no length: read it, bounded, up front.
        body, more = bytearray(), True
        messages: list[Message] = []
        while more:
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                return await self._refuse(scope, send)
        replay = [{"type": "http.request", "body": bytes(body), "more_body": False},
                  *messages]

        async def replay_receive() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replay_receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        error = BodyTooLarge(f"The request body is over {self.max_bytes} bytes.",
                             param="body")
        status, body = envelope(scope["path"], error,
                                scope.get("state", {}).get("request_id", ""))
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})

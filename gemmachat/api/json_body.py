"""Every request body here is JSON, whatever its content-type says.

`curl -d` labels its body application/x-www-form-urlencoded, and Ollama's
documented examples send no content-type at all; Ollama parses them as
JSON, so the compatible routes (and ours) do too. No route takes forms.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

JSON = (b"content-type", b"application/json")


class AssumeJsonMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = [h for h in scope["headers"] if h[0] != b"content-type"]
            scope = dict(scope, headers=[*headers, JSON])
        await self.app(scope, receive, send)

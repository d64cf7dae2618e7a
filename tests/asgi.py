"""Driving the app at the ASGI level, where a test can hang up mid-request."""

import json

import anyio

LONG_PROMPT = (
    "Say: " + ", ".join(str(n) for n in range(1, 41)) + " and keep going to 500."
)


async def hang_up_during(
    app, path: str, body: dict, headers: dict, after_seconds: float
) -> list[dict]:
    """POST `body`, then disconnect after `after_seconds`; returns what the
    app sent before it noticed."""
    payload = json.dumps(body).encode()
    delivered = False
    sent: list[dict] = []

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await anyio.sleep(after_seconds)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("gemmachat", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return sent

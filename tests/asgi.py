"""Driving the app at the ASGI level, where a test can hang up mid-request."""

import json
from collections.abc import Callable

import anyio

LONG_PROMPT = (
    "Say: " + ", ".join(str(n) for n in range(1, 41)) + " and keep going to 500."
)


async def hang_up_during(
    app,
    path: str,
    body: dict,
    headers: dict,
    after_chunks: int | None = None,
    once: Callable[[], bool] | None = None,
) -> list[dict]:
    """POST `body`, then disconnect once the app has sent `after_chunks`
    non-empty body chunks, or once `once()` is true; returns what it sent."""
    payload = json.dumps(body).encode()
    delivered = False
    sent: list[dict] = []
    enough = anyio.Event()

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": payload, "more_body": False}
        if once is not None:
            while not once():
                await anyio.sleep(0.01)
        else:
            await enough.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if after_chunks is not None and len(body_chunks(sent)) >= after_chunks:
            enough.set()

    await app(_scope(path, headers), receive, send)
    return sent


def body_chunks(sent: list[dict]) -> list[bytes]:
    return [
        m["body"] for m in sent if m["type"] == "http.response.body" and m.get("body")
    ]


def _scope(path: str, headers: dict) -> dict:
    return {
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

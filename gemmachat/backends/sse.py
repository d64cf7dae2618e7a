"""Server-sent events read from a stream of lines (the event-stream format
of the HTML standard), as OpenAI-compatible servers send them."""

from collections.abc import AsyncIterator


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """Yield (event type, data) per event, its `data:` lines joined by
    newlines. Comments (keep-alive pings), `id:` and `retry:` are skipped.

    llama.cpp's server reports a mid-stream failure as a non-standard
    `error: {...}` line; it comes out as an event of type "error".
    """
    kind, data = "message", []
    async for line in lines:
        if not line:
            if data:
                yield kind, "\n".join(data)
            kind, data = "message", []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            kind = value
        elif name == "error":
            kind, data = "error", [value]
    # Some servers end on `data: [DONE]` without the closing blank line.
    if data:
        yield kind, "\n".join(data)

"""Ollama over its HTTP API: `POST /api/chat`, streamed as NDJSON."""

import json
from collections.abc import AsyncIterator

import httpx

from gemmachat.backends.base import (
    Finished,
    GenerationRequest,
    Message,
    ModelInfo,
    estimate_tokens,
    wire_messages,
)
from gemmachat.errors import (
    BackendFailed,
    BackendTimeout,
    BackendUnavailable,
    ModelNotFound,
)


class OllamaBackend:
    name = "ollama"

    def __init__(
        self, host: str, model: str, context_window: int, timeout: float = 120.0
    ):
        self.host = host.rstrip("/")
        self.model = model
        self.info = ModelInfo(model, "gemma3", "", "", context_window)
        self._client = httpx.AsyncClient(
            base_url=self.host, timeout=httpx.Timeout(timeout, connect=5.0)
        )

    async def start(self) -> None:
        """Nothing to load here; Ollama loads the model on first use."""

    async def close(self) -> None:
        await self._client.aclose()

    def ready(self) -> bool:
        return True

    def count_tokens(self, messages: list[Message]) -> int:
        return estimate_tokens(messages)

    def _body(self, request: GenerationRequest) -> dict:
        options = {
            "num_predict": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.stop:
            options["stop"] = request.stop
        if request.seed is not None:
            options["seed"] = request.seed
        return {
            "model": self.model,
            "stream": True,
            "options": options,
            "messages": wire_messages(request.messages),
        }

    async def generate(
        self, request: GenerationRequest
    ) -> AsyncIterator[str | Finished]:
        try:
            async with self._client.stream(
                "POST", "/api/chat", json=self._body(request)
            ) as response:
                await _raise_for_status(response, self.model)
                request.progress.started = True
                async for line in response.aiter_lines():
                    if line.strip():
                        item = _parse_line(line)
                        yield item
                        if isinstance(item, Finished):
                            return
            raise BackendFailed("Ollama ended the stream without a final line.")
        except httpx.ConnectError as error:
            raise BackendUnavailable(
                f"The model server at {self.host} is unreachable."
            ) from error
        except httpx.TimeoutException as error:
            raise BackendTimeout("The model server did not answer in time.") from error
        except httpx.TransportError as error:
            raise BackendFailed(
                "The connection to the model server broke off."
            ) from error


async def _raise_for_status(response: httpx.Response, model: str) -> None:
    if response.status_code == 200:
        return
    body = (await response.aread()).decode(errors="replace")
    try:
        message = json.loads(body).get("error", body)
    except (ValueError, AttributeError):
        message = body
    if response.status_code == 404:
        raise ModelNotFound(f"The model server has no model {model!r}.")
    raise BackendFailed(f"The model server answered {response.status_code}: {message}")


def _parse_line(line: str) -> str | Finished:
    try:
        data = json.loads(line)
    except ValueError as error:
        raise BackendFailed("The model server sent a line that is not JSON.") from error
    if "error" in data:
        raise BackendFailed(f"The model server failed: {data['error']}")
    if data.get("done"):
        reason = "length" if data.get("done_reason") == "length" else "stop"
        return Finished(
            data.get("prompt_eval_count", 0), data.get("eval_count", 0), reason
        )
    return data.get("message", {}).get("content", "")

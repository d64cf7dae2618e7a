"""The interface every model backend implements.

A backend streams text pieces and ends with a `Finished` carrying the token
counts and why generation stopped. Backends raise only the errors of
gemmachat.errors (BackendUnavailable, BackendTimeout, BackendFailed,
BackendBusy), so the metering code can tell a caller's mistake from ours.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


# For backends that cannot tokenize locally (remote servers): an estimate,
# used only to trim history and quote costs; charges use the server's counts.
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


def estimate_tokens(messages: list[Message]) -> int:
    return sum(len(m.content) // CHARS_PER_TOKEN + TOKENS_PER_MESSAGE for m in messages)


def wire_messages(messages: list[Message]) -> list[dict]:
    """Messages as Ollama's and OpenAI's chat APIs both take them."""
    return [{"role": m.role, "content": m.content} for m in messages]


@dataclass
class Progress:
    """How far a generation got, kept up to date by the backend: what a
    generation cut short is charged for."""

    # The model began work on the prompt (it left the queue).
    started: bool = False
    output_tokens: int = 0


@dataclass(frozen=True)
class GenerationRequest:
    messages: list[Message]
    max_tokens: int
    # Low by default: the small base model stays on topic when it samples
    # close to its most likely tokens.
    temperature: float = 0.3
    top_p: float = 0.95
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    progress: Progress = field(default_factory=Progress, compare=False)


@dataclass(frozen=True)
class Finished:
    input_tokens: int
    output_tokens: int
    finish_reason: Literal["stop", "length", "cancelled"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    family: str
    parameter_size: str
    quantization: str
    context_window: int
    size_bytes: int = 0
    digest: str = ""


class Backend(Protocol):
    name: str
    info: ModelInfo

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def ready(self) -> bool: ...

    def count_tokens(self, messages: list[Message]) -> int:
        """Tokens the prompt for `messages` takes (an estimate where the
        backend cannot tokenize locally)."""
        ...

    def generate(self, request: GenerationRequest) -> AsyncIterator[str | Finished]:
        """Yield text pieces, then exactly one Finished. Closing the iterator
        early stops the generation."""
        ...

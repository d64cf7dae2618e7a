"""Request bodies of the OpenAI-compatible routes, validated as strictly as
OpenAI's own API: a wrong field is a 400 that names it."""

from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, field_validator

from gemmachat.api.fields import Temperature, Text, TopP, unicode_text

MAX_STOPS = 4


class OpenAIMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant"]
    content: Any = Field(...)
    name: Text | None = None

    @field_validator("content")
    @classmethod
    def _text(cls, value: Any) -> str:
        """A string, or an array of text parts, joined."""
        if value is None:
            raise ValueError("must be a string or an array of text parts, not null")
        if isinstance(value, str):
            text = value
        elif isinstance(value, list) and value:
            text = "".join(_text_part(part) for part in value)
        else:
            raise ValueError("must be a string or an array of text parts")
        if not text.strip():
            raise ValueError("must not be empty or only whitespace")
        return unicode_text(text)


def _text_part(part: Any) -> str:
    if not isinstance(part, dict) or part.get("type") != "text":
        raise ValueError(
            "only text parts ({'type': 'text', 'text': ...}) are supported"
        )
    if not isinstance(part.get("text"), str):
        raise ValueError("a text part needs a string 'text'")
    return part["text"]


class StreamOptions(BaseModel):
    include_usage: StrictBool = False


class ChatCompletionBody(BaseModel):
    model: Text
    messages: list[OpenAIMessage] = Field(..., min_length=1)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    max_tokens: StrictInt | None = Field(None, ge=1)
    max_completion_tokens: StrictInt | None = Field(None, ge=1)
    temperature: Temperature | None = None
    top_p: TopP | None = None
    stop: Any = None
    n: StrictInt = Field(1, ge=1)
    seed: StrictInt | None = None
    user: Text | None = None

    @field_validator("stop")
    @classmethod
    def _stops(cls, value: Any) -> list[str]:
        if value is None:
            return []
        stops = [value] if isinstance(value, str) else value
        if not isinstance(stops, list) or not all(
            isinstance(s, str) and s for s in stops
        ):
            raise ValueError("must be a non-empty string or an array of them")
        if len(stops) > MAX_STOPS:
            raise ValueError(f"may hold at most {MAX_STOPS} sequences")
        return [unicode_text(stop) for stop in stops]

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int) -> int:
        if value != 1:
            raise ValueError("must be 1: GemmaChat generates one choice per request")
        return value

    @property
    def wants_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    @property
    def limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

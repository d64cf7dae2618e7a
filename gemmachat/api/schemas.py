"""Request and response bodies of GemmaChat's own API."""

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr, field_validator


class ChatBody(BaseModel):
    prompt: StrictStr
    session_id: StrictStr | None = None
    max_tokens: StrictInt | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2, strict=True)
    stream: StrictBool = False

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty or only whitespace")
        return value


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int


class Credits(BaseModel):
    charged: float | int
    remaining: float | int
    low: bool
    alert: str | None = None


class ChatReply(BaseModel):
    answer: str
    session_id: str
    model: str
    finish_reason: str
    usage: Usage
    credits: Credits


class Status(BaseModel):
    key_prefix: str
    balance: float | int
    credits_used: float | int
    requests: int
    low: bool
    alert: str | None = None
    low_credit_threshold: float | int

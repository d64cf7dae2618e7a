"""Request bodies of the Ollama-compatible routes (Ollama's docs/api.md).

Fields Ollama accepts but that change nothing here (keep_alive, format,
think, raw, template, context, images) are accepted and ignored.
"""

from typing import Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr


class OllamaOptions(BaseModel):
    # Ollama's -1 means "until the model stops"; GemmaChat's default applies.
    num_predict: StrictInt | None = Field(None, ge=-1)
    temperature: float | None = Field(None, ge=0, le=2, strict=True)
    top_p: float | None = Field(None, gt=0, le=1, strict=True)
    stop: list[StrictStr] | None = None
    seed: StrictInt | None = None

    @property
    def max_tokens(self) -> int | None:
        if self.num_predict is None or self.num_predict == -1:
            return None
        return self.num_predict or None


class OllamaMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: StrictStr


class _Generating(BaseModel):
    model: StrictStr
    stream: StrictBool = True
    options: OllamaOptions = Field(default_factory=OllamaOptions)


class OllamaChatBody(_Generating):
    messages: list[OllamaMessage] = Field(default_factory=list)


class OllamaGenerateBody(_Generating):
    prompt: StrictStr = ""
    system: StrictStr | None = None


class OllamaShowBody(BaseModel):
    model: StrictStr
    verbose: StrictBool = False

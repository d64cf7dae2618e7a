"""Request bodies of the Ollama-compatible routes (Ollama's docs/api.md).

Fields Ollama accepts but that change nothing here (keep_alive, format,
think, raw, template, context, images) are accepted and ignored.
"""

from typing import Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from gemmachat.api.fields import Temperature, Text, TopP


class OllamaOptions(BaseModel):
    # Ollama's -1 means "until the model stops"; GemmaChat's default applies.
    num_predict: StrictInt | None = Field(None, ge=-1)
    temperature: Temperature | None = None
    top_p: TopP | None = None
    stop: list[Text] | None = None
    seed: StrictInt | None = None

    @property
    def max_tokens(self) -> int | None:
        if self.num_predict is None or self.num_predict == -1:
            return None
        return self.num_predict or None


class OllamaMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: Text


class _Generating(BaseModel):
    model: Text
    stream: StrictBool = True
    options: OllamaOptions = Field(default_factory=OllamaOptions)


class OllamaChatBody(_Generating):
    messages: list[OllamaMessage] = Field(default_factory=list)


class OllamaGenerateBody(_Generating):
    prompt: Text = ""
    system: Text | None = None


class OllamaShowBody(BaseModel):
    model: Text
    verbose: StrictBool = False

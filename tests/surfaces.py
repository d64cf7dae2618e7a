"""The three ways to ask GemmaChat for an answer, spoken the same way in
tests: build a request for a prompt, read the text and errors back."""

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Surface:
    name: str
    path: str

    def body(self, prompt: str, model: str, max_tokens: int, stream: bool) -> dict:
        if self.name == "native":
            return {
                "prompt": prompt,
                "max_tokens": max_tokens,
                "temperature": 0,
                "stream": stream,
            }
        messages = [{"role": "user", "content": prompt}]
        if self.name == "openai":
            return {
                "model": model,
                "messages": messages,
                "max_tokens": max_tokens,
                "temperature": 0,
                "stream": stream,
            }
        return {
            "model": model,
            "messages": messages,
            "stream": stream,
            "options": {"num_predict": max_tokens, "temperature": 0},
        }

    def text(self, answer: dict) -> str:
        if self.name == "native":
            return answer["answer"]
        if self.name == "openai":
            return answer["choices"][0]["message"]["content"]
        return answer["message"]["content"]

    def events(self, raw: str) -> list[dict]:
        """The JSON events of a streamed answer, in order."""
        if self.name == "ollama":
            return [json.loads(line) for line in raw.splitlines() if line]
        events = []
        for line in raw.splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(json.loads(line[len("data: ") :]))
        return events

    def streamed_text(self, raw: str) -> str:
        parts = []
        for event in self.events(raw):
            if self.name == "native":
                parts.append(event.get("text", ""))
            elif self.name == "openai":
                for choice in event.get("choices", []):
                    parts.append(choice["delta"].get("content") or "")
            else:
                parts.append(event.get("message", {}).get("content", ""))
        return "".join(parts)

    def stream_error(self, raw: str) -> str | None:
        last = self.events(raw)[-1]
        error = last.get("error")
        if isinstance(error, dict):
            return error["message"]
        return error


NATIVE = Surface("native", "/chat")
OPENAI = Surface("openai", "/v1/chat/completions")
OLLAMA = Surface("ollama", "/api/chat")
SURFACES = [NATIVE, OPENAI, OLLAMA]

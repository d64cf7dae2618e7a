"""GemmaChat: a metered gateway in front of a local Gemma model."""

__version__ = "0.1.0"

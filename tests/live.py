"""A real GemmaChat server process, for tests that need a socket."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.fakes.server import free_port


def start_server(folder, model_path, port=None, **env) -> tuple[subprocess.Popen, str]:
    """Start `gemmachat serve` with settings from `env`; wait until ready."""
    port = port or free_port()
    environment = (
        os.environ
        | {
            "DATA_DIR": str(folder / "data"),
            "MODEL_PATH": str(model_path),
            "SERVER_SECRET": "test-secret",
            "PORT": str(port),
        }
        | {key.upper(): str(value) for key, value in env.items()}
    )
    log = folder / f"server-{time.monotonic_ns()}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gemmachat", "serve"],
            cwd=folder,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health").status_code == 200:
                return process, url
        if process.poll() is not None:
            break
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(log.read_text())


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def live_server(folder, model_path, **env):
    process, url = start_server(folder, model_path, **env)
    try:
        yield url
    finally:
        stop_server(process)

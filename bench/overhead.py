"""How much time GemmaChat adds to a request, and whether the model runs as
fast through it as when called directly.

Run: .venv/bin/python bench/overhead.py [--requests 200]

1. Gateway overhead: POST /chat over a real socket (uvicorn + httpx) with a
   backend that answers instantly, so the whole request time is what the
   gateway adds (auth, reservation, settlement, session, log line), next to
   a bare GET /health round trip for the HTTP floor.
2. Model throughput: tokens per second of the embedded Gemma called
   directly, and through POST /chat, on the same prompt (both include the
   prompt's evaluation).
"""

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from gemmachat.app import create_app
from gemmachat.backends.base import Finished, GenerationRequest, Message, ModelInfo
from gemmachat.backends.embedded import EmbeddedBackend, default_model_path
from gemmachat.settings import Settings

KEY = "gc_bench_key_000000000000000000000"


class InstantBackend:
    """Answers at once: isolates the gateway's own cost."""

    name = "instant"
    info = ModelInfo("instant", "none", "", "", 2048)

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def ready(self) -> bool:
        return True

    def count_tokens(self, messages) -> int:
        return 10

    async def generate(self, request):
        yield "ok"
        yield Finished(10, 1, "stop")


def serve(app, port):
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread


DATABASE_URL = None  # set by --database-url


def settings(folder, credits) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=folder,
        server_secret="bench",
        api_keys=KEY,
        initial_credits=credits,
        database_url=DATABASE_URL,
    )


def gateway_overhead(requests: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(settings(Path(folder), requests + 50), InstantBackend())
        server, thread = serve(app, 8931)
        timings = []
        with httpx.Client(base_url="http://127.0.0.1:8931") as client:
            for index in range(requests + 20):
                started = time.perf_counter()
                response = client.post(
                    "/chat", json={"prompt": "Hi"}, headers={"x-api-key": KEY}
                )
                if index >= 20:  # warm-up excluded
                    timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
            health = []
            for _ in range(requests):
                started = time.perf_counter()
                client.get("/health")
                health.append((time.perf_counter() - started) * 1000)
        server.should_exit = True
        thread.join()
    print(
        f"POST /chat, instant model, {requests} sequential requests "
        f"({'SQLite' if DATABASE_URL is None else DATABASE_URL.split(':')[0]}): "
        f"median {statistics.median(timings):.2f} ms, "
        f"p95 {sorted(timings)[int(len(timings) * 0.95)]:.2f} ms; "
        f"GET /health round trip median {statistics.median(health):.2f} ms"
    )


async def direct_tokens_per_second(backend, prompt) -> float:
    request = GenerationRequest([Message("user", prompt)], 128, temperature=0)
    started = time.perf_counter()
    async for item in backend.generate(request):
        if isinstance(item, Finished):
            produced = item.output_tokens
    return produced / (time.perf_counter() - started)


def model_through_gateway(prompt: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = default_model_path(Path(folder))
        backend = EmbeddedBackend(path, 2048, threads=2)
        direct = []

        async def run_direct():
            await backend.start()
            for _ in range(rounds):
                direct.append(await direct_tokens_per_second(backend, prompt))
            await backend.close()

        asyncio.run(run_direct())
        app = create_app(settings(Path(folder), 1000))
        server, thread = serve(app, 8932)
        through = []
        with httpx.Client(base_url="http://127.0.0.1:8932", timeout=120) as client:
            for _ in range(rounds):
                started = time.perf_counter()
                body = {"prompt": prompt, "max_tokens": 128, "temperature": 0}
                reply = client.post("/chat", json=body, headers={"x-api-key": KEY})
                tokens = reply.json()["usage"]["output_tokens"]
                through.append(tokens / (time.perf_counter() - started))
        server.should_exit = True
        thread.join()
    print(
        f"Gemma 3 270M, {rounds} rounds: direct {statistics.median(direct):.1f} "
        f"tokens/s, through POST /chat {statistics.median(through):.1f} tokens/s "
        "(including prompt evaluation)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="default: SQLite in a temp folder")
    parser.add_argument("--skip-model", action="store_true")
    args = parser.parse_args()
    DATABASE_URL = args.database_url
    gateway_overhead(args.requests)
    prompt = "Say: " + ", ".join(str(n) for n in range(1, 41)) + " and keep going."
    if not args.skip_model:
        model_through_gateway(prompt, args.rounds)

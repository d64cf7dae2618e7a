"""The openai backend: against llama-cpp-python's own server on the same
GGUF, and against a fake built from the OpenAI API reference for the wire
details and failures the real server cannot be made to show."""

import contextlib

import anyio
import pytest
from sqlalchemy import select

from gemmachat.backends import openai_upstream
from gemmachat.backends.base import Finished, GenerationRequest, Message
from gemmachat.db.tables import usage
from tests.asgi import LONG_PROMPT, hang_up_during
from tests.conftest import auth
from tests.fakes.openai_upstream import MODEL, FakeOpenAIUpstream
from tests.fakes.server import ServerThread, free_port
from tests.llama_server import API_KEY as UPSTREAM_KEY
from tests.llama_server import MODEL as LLAMA_MODEL
from tests.llama_server import llama_server

pytestmark = pytest.mark.anyio

QUESTION = {
    "prompt": "What is the capital of France?",
    "max_tokens": 8,
    "temperature": 0,
}


@pytest.fixture(scope="module")
def llama(model_path, tmp_path_factory):
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server(model_path, log) as server:
        yield server


@pytest.fixture(scope="module")
def fake():
    upstream = FakeOpenAIUpstream()
    with ServerThread(upstream.app) as server:
        upstream.url = f"{server.url}/v1"
        yield upstream


@pytest.fixture(autouse=True)
def reset(fake):
    fake.mode = "ok"
    fake.received.clear()
    fake.authorization.clear()


# Against llama-cpp-python's server.


async def test_chat_through_llama_cpp_server_is_answered_and_charged(start, llama):
    own = llama.ask(
        messages=[{"role": "user", "content": QUESTION["prompt"]}],
        max_tokens=8,
        temperature=0,
    )
    gc = await start(**llama.settings())
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == 200
    body = response.json()
    assert body["answer"] == own["choices"][0]["message"]["content"]
    assert body["model"] == LLAMA_MODEL
    assert body["finish_reason"] == own["choices"][0]["finish_reason"]
    # llama-cpp-python streams no usage: one token per chunk, which is its
    # own count, and the prompt estimated.
    estimate = gc.gateway.backend.count_tokens([Message("user", QUESTION["prompt"])])
    assert body["usage"] == {
        "input_tokens": estimate,
        "output_tokens": own["usage"]["completion_tokens"],
    }
    assert body["credits"]["charged"] == 1
    assert await _usage_statuses(gc) == ["ok"]


async def test_llama_cpp_length_limit_reports_length(start, llama):
    gc = await start(**llama.settings())
    response = await gc.client.post(
        "/chat", json=QUESTION | {"max_tokens": 3}, headers=auth()
    )
    assert response.status_code == 200
    assert response.json()["finish_reason"] == "length"
    assert response.json()["usage"]["output_tokens"] == 3


async def test_llama_cpp_honours_stop_seed_and_sampling(start, llama):
    gc = await start(**llama.settings())
    messages = [Message("user", "Tell me a story.")]
    wire = [{"role": "user", "content": "Tell me a story."}]
    sampling = {"max_tokens": 8, "temperature": 1.0, "top_p": 0.9, "seed": 11}
    whole = await _generate(gc, GenerationRequest(messages, **sampling))
    assert len(whole[0]) >= 6, "too short an answer to cut with a stop"
    stop = whole[0][: len(whole[0]) // 2][-3:]
    cut = await _generate(gc, GenerationRequest(messages, stop=[stop], **sampling))

    for (text, finished), own in [
        (whole, llama.ask(messages=wire, **sampling)),
        (cut, llama.ask(messages=wire, stop=[stop], **sampling)),
    ]:
        assert text == own["choices"][0]["message"]["content"]
        assert finished.finish_reason == own["choices"][0]["finish_reason"]
    assert cut[1].finish_reason == "stop"
    assert len(cut[0]) < len(whole[0])


async def test_llama_cpp_serves_concurrent_callers(start, llama):
    gc = await start(**llama.settings())
    replies = []

    async def ask():
        replies.append(await gc.client.post("/chat", json=QUESTION, headers=auth()))

    async with anyio.create_task_group() as group:
        group.start_soon(ask)
        group.start_soon(ask)
    assert [r.status_code for r in replies] == [200, 200]
    status = (await gc.client.get("/status", headers=auth())).json()
    assert status["balance"] == 18


async def test_hang_up_stops_the_llama_cpp_generation(start, llama):
    gc = await start(**llama.settings())
    first_piece = _signal_first_piece(gc.gateway.backend)
    body = {"prompt": LONG_PROMPT, "max_tokens": 1000, "temperature": 0}
    logged = len(llama.log.read_text())
    await hang_up_during(gc.app, "/chat", body, auth(), once=first_piece.is_set)

    async with gc.gateway.engine.connect() as conn:
        row = (await conn.execute(select(usage))).one()
    assert row.status == "client_disconnected"
    assert 0 < row.output_tokens < 1000
    assert row.credits == 1_000_000
    # The server notices at its next token that GemmaChat closed the stream.
    with anyio.fail_after(10):
        while "Disconnected from client" not in llama.log.read_text()[logged:]:
            await anyio.sleep(0.05)
    follow_up = await gc.client.post(
        "/chat", json=QUESTION | {"max_tokens": 2}, headers=auth()
    )
    assert follow_up.status_code == 200


@pytest.mark.parametrize("key", [None, "sk-wrong"])
async def test_wrong_upstream_key_is_502_and_free(start, llama, key):
    gc = await start(**llama.settings(openai_api_key=key))
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == 502
    assert response.json() == _error_body(
        "backend_error", "The model server answered 401: Invalid API key"
    )
    await _assert_nothing_charged(gc, "backend_error")


async def test_base_url_without_v1_is_502_and_free(start, llama):
    gc = await start(**llama.settings(openai_base_url=llama.url))
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == 502
    assert response.json() == _error_body(
        "backend_error", "The model server answered 404: Not Found"
    )
    await _assert_nothing_charged(gc, "backend_error")


@pytest.mark.parametrize(
    "model, ready, status", [(LLAMA_MODEL, True, "ok"), ("gemma-7b", False, "starting")]
)
async def test_health_says_whether_llama_cpp_serves_the_model(
    start, llama, model, ready, status
):
    gc = await start(**llama.settings(openai_model=model))
    response = await gc.client.get("/health")
    assert response.json() | {"version": None} == {
        "status": status,
        "ready": ready,
        "backend": "openai",
        "model": model,
        "version": None,
    }


# Against the fake, for what the real server cannot show.


@pytest.mark.parametrize(
    "key, authorization", [(None, None), (UPSTREAM_KEY, f"Bearer {UPSTREAM_KEY}")]
)
async def test_request_sent_upstream_is_well_formed(start, fake, key, authorization):
    gc = await start(
        backend="openai",
        openai_base_url=fake.url,
        openai_model=MODEL,
        openai_api_key=key,
    )
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == 200
    assert fake.received == [
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": QUESTION["prompt"]}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 8,
            "temperature": 0,
            "top_p": 0.95,
        }
    ]
    assert fake.authorization == [authorization]


async def test_stop_and_seed_are_sent_upstream(start, fake):
    gc = await start(backend="openai", openai_base_url=fake.url, openai_model=MODEL)
    request = GenerationRequest(
        [Message("system", "Be brief."), Message("user", "Hi")],
        max_tokens=5,
        stop=["\n"],
        seed=7,
    )
    text, finished = await _generate(gc, request)
    assert (text, finished) == ("The capital of France is", Finished(17, 5, "length"))
    sent = fake.received[0]
    assert sent["stop"] == ["\n"] and sent["seed"] == 7
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]


@pytest.mark.parametrize(
    "mode, input_tokens, output_tokens",
    [
        ("ok", 13, 8),  # the usage chunk: the fake counts end-of-turn
        ("usage_on_last_chunk", 13, 8),
        ("no_usage", 11, 7),  # estimated prompt, one token per chunk
    ],
)
async def test_usage_comes_from_the_upstream_when_it_reports_it(
    start, fake, mode, input_tokens, output_tokens
):
    fake.mode = mode
    gc = await start(backend="openai", openai_base_url=fake.url, openai_model=MODEL)
    response = await gc.client.post(
        "/chat", json=QUESTION | {"max_tokens": 16}, headers=auth()
    )
    body = response.json()
    assert body["answer"] == "The capital of France is Paris."
    assert body["finish_reason"] == "stop"
    assert body["usage"] == {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }
    assert body["credits"]["charged"] == 1


async def test_upstream_length_limit_reports_length(start, fake):
    gc = await start(backend="openai", openai_base_url=fake.url, openai_model=MODEL)
    response = await gc.client.post(
        "/chat", json=QUESTION | {"max_tokens": 3}, headers=auth()
    )
    assert response.json()["answer"] == "The capital of"
    assert response.json()["finish_reason"] == "length"
    assert response.json()["usage"]["output_tokens"] == 3


@pytest.mark.parametrize(
    "mode, status, error_type, message",
    [
        (
            "error_mid_stream",
            502,
            "backend_error",
            "The model server failed: The server had an error while "
            "processing your request.",
        ),
        (
            "llama_cpp_error_line",
            400,
            "context_length_exceeded",
            "The prompt is too long for the model: the request exceeds the "
            "available context size, try increasing it",
        ),
        (
            "drop_mid_stream",
            502,
            "backend_error",
            "The connection to the model server broke off.",
        ),
        (
            "unfinished",
            502,
            "backend_error",
            "The model server ended the answer unfinished.",
        ),
        (
            "http_500",
            502,
            "backend_error",
            "The model server answered 500: The server had an error.",
        ),
        ("hang", 504, "backend_timeout", "The model server did not answer in time."),
        ("busy", 503, "backend_busy", "The model server is busy; try again shortly."),
        (
            "context_too_long",
            400,
            "context_length_exceeded",
            "The prompt is too long for the model: This model's maximum context "
            "length is 2048 tokens. However, your messages resulted in 3010 "
            "tokens.",
        ),
    ],
)
async def test_failing_upstream_charges_nothing(
    start, fake, mode, status, error_type, message
):
    fake.mode = mode
    gc = await start(
        backend="openai",
        openai_base_url=fake.url,
        openai_model=MODEL,
        upstream_timeout_seconds=1,
    )
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == status
    param = "messages" if error_type == "context_length_exceeded" else None
    assert response.json() == _error_body(error_type, message, param)
    assert response.headers.get("retry-after") == ("7" if mode == "busy" else None)
    await _assert_nothing_charged(gc, error_type)


async def test_refused_connection_is_503_and_free(start):
    gc = await start(
        backend="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1"
    )
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "backend_unavailable"
    assert (await gc.client.get("/health")).json()["ready"] is False
    await _assert_nothing_charged(gc, "backend_unavailable")


async def test_unknown_upstream_model_is_404_and_free(start, fake):
    gc = await start(backend="openai", openai_base_url=fake.url, openai_model="gpt-9")
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == 404
    assert response.json() == _error_body(
        "model_not_found",
        "The model server does not have the model: The model `gpt-9` does not "
        "exist or you do not have access to it.",
    )
    await _assert_nothing_charged(gc, "model_not_found")


async def test_ready_once_the_upstream_comes_up(start, monkeypatch):
    monkeypatch.setattr(openai_upstream, "PROBE_EVERY_SECONDS", 0.05)
    port = free_port()
    gc = await start(
        backend="openai",
        openai_base_url=f"http://127.0.0.1:{port}/v1",
        openai_model=MODEL,
    )
    assert (await gc.client.get("/health")).json()["ready"] is False
    with ServerThread(FakeOpenAIUpstream().app, port=port):
        with anyio.fail_after(5):
            while not (await gc.client.get("/health")).json()["ready"]:
                await anyio.sleep(0.05)


def _signal_first_piece(backend) -> anyio.Event:
    """An event set when `backend` yields its first piece of text."""
    event = anyio.Event()
    generate = backend.generate

    async def signalling(request):
        async with contextlib.aclosing(generate(request)) as stream:
            async for item in stream:
                if isinstance(item, str):
                    event.set()
                yield item

    backend.generate = signalling
    return event


async def _generate(gc, request: GenerationRequest) -> tuple[str, Finished]:
    pieces = []
    async for item in gc.gateway.backend.generate(request):
        pieces.append(item)
    return "".join(pieces[:-1]), pieces[-1]


def _error_body(error_type: str, message: str, param: str | None = None) -> dict:
    return {"error": {"type": error_type, "message": message, "param": param}}


async def _assert_nothing_charged(gc, status_name: str) -> None:
    status = (await gc.client.get("/status", headers=auth())).json()
    assert status["balance"] == 20
    assert status["credits_used"] == 0
    assert await _usage_statuses(gc) == [status_name]


async def _usage_statuses(gc) -> list[str]:
    async with gc.gateway.engine.connect() as conn:
        return list((await conn.execute(select(usage.c.status))).scalars())

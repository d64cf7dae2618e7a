"""The ollama backend against a server speaking Ollama's wire format, and
every way an upstream fails charging nothing."""

import pytest

from tests.conftest import auth
from tests.fakes.ollama import MODEL, FakeOllama
from tests.fakes.server import ServerThread, free_port

pytestmark = pytest.mark.anyio

QUESTION = {
    "prompt": "What is the capital of France?",
    "max_tokens": 16,
    "temperature": 0,
}


@pytest.fixture(scope="module")
def ollama():
    fake = FakeOllama()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture(autouse=True)
def reset(ollama):
    ollama.mode = "ok"
    ollama.received.clear()


async def test_chat_through_ollama_is_answered_and_charged(start, ollama):
    gc = await start(backend="ollama", ollama_host=ollama.url)
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == 200
    body = response.json()
    assert body["answer"] == "The capital of France is Paris."
    assert body["model"] == MODEL
    assert body["usage"]["output_tokens"] == 7
    assert body["credits"]["charged"] == 1
    sent = ollama.received[0]
    assert sent["model"] == MODEL and sent["stream"] is True
    assert sent["messages"] == [
        {"role": "user", "content": "What is the capital of France?"}
    ]
    assert sent["options"] == {"num_predict": 16, "temperature": 0, "top_p": 0.95}


async def test_ollama_length_limit_reports_length(start, ollama):
    gc = await start(backend="ollama", ollama_host=ollama.url)
    response = await gc.client.post(
        "/chat", json=QUESTION | {"max_tokens": 3}, headers=auth()
    )
    assert response.json()["answer"] == "The capital of"
    assert response.json()["finish_reason"] == "length"


@pytest.mark.parametrize(
    "mode, status, error_type",
    [
        ("error_mid_stream", 502, "backend_error"),
        ("drop_mid_stream", 502, "backend_error"),
        ("http_500", 502, "backend_error"),
        ("hang", 504, "backend_timeout"),
    ],
)
async def test_failing_upstream_charges_nothing(
    start, ollama, mode, status, error_type
):
    ollama.mode = mode
    gc = await start(
        backend="ollama", ollama_host=ollama.url, upstream_timeout_seconds=1
    )
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == status
    assert response.json()["error"]["type"] == error_type
    await _assert_nothing_charged(gc, status_name=error_type)


async def test_refused_connection_is_503_and_free(start):
    gc = await start(backend="ollama", ollama_host=f"http://127.0.0.1:{free_port()}")
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "backend_unavailable"
    await _assert_nothing_charged(gc, status_name="backend_unavailable")


async def test_unknown_ollama_model_is_404_and_free(start, ollama):
    gc = await start(backend="ollama", ollama_host=ollama.url, ollama_model="gemma:1b")
    response = await gc.client.post("/chat", json=QUESTION, headers=auth())
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "model_not_found"
    await _assert_nothing_charged(gc, status_name="model_not_found")


async def _assert_nothing_charged(gc, status_name):
    status = (await gc.client.get("/status", headers=auth())).json()
    assert status["balance"] == 20
    assert status["credits_used"] == 0
    rows = await _usage_statuses(gc)
    assert rows == [status_name]


async def _usage_statuses(gc):
    from sqlalchemy import select

    from gemmachat.db.tables import usage

    async with gc.gateway.engine.connect() as conn:
        return list((await conn.execute(select(usage.c.status))).scalars())

"""One billing rule for every surface and mode."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from gemmachat.db.tables import usage
from tests.asgi import LONG_PROMPT, body_chunks, hang_up_during
from tests.conftest import auth
from tests.fakes.ollama import FakeOllama
from tests.fakes.server import ServerThread
from tests.surfaces import SURFACES

pytestmark = pytest.mark.anyio

MODEL = "gemma-3-270m"
PER_TOKEN = {
    "pricing": "per_token",
    "input_credits_per_1k_tokens": 1,
    "output_credits_per_1k_tokens": 3,
}
BY_NAME = pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)


async def _balance(gc) -> Decimal:
    status = (await gc.client.get("/status", headers=auth())).json()
    return Decimal(str(status["balance"]))


def _per_token_units(row) -> int:
    """PER_TOKEN's price in units (a millionth of a credit), rounded up."""
    raw = row.input_tokens * 1_000_000 + row.output_tokens * 3_000_000
    return -(-raw // 1000)


async def _usage_rows(gc):
    async with gc.gateway.engine.connect() as conn:
        return (await conn.execute(select(usage).order_by(usage.c.id))).all()


@BY_NAME
async def test_streamed_and_whole_answers_cost_the_same(start, surface):
    gc = await start(**PER_TOKEN)
    prompt = "What is the capital of France?"
    before = await _balance(gc)
    whole = await gc.client.post(
        surface.path, json=surface.body(prompt, MODEL, 32, False), headers=auth()
    )
    middle = await _balance(gc)
    streamed = await gc.client.post(
        surface.path, json=surface.body(prompt, MODEL, 32, True), headers=auth()
    )
    after = await _balance(gc)

    assert whole.status_code == streamed.status_code == 200
    assert surface.streamed_text(streamed.text) == surface.text(whole.json())
    assert before - middle == middle - after > 0
    first, second = await _usage_rows(gc)
    assert (first.input_tokens, first.output_tokens, first.credits) == (
        second.input_tokens,
        second.output_tokens,
        second.credits,
    )
    assert first.credits == _per_token_units(first)


@BY_NAME
async def test_hang_up_after_three_chunks_charges_what_was_generated(
    start, embedded, surface
):
    gc = await start(**PER_TOKEN)
    body = surface.body(LONG_PROMPT, MODEL, 300, True)
    sent = await hang_up_during(gc.app, surface.path, body, auth(), after_chunks=3)

    assert len(body_chunks(sent)) < 10
    assert not embedded._slot.locked(), "the generation should have stopped"
    (row,) = await _usage_rows(gc)
    assert row.status == "client_disconnected"
    assert 3 <= row.output_tokens < 40
    assert row.credits == _per_token_units(row)
    next_answer = await gc.client.post(
        "/chat", json={"prompt": "Hi", "max_tokens": 2}, headers=auth()
    )
    assert next_answer.status_code == 200


@pytest.fixture(scope="module")
def dying_ollama():
    fake = FakeOllama()
    fake.mode = "error_mid_stream"
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


@BY_NAME
@pytest.mark.parametrize("mode", ["error_mid_stream", "drop_mid_stream"])
async def test_upstream_dying_mid_stream_costs_nothing(
    start, dying_ollama, surface, mode
):
    dying_ollama.mode = mode
    gc = await start(backend="ollama", ollama_host=dying_ollama.url)
    response = await gc.client.post(
        surface.path, json=surface.body("Hi", "gemma3:1b", 16, True), headers=auth()
    )
    assert response.status_code == 200  # the stream had begun
    assert "The capital of" in surface.streamed_text(response.text)
    assert surface.stream_error(response.text)
    assert await _balance(gc) == 20
    (row,) = await _usage_rows(gc)
    assert (row.status, row.credits) == ("backend_error", 0)

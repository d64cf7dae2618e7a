"""A caller who hangs up pays for what was generated, and the model stops."""

import asyncio

import pytest
from sqlalchemy import select

from gemmachat.db.tables import usage
from tests.asgi import LONG_PROMPT, hang_up_during
from tests.conftest import auth

pytestmark = pytest.mark.anyio

FULL_ANSWER_TOKENS = 150  # what LONG_PROMPT produces when left to finish


async def test_hang_up_during_chat_charges_and_stops(start, embedded):
    gc = await start()
    body = {"prompt": LONG_PROMPT, "max_tokens": 300, "temperature": 0}
    started = embedded.generated_tokens
    await hang_up_during(
        gc.app,
        "/chat",
        body,
        auth(),
        once=lambda: embedded.generated_tokens >= started + 5,
    )

    assert not embedded._slot.locked(), "the generation should have stopped"
    async with gc.gateway.engine.connect() as conn:
        row = (await conn.execute(select(usage))).one()
    assert row.status == "client_disconnected"
    assert 5 <= row.output_tokens < FULL_ANSWER_TOKENS // 2
    assert row.credits == 1_000_000
    status = (await gc.client.get("/status", headers=auth())).json()
    assert status["balance"] == 19

    follow_up = await gc.client.post(
        "/chat", json={"prompt": "Hi", "max_tokens": 4}, headers=auth()
    )
    assert follow_up.status_code == 200


async def test_hang_up_during_prompt_evaluation_pays_for_the_prompt(start, embedded):
    gc = await start()
    body = {"prompt": LONG_PROMPT, "max_tokens": 300, "temperature": 0}
    begun = embedded.prompts_started
    await hang_up_during(
        gc.app, "/chat", body, auth(), once=lambda: embedded.prompts_started > begun
    )
    async with gc.gateway.engine.connect() as conn:
        row = (await conn.execute(select(usage))).one()
    assert row.status == "client_disconnected"
    assert row.credits == 1_000_000
    assert (await gc.client.get("/status", headers=auth())).json()["balance"] == 19


async def test_hang_up_while_queued_costs_nothing(start, embedded):
    gc = await start()
    long = {"prompt": LONG_PROMPT, "max_tokens": 40, "temperature": 0}
    queued = {"prompt": "Hi", "max_tokens": 4}
    begun = embedded.prompts_started
    first = asyncio.ensure_future(gc.client.post("/chat", json=long, headers=auth()))
    while embedded.prompts_started == begun:
        await asyncio.sleep(0.01)
    await hang_up_during(
        gc.app, "/chat", queued, auth(), once=lambda: embedded._waiting > 0
    )
    assert (await first).status_code == 200
    async with gc.gateway.engine.connect() as conn:
        rows = (await conn.execute(select(usage).order_by(usage.c.id))).all()
    statuses = {row.status: row.credits for row in rows}
    assert statuses == {"client_disconnected": 0, "ok": 1_000_000}

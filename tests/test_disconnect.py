"""A caller who hangs up pays for what was generated, and the model stops."""

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

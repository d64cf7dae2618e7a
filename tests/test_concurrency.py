"""Hundreds of requests at once never spend a credit twice, on SQLite and
on Postgres, from one replica or several."""

import asyncio
from collections import Counter

import pytest

from gemmachat.ledger import ledger
from gemmachat.ledger.accounts import find_by_key
from tests.conftest import BOTH_DATABASES, KEY, ON_POSTGRES, auth

pytestmark = pytest.mark.anyio

SHORT = {"prompt": "Say hi.", "max_tokens": 2, "temperature": 0}


async def _burst(clients, count):
    calls = [clients[i % len(clients)].post("/chat", json=SHORT, headers=auth())
             for i in range(count)]
    return await asyncio.gather(*calls)


async def _assert_exactly_spent(gc, responses, credits):
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: credits, 402: len(responses) - credits}
    for response in responses:
        if response.status_code == 402:
            assert response.json()["error"]["type"] == "insufficient_credits"
    status = (await gc.client.get("/status", headers=auth())).json()
    assert status["balance"] == 0
    assert status["requests"] == credits
    assert status["credits_used"] == credits


@BOTH_DATABASES
async def test_200_concurrent_chats_on_50_credits(start):
    gc = await start(initial_credits=50)
    responses = await _burst([gc.client], 200)
    await _assert_exactly_spent(gc, responses, 50)


@ON_POSTGRES
async def test_two_replicas_share_one_balance_on_postgres(start):
    first = await start(initial_credits=50)
    second = await start(initial_credits=50)
    responses = await _burst([first.client, second.client], 200)
    await _assert_exactly_spent(first, responses, 50)


@BOTH_DATABASES
async def test_concurrent_reservations_never_overdraw(start):
    gc = await start(initial_credits=10)
    engine = gc.gateway.engine
    account = await find_by_key(engine, gc.gateway.secret, KEY)
    assert account.balance == 10_000_000
    account_id = account.id

    async def take(i):
        try:
            return await ledger.reserve(engine, account_id, 3_000_000, f"r{i}")
        except Exception as error:  # InsufficientCredits is the expected loser
            return error

    results = await asyncio.gather(*(take(i) for i in range(30)))
    won = [r for r in results if isinstance(r, tuple)]
    assert len(won) == 3
    assert await ledger.balance(engine, account_id) == 1_000_000

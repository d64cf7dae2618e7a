"""Allowances: a key with a refill rule is topped up once per UTC day or
month, never early, and never at the cost of spend already recorded."""

import asyncio

import pytest

from tests.admin_helpers import (
    admin,
    create_key,
    fixed_clock,
    ledger_kinds,
    start_admin,
)
from tests.conftest import BOTH_DATABASES, auth

pytestmark = pytest.mark.anyio

SHORT = {"prompt": "Hi", "max_tokens": 2, "temperature": 0}


async def _balance(gc, key: str):
    response = await gc.client.get("/status", headers=auth(key))
    assert response.status_code == 200
    return response.json()["balance"]


async def _spend(gc, key: str, times: int) -> None:
    for _ in range(times):
        response = await gc.client.post("/chat", json=SHORT, headers=auth(key))
        assert response.status_code == 200


async def test_daily_refill_applies_once_per_day(start):
    gc = await start_admin(start)
    clock = fixed_clock(gc, "2030-01-01T10:00:00")
    made = await create_key(gc, credits=10, refill={"credits": 10, "period": "day"})
    key = made["key"]
    await _spend(gc, key, 2)
    assert await _balance(gc, key) == 8

    clock.set("2030-01-01T23:59:59")  # never early
    assert await _balance(gc, key) == 8
    clock.set("2030-01-02T00:00:00")  # the boundary: one refill
    assert [await _balance(gc, key) for _ in range(3)] == [10, 10, 10]
    assert (await ledger_kinds(gc, made["id"])).count("refill") == 1

    await _spend(gc, key, 1)  # spend within the period stays spent
    clock.set("2030-01-02T18:00:00")
    assert await _balance(gc, key) == 9
    clock.set("2030-01-05T08:00:00")  # idle for days: still one top-up
    assert await _balance(gc, key) == 10
    assert (await ledger_kinds(gc, made["id"])).count("refill") == 2


async def test_monthly_refill_applies_at_the_month_boundary(start):
    gc = await start_admin(start)
    clock = fixed_clock(gc, "2030-01-15T00:00:00")
    made = await create_key(gc, credits=3, refill={"credits": 3, "period": "month"})
    await _spend(gc, made["key"], 1)
    clock.set("2030-01-31T23:59:59")
    assert await _balance(gc, made["key"]) == 2
    clock.set("2030-02-01T00:00:00")
    assert await _balance(gc, made["key"]) == 3
    clock.set("2030-02-28T23:00:00")
    assert await _balance(gc, made["key"]) == 3
    assert (await ledger_kinds(gc, made["id"])).count("refill") == 1


async def test_refill_never_takes_credits_back(start):
    gc = await start_admin(start)
    clock = fixed_clock(gc, "2030-01-01T10:00:00")
    made = await create_key(gc, credits=25, refill={"credits": 10, "period": "day"})
    clock.set("2030-01-02T10:00:00")
    assert await _balance(gc, made["key"]) == 25
    assert "refill" not in await ledger_kinds(gc, made["id"])


async def test_new_refill_rule_starts_with_the_next_period(start):
    gc = await start_admin(start)
    clock = fixed_clock(gc, "2030-03-10T10:00:00")
    made = await create_key(gc, credits=1)
    response = await gc.client.patch(
        f"/admin/keys/{made['id']}",
        headers=admin(),
        json={"refill": {"credits": 5, "period": "month"}},
    )
    assert response.json()["refill"] == {"credits": 5, "period": "month"}
    assert await _balance(gc, made["key"]) == 1
    clock.set("2030-04-01T00:00:00")
    assert await _balance(gc, made["key"]) == 5


@BOTH_DATABASES
async def test_concurrent_checks_at_a_boundary_refill_once(start):
    gc = await start_admin(start)
    clock = fixed_clock(gc, "2030-01-01T10:00:00")
    made = await create_key(gc, credits=4, refill={"credits": 10, "period": "day"})
    clock.set("2030-01-02T00:00:01")
    balances = await asyncio.gather(*[_balance(gc, made["key"]) for _ in range(20)])
    assert set(balances) == {10}
    assert (await ledger_kinds(gc, made["id"])).count("refill") == 1


async def test_admin_refill_run_serves_due_keys_once(start):
    gc = await start_admin(start)
    clock = fixed_clock(gc, "2030-01-01T10:00:00")
    day = await create_key(gc, credits=0, refill={"credits": 2, "period": "day"})
    month = await create_key(gc, credits=0, refill={"credits": 9, "period": "month"})
    clock.set("2030-01-02T00:00:00")

    async def run():
        response = await gc.client.post("/admin/refills/run", headers=admin())
        assert response.status_code == 200
        return response.json()

    assert await run() == {"refilled": 1}
    assert await run() == {"refilled": 0}
    shown = await gc.client.get(f"/admin/keys/{day['id']}", headers=admin())
    assert shown.json()["balance"] == 2
    assert "refill" not in await ledger_kinds(gc, month["id"])

"""Helpers for the admin tests: the admin key, creating keys through the
API, moving the gateway's clock, and waiting for background work."""

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from gemmachat.db.tables import ledger_entries

ADMIN_KEY = "gc_admin_test_key_000000000000000"


def admin() -> dict[str, str]:
    return {"authorization": f"Bearer {ADMIN_KEY}"}


async def start_admin(start, **overrides):
    return await start(admin_api_key=ADMIN_KEY, **overrides)


async def create_key(gc, **body) -> dict:
    """A key made through the admin API; returns the 201 body (with "key")."""
    response = await gc.client.post("/admin/keys", json=body, headers=admin())
    assert response.status_code == 201, response.text
    return response.json()


async def show_key(gc, key_id: int) -> dict:
    response = await gc.client.get(f"/admin/keys/{key_id}", headers=admin())
    assert response.status_code == 200, response.text
    return response.json()


async def balance(gc, key_id: int):
    return (await show_key(gc, key_id))["balance"]


async def ledger_kinds(gc, key_id: int) -> list[str]:
    query = (
        select(ledger_entries.c.kind)
        .where(ledger_entries.c.account_id == key_id)
        .order_by(ledger_entries.c.id)
    )
    async with gc.gateway.engine.connect() as conn:
        return list((await conn.execute(query)).scalars())


async def count_rows(gc, table, *conditions) -> int:
    query = select(func.count()).select_from(table).where(*conditions)
    async with gc.gateway.engine.connect() as conn:
        return (await conn.execute(query)).scalar_one()


class Clock:
    """A settable clock for the gateway: expiry and allowance periods."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, text: str) -> None:
        self.moment = datetime.fromisoformat(text).replace(tzinfo=UTC)


def fixed_clock(gc, text: str) -> Clock:
    clock = Clock(datetime.fromisoformat(text).replace(tzinfo=UTC))
    gc.gateway.clock = clock
    return clock


async def eventually(predicate, timeout: float = 10.0) -> None:
    """Wait for background work (a delivery over HTTP) to be observable."""
    deadline = time.monotonic() + timeout
    while not await _holds(predicate):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _holds(predicate) -> bool:
    result = predicate()
    if asyncio.iscoroutine(result):
        result = await result
    return bool(result)

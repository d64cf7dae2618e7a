"""Low-credit alerts, delivered over real HTTP: once per crossing of the
threshold, again only after a recharge lifts the balance above it and a
new crossing; retried with backoff, recorded, and off the request path."""

import asyncio
import json

import pytest
from sqlalchemy import select

from gemmachat.admin import signing
from gemmachat.db.tables import alert_deliveries
from tests.admin_helpers import admin, create_key, eventually, start_admin
from tests.conftest import KEY, auth
from tests.live_server import Receiver, serving

pytestmark = pytest.mark.anyio

ALERT_SECRET = "alert-signing-secret"
SHORT = {"prompt": "Hi", "max_tokens": 2, "temperature": 0}


async def _start(start, url: str, **overrides):
    values = {
        "initial_credits": 7,
        "low_credit_threshold": 5,
        "low_credit_webhook_url": f"{url}/hooks/low-credit",
        "low_credit_webhook_secret": ALERT_SECRET,
        "alert_retry_seconds": 0.05,
    } | overrides
    return await start_admin(start, **values)


async def _chat(gc, key: str = KEY) -> float:
    response = await gc.client.post("/chat", json=SHORT, headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()["credits"]["remaining"]


async def _recharge(gc, key_id: int, credits) -> None:
    response = await gc.client.post(
        f"/admin/keys/{key_id}/recharge",
        headers=admin(),
        json={"credits": credits, "reason": "top-up"},
    )
    assert response.status_code == 200


async def _deliveries(gc) -> list:
    await gc.gateway.alerts.flush_crossings()
    query = select(alert_deliveries).order_by(alert_deliveries.c.id)
    async with gc.gateway.engine.connect() as conn:
        return (await conn.execute(query)).all()


async def test_low_credit_alert_fires_once_per_crossing(start):
    receiver = Receiver()
    async with serving(receiver) as url:
        gc = await _start(start, url)
        assert [await _chat(gc) for _ in range(4)] == [6, 5, 4, 3]
        assert len(await _deliveries(gc)) == 1
        await eventually(lambda: len(receiver.calls) == 1)

        await _recharge(gc, 1, 1)  # 4: still under, stays disarmed
        assert await _chat(gc) == 3
        assert len(await _deliveries(gc)) == 1

        await _recharge(gc, 1, 3)  # 6: above again, re-armed
        assert await _chat(gc) == 5
        assert len(await _deliveries(gc)) == 2
        await eventually(lambda: len(receiver.calls) == 2)
    first, second = (json.loads(call.body) for call in receiver.calls)
    assert {k: v for k, v in first.items() if k != "time"} == {
        "id": 1,
        "type": "credits.low",
        "key_id": 1,
        "key_prefix": KEY[:10],
        "label": "API_KEYS",
        "owner": "",
        "balance": 5,
        "threshold": 5,
    }
    assert (second["id"], second["balance"]) == (2, 5)


async def test_low_credit_alert_is_signed(start):
    receiver = Receiver()
    async with serving(receiver) as url:
        gc = await _start(start, url, initial_credits=6)
        await _chat(gc)
        await eventually(lambda: len(receiver.calls) == 1)
    call = receiver.calls[0]
    assert call.path == "/hooks/low-credit"
    assert call.headers["gemmachat-delivery"] == "1"
    signing.verify(
        ALERT_SECRET.encode(),
        call.headers["gemmachat-signature"],
        call.body,
        gc.gateway.clock(),
        60,
    )


async def test_low_credit_alert_does_not_hold_up_the_request(start):
    receiver = Receiver()
    receiver.hold.clear()  # the receiver answers nothing until released
    async with serving(receiver) as url:
        gc = await _start(start, url, initial_credits=6)
        assert await _chat(gc) == 5  # answered while the alert hangs
        await eventually(lambda: len(receiver.calls) == 1)
        [pending] = await _deliveries(gc)
        assert pending.state == "pending"
        receiver.hold.set()

        async def delivered():
            return [row.state for row in await _deliveries(gc)] == ["delivered"]

        await eventually(delivered)


async def test_low_credit_alert_is_retried_with_backoff_and_recorded(start):
    receiver = Receiver(statuses=[500, 503])
    async with serving(receiver) as url:
        gc = await _start(start, url, initial_credits=6)
        await _chat(gc)
        await eventually(lambda: len(receiver.calls) == 3)

        async def delivered():
            return (await _deliveries(gc))[0].state == "delivered"

        await eventually(delivered)
    assert {call.headers["gemmachat-delivery"] for call in receiver.calls} == {"1"}
    listed = await gc.client.get("/admin/alerts", headers=admin())
    [shown] = listed.json()["data"]
    assert {
        k: shown[k]
        for k in ("id", "key_id", "state", "attempts", "last_status", "last_error")
    } == {
        "id": 1,
        "key_id": 1,
        "state": "delivered",
        "attempts": 3,
        "last_status": 200,
        "last_error": None,
    }


async def test_low_credit_alert_gives_up_after_max_attempts(start):
    receiver = Receiver(statuses=[500] * 10)
    async with serving(receiver) as url:
        gc = await _start(start, url, initial_credits=6, alert_max_attempts=2)
        await _chat(gc)

        async def failed():
            return (await _deliveries(gc))[0].state == "failed"

        await eventually(failed)
    [row] = await _deliveries(gc)
    assert (row.attempts, row.last_status, row.last_error) == (2, 500, "HTTP 500")
    assert len(receiver.calls) == 2


async def test_key_threshold_overrides_the_default(start):
    receiver = Receiver()
    async with serving(receiver) as url:
        gc = await _start(start, url)
        made = await create_key(gc, credits=4, low_credit_threshold=2.5)
        assert await _chat(gc, made["key"]) == 3
        assert await _deliveries(gc) == []
        status = await gc.client.get("/status", headers=auth(made["key"]))
        assert (status.json()["low"], status.json()["low_credit_threshold"]) == (
            False,
            2.5,
        )
        assert await _chat(gc, made["key"]) == 2
        await eventually(lambda: len(receiver.calls) == 1)
    assert json.loads(receiver.calls[0].body)["threshold"] == 2.5


async def test_no_alert_is_recorded_without_a_webhook_url(start):
    gc = await start_admin(start, initial_credits=6, low_credit_threshold=5)
    assert await _chat(gc) == 5
    assert await _deliveries(gc) == []


async def test_requests_crossing_together_fire_one_alert(start):
    receiver = Receiver()
    async with serving(receiver) as url:
        gc = await _start(start, url, initial_credits=6)
        remaining = await asyncio.gather(*[_chat(gc) for _ in range(6)])
        assert min(remaining) == 0  # every request ended under the threshold
        assert len(await _deliveries(gc)) == 1
        await eventually(lambda: len(receiver.calls) == 1)

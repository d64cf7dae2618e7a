"""Every admin action lands in the audit log with actor, time, target and
the balance before and after."""

import json

import pytest

from gemmachat.admin.signing import sign
from tests.admin_helpers import admin, create_key, fixed_clock, start_admin
from tests.conftest import KEY, auth

pytestmark = pytest.mark.anyio

SECRET = "whsec_audit"


async def _ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()


def _now(gc) -> int:
    return int(gc.gateway.clock().timestamp())


async def _every_action(gc) -> dict:
    """Do each admin action once; returns the key made on the way."""
    post, headers = gc.client.post, admin()
    made = await create_key(
        gc, label="audited", credits=2, refill={"credits": 3, "period": "day"}
    )
    path = f"/admin/keys/{made['id']}"
    await _ok(await gc.client.patch(path, json={"owner": "ops"}, headers=headers))
    await _ok(
        await post(
            f"{path}/recharge",
            headers=headers,
            json={"credits": 1.5, "reason": "goodwill"},
        )
    )
    voucher = (
        await _ok(
            await post("/admin/vouchers", json={"credits": 4}, headers=headers), 201
        )
    )["data"][0]
    await _ok(
        await post(
            "/vouchers/redeem",
            json={"code": voucher["code"]},
            headers=auth(made["key"]),
        )
    )
    body = json.dumps({"id": "evt_9", "key_id": made["id"], "credits": 10}).encode()
    await _ok(
        await post(
            "/webhooks/payments",
            content=body,
            headers={
                "content-type": "application/json",
                "GemmaChat-Signature": sign(SECRET.encode(), _now(gc), body),
            },
        )
    )
    await _ok(await post(f"{path}/rotate", headers=headers))
    await _ok(await post(f"{path}/revoke", headers=headers))
    return made


async def test_every_admin_action_is_in_the_audit_log(start):
    gc = await start_admin(start, payment_webhook_secret=SECRET)
    clock = fixed_clock(gc, "2030-01-01T10:00:00")
    spender = await create_key(gc, credits=1, refill={"credits": 3, "period": "day"})
    clock.set("2030-01-02T10:00:00")
    await _ok(await gc.client.post("/admin/refills/run", headers=admin()))
    made = await _every_action(gc)

    log = (
        await _ok(
            await gc.client.get("/admin/audit", headers=admin(), params={"limit": 100})
        )
    )["data"]
    rows = [
        (e["action"], e["actor"], e["key_id"], e["balance_before"], e["balance_after"])
        for e in reversed(log)
    ]
    key = made["id"]
    assert rows == [
        ("key.create", "admin", spender["id"], 0, 1),
        ("credits.refill", "refill", spender["id"], 1, 3),
        ("key.create", "admin", key, 0, 2),
        ("key.update", "admin", key, 2, 2),
        ("credits.recharge", "admin", key, 2, 3.5),
        ("voucher.create", "admin", None, None, None),
        ("voucher.redeem", f"key:{made['key_prefix']}", key, 3.5, 7.5),
        ("payment.grant", "payments", key, 7.5, 17.5),
        ("key.rotate", "admin", key, 17.5, 17.5),
        ("key.revoke", "admin", key, 17.5, 17.5),
    ]
    assert all(entry["time"].startswith("2030-01-02T10:00:00") for entry in log[:8])
    recharge = next(e for e in log if e["action"] == "credits.recharge")
    assert recharge["target"] == made["key_prefix"]
    assert recharge["detail"] == {"credits": 1.5, "note": "goodwill"}
    assert recharge["request_id"]
    rotate = next(e for e in log if e["action"] == "key.rotate")
    assert rotate["detail"] == {"old_prefix": made["key_prefix"]}
    assert rotate["target"] != made["key_prefix"]


async def test_refused_actions_are_not_audited(start):
    gc = await start_admin(start)
    await gc.client.post(
        "/admin/keys/1/recharge", headers=admin(), json={"credits": -1, "reason": "no"}
    )
    await gc.client.post("/admin/keys/1/rotate", headers=admin())
    await gc.client.post("/admin/keys", json={"label": 5}, headers=admin())
    await gc.client.post("/admin/keys", json={}, headers=auth(KEY))
    log = await gc.client.get("/admin/audit", headers=admin())
    assert log.json() == {"data": [], "next_cursor": None}


async def test_audit_log_filters_and_pages(start):
    gc = await start_admin(start)
    for credits in (1, 2, 3):
        await gc.client.post(
            "/admin/keys/2/recharge",
            headers=admin(),
            json={"credits": credits, "reason": "r"},
        )
    await create_key(gc)

    async def actions(**params):
        response = await gc.client.get("/admin/audit", params=params, headers=admin())
        page = response.json()
        return [e["detail"].get("credits") for e in page["data"]], page

    credits, _ = await actions(action="credits.recharge", key_id=2)
    assert credits == [3, 2, 1]
    credits, page = await actions(action="credits.recharge", limit=2)
    assert credits == [3, 2]
    credits, _ = await actions(
        action="credits.recharge", limit=2, cursor=page["next_cursor"]
    )
    assert credits == [1]

"""Credit packs: admins create codes, key holders redeem them onto their
own key, and a code is never redeemed more often than it allows."""

import asyncio
from collections import Counter

import pytest

from gemmachat.db.tables import vouchers
from tests.admin_helpers import (
    admin,
    balance,
    create_key,
    fixed_clock,
    ledger_kinds,
    start_admin,
)
from tests.conftest import BOTH_DATABASES, KEY, OTHER_KEY, auth

pytestmark = pytest.mark.anyio

USED_UP = {
    "error": {
        "type": "voucher_used_up",
        "message": "This voucher code has been used up.",
        "param": "code",
    }
}


async def _vouchers(gc, **body) -> list[dict]:
    response = await gc.client.post("/admin/vouchers", json=body, headers=admin())
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()["data"]


async def _redeem(gc, key: str, code):
    return await gc.client.post(
        "/vouchers/redeem", json={"code": code}, headers=auth(key)
    )


async def test_redeem_voucher_adds_its_credits_once(start):
    gc = await start_admin(start)
    [voucher] = await _vouchers(gc, credits=5, note="5-credit pack")
    assert voucher["code"].startswith("gcv_")
    assert {k: voucher[k] for k in ("credits", "max_uses", "uses", "state")} == {
        "credits": 5,
        "max_uses": 1,
        "uses": 0,
        "state": "active",
    }
    response = await _redeem(gc, KEY, voucher["code"])
    assert response.status_code == 200
    assert response.json() == {
        "key_id": 1,
        "key_prefix": KEY[:10],
        "credits": 5,
        "balance": 25,
    }
    assert await ledger_kinds(gc, 1) == ["grant", "voucher"]
    again = await _redeem(gc, OTHER_KEY, voucher["code"])
    assert again.status_code == 409
    assert again.json() == USED_UP
    assert await balance(gc, 2) == 20


async def test_multi_use_voucher_is_redeemed_once_per_key(start):
    gc = await start_admin(start)
    [voucher] = await _vouchers(gc, credits=1, max_uses=2)
    third = await create_key(gc)
    assert (await _redeem(gc, KEY, voucher["code"])).status_code == 200
    twice = await _redeem(gc, KEY, voucher["code"])
    assert twice.status_code == 409
    assert twice.json() == {
        "error": {
            "type": "voucher_already_redeemed",
            "message": "This key has already redeemed this code.",
            "param": "code",
        }
    }
    assert (await _redeem(gc, OTHER_KEY, voucher["code"])).status_code == 200
    assert (await _redeem(gc, third["key"], voucher["code"])).json() == USED_UP
    assert [await balance(gc, i) for i in (1, 2, third["id"])] == [21, 21, 20]


async def test_expired_voucher_is_refused(start):
    gc = await start_admin(start)
    clock = fixed_clock(gc, "2030-01-01T00:00:00")
    [voucher] = await _vouchers(gc, credits=1, expires_at="2030-01-02T00:00:00Z")
    clock.set("2030-01-02T00:00:00")
    response = await _redeem(gc, KEY, voucher["code"])
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "type": "voucher_expired",
            "message": "This voucher code has expired.",
            "param": "code",
        }
    }
    assert await balance(gc, 1) == 20


@pytest.mark.parametrize(
    "code, status, error",
    [
        (
            "gcv_not_a_code_we_made",
            404,
            {
                "type": "voucher_not_found",
                "message": "No such voucher code.",
                "param": "code",
            },
        ),
        (
            "",
            422,
            {
                "type": "invalid_request",
                "param": "code",
                "message": "code: String should have at least 1 character",
            },
        ),
        (
            5,
            422,
            {
                "type": "invalid_request",
                "param": "code",
                "message": "code: Input should be a valid string",
            },
        ),
    ],
    ids=["unknown", "empty", "number"],
)
async def test_redeem_bad_code_is_refused(start, code, status, error):
    gc = await start_admin(start)
    response = await _redeem(gc, KEY, code)
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert await balance(gc, 1) == 20


async def test_redeem_needs_a_user_key(start):
    gc = await start_admin(start)
    [voucher] = await _vouchers(gc, credits=1)
    response = await gc.client.post(
        "/vouchers/redeem", headers=admin(), json={"code": voucher["code"]}
    )
    assert response.status_code == 401


@BOTH_DATABASES
async def test_20_concurrent_redemptions_of_a_single_use_voucher_one_wins(start):
    gc = await start_admin(start)
    holders = [await create_key(gc, credits=0) for _ in range(20)]
    [voucher] = await _vouchers(gc, credits=3)
    responses = await asyncio.gather(
        *[_redeem(gc, holder["key"], voucher["code"]) for holder in holders]
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 19}
    assert all(r.json() == USED_UP for r in responses if r.status_code == 409)
    balances = [await balance(gc, holder["id"]) for holder in holders]
    assert sorted(balances) == [0] * 19 + [3]
    listed = await gc.client.get("/admin/vouchers", headers=admin())
    assert listed.json()["data"][0]["uses"] == 1
    assert listed.json()["data"][0]["state"] == "used_up"


async def test_voucher_codes_are_stored_hashed_and_listed_without_code(start, tmp_path):
    gc = await start_admin(start)
    created = await _vouchers(gc, credits=2, count=3)
    listed = await gc.client.get(
        "/admin/vouchers", params={"limit": 2}, headers=admin()
    )
    page = listed.json()
    assert [v["id"] for v in page["data"]] == [3, 2]
    assert page["next_cursor"] == 2
    assert all("code" not in voucher for voucher in page["data"])
    await gc.gateway.engine.dispose()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("*.db*"))
    for voucher in created:
        assert voucher["code"].encode() not in stored
        assert voucher["code_prefix"].encode() in stored


@pytest.mark.parametrize(
    "body, param",
    [
        ({"credits": 0}, "credits"),
        ({"credits": "5"}, "credits"),
        ({"credits": 1, "max_uses": 0}, "max_uses"),
        ({"credits": 1, "count": 1001}, "count"),
        ({"credits": 1, "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
    ],
    ids=["zero", "string", "no-uses", "too-many", "expired"],
)
async def test_create_voucher_bad_body_is_422(start, body, param):
    gc = await start_admin(start)
    response = await gc.client.post("/admin/vouchers", json=body, headers=admin())
    assert response.status_code == 422
    assert response.json()["error"]["param"] == param
    async with gc.gateway.engine.connect() as conn:
        assert (await conn.execute(vouchers.select())).first() is None

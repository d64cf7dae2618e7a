"""Recharging a key: credits with a reason, bad amounts refused, and an
Idempotency-Key that makes a retried recharge apply once."""

import asyncio
from collections import Counter

import pytest

from gemmachat.db.tables import audit_log
from tests.admin_helpers import (
    admin,
    balance,
    count_rows,
    create_key,
    ledger_kinds,
    start_admin,
)
from tests.conftest import BOTH_DATABASES

pytestmark = pytest.mark.anyio


async def _recharge(gc, key_id, body, **headers):
    return await gc.client.post(
        f"/admin/keys/{key_id}/recharge", json=body, headers=admin() | headers
    )


async def test_recharge_adds_credits_with_ledger_row(start):
    gc = await start_admin(start)
    made = await create_key(gc, credits=1)
    response = await _recharge(
        gc, made["id"], {"credits": 2.5, "reason": "bought a pack"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "key_id": made["id"],
        "key_prefix": made["key_prefix"],
        "credits": 2.5,
        "balance": 3.5,
    }
    assert await balance(gc, made["id"]) == 3.5
    assert await ledger_kinds(gc, made["id"]) == ["grant", "recharge"]


BAD_AMOUNTS = [
    ("negative", "-5", "credits: must be greater than 0"),
    ("zero", "0", "credits: must be greater than 0"),
    ("negative-zero", "-0.0", "credits: must be greater than 0"),
    ("below-one-unit", "0.0000001", "credits: must have at most 6 decimal places"),
    (
        "fraction-beyond-unit",
        "1.0000005",
        "credits: must have at most 6 decimal places",
    ),
    ("nan", "NaN", "credits: must be a finite number"),
    ("infinity", "Infinity", "credits: must be a finite number"),
    ("minus-infinity", "-Infinity", "credits: must be a finite number"),
    ("overflowing-float", "1e400", "credits: must be a finite number"),
    ("huge", "1000000001", "credits: must be at most 1000000000"),
    ("huge-float", "1e20", "credits: must be at most 1000000000"),
    ("huge-int", "1" + "0" * 40, "credits: must be at most 1000000000"),
    ("string", '"10"', "credits: must be a number of credits"),
    ("word", '"ten"', "credits: must be a number of credits"),
    ("null", "null", "credits: must be a number of credits"),
    ("true", "true", "credits: must be a number of credits"),
    ("false", "false", "credits: must be a number of credits"),
    ("list", "[5]", "credits: must be a number of credits"),
    ("object", '{"amount": 5}', "credits: must be a number of credits"),
]


@pytest.mark.parametrize(
    "raw, message",
    [case[1:] for case in BAD_AMOUNTS],
    ids=[case[0] for case in BAD_AMOUNTS],
)
async def test_recharge_bad_amount_is_422_and_changes_nothing(start, raw, message):
    gc = await start_admin(start)
    response = await gc.client.post(
        "/admin/keys/1/recharge",
        headers=admin() | {"content-type": "application/json"},
        content=f'{{"credits": {raw}, "reason": "test"}}'.encode(),
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": {"type": "invalid_request", "message": message, "param": "credits"}
    }
    assert await balance(gc, 1) == 20
    assert await ledger_kinds(gc, 1) == ["grant"]


@pytest.mark.parametrize(
    "body, message, param",
    [
        ({"reason": "r"}, "credits: Field required", "credits"),
        ({"credits": 1}, "reason: Field required", "reason"),
        (
            {"credits": 1, "reason": "  "},
            "reason: String should have at least 1 character",
            "reason",
        ),
        (
            {"credits": 1, "reason": 7},
            "reason: Input should be a valid string",
            "reason",
        ),
    ],
    ids=["no-credits", "no-reason", "blank-reason", "number-reason"],
)
async def test_recharge_needs_credits_and_a_reason(start, body, message, param):
    gc = await start_admin(start)
    response = await _recharge(gc, 1, body)
    assert response.status_code == 422
    assert response.json() == {
        "error": {"type": "invalid_request", "message": message, "param": param}
    }
    assert await balance(gc, 1) == 20


async def test_recharge_of_revoked_key_is_409(start):
    gc = await start_admin(start)
    await gc.client.post("/admin/keys/2/revoke", headers=admin())
    response = await _recharge(gc, 2, {"credits": 1, "reason": "r"})
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "type": "key_revoked",
            "message": "Key 2 is revoked.",
            "param": "key_id",
        }
    }
    assert await balance(gc, 2) == 20


async def test_recharge_retry_with_same_idempotency_key_applies_once(start):
    gc = await start_admin(start)
    body = {"credits": 5, "reason": "invoice 17"}
    first = await _recharge(gc, 1, body, **{"idempotency-key": "inv-17"})
    second = await _recharge(gc, 1, body, **{"idempotency-key": "inv-17"})
    assert first.status_code == second.status_code == 200
    assert (
        second.json()
        == first.json()
        == {"key_id": 1, "key_prefix": "gc_test_ke", "credits": 5, "balance": 25}
    )
    assert await balance(gc, 1) == 25
    other = await _recharge(gc, 2, body, **{"idempotency-key": "inv-17"})
    assert other.status_code == 409  # the same key names one request


@BOTH_DATABASES
async def test_50_concurrent_recharges_with_one_idempotency_key_apply_once(start):
    gc = await start_admin(start)
    body = {"credits": 7, "reason": "retry storm"}
    responses = await asyncio.gather(
        *[_recharge(gc, 1, body, **{"idempotency-key": "storm"}) for _ in range(50)]
    )
    assert Counter(r.status_code for r in responses) == {200: 50}
    assert {r.text for r in responses} == {responses[0].text}
    assert responses[0].json()["balance"] == 27
    assert await balance(gc, 1) == 27
    assert await ledger_kinds(gc, 1) == ["grant", "recharge"]
    assert (
        await count_rows(gc, audit_log, audit_log.c.action == "credits.recharge") == 1
    )

    changed = await _recharge(
        gc, 1, {"credits": 8, "reason": "retry storm"}, **{"idempotency-key": "storm"}
    )
    assert changed.status_code == 409
    assert changed.json() == {
        "error": {
            "type": "idempotency_conflict",
            "message": "This Idempotency-Key was used with a different request.",
            "param": "Idempotency-Key",
        }
    }
    assert await balance(gc, 1) == 27


async def test_recharge_overlong_idempotency_key_is_422(start):
    gc = await start_admin(start)
    response = await _recharge(
        gc, 1, {"credits": 1, "reason": "r"}, **{"idempotency-key": "k" * 201}
    )
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "Idempotency-Key"
    assert await balance(gc, 1) == 20

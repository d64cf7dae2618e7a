"""The payment webhook, over real HTTP: a signed event grants credits once;
a replay, a stale timestamp and a bad signature are refused and change
nothing."""

import json
import time

import httpx
import pytest

from gemmachat.admin.signing import sign
from gemmachat.db.tables import payment_events
from tests.admin_helpers import balance, count_rows, ledger_kinds, start_admin
from tests.live_server import serving

pytestmark = pytest.mark.anyio

SECRET = "whsec_test_0123456789abcdef"
EVENT = {
    "id": "evt_1001",
    "key_id": 1,
    "credits": 50,
    "note": "order 1001",
    "type": "checkout.completed",
    "provider_field": {"kept": "ignored"},
}
BAD_SIGNATURE = {
    "error": {
        "type": "invalid_signature",
        "message": "Missing or invalid GemmaChat-Signature header.",
        "param": "GemmaChat-Signature",
    }
}
STALE = {
    "error": {
        "type": "stale_timestamp",
        "message": "The GemmaChat-Signature timestamp is more than 300 seconds "
        "from the server's clock.",
        "param": "GemmaChat-Signature",
    }
}


def _signed(body: bytes, *, secret: str = SECRET, age: int = 0) -> dict:
    stamp = int(time.time()) - age
    return {
        "content-type": "application/json",
        "GemmaChat-Signature": sign(secret.encode(), stamp, body),
    }


async def _post(base: str, body: bytes, headers: dict) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base) as client:
        return await client.post("/webhooks/payments", content=body, headers=headers)


async def _start(start):
    return await start_admin(start, payment_webhook_secret=SECRET)


async def test_payment_event_with_valid_signature_applies_once(start):
    gc = await _start(start)
    body = json.dumps(EVENT).encode()
    async with serving(gc.app) as base:
        first = await _post(base, body, _signed(body))
        replay = await _post(base, body, _signed(body))
    assert first.status_code == 200
    assert first.json() == {
        "event_id": "evt_1001",
        "key_id": 1,
        "key_prefix": "gc_test_ke",
        "credits": 50,
        "balance": 70,
    }
    assert replay.status_code == 409
    assert replay.json() == {
        "error": {
            "type": "duplicate_event",
            "message": "Event 'evt_1001' was already applied.",
            "param": "id",
        }
    }
    assert await balance(gc, 1) == 70
    assert await ledger_kinds(gc, 1) == ["grant", "payment"]


def _tampered(body: bytes) -> tuple[bytes, dict]:
    headers = _signed(body)
    return body.replace(b'"credits": 50', b'"credits": 5000'), headers


REFUSALS = [
    (
        "wrong-secret",
        lambda b: (b, _signed(b, secret="whsec_other")),
        401,
        BAD_SIGNATURE,
    ),
    ("tampered-body", _tampered, 401, BAD_SIGNATURE),
    (
        "no-signature",
        lambda b: (b, {"content-type": "application/json"}),
        401,
        BAD_SIGNATURE,
    ),
    (
        "garbled-header",
        lambda b: (b, {"GemmaChat-Signature": "v1=zz,t=x"}),
        401,
        BAD_SIGNATURE,
    ),
    ("stale-timestamp", lambda b: (b, _signed(b, age=400)), 401, STALE),
    ("future-timestamp", lambda b: (b, _signed(b, age=-400)), 401, STALE),
]


@pytest.mark.parametrize(
    "forge, status, error", [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS]
)
async def test_payment_event_refused_changes_nothing(start, forge, status, error):
    gc = await _start(start)
    body, headers = forge(json.dumps(EVENT).encode())
    async with serving(gc.app) as base:
        response = await _post(base, body, headers)
    assert response.status_code == status
    assert response.json() == error
    assert await balance(gc, 1) == 20
    assert await count_rows(gc, payment_events) == 0


async def test_payment_event_refused_is_not_remembered(start):
    """A refused event leaves its id free: the provider's next, valid,
    delivery still applies."""
    gc = await _start(start)
    body = json.dumps(EVENT).encode()
    async with serving(gc.app) as base:
        stale = await _post(base, body, _signed(body, age=600))
        fresh = await _post(base, body, _signed(body))
    assert (stale.status_code, fresh.status_code) == (401, 200)
    assert await balance(gc, 1) == 70


@pytest.mark.parametrize(
    "event, status, error",
    [
        (
            EVENT | {"key_id": 99},
            404,
            {
                "type": "key_not_found",
                "message": "No key with id 99.",
                "param": "key_id",
            },
        ),
        (
            EVENT | {"credits": -5},
            422,
            {
                "type": "invalid_request",
                "param": "credits",
                "message": "credits: must be greater than 0",
            },
        ),
        (
            EVENT | {"credits": "50"},
            422,
            {
                "type": "invalid_request",
                "param": "credits",
                "message": "credits: must be a number of credits",
            },
        ),
        (
            {"key_id": 1, "credits": 5},
            422,
            {"type": "invalid_request", "param": "id", "message": "id: Field required"},
        ),
    ],
    ids=["unknown-key", "negative", "string", "no-id"],
)
async def test_signed_but_bad_event_is_refused(start, event, status, error):
    gc = await _start(start)
    body = json.dumps(event).encode()
    async with serving(gc.app) as base:
        response = await _post(base, body, _signed(body))
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert await count_rows(gc, payment_events) == 0


async def test_payment_webhook_is_off_without_a_secret(start):
    gc = await start_admin(start)
    body = json.dumps(EVENT).encode()
    response = await gc.client.post(
        "/webhooks/payments", content=body, headers=_signed(body)
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "type": "not_found",
            "param": None,
            "message": "Payment webhooks are off: PAYMENT_WEBHOOK_SECRET is not set.",
        }
    }
    assert await balance(gc, 1) == 20

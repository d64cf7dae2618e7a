"""The key lifecycle through the admin API: create, list, show, update,
rotate, revoke, and expiry."""

import logging

import pytest

from tests.admin_helpers import (
    admin,
    create_key,
    fixed_clock,
    show_key,
    start_admin,
)
from tests.conftest import KEY, auth

pytestmark = pytest.mark.anyio

REFUSED = {
    "error": {
        "type": "invalid_api_key",
        "message": "Invalid or missing API key.",
        "param": None,
    }
}
EXPIRED = {
    "error": {
        "type": "expired_key",
        "message": "This API key has expired.",
        "param": None,
    }
}


async def _status(gc, key: str):
    return await gc.client.get("/status", headers=auth(key))


async def test_key_lifecycle_create_use_rotate_revoke(start):
    gc = await start_admin(start)
    made = await create_key(gc, label="Alice laptop", owner="alice", credits=10)
    old = made["key"]
    assert old.startswith("gc_") and made["key_prefix"] == old[:10]
    assert (await _status(gc, old)).json()["balance"] == 10

    rotated = await gc.client.post(f"/admin/keys/{made['id']}/rotate", headers=admin())
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    new = rotated.json()["key"]
    assert new != old and rotated.json()["id"] == made["id"]
    assert (await _status(gc, old)).status_code == 401
    assert (await _status(gc, old)).json() == REFUSED
    assert (await _status(gc, new)).json()["balance"] == 10

    revoked = await gc.client.post(f"/admin/keys/{made['id']}/revoke", headers=admin())
    assert revoked.json()["state"] == "revoked"
    assert (await _status(gc, new)).json() == REFUSED
    again = await gc.client.post(f"/admin/keys/{made['id']}/rotate", headers=admin())
    assert again.status_code == 409
    assert again.json() == {
        "error": {
            "type": "key_revoked",
            "message": f"Key {made['id']} is revoked.",
            "param": "key_id",
        }
    }


async def test_create_key_returns_the_secret_once(start):
    gc = await start_admin(start)
    made = await create_key(gc, label="once")
    shown = await show_key(gc, made["id"])
    listed = await gc.client.get("/admin/keys", headers=admin())
    assert "key" not in shown
    assert made["key"] not in listed.text
    assert shown == {name: value for name, value in made.items() if name != "key"}


async def test_create_key_defaults(start):
    gc = await start_admin(start, initial_credits=20)
    made = await create_key(gc)
    assert {
        k: made[k]
        for k in (
            "label",
            "owner",
            "source",
            "state",
            "balance",
            "expires_at",
            "max_tokens",
            "refill",
            "low_credit_threshold",
            "requests_per_minute",
            "last_used_at",
        )
    } == {
        "label": "",
        "owner": "",
        "source": "admin",
        "state": "active",
        "balance": 20,
        "expires_at": None,
        "max_tokens": None,
        "refill": None,
        "low_credit_threshold": None,
        "requests_per_minute": None,
        "last_used_at": None,
    }


async def test_key_secret_is_stored_hashed_and_never_logged(start, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    gc = await start_admin(start)
    made = await create_key(gc)
    rotated = await gc.client.post(f"/admin/keys/{made['id']}/rotate", headers=admin())
    await _status(gc, rotated.json()["key"])
    await gc.gateway.engine.dispose()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("*.db*"))
    for secret in (made["key"], rotated.json()["key"]):
        assert secret.encode() not in stored
        assert secret not in caplog.text


async def test_expired_key_is_401_expired_key(start):
    gc = await start_admin(start)
    clock = fixed_clock(gc, "2030-01-01T12:00:00")
    made = await create_key(gc, expires_at="2030-01-01T13:00:00Z")
    assert (await _status(gc, made["key"])).status_code == 200
    clock.set("2030-01-01T13:00:00")
    response = await _status(gc, made["key"])
    assert response.status_code == 401
    assert response.json() == EXPIRED
    assert made["key"] not in response.text
    assert made["key_prefix"] not in response.text
    assert (await show_key(gc, made["id"]))["state"] == "expired"

    extended = await gc.client.patch(
        f"/admin/keys/{made['id']}", json={"expires_at": None}, headers=admin()
    )
    assert extended.json()["state"] == "active"
    assert (await _status(gc, made["key"])).status_code == 200


async def test_list_keys_paginates_and_filters(start):
    gc = await start_admin(start)
    for owner in ("ann", "bob", "ann"):
        await create_key(gc, owner=owner)
    await gc.client.post("/admin/keys/1/revoke", headers=admin())
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (
            await gc.client.get("/admin/keys", params=params, headers=admin())
        ).json()
        seen += [key["id"] for key in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4, 5]

    async def ids(**params):
        response = await gc.client.get("/admin/keys", params=params, headers=admin())
        return [key["id"] for key in response.json()["data"]]

    assert await ids(owner="ann") == [3, 5]
    assert await ids(state="revoked") == [1]
    assert await ids(state="active") == [2, 3, 4, 5]


async def test_update_key_changes_only_what_is_sent(start):
    gc = await start_admin(start)
    made = await create_key(
        gc, label="a", owner="o", max_tokens=8, refill={"credits": 5, "period": "day"}
    )
    response = await gc.client.patch(
        f"/admin/keys/{made['id']}",
        headers=admin(),
        json={"label": "b", "max_tokens": None, "low_credit_threshold": 2.5},
    )
    assert response.status_code == 200
    assert {
        k: response.json()[k]
        for k in ("label", "owner", "max_tokens", "low_credit_threshold", "refill")
    } == {
        "label": "b",
        "owner": "o",
        "max_tokens": None,
        "low_credit_threshold": 2.5,
        "refill": {"credits": 5, "period": "day"},
    }


async def test_key_max_tokens_caps_each_request(start):
    gc = await start_admin(start)
    made = await create_key(gc, max_tokens=2)
    response = await gc.client.post(
        "/chat",
        json={"prompt": "Count to twenty.", "max_tokens": 64},
        headers=auth(made["key"]),
    )
    assert response.status_code == 200
    assert response.json()["usage"]["output_tokens"] <= 2
    assert response.json()["finish_reason"] == "length"


async def test_rotate_config_key_is_409(start):
    gc = await start_admin(start)
    response = await gc.client.post("/admin/keys/1/rotate", headers=admin())
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "type": "config_key",
            "message": "Key 1 is listed in API_KEYS; change it there instead.",
            "param": "key_id",
        }
    }
    assert (await _status(gc, KEY)).status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/admin/keys/99"),
        ("PATCH", "/admin/keys/99"),
        ("POST", "/admin/keys/99/revoke"),
        ("POST", "/admin/keys/99/rotate"),
        ("POST", "/admin/keys/99/recharge"),
    ],
)
async def test_unknown_key_is_404(start, method, path):
    gc = await start_admin(start)
    body = {"credits": 1, "reason": "r"} if path.endswith("recharge") else {}
    response = await gc.client.request(
        method, path, headers=admin(), json=body if method != "GET" else None
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "type": "key_not_found",
            "message": "No key with id 99.",
            "param": "key_id",
        }
    }


BAD_CREATE = [
    ("label-number", {"label": 5}, "label"),
    ("label-too-long", {"label": "x" * 201}, "label"),
    ("credits-negative", {"credits": -1}, "credits"),
    ("credits-string", {"credits": "10"}, "credits"),
    ("max-tokens-zero", {"max_tokens": 0}, "max_tokens"),
    ("max-tokens-over-limit", {"max_tokens": 1025}, "max_tokens"),
    ("max-tokens-fraction", {"max_tokens": 1.5}, "max_tokens"),
    ("rate-zero", {"requests_per_minute": 0}, "requests_per_minute"),
    ("rate-string", {"requests_per_minute": "60"}, "requests_per_minute"),
    ("rate-fraction", {"requests_per_minute": 1.5}, "requests_per_minute"),
    ("rate-over-ceiling", {"requests_per_minute": 1_000_001}, "requests_per_minute"),
    ("expiry-past", {"expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
    ("expiry-garbage", {"expires_at": "soon"}, "expires_at"),
    ("refill-week", {"refill": {"credits": 1, "period": "week"}}, "refill.period"),
    ("refill-zero", {"refill": {"credits": 0, "period": "day"}}, "refill.credits"),
    ("unknown-field", {"balance": 5}, "balance"),
]


@pytest.mark.parametrize(
    "body, param",
    [case[1:] for case in BAD_CREATE],
    ids=[case[0] for case in BAD_CREATE],
)
async def test_create_key_bad_body_is_422(start, body, param):
    gc = await start_admin(start)
    response = await gc.client.post("/admin/keys", json=body, headers=admin())
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request", param)
    assert error["message"].startswith(f"{param}: ")
    listed = await gc.client.get("/admin/keys", headers=admin())
    assert len(listed.json()["data"]) == 2  # only the API_KEYS keys

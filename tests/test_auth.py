"""Both key styles share one path; every refusal of a user key reads the same."""

import logging

import pytest

from tests.conftest import KEY

pytestmark = pytest.mark.anyio

REFUSED = {"error": {"type": "invalid_api_key",
                     "message": "Invalid or missing API key.", "param": None}}


@pytest.mark.parametrize("headers", [
    {},
    {"x-api-key": "gc_not_a_key_we_issued_00000000000"},
    {"authorization": "Bearer gc_not_a_key_we_issued_00000000000"},
    {"authorization": "Bearer"},
    {"authorization": f"Basic {KEY}"},
    {"x-api-key": ""},
    {"x-api-key": "   "},
], ids=["missing", "unknown-x-api-key", "unknown-bearer", "empty-bearer",
        "wrong-scheme", "empty-x-api-key", "blank-x-api-key"])
@pytest.mark.parametrize("route", ["/status", "/chat"])
async def test_bad_key_gets_the_same_401(start, headers, route):
    gc = await start()
    if route == "/chat":
        response = await gc.client.post(route, headers=headers,
                                        json={"prompt": "hi"})
    else:
        response = await gc.client.get(route, headers=headers)
    assert response.status_code == 401
    assert response.json() == REFUSED
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("headers", [
    {"x-api-key": KEY}, {"authorization": f"Bearer {KEY}"},
    {"authorization": f"bearer {KEY}"},
])
async def test_both_header_styles_reach_the_same_account(start, headers):
    gc = await start()
    response = await gc.client.get("/status", headers=headers)
    assert response.status_code == 200
    assert response.json()["key_prefix"] == KEY[:10]


async def test_keys_are_stored_hashed_and_never_logged(start, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    gc = await start()
    await gc.client.post("/chat", json={"prompt": "Hi", "max_tokens": 4},
                         headers={"authorization": f"Bearer {KEY}"})
    await gc.client.get("/status", headers={"x-api-key": KEY})
    await gc.gateway.engine.dispose()
    stored = b"".join(path.read_bytes() for path in (tmp_path).glob("*.db*"))
    assert stored, "the database file should exist"
    assert KEY.encode() not in stored
    assert KEY[:10].encode() in stored  # the display prefix is kept
    assert KEY not in caplog.text
    assert f"key={KEY[:10]} " in caplog.text


async def test_health_needs_no_key_and_names_the_backend(start):
    gc = await start()
    response = await gc.client.get("/health")
    assert response.status_code == 200
    assert response.json() | {"version": None} == {
        "status": "ok", "ready": True, "backend": "embedded",
        "model": "gemma-3-270m", "version": None}

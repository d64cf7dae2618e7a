"""Admin routes need ADMIN_API_KEY: no key is 401, a wrong key is 401, a
working user key is 403, and no refusal echoes the key it was given."""

import pytest

from tests.admin_helpers import ADMIN_KEY, admin, start_admin
from tests.conftest import KEY, auth

pytestmark = pytest.mark.anyio

NO_ADMIN = {
    "error": {
        "type": "invalid_api_key",
        "message": "Invalid or missing admin API key.",
        "param": None,
    }
}
FORBIDDEN = {
    "error": {
        "type": "forbidden",
        "message": "This route needs the admin API key.",
        "param": None,
    }
}
ADMIN_ROUTES = {
    ("GET", "/admin/alerts"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/keys"),
    ("POST", "/admin/keys"),
    ("GET", "/admin/keys/{key_id}"),
    ("PATCH", "/admin/keys/{key_id}"),
    ("POST", "/admin/keys/{key_id}/recharge"),
    ("POST", "/admin/keys/{key_id}/revoke"),
    ("POST", "/admin/keys/{key_id}/rotate"),
    ("POST", "/admin/refills/run"),
    ("GET", "/admin/usage"),
    ("GET", "/admin/usage/export"),
    ("GET", "/admin/usage/summary"),
    ("GET", "/admin/vouchers"),
    ("POST", "/admin/vouchers"),
}


def admin_routes(gc) -> list[tuple[str, str]]:
    """Every admin route the app serves, from its OpenAPI description."""
    paths = gc.app.openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, methods in paths.items()
        if path.startswith("/admin")
        for method in methods
    )


async def _call(gc, method: str, path: str, headers: dict):
    url = path.replace("{key_id}", "1")
    return await gc.client.request(method, url, headers=headers)


async def test_admin_routes_are_the_expected_set(start):
    gc = await start_admin(start)
    assert set(admin_routes(gc)) == ADMIN_ROUTES


async def test_user_key_on_every_admin_route_is_403(start):
    gc = await start_admin(start)
    for method, path in admin_routes(gc):
        response = await _call(gc, method, path, auth(KEY))
        assert response.status_code == 403, (method, path)
        assert response.json() == FORBIDDEN, (method, path)
        assert KEY not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "gc_wrong_admin_key_00000000000000"},
        {"authorization": f"Bearer {ADMIN_KEY}x"},
        {"authorization": f"Basic {ADMIN_KEY}"},
    ],
    ids=["missing", "wrong", "longer", "wrong-scheme"],
)
async def test_admin_route_without_the_admin_key_is_401(start, headers):
    gc = await start_admin(start)
    for method, path in admin_routes(gc):
        response = await _call(gc, method, path, headers)
        assert response.status_code == 401, (method, path)
        assert response.json() == NO_ADMIN
        assert ADMIN_KEY not in response.text


async def test_admin_routes_are_closed_when_no_admin_key_is_set(start):
    gc = await start()
    response = await gc.client.get("/admin/keys", headers=admin())
    assert response.status_code == 401
    assert response.json() == NO_ADMIN


async def test_revoked_user_key_on_admin_route_is_401(start):
    gc = await start_admin(start)
    await gc.client.post("/admin/keys/1/revoke", headers=admin())
    response = await gc.client.get("/admin/keys", headers=auth(KEY))
    assert response.status_code == 401
    assert response.json() == NO_ADMIN


@pytest.mark.parametrize(
    "headers", [{"x-api-key": ADMIN_KEY}, {"authorization": f"Bearer {ADMIN_KEY}"}]
)
async def test_admin_key_works_in_both_header_styles(start, headers):
    gc = await start_admin(start)
    response = await gc.client.get("/admin/keys", headers=headers)
    assert response.status_code == 200
    assert [key["id"] for key in response.json()["data"]] == [1, 2]


async def test_admin_key_is_not_a_user_key(start):
    gc = await start_admin(start)
    response = await gc.client.get("/status", headers=admin())
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_api_key"

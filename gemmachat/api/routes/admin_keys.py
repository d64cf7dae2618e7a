"""/admin/keys: the key lifecycle for the holder of ADMIN_API_KEY."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from gemmachat.admin import key_views, keys
from gemmachat.admin.pages import DEFAULT_LIMIT, MAX_LIMIT
from gemmachat.admin.refills import Refill
from gemmachat.api.admin_schemas import KeyCreate, KeyUpdate, RefillBody
from gemmachat.api.admin_views import NO_STORE, key_json, page_json
from gemmachat.api.deps import AdminContext as Admin

router = APIRouter(prefix="/admin/keys", tags=["admin"])
Cursor = Annotated[int | None, Query(ge=1)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _refill(body: RefillBody | None) -> Refill | None:
    return Refill(body.credits, body.period) if body is not None else None


def _with_key(key: str, view: key_views.KeyView, status: int = 200) -> JSONResponse:
    return JSONResponse(
        {"key": key, **key_json(view)}, status_code=status, headers=NO_STORE
    )


@router.post("", status_code=201)
async def create_key(body: KeyCreate, ctx: Admin) -> JSONResponse:
    """A new key; the response is the only place its secret ever appears."""
    spec = keys.KeySpec(
        label=body.label,
        owner=body.owner,
        units=body.credits,
        expires_at=body.expires_at,
        max_tokens=body.max_tokens,
        low_credit_threshold=body.low_credit_threshold,
        requests_per_minute=body.requests_per_minute,
        refill=_refill(body.refill),
    )
    key, view = await keys.create_key(ctx, spec)
    return _with_key(key, view, status=201)


@router.get("")
async def list_keys(
    ctx: Admin,
    state: Literal["active", "expired", "revoked", "unlisted"] | None = None,
    owner: str | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict:
    page = await key_views.list_keys(
        ctx, state=state, owner=owner, cursor=cursor, limit=limit
    )
    return page_json(page, key_json)


@router.get("/{key_id}")
async def show_key(key_id: int, ctx: Admin) -> dict:
    return key_json(await key_views.get_key(ctx, key_id))


@router.patch("/{key_id}")
async def update_key(key_id: int, body: KeyUpdate, ctx: Admin) -> dict:
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if "refill" in changes:
        changes["refill"] = _refill(body.refill)
    return key_json(await keys.update_key(ctx, key_id, changes))


@router.post("/{key_id}/revoke")
async def revoke_key(key_id: int, ctx: Admin) -> dict:
    return key_json(await keys.revoke_key(ctx, key_id))


@router.post("/{key_id}/rotate")
async def rotate_key(key_id: int, ctx: Admin) -> JSONResponse:
    """A new secret for the same key and balance; the old one stops now."""
    key, view = await keys.rotate_key(ctx, key_id)
    return _with_key(key, view)

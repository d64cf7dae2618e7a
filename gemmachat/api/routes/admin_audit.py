"""/admin/audit and /admin/alerts: what admins did, and what alerts went
out."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from gemmachat.admin import audit
from gemmachat.admin.pages import DEFAULT_LIMIT, MAX_LIMIT
from gemmachat.alerts import store
from gemmachat.api.admin_views import audit_json, page_json
from gemmachat.api.deps import AdminContext as Admin

router = APIRouter(prefix="/admin", tags=["admin"])
KeyId = Annotated[int | None, Query(ge=1)]
Cursor = Annotated[int | None, Query(ge=1)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.get("/audit")
async def audit_log(
    ctx: Admin,
    key_id: KeyId = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict:
    """Admin actions, newest first."""
    page = await audit.entries(
        ctx,
        key_id=key_id,
        action=action,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return page_json(page, audit_json)


@router.get("/alerts")
async def alert_deliveries(
    ctx: Admin,
    key_id: KeyId = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict:
    """Low-credit alert deliveries, newest first."""
    page = await store.deliveries(ctx.engine, key_id=key_id, cursor=cursor, limit=limit)
    return page_json(page, lambda item: item)

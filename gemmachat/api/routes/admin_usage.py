"""/admin/usage: everyone's usage history, one key's or all keys'."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from gemmachat.admin.pages import DEFAULT_LIMIT
from gemmachat.admin.usage import UsageFilter
from gemmachat.api import usage_views as views
from gemmachat.api.deps import AdminContext as Admin

router = APIRouter(prefix="/admin/usage", tags=["admin"])
KeyId = Annotated[int | None, Query(ge=1)]


@router.get("")
async def usage(
    ctx: Admin,
    key_id: KeyId = None,
    since: views.Since = None,
    until: views.Until = None,
    cursor: views.Cursor = None,
    limit: views.Limit = DEFAULT_LIMIT,
) -> dict:
    """Requests, newest first."""
    return await views.page(ctx, UsageFilter(key_id, since, until), cursor, limit)


@router.get("/export")
async def usage_export(
    ctx: Admin,
    key_id: KeyId = None,
    format: views.Format = "csv",
    since: views.Since = None,
    until: views.Until = None,
) -> StreamingResponse:
    return views.export(ctx, UsageFilter(key_id, since, until), format)


@router.get("/summary")
async def usage_summary(
    ctx: Admin,
    key_id: KeyId = None,
    by: Literal["day", "key"] = "day",
    since: views.Since = None,
    until: views.Until = None,
) -> dict:
    """Totals per UTC day: overall (`by=day`) or per key and day (`by=key`)."""
    return await views.daily(
        ctx, UsageFilter(key_id, since, until), per_key=by == "key"
    )

"""/usage: a key holder's own usage history."""

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from gemmachat.admin.context import Context
from gemmachat.admin.pages import DEFAULT_LIMIT
from gemmachat.admin.usage import UsageFilter
from gemmachat.api import usage_views as views
from gemmachat.api.deps import Caller, CurrentCaller, context

router = APIRouter(prefix="/usage", tags=["usage"])


def _ctx(request: Request, caller: Caller) -> Context:
    return context(request, f"key:{caller.account.key_prefix}")


@router.get("")
async def my_usage(
    request: Request,
    caller: CurrentCaller,
    since: views.Since = None,
    until: views.Until = None,
    cursor: views.Cursor = None,
    limit: views.Limit = DEFAULT_LIMIT,
) -> dict:
    """This key's requests, newest first."""
    where = UsageFilter(caller.account.id, since, until)
    return await views.page(_ctx(request, caller), where, cursor, limit)


@router.get("/export")
async def my_usage_export(
    request: Request,
    caller: CurrentCaller,
    format: views.Format = "csv",
    since: views.Since = None,
    until: views.Until = None,
) -> StreamingResponse:
    where = UsageFilter(caller.account.id, since, until)
    return views.export(_ctx(request, caller), where, format)


@router.get("/summary")
async def my_usage_summary(
    request: Request,
    caller: CurrentCaller,
    since: views.Since = None,
    until: views.Until = None,
) -> dict:
    """This key's totals per UTC day."""
    where = UsageFilter(caller.account.id, since, until)
    return await views.daily(_ctx(request, caller), where, per_key=False)

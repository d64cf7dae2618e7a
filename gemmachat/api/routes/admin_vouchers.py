"""/admin/vouchers: credit packs, as codes key holders redeem."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from gemmachat.admin import vouchers
from gemmachat.admin.pages import DEFAULT_LIMIT, MAX_LIMIT
from gemmachat.api.admin_schemas import VoucherCreate
from gemmachat.api.admin_views import NO_STORE, page_json, voucher_json
from gemmachat.api.deps import AdminContext as Admin

router = APIRouter(prefix="/admin/vouchers", tags=["admin"])


@router.post("", status_code=201)
async def create_vouchers(body: VoucherCreate, ctx: Admin) -> JSONResponse:
    """`count` codes; the response is the only place the codes appear."""
    created = await vouchers.create_vouchers(
        ctx,
        body.credits,
        max_uses=body.max_uses,
        expires_at=body.expires_at,
        note=body.note,
        count=body.count,
    )
    data = [{"code": code, **voucher_json(view)} for code, view in created]
    return JSONResponse({"data": data}, status_code=201, headers=NO_STORE)


@router.get("")
async def list_vouchers(
    ctx: Admin,
    cursor: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict:
    page = await vouchers.list_vouchers(ctx, cursor=cursor, limit=limit)
    return page_json(page, voucher_json)

"""POST /vouchers/redeem: a key holder puts a credit pack on its own key."""

from fastapi import APIRouter, Request

from gemmachat.admin import vouchers
from gemmachat.api.admin_schemas import RedeemBody
from gemmachat.api.admin_views import grant_json
from gemmachat.api.deps import CurrentCaller, context

router = APIRouter(prefix="/vouchers", tags=["vouchers"])


@router.post("/redeem")
async def redeem(body: RedeemBody, request: Request, caller: CurrentCaller) -> dict:
    account = caller.account
    ctx = context(request, f"key:{account.key_prefix}")
    return grant_json(await vouchers.redeem(ctx, account, body.code))

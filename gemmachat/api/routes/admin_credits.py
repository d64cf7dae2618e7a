"""Recharging a key, and serving due allowances on demand."""

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from gemmachat.admin import credits, refills
from gemmachat.api.admin_schemas import RechargeBody
from gemmachat.api.admin_views import grant_json
from gemmachat.api.deps import AdminContext as Admin
from gemmachat.idempotency import checked_key, fingerprint, run_once

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/keys/{key_id}/recharge")
async def recharge(
    key_id: int,
    body: RechargeBody,
    ctx: Admin,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Grant credits with a reason. With an Idempotency-Key, a retry gets
    the first answer and the credits are granted once."""

    async def grant(conn: AsyncConnection) -> tuple[int, dict]:
        done = await credits.recharge(conn, ctx, key_id, body.credits, body.reason)
        return 200, grant_json(done)

    key = checked_key(idempotency_key)
    if key is None:
        async with ctx.engine.begin() as conn:
            status, answer = await grant(conn)
    else:
        request = {"key_id": key_id, "credits": body.credits, "reason": body.reason}
        status, answer = await run_once(
            ctx.engine, "recharge", "admin", key, fingerprint(request), grant
        )
    return JSONResponse(answer, status_code=status)


@router.post("/refills/run")
async def run_refills(ctx: Admin) -> dict:
    """Top up every key whose allowance period turned, without waiting for
    the key to be used."""
    return {"refilled": await refills.apply_all_due(ctx)}

"""GET /status: the key's balance and what it has used."""

from fastapi import APIRouter
from sqlalchemy import func, or_, select

from gemmachat.api.billing import low_credit_alert
from gemmachat.api.deps import CurrentCaller, CurrentGateway
from gemmachat.api.schemas import Status
from gemmachat.db.tables import usage
from gemmachat.ledger import ledger
from gemmachat.ledger.money import as_json_number

router = APIRouter()


@router.get("/status", response_model=Status)
async def status(caller: CurrentCaller, gateway: CurrentGateway) -> Status:
    account = caller.account
    balance = await ledger.balance(gateway.engine, account.id)
    # Requests answered or charged; refusals and failures cost nothing.
    answered = func.count().filter(or_(usage.c.status == "ok", usage.c.credits > 0))
    query = select(func.coalesce(func.sum(usage.c.credits), 0), answered).where(
        usage.c.account_id == account.id
    )
    async with gateway.engine.connect() as conn:
        used, requests = (await conn.execute(query)).one()
    threshold = gateway.threshold_for(account)
    low = balance <= threshold
    return Status(
        key_prefix=account.key_prefix,
        balance=as_json_number(balance),
        credits_used=as_json_number(int(used)),
        requests=requests,
        low=low,
        alert=low_credit_alert(balance) if low else None,
        low_credit_threshold=as_json_number(threshold),
    )

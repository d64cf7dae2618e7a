"""Adding credits to a key. Recharges, vouchers, payment events and
allowance refills all go through `add_credits`, so each one writes its
ledger row, re-arms the low-credit alert and lands in the audit log."""

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gemmachat.admin import audit
from gemmachat.admin.context import Context
from gemmachat.db.tables import accounts
from gemmachat.errors import KeyNotFound, KeyRevoked
from gemmachat.ledger import ledger
from gemmachat.ledger.money import to_credits


@dataclass(frozen=True)
class Grant:
    key_id: int
    key_prefix: str
    units: int
    balance: int


async def usable_account(conn: AsyncConnection, key_id: int):
    """The key's row; refuses unknown and revoked keys."""
    query = select(accounts).where(accounts.c.id == key_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise KeyNotFound(f"No key with id {key_id}.", param="key_id")
    if row.state == "revoked":
        raise KeyRevoked(f"Key {key_id} is revoked.", param="key_id")
    return row


async def add_credits(
    conn: AsyncConnection,
    ctx: Context,
    key_id: int,
    units: int,
    *,
    kind: str,
    action: str,
    note: str,
    **detail,
) -> Grant:
    """Grant `units` in the caller's transaction, with its ledger row,
    audit entry and alert re-arming."""
    after = await ledger.grant(conn, key_id, units, kind, note, ctx.request_id)
    await rearm_alert(conn, ctx, key_id)
    prefix = (
        await conn.execute(select(accounts.c.key_prefix).where(accounts.c.id == key_id))
    ).scalar_one()
    await audit.record(
        conn,
        ctx,
        action,
        account_id=key_id,
        target=prefix,
        before=after - units,
        after=after,
        credits=to_credits(units),
        note=note,
        **detail,
    )
    return Grant(key_id, prefix, units, after)


async def rearm_alert(conn: AsyncConnection, ctx: Context, key_id: int) -> None:
    """Arm the low-credit alert again once the balance is above the key's
    threshold, so the next crossing fires a new alert."""
    threshold = func.coalesce(accounts.c.low_credit_threshold, ctx.low_credit_units)
    await conn.execute(
        update(accounts)
        .where(
            accounts.c.id == key_id,
            ~accounts.c.alert_armed,
            accounts.c.balance > threshold,
        )
        .values(alert_armed=True)
    )


async def recharge(
    conn: AsyncConnection, ctx: Context, key_id: int, units: int, reason: str
) -> Grant:
    await usable_account(conn, key_id)
    return await add_credits(
        conn,
        ctx,
        key_id,
        units,
        kind="recharge",
        action="credits.recharge",
        note=reason,
    )

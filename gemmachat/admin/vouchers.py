"""Credit packs: codes worth N credits, for one or several uses, that a key
holder redeems onto its own key.

One conditional UPDATE both checks and takes a use, so a code is never
redeemed more often than it allows, however many redemptions race."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gemmachat.admin import audit
from gemmachat.admin.context import Context, as_utc, check_future
from gemmachat.admin.credits import Grant, add_credits
from gemmachat.admin.pages import Page, page_query, to_page
from gemmachat.db.tables import voucher_redemptions, vouchers
from gemmachat.errors import (
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotFound,
    VoucherUsedUp,
)
from gemmachat.ledger.accounts import Account
from gemmachat.ledger.keys import hash_key
from gemmachat.ledger.money import to_credits

CODE_PREFIX = "gcv_"
DISPLAY_LENGTH = 10


@dataclass(frozen=True)
class VoucherView:
    id: int
    code_prefix: str
    units: int
    max_uses: int
    uses: int
    note: str
    created_at: datetime
    expires_at: datetime | None
    # active, used_up or expired
    state: str


def _view(row, moment: datetime) -> VoucherView:
    expires = as_utc(row.expires_at)
    state = "active"
    if row.uses >= row.max_uses:
        state = "used_up"
    elif expires is not None and expires <= moment:
        state = "expired"
    return VoucherView(
        row.id,
        row.code_prefix,
        row.credits,
        row.max_uses,
        row.uses,
        row.note,
        as_utc(row.created_at),
        expires,
        state,
    )


async def create_vouchers(
    ctx: Context,
    units: int,
    *,
    max_uses: int = 1,
    expires_at: datetime | None = None,
    note: str = "",
    count: int = 1,
) -> list[tuple[str, VoucherView]]:
    """`count` new codes; each plaintext code is returned only here."""
    check_future(ctx, expires_at, "expires_at")
    created = []
    async with ctx.engine.begin() as conn:
        for _ in range(count):
            code = CODE_PREFIX + secrets.token_urlsafe(16)
            voucher_id = (
                await conn.execute(
                    insert(vouchers)
                    .values(
                        code_hash=hash_key(ctx.secret, code),
                        code_prefix=code[:DISPLAY_LENGTH],
                        credits=units,
                        max_uses=max_uses,
                        uses=0,
                        note=note,
                        created_at=ctx.now(),
                        expires_at=as_utc(expires_at),
                    )
                    .returning(vouchers.c.id)
                )
            ).scalar_one()
            await audit.record(
                conn,
                ctx,
                "voucher.create",
                target=code[:DISPLAY_LENGTH],
                voucher_id=voucher_id,
                credits=to_credits(units),
                max_uses=max_uses,
            )
            row = await _row(conn, vouchers.c.id == voucher_id)
            created.append((code, _view(row, ctx.now())))
    return created


async def list_vouchers(
    ctx: Context, *, cursor: int | None = None, limit: int = 50
) -> Page[VoucherView]:
    """Newest first."""
    moment = ctx.now()
    query = page_query(
        select(vouchers), vouchers.c.id, cursor, limit, newest_first=True
    )
    async with ctx.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return to_page(rows, limit, lambda row: _view(row, moment))


async def redeem(ctx: Context, account: Account, code: str) -> Grant:
    """Put the code's credits on `account`; one key redeems a code once."""
    code_hash = hash_key(ctx.secret, code.strip())
    try:
        async with ctx.engine.begin() as conn:
            voucher = await _take_use(conn, ctx, code_hash)
            await conn.execute(
                insert(voucher_redemptions).values(
                    voucher_id=voucher.id, account_id=account.id, created_at=ctx.now()
                )
            )
            return await add_credits(
                conn,
                ctx,
                account.id,
                voucher.credits,
                kind="voucher",
                action="voucher.redeem",
                note=f"voucher {voucher.code_prefix}",
                voucher_id=voucher.id,
            )
    except IntegrityError:
        raise VoucherAlreadyRedeemed(
            "This key has already redeemed this code.", param="code"
        ) from None


async def _take_use(conn: AsyncConnection, ctx: Context, code_hash: str):
    moment = ctx.now()
    live = or_(vouchers.c.expires_at.is_(None), vouchers.c.expires_at > moment)
    taken = (
        await conn.execute(
            update(vouchers)
            .where(
                vouchers.c.code_hash == code_hash,
                vouchers.c.uses < vouchers.c.max_uses,
                live,
            )
            .values(uses=vouchers.c.uses + 1)
            .returning(vouchers.c.id, vouchers.c.credits, vouchers.c.code_prefix)
        )
    ).first()
    if taken is not None:
        return taken
    row = await _row(conn, vouchers.c.code_hash == code_hash)
    if row is None:
        raise VoucherNotFound("No such voucher code.", param="code")
    if row.uses >= row.max_uses:
        raise VoucherUsedUp("This voucher code has been used up.", param="code")
    raise VoucherExpired("This voucher code has expired.", param="code")


async def _row(conn: AsyncConnection, condition):
    return (await conn.execute(select(vouchers).where(condition))).first()

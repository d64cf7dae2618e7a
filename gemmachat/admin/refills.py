"""Allowances: a key with a refill rule is topped up to its allowance once
per UTC calendar day or month.

The period is claimed with one conditional UPDATE of
`refill_applied_period`, so however many requests and replicas check at
once, a period tops up once; the top-up only adds what is missing, so it
never takes back credits and never undoes spend of the same period."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gemmachat.admin.context import Context
from gemmachat.admin.credits import add_credits
from gemmachat.db.tables import accounts
from gemmachat.ledger.accounts import Account

Period = Literal["day", "month"]
PERIODS: tuple[Period, ...] = ("day", "month")


@dataclass(frozen=True)
class Refill:
    units: int
    period: Period


def period_key(period: str, moment: datetime) -> str:
    """The period's name: "2030-01-31" for a day, "2030-01" for a month."""
    day = moment.date().isoformat()
    return day if period == "day" else day[:7]


def rule_columns(refill: Refill | None, moment: datetime) -> dict:
    """Columns for a new rule. It starts with the next period: the current
    one counts as served, so setting a rule never refills early."""
    if refill is None:
        return {
            "refill_credits": None,
            "refill_period": None,
            "refill_applied_period": None,
        }
    return {
        "refill_credits": refill.units,
        "refill_period": refill.period,
        "refill_applied_period": period_key(refill.period, moment),
    }


def is_due(account: Account, moment: datetime) -> bool:
    """A cheap check on the row already read, so requests of keys with no
    refill due write nothing."""
    if account.refill_period is None:
        return False
    current = period_key(account.refill_period, moment)
    return (account.refill_applied_period or "") < current


def _due(moment: datetime):
    current = case(
        (accounts.c.refill_period == "day", period_key("day", moment)),
        else_=period_key("month", moment),
    )
    due = or_(
        accounts.c.refill_applied_period.is_(None),
        accounts.c.refill_applied_period < current,
    )
    return current, (
        accounts.c.refill_period.is_not(None) & (accounts.c.state == "active") & due
    )


async def apply_if_due(ctx: Context, account: Account) -> bool:
    """Top the key up if a new period began; True if credits were added."""
    if not is_due(account, ctx.now()):
        return False
    async with ctx.engine.begin() as conn:
        return await _apply(conn, ctx, account.id)


async def apply_all_due(ctx: Context) -> int:
    """Serve every key whose period turned; returns how many got credits."""
    _, due = _due(ctx.now())
    async with ctx.engine.connect() as conn:
        ids = (await conn.execute(select(accounts.c.id).where(due))).scalars()
        ids = list(ids)
    topped_up = 0
    for key_id in ids:
        async with ctx.engine.begin() as conn:
            topped_up += await _apply(conn, ctx, key_id)
    return topped_up


async def _apply(conn: AsyncConnection, ctx: Context, key_id: int) -> bool:
    current, due = _due(ctx.now())
    # Claiming the period also locks the row: the balance it returns
    # cannot change before this transaction commits.
    claimed = (
        await conn.execute(
            update(accounts)
            .where(accounts.c.id == key_id, due)
            .values(refill_applied_period=current)
            .returning(
                accounts.c.balance,
                accounts.c.refill_credits,
                accounts.c.refill_applied_period,
            )
        )
    ).first()
    if claimed is None or claimed.balance >= claimed.refill_credits:
        return False
    await add_credits(
        conn,
        ctx.acting_as("refill"),
        key_id,
        claimed.refill_credits - claimed.balance,
        kind="refill",
        action="credits.refill",
        note=f"allowance for {claimed.refill_applied_period}",
        period=claimed.refill_applied_period,
    )
    return True

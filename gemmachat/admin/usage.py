"""Usage history: one row per charged request, paginated, exported, and
summed per UTC day (overall or per key)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gemmachat.admin.context import Context, as_utc
from gemmachat.admin.pages import Page, page_query, to_page, within
from gemmachat.db.tables import accounts, usage

EXPORT_BATCH = 1000
FIELDS = (
    "time",
    "request_id",
    "key_id",
    "key_prefix",
    "route",
    "model",
    "input_tokens",
    "output_tokens",
    "credits",
    "status",
    "latency_ms",
)


@dataclass(frozen=True)
class UsageFilter:
    key_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class UsageRow:
    id: int
    time: datetime
    request_id: str
    key_id: int
    key_prefix: str
    route: str
    model: str
    input_tokens: int
    output_tokens: int
    credits: int  # units
    status: str
    latency_ms: int


@dataclass(frozen=True)
class DayTotal:
    day: str
    key_id: int | None
    key_prefix: str | None
    requests: int
    input_tokens: int
    output_tokens: int
    credits: int  # units


def _filtered(query, where: UsageFilter):
    if where.key_id is not None:
        query = query.where(usage.c.account_id == where.key_id)
    return within(query, usage.c.created_at, where.since, where.until)


def _rows_query(where: UsageFilter):
    query = select(usage, accounts.c.key_prefix).join(
        accounts, accounts.c.id == usage.c.account_id
    )
    return _filtered(query, where)


def _row(row) -> UsageRow:
    return UsageRow(
        row.id,
        as_utc(row.created_at),
        row.request_id,
        row.account_id,
        row.key_prefix,
        row.route,
        row.model,
        row.input_tokens,
        row.output_tokens,
        row.credits,
        row.status,
        row.latency_ms,
    )


async def page(
    ctx: Context, where: UsageFilter, *, cursor: int | None = None, limit: int = 50
) -> Page[UsageRow]:
    """Newest first."""
    query = page_query(_rows_query(where), usage.c.id, cursor, limit, newest_first=True)
    async with ctx.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return to_page(rows, limit, _row)


async def export(ctx: Context, where: UsageFilter) -> AsyncIterator[UsageRow]:
    """Every matching row, oldest first, read in batches so that a long
    history never sits in memory at once."""
    cursor = None
    while True:
        query = page_query(
            _rows_query(where), usage.c.id, cursor, EXPORT_BATCH, newest_first=False
        )
        async with ctx.engine.connect() as conn:
            rows = (await conn.execute(query)).all()[:EXPORT_BATCH]
        for row in rows:
            yield _row(row)
        if len(rows) < EXPORT_BATCH:
            return
        cursor = rows[-1].id


def _day(engine: AsyncEngine):
    """The UTC calendar day of a usage row, as "YYYY-MM-DD"."""
    if engine.dialect.name == "postgresql":
        # Literals, not parameters: GROUP BY must repeat the very same
        # expression, and two bound parameters would not be.
        utc = func.timezone(literal_column("'UTC'"), usage.c.created_at)
        return func.to_char(utc, literal_column("'YYYY-MM-DD'"))
    return func.date(usage.c.created_at)  # SQLite stores UTC text


async def daily(ctx: Context, where: UsageFilter, *, per_key: bool) -> list[DayTotal]:
    """Totals per day, oldest first; per key and day when `per_key`."""
    day = _day(ctx.engine).label("day")
    groups = [day]
    columns = [day]
    if per_key:
        groups += [usage.c.account_id, accounts.c.key_prefix]
        columns += [usage.c.account_id.label("key_id"), accounts.c.key_prefix]
    query = _filtered(
        select(
            *columns,
            func.count().label("requests"),
            func.sum(usage.c.input_tokens).label("input_tokens"),
            func.sum(usage.c.output_tokens).label("output_tokens"),
            func.sum(usage.c.credits).label("credits"),
        ).join(accounts, accounts.c.id == usage.c.account_id),
        where,
    )
    query = query.group_by(*groups).order_by(*groups)
    async with ctx.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        DayTotal(
            row.day,
            row.key_id if per_key else None,
            row.key_prefix if per_key else None,
            row.requests,
            int(row.input_tokens),
            int(row.output_tokens),
            int(row.credits),
        )
        for row in rows
    ]

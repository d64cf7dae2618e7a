"""The audit log: every admin action, by whom, on what, with the balance
before and after. Rows are written in the transaction of the action."""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gemmachat.admin.context import Context, as_utc
from gemmachat.admin.pages import Page, page_query, to_page, within
from gemmachat.db.tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: datetime
    actor: str
    action: str
    key_id: int | None
    target: str
    balance_before: int | None
    balance_after: int | None
    detail: dict
    request_id: str | None


async def record(
    conn: AsyncConnection,
    ctx: Context,
    action: str,
    *,
    account_id: int | None = None,
    target: str = "",
    before: int | None = None,
    after: int | None = None,
    **detail,
) -> None:
    await conn.execute(
        insert(audit_log).values(
            actor=ctx.actor,
            action=action,
            account_id=account_id,
            target=target,
            balance_before=before,
            balance_after=after,
            detail=json.dumps(detail, default=_plain, sort_keys=True),
            request_id=ctx.request_id,
            created_at=ctx.now(),
        )
    )


def _plain(value):
    """Credits as numbers, anything else (times) as text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


async def entries(
    ctx: Context,
    *,
    key_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> Page[AuditEntry]:
    """Newest first."""
    query = select(audit_log)
    if key_id is not None:
        query = query.where(audit_log.c.account_id == key_id)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    query = within(query, audit_log.c.created_at, since, until)
    query = page_query(query, audit_log.c.id, cursor, limit, newest_first=True)
    async with ctx.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return to_page(rows, limit, _entry)


def _entry(row) -> AuditEntry:
    return AuditEntry(
        row.id,
        as_utc(row.created_at),
        row.actor,
        row.action,
        row.account_id,
        row.target,
        row.balance_before,
        row.balance_after,
        json.loads(row.detail),
        row.request_id,
    )

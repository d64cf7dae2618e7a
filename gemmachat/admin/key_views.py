"""Reading keys: one key, a filtered page of them, or a key by id or
prefix, as KeyView (never with its secret, which is not stored)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gemmachat.admin.context import Context, as_utc
from gemmachat.admin.pages import Page, page_query, to_page
from gemmachat.admin.refills import Refill
from gemmachat.db.tables import accounts
from gemmachat.errors import KeyNotFound

STATES = ("active", "expired", "revoked", "unlisted")


@dataclass(frozen=True)
class KeyView:
    id: int
    key_prefix: str
    label: str
    owner: str
    source: str
    # active, expired, revoked, or unlisted (dropped from API_KEYS)
    state: str
    balance: int
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    max_tokens: int | None
    low_credit_threshold: int | None
    refill: Refill | None = None
    # None: DEFAULT_REQUESTS_PER_MINUTE applies.
    requests_per_minute: int | None = None


def view_of(row, moment: datetime) -> KeyView:
    expires = as_utc(row.expires_at)
    state = row.state
    if state == "active" and expires is not None and expires <= moment:
        state = "expired"
    refill = None
    if row.refill_period is not None:
        refill = Refill(row.refill_credits, row.refill_period)
    return KeyView(
        row.id,
        row.key_prefix,
        row.label,
        row.owner,
        row.source,
        state,
        row.balance,
        as_utc(row.created_at),
        as_utc(row.last_used_at),
        expires,
        row.max_tokens,
        row.low_credit_threshold,
        refill,
        row.requests_per_minute,
    )


async def key_row(conn: AsyncConnection, key_id: int):
    query = select(accounts).where(accounts.c.id == key_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise KeyNotFound(f"No key with id {key_id}.", param="key_id")
    return row


async def get_key(ctx: Context, key_id: int) -> KeyView:
    async with ctx.engine.connect() as conn:
        return view_of(await key_row(conn, key_id), ctx.now())


def _state_filter(state: str, moment: datetime):
    if state not in ("active", "expired"):
        return accounts.c.state == state
    expires = accounts.c.expires_at
    live = or_(expires.is_(None), expires > moment)
    return (accounts.c.state == "active") & (live if state == "active" else ~live)


async def list_keys(
    ctx: Context,
    *,
    state: str | None = None,
    owner: str | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> Page[KeyView]:
    """Oldest first."""
    moment = ctx.now()
    query = select(accounts)
    if state is not None:
        query = query.where(_state_filter(state, moment))
    if owner is not None:
        query = query.where(accounts.c.owner == owner)
    query = page_query(query, accounts.c.id, cursor, limit, newest_first=False)
    async with ctx.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return to_page(rows, limit, lambda row: view_of(row, moment))


async def find_key_id(ctx: Context, ref: str) -> int:
    """A key by id ("12") or by its display prefix ("gc_AbCdEfG")."""
    ref = ref.strip()
    column = accounts.c.id if ref.isdigit() else accounts.c.key_prefix
    value = int(ref) if ref.isdigit() else ref
    async with ctx.engine.connect() as conn:
        ids = (
            (await conn.execute(select(accounts.c.id).where(column == value)))
            .scalars()
            .all()
        )
    if len(ids) != 1:
        problem = "No key" if not ids else "More than one key"
        raise KeyNotFound(f"{problem} matches {ref!r}.", param="key")
    return ids[0]

"""The key lifecycle: create, list, show, update, revoke and rotate.

A plaintext key exists only in the return value of `create_key` and
`rotate_key`; the database keeps its keyed hash and display prefix."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gemmachat.admin import audit
from gemmachat.admin.context import Context, as_utc
from gemmachat.admin.credits import rearm_alert
from gemmachat.admin.pages import Page, page_query, to_page
from gemmachat.admin.refills import Refill, rule_columns
from gemmachat.db.tables import accounts
from gemmachat.errors import ConfigKey, InvalidRequest, KeyNotFound, KeyRevoked
from gemmachat.ledger.accounts import create_account
from gemmachat.ledger.keys import display_prefix, hash_key, new_key
from gemmachat.ledger.money import to_credits, to_units

STATES = ("active", "expired", "revoked", "unlisted")


@dataclass(frozen=True)
class KeySpec:
    label: str = ""
    owner: str = ""
    units: int | None = None  # None: INITIAL_CREDITS
    expires_at: datetime | None = None
    max_tokens: int | None = None
    low_credit_threshold: int | None = None
    refill: Refill | None = None


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
    refill: Refill | None = field(default=None)


def _view(row, moment: datetime) -> KeyView:
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
    )


def _check(ctx: Context, expires_at: datetime | None, max_tokens: int | None) -> None:
    if expires_at is not None and as_utc(expires_at) <= ctx.now():
        raise InvalidRequest("expires_at: must be in the future", param="expires_at")
    limit = ctx.settings.max_tokens_limit
    if max_tokens is not None and max_tokens > limit:
        raise InvalidRequest(
            f"max_tokens: must be at most {limit} (MAX_TOKENS_LIMIT)",
            param="max_tokens",
        )


async def _row(conn: AsyncConnection, key_id: int):
    query = select(accounts).where(accounts.c.id == key_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise KeyNotFound(f"No key with id {key_id}.", param="key_id")
    return row


async def create_key(ctx: Context, spec: KeySpec) -> tuple[str, KeyView]:
    _check(ctx, spec.expires_at, spec.max_tokens)
    units = spec.units
    if units is None:
        units = to_units(ctx.settings.initial_credits)
    key = new_key()
    async with ctx.engine.begin() as conn:
        key_id = await create_account(
            conn,
            key_hash=hash_key(ctx.secret, key),
            key_prefix=display_prefix(key),
            source="admin",
            units=units,
            label=spec.label,
            owner=spec.owner,
            expires_at=as_utc(spec.expires_at),
        )
        await conn.execute(
            update(accounts)
            .where(accounts.c.id == key_id)
            .values(
                max_tokens=spec.max_tokens,
                low_credit_threshold=spec.low_credit_threshold,
                **rule_columns(spec.refill, ctx.now()),
            )
        )
        view = _view(await _row(conn, key_id), ctx.now())
        await audit.record(
            conn,
            ctx,
            "key.create",
            account_id=key_id,
            target=view.key_prefix,
            before=0,
            after=units,
            label=spec.label,
            owner=spec.owner,
        )
    return key, view


async def get_key(ctx: Context, key_id: int) -> KeyView:
    async with ctx.engine.connect() as conn:
        return _view(await _row(conn, key_id), ctx.now())


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
    return to_page(rows, limit, lambda row: _view(row, moment))


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


UPDATABLE = (
    "label",
    "owner",
    "expires_at",
    "max_tokens",
    "low_credit_threshold",
    "refill",
)


async def update_key(ctx: Context, key_id: int, changes: dict) -> KeyView:
    """Apply `changes` (a subset of UPDATABLE; None clears an optional
    setting). A new refill rule starts with the next period."""
    _check(ctx, changes.get("expires_at"), changes.get("max_tokens"))
    values = {name: changes[name] for name in UPDATABLE[:5] if name in changes}
    if "expires_at" in values:
        values["expires_at"] = as_utc(values["expires_at"])
    if "refill" in changes:
        values |= rule_columns(changes["refill"], ctx.now())
    async with ctx.engine.begin() as conn:
        row = await _row(conn, key_id)
        await conn.execute(
            update(accounts).where(accounts.c.id == key_id).values(**values)
        )
        await rearm_alert(conn, ctx, key_id)
        await audit.record(
            conn,
            ctx,
            "key.update",
            account_id=key_id,
            target=row.key_prefix,
            before=row.balance,
            after=row.balance,
            **_described(changes),
        )
        return _view(await _row(conn, key_id), ctx.now())


def _described(changes: dict) -> dict:
    """The changes as the audit log shows them: credits, not units."""
    shown = dict(changes)
    if shown.get("low_credit_threshold") is not None:
        shown["low_credit_threshold"] = to_credits(shown["low_credit_threshold"])
    if shown.get("refill") is not None:
        refill = shown["refill"]
        shown["refill"] = f"{to_credits(refill.units)} per {refill.period}"
    return shown


async def revoke_key(ctx: Context, key_id: int) -> KeyView:
    """The key stops working at once; revoking twice changes nothing."""
    async with ctx.engine.begin() as conn:
        revoked = await conn.execute(
            update(accounts)
            .where(accounts.c.id == key_id, accounts.c.state != "revoked")
            .values(state="revoked")
        )
        row = await _row(conn, key_id)
        if revoked.rowcount == 1:
            await audit.record(
                conn,
                ctx,
                "key.revoke",
                account_id=key_id,
                target=row.key_prefix,
                before=row.balance,
                after=row.balance,
            )
        return _view(row, ctx.now())


async def rotate_key(ctx: Context, key_id: int) -> tuple[str, KeyView]:
    """A new secret for the same key (id, balance, history); the old secret
    stops working with this commit."""
    key = new_key()
    async with ctx.engine.begin() as conn:
        old = await _row(conn, key_id)
        rotated = await conn.execute(
            update(accounts)
            .where(
                accounts.c.id == key_id,
                accounts.c.state != "revoked",
                accounts.c.source != "config",
            )
            .values(key_hash=hash_key(ctx.secret, key), key_prefix=display_prefix(key))
        )
        if rotated.rowcount != 1:
            raise _not_rotatable(await _row(conn, key_id))
        row = await _row(conn, key_id)
        await audit.record(
            conn,
            ctx,
            "key.rotate",
            account_id=key_id,
            target=row.key_prefix,
            before=row.balance,
            after=row.balance,
            old_prefix=old.key_prefix,
        )
        return key, _view(row, ctx.now())


def _not_rotatable(row) -> Exception:
    if row.state == "revoked":
        return KeyRevoked(f"Key {row.id} is revoked.", param="key_id")
    return ConfigKey(
        f"Key {row.id} is listed in API_KEYS; change it there instead.", param="key_id"
    )

"""The key lifecycle: create, update, revoke and rotate.

A plaintext key exists only in the return value of `create_key` and
`rotate_key`; the database keeps its keyed hash and display prefix."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from gemmachat.admin import audit
from gemmachat.admin.context import Context, as_utc, check_future
from gemmachat.admin.credits import rearm_alert
from gemmachat.admin.key_views import KeyView, key_row, view_of
from gemmachat.admin.refills import Refill, rule_columns
from gemmachat.db.tables import accounts
from gemmachat.errors import ConfigKey, InvalidRequest, KeyRevoked
from gemmachat.ledger.accounts import create_account
from gemmachat.ledger.keys import display_prefix, hash_key, new_key
from gemmachat.ledger.money import to_credits, to_units


@dataclass(frozen=True)
class KeySpec:
    label: str = ""
    owner: str = ""
    units: int | None = None  # None: INITIAL_CREDITS
    expires_at: datetime | None = None
    max_tokens: int | None = None
    low_credit_threshold: int | None = None
    requests_per_minute: int | None = None  # None: DEFAULT_REQUESTS_PER_MINUTE
    refill: Refill | None = None


def _check(ctx: Context, expires_at: datetime | None, max_tokens: int | None) -> None:
    check_future(ctx, expires_at, "expires_at")
    limit = ctx.settings.max_tokens_limit
    if max_tokens is not None and max_tokens > limit:
        raise InvalidRequest(
            f"max_tokens: must be at most {limit} (MAX_TOKENS_LIMIT)",
            param="max_tokens",
        )


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
                requests_per_minute=spec.requests_per_minute,
                **rule_columns(spec.refill, ctx.now()),
            )
        )
        view = view_of(await key_row(conn, key_id), ctx.now())
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


# Settings kept as one column each; "refill" spans three.
COLUMNS = (
    "label",
    "owner",
    "expires_at",
    "max_tokens",
    "low_credit_threshold",
    "requests_per_minute",
)
UPDATABLE = (*COLUMNS, "refill")


async def update_key(ctx: Context, key_id: int, changes: dict) -> KeyView:
    """Apply `changes` (a subset of UPDATABLE; None clears an optional
    setting). A new refill rule starts with the next period."""
    _check(ctx, changes.get("expires_at"), changes.get("max_tokens"))
    values = {name: changes[name] for name in COLUMNS if name in changes}
    if "expires_at" in values:
        values["expires_at"] = as_utc(values["expires_at"])
    if "refill" in changes:
        values |= rule_columns(changes["refill"], ctx.now())
    async with ctx.engine.begin() as conn:
        row = await key_row(conn, key_id)
        await conn.execute(
            update(accounts).where(accounts.c.id == key_id).values(**values)
        )
        await rearm_alert(conn, ctx, key_id)
        await _audit_unchanged(conn, ctx, "key.update", row, **_described(changes))
        return view_of(await key_row(conn, key_id), ctx.now())


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
        row = await key_row(conn, key_id)
        if revoked.rowcount == 1:
            await _audit_unchanged(conn, ctx, "key.revoke", row)
        return view_of(row, ctx.now())


async def rotate_key(ctx: Context, key_id: int) -> tuple[str, KeyView]:
    """A new secret for the same key (id, balance, history); the old secret
    stops working with this commit."""
    key = new_key()
    async with ctx.engine.begin() as conn:
        old = await key_row(conn, key_id)
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
            raise _not_rotatable(await key_row(conn, key_id))
        row = await key_row(conn, key_id)
        await _audit_unchanged(conn, ctx, "key.rotate", row, old_prefix=old.key_prefix)
        return key, view_of(row, ctx.now())


async def _audit_unchanged(conn, ctx: Context, action: str, row, **detail) -> None:
    """Audit an action on key `row` that leaves its balance as it was."""
    await audit.record(
        conn,
        ctx,
        action,
        account_id=row.id,
        target=row.key_prefix,
        before=row.balance,
        after=row.balance,
        **detail,
    )


def _not_rotatable(row) -> Exception:
    if row.state == "revoked":
        return KeyRevoked(f"Key {row.id} is revoked.", param="key_id")
    return ConfigKey(
        f"Key {row.id} is listed in API_KEYS; change it there instead.", param="key_id"
    )

"""Reading accounts, and creating the ones the configuration asks for."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gemmachat.db.tables import accounts, ledger_entries
from gemmachat.ledger.keys import display_prefix, hash_key


@dataclass(frozen=True)
class Account:
    id: int
    key_prefix: str
    label: str
    source: str
    state: str
    balance: int
    expires_at: datetime | None
    max_tokens: int | None = None
    low_credit_threshold: int | None = None
    refill_period: str | None = None
    refill_applied_period: str | None = None
    alert_armed: bool = True
    requests_per_minute: int | None = None


def now() -> datetime:
    return datetime.now(UTC)


def _account(row) -> Account:
    expires = row.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)  # SQLite drops the zone
    return Account(
        row.id,
        row.key_prefix,
        row.label,
        row.source,
        row.state,
        row.balance,
        expires,
        row.max_tokens,
        row.low_credit_threshold,
        row.refill_period,
        row.refill_applied_period,
        row.alert_armed,
        row.requests_per_minute,
    )


async def find_by_key(engine: AsyncEngine, secret: bytes, key: str) -> Account | None:
    query = select(accounts).where(accounts.c.key_hash == hash_key(secret, key))
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return _account(row) if row else None


async def get_account(conn: AsyncConnection, account_id: int) -> Account | None:
    query = select(accounts).where(accounts.c.id == account_id)
    row = (await conn.execute(query)).first()
    return _account(row) if row else None


async def create_account(
    conn: AsyncConnection,
    *,
    key_hash: str,
    key_prefix: str,
    source: str,
    units: int,
    label: str = "",
    owner: str = "",
    expires_at: datetime | None = None,
    note: str = "initial credits",
) -> int:
    """Insert an account and its opening grant, in the caller's transaction."""
    created = now()
    account_id = (
        await conn.execute(
            insert(accounts)
            .values(
                key_hash=key_hash,
                key_prefix=key_prefix,
                label=label,
                owner=owner,
                source=source,
                state="active",
                balance=units,
                created_at=created,
                expires_at=expires_at,
            )
            .returning(accounts.c.id)
        )
    ).scalar_one()
    await conn.execute(
        insert(ledger_entries).values(
            account_id=account_id,
            kind="grant",
            amount=units,
            balance_after=units,
            note=note,
            created_at=created,
        )
    )
    return account_id


async def sync_config_keys(
    engine: AsyncEngine, secret: bytes, keys: list[str], initial_units: int
) -> None:
    """Make the API_KEYS list true: listed keys exist and are usable, keys no
    longer listed stop working. Balances are never reset."""
    hashes = {hash_key(secret, key): key for key in keys}
    for key_hash, key in hashes.items():
        try:
            async with engine.begin() as conn:
                await create_account(
                    conn,
                    key_hash=key_hash,
                    key_prefix=display_prefix(key),
                    source="config",
                    units=initial_units,
                    label="API_KEYS",
                )
        except IntegrityError:
            pass  # exists already, maybe created by another replica just now
    async with engine.begin() as conn:
        config = accounts.c.source == "config"
        await conn.execute(
            update(accounts)
            .where(
                config, accounts.c.key_hash.in_(hashes), accounts.c.state == "unlisted"
            )
            .values(state="active")
        )
        await conn.execute(
            update(accounts)
            .where(
                config, accounts.c.key_hash.not_in(hashes), accounts.c.state == "active"
            )
            .values(state="unlisted")
        )

"""Reserve, settle, release and grant: every balance change writes its
ledger rows in the same transaction, so a key's entries sum to its balance.

Admission never reads then writes: one conditional UPDATE both checks and
takes the credits, which is what keeps concurrent requests and several
replicas from spending the same credit twice.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gemmachat.db.tables import accounts, ledger_entries, reservations, usage
from gemmachat.errors import InsufficientCredits
from gemmachat.ledger.accounts import now
from gemmachat.ledger.money import to_credits


@dataclass(frozen=True)
class Reservation:
    id: str
    account_id: int
    amount: int
    request_id: str


@dataclass
class UsageRecord:
    request_id: str
    route: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    status: str = "ok"
    latency_ms: int = 0


async def _entry(
    conn: AsyncConnection,
    account_id: int,
    kind: str,
    amount: int,
    balance_after: int,
    **fields,
) -> None:
    await conn.execute(
        insert(ledger_entries).values(
            account_id=account_id,
            kind=kind,
            amount=amount,
            balance_after=balance_after,
            created_at=now(),
            **fields,
        )
    )


async def _add(conn: AsyncConnection, account_id: int, units: int, **also) -> int:
    """Add `units` to the balance (and set the columns in `also`)."""
    return (
        await conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(balance=accounts.c.balance + units, **also)
            .returning(accounts.c.balance)
        )
    ).scalar_one()


async def balance(engine: AsyncEngine, account_id: int) -> int:
    async with engine.connect() as conn:
        query = select(accounts.c.balance).where(accounts.c.id == account_id)
        return (await conn.execute(query)).scalar_one()


async def reserve(
    engine: AsyncEngine, account_id: int, units: int, request_id: str
) -> tuple[Reservation, int]:
    """Take `units` from the balance or raise InsufficientCredits."""
    reservation = Reservation(str(uuid.uuid4()), account_id, units, request_id)
    async with engine.begin() as conn:
        remaining = (
            await conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id, accounts.c.balance >= units)
                .values(balance=accounts.c.balance - units)
                .returning(accounts.c.balance)
            )
        ).scalar_one_or_none()
        if remaining is None:
            current = (
                await conn.execute(
                    select(accounts.c.balance).where(accounts.c.id == account_id)
                )
            ).scalar_one()
            raise InsufficientCredits(to_credits(units), to_credits(current), current)
        await conn.execute(
            insert(reservations).values(
                id=reservation.id,
                account_id=account_id,
                amount=units,
                request_id=request_id,
                created_at=now(),
            )
        )
        await _entry(
            conn,
            account_id,
            "reserve",
            -units,
            remaining,
            reservation_id=reservation.id,
            request_id=request_id,
        )
    return reservation, remaining


async def settle(
    engine: AsyncEngine, reservation: Reservation, charge: int, record: UsageRecord
) -> int:
    """Close the reservation: charge `charge` units of it (0 refunds it
    all), release the rest, and store the usage row. Returns the balance.

    Four statements in one transaction: this runs once per request."""
    charge = min(charge, reservation.amount)
    account_id, at = reservation.account_id, now()
    async with engine.begin() as conn:
        closed = await conn.execute(
            update(reservations)
            .where(
                reservations.c.id == reservation.id, reservations.c.closed_at.is_(None)
            )
            .values(closed_at=at)
        )
        if closed.rowcount != 1:
            charge = 0  # the sweeper already gave the credits back
        refund = reservation.amount - charge if closed.rowcount == 1 else 0
        after = await _add(conn, account_id, refund, last_used_at=at)
        if closed.rowcount == 1:
            await conn.execute(
                insert(ledger_entries), _settlement_rows(reservation, charge, after, at)
            )
        await conn.execute(
            insert(usage).values(
                account_id=account_id, credits=charge, created_at=at, **record.__dict__
            )
        )
    return after


def _settlement_rows(
    reservation: Reservation, charge: int, after: int, at: datetime
) -> list[dict]:
    """The release of the whole reservation, then the charge taken from it."""
    refs = {
        "account_id": reservation.account_id,
        "reservation_id": reservation.id,
        "request_id": reservation.request_id,
        "note": "",
        "created_at": at,
    }
    released = after + charge
    rows = [
        refs
        | {"kind": "release", "amount": reservation.amount, "balance_after": released}
    ]
    if charge:
        rows.append(
            refs | {"kind": "charge", "amount": -charge, "balance_after": after}
        )
    return rows


async def grant(
    conn: AsyncConnection,
    account_id: int,
    units: int,
    kind: str,
    note: str = "",
    request_id: str | None = None,
) -> int:
    """Add credits (or remove them, with negative units) in the caller's
    transaction; returns the new balance."""
    after = await _add(conn, account_id, units)
    await _entry(conn, account_id, kind, units, after, note=note, request_id=request_id)
    return after


async def sweep_stale_reservations(engine: AsyncEngine, ttl_seconds: int) -> int:
    """Release reservations left open by a replica that died mid-request."""
    cutoff = now() - timedelta(seconds=ttl_seconds)
    stale_query = select(reservations).where(
        reservations.c.closed_at.is_(None), reservations.c.created_at < cutoff
    )
    async with engine.connect() as conn:
        stale = (await conn.execute(stale_query)).all()
    released = 0
    for row in stale:
        async with engine.begin() as conn:
            closed = await conn.execute(
                update(reservations)
                .where(reservations.c.id == row.id, reservations.c.closed_at.is_(None))
                .values(closed_at=now())
            )
            if closed.rowcount != 1:
                continue
            await grant(
                conn,
                row.account_id,
                row.amount,
                "release",
                note="stale reservation",
                request_id=row.request_id,
            )
            released += 1
    return released


async def ledger_sum(engine: AsyncEngine, account_id: int) -> int:
    query = select(func.coalesce(func.sum(ledger_entries.c.amount), 0)).where(
        ledger_entries.c.account_id == account_id
    )
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())

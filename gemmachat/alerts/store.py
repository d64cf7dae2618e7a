"""The database side of alerts: the armed flag that makes one crossing
fire one alert, and the delivery rows that make retries survive restarts
and never go out twice."""

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gemmachat.admin.context import as_utc
from gemmachat.admin.pages import Page, page_query, to_page
from gemmachat.db.tables import accounts, alert_deliveries
from gemmachat.ledger.accounts import now
from gemmachat.ledger.money import as_json_number

# A claimed delivery is retried by anyone after this long: the replica
# that claimed it may have died while sending.
CLAIM_LEASE = timedelta(seconds=60)
BATCH = 20


@dataclass(frozen=True)
class Delivery:
    id: int
    url: str
    payload: str
    attempts: int  # including the one being made


async def queue_if_crossed(
    engine: AsyncEngine,
    account_id: int,
    url: str,
    default_threshold: int,
    crossed_at_balance: int,
) -> bool:
    """Disarm the key's alert and queue a delivery, if the key is armed and
    at or under its threshold. True when this call queued one. The alert
    reports `crossed_at_balance`, the balance the crossing request left: by
    the time this runs in the background, later requests may have spent more."""
    threshold = func.coalesce(accounts.c.low_credit_threshold, default_threshold)
    async with engine.begin() as conn:
        crossed = (
            await conn.execute(
                update(accounts)
                .where(
                    accounts.c.id == account_id,
                    accounts.c.alert_armed,
                    accounts.c.balance <= threshold,
                )
                .values(alert_armed=False)
                .returning(
                    accounts.c.key_prefix,
                    accounts.c.label,
                    accounts.c.owner,
                    threshold.label("threshold"),
                )
            )
        ).first()
        if crossed is None:
            return False
        moment = now()
        payload = {
            "type": "credits.low",
            "key_id": account_id,
            "key_prefix": crossed.key_prefix,
            "label": crossed.label,
            "owner": crossed.owner,
            "balance": as_json_number(crossed_at_balance),
            "threshold": as_json_number(crossed.threshold),
            "time": moment.isoformat(),
        }
        await conn.execute(
            insert(alert_deliveries).values(
                account_id=account_id,
                url=url,
                payload=json.dumps(payload),
                state="pending",
                attempts=0,
                next_attempt_at=moment,
                created_at=moment,
            )
        )
    return True


async def claim_due(engine: AsyncEngine) -> list[Delivery]:
    """Take the deliveries that are due, each by a conditional UPDATE so
    that two workers never send the same attempt."""
    moment = now()
    due = (
        select(alert_deliveries)
        .where(
            alert_deliveries.c.state == "pending",
            alert_deliveries.c.next_attempt_at <= moment,
        )
        .order_by(alert_deliveries.c.id)
        .limit(BATCH)
    )
    claimed = []
    async with engine.begin() as conn:
        for row in (await conn.execute(due)).all():
            taken = await conn.execute(
                update(alert_deliveries)
                .where(
                    alert_deliveries.c.id == row.id,
                    alert_deliveries.c.state == "pending",
                    alert_deliveries.c.attempts == row.attempts,
                )
                .values(attempts=row.attempts + 1, next_attempt_at=moment + CLAIM_LEASE)
            )
            if taken.rowcount == 1:
                claimed.append(Delivery(row.id, row.url, row.payload, row.attempts + 1))
    return claimed


async def record_attempt(
    engine: AsyncEngine,
    delivery: Delivery,
    *,
    status: int | None,
    error: str | None,
    retry_in: float | None,
) -> None:
    """Delivered when `error` is None; else retried after `retry_in`
    seconds, or failed for good when that is None."""
    moment = now()
    values: dict = {"last_status": status, "last_error": error}
    if error is None:
        values |= {"state": "delivered", "delivered_at": moment}
    elif retry_in is None:
        values |= {"state": "failed"}
    else:
        values |= {"next_attempt_at": moment + timedelta(seconds=retry_in)}
    async with engine.begin() as conn:
        await conn.execute(
            update(alert_deliveries)
            .where(alert_deliveries.c.id == delivery.id)
            .values(**values)
        )


async def seconds_to_next(engine: AsyncEngine) -> float | None:
    query = select(func.min(alert_deliveries.c.next_attempt_at)).where(
        alert_deliveries.c.state == "pending"
    )
    async with engine.connect() as conn:
        upcoming = (await conn.execute(query)).scalar_one()
    if upcoming is None:
        return None
    return max(0.0, (as_utc(upcoming) - now()).total_seconds())


async def deliveries(
    engine: AsyncEngine,
    *,
    key_id: int | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> Page[dict]:
    """Recorded deliveries, newest first, as JSON-ready dicts."""
    query = select(alert_deliveries)
    if key_id is not None:
        query = query.where(alert_deliveries.c.account_id == key_id)
    query = page_query(query, alert_deliveries.c.id, cursor, limit, newest_first=True)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return to_page(rows, limit, _delivery_json)


def _delivery_json(row) -> dict:
    return {
        "id": row.id,
        "key_id": row.account_id,
        "url": row.url,
        "state": row.state,
        "attempts": row.attempts,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "created_at": as_utc(row.created_at).isoformat(),
        "delivered_at": (
            as_utc(row.delivered_at).isoformat() if row.delivered_at else None
        ),
        "payload": json.loads(row.payload),
    }

"""Per-key rate limits: requests per fixed one-minute window (UTC, on the
gateway's clock), counted in the database so that every replica sharing it
enforces one limit.

Counting is one statement: insert the window's row, or add one to it only
while it is under the limit. Concurrent requests, on any replica, cannot
both take the last place in a window; none reads then writes.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from gemmachat.db.tables import rate_windows
from gemmachat.errors import RateLimited

WINDOW = timedelta(minutes=1)
# The highest limit a key may have: far more than one model can answer, and
# well within the count's integer column.
MAX_PER_MINUTE = 1_000_000
_UPSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass(frozen=True)
class Window:
    """Where a key stands in the current window."""

    limit: int
    remaining: int
    # Whole seconds until the window ends, at least 1.
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """The IETF draft's RateLimit fields (draft-ietf-httpapi-ratelimit-headers)."""
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


def window_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def seconds_left(moment: datetime) -> int:
    left = (window_start(moment) + WINDOW - moment).total_seconds()
    return max(1, math.ceil(left))


async def take(
    engine: AsyncEngine, account_id: int, limit: int, moment: datetime
) -> Window:
    """Count one request in the window holding `moment`, or raise
    RateLimited (with Retry-After) if the window already holds `limit`."""
    used = await _count(engine, account_id, window_start(moment), limit)
    reset = seconds_left(moment)
    if used is None:
        raise _refusal(Window(limit, 0, reset))
    return Window(limit, limit - used, reset)


async def _count(
    engine: AsyncEngine, account_id: int, start: datetime, limit: int
) -> int | None:
    """The window's count with this request in it, or None when it is full."""
    upsert = _UPSERT[engine.dialect.name](rate_windows)
    statement = (
        upsert.values(account_id=account_id, window_start=start, requests=1)
        .on_conflict_do_update(
            index_elements=[rate_windows.c.account_id, rate_windows.c.window_start],
            set_={"requests": rate_windows.c.requests + 1},
            where=rate_windows.c.requests < limit,
        )
        .returning(rate_windows.c.requests)
    )
    async with engine.begin() as conn:
        return (await conn.execute(statement)).scalar_one_or_none()


def _refusal(window: Window) -> RateLimited:
    wait = window.reset_seconds
    return RateLimited(
        f"Rate limit reached: this key allows {window.limit} requests per "
        f"minute. Try again in {wait} s.",
        extra={"limit": window.limit, "retry_after": wait},
        headers=window.headers() | {"Retry-After": str(wait)},
    )


async def forget_old_windows(engine: AsyncEngine, moment: datetime) -> int:
    """Delete the windows that ended before the previous minute began.

    The previous minute is kept for a replica whose clock runs a little
    behind: deleting the window it still counts in would reopen it."""
    cutoff = window_start(moment) - WINDOW
    async with engine.begin() as conn:
        deleted = await conn.execute(
            delete(rate_windows).where(rate_windows.c.window_start < cutoff)
        )
    return deleted.rowcount

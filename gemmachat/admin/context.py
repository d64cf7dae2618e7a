"""What every admin operation needs: the database, the settings, who acts
and what time it is (a clock tests can move)."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from gemmachat.errors import InvalidRequest
from gemmachat.ledger.accounts import now as system_now
from gemmachat.ledger.money import to_units
from gemmachat.settings import Settings


@dataclass(frozen=True)
class Context:
    engine: AsyncEngine
    settings: Settings
    # "admin", "cli:<user>", "key:<prefix>", "payments" or "refill"
    actor: str
    clock: Callable[[], datetime] = system_now
    request_id: str | None = None

    def now(self) -> datetime:
        return self.clock()

    @property
    def secret(self) -> bytes:
        return self.settings.secret

    @property
    def low_credit_units(self) -> int:
        """The threshold of keys that have none of their own."""
        return to_units(self.settings.low_credit_threshold)

    def acting_as(self, actor: str) -> "Context":
        return replace(self, actor=actor)


def check_future(ctx: Context, moment: datetime | None, param: str) -> None:
    """Refuse an expiry that has already passed."""
    if moment is not None and as_utc(moment) <= ctx.now():
        raise InvalidRequest(f"{param}: must be in the future", param=param)


def as_utc(moment: datetime | None) -> datetime | None:
    """Aware UTC; a naive time is taken as UTC (SQLite drops the zone)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

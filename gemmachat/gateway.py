"""What every request handler needs, built once at start-up."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from gemmachat.alerts.dispatcher import AlertDispatcher
from gemmachat.backends.base import Backend
from gemmachat.ledger.accounts import Account, now
from gemmachat.ledger.money import to_units
from gemmachat.ledger.pricing import Pricing
from gemmachat.settings import Settings


@dataclass
class Gateway:
    settings: Settings
    engine: AsyncEngine
    backend: Backend
    pricing: Pricing
    secret: bytes
    # What time it is for expiry, allowance periods and rate-limit windows;
    # tests move it.
    clock: Callable[[], datetime] = now
    alerts: AlertDispatcher = field(init=False)

    def __post_init__(self) -> None:
        self.alerts = AlertDispatcher(self.engine, self.settings)

    @classmethod
    def assemble(
        cls, settings: Settings, engine: AsyncEngine, backend: Backend
    ) -> "Gateway":
        return cls(
            settings, engine, backend, Pricing.from_settings(settings), settings.secret
        )

    @property
    def low_credit_units(self) -> int:
        return to_units(self.settings.low_credit_threshold)

    def threshold_for(self, account: Account) -> int:
        """The balance at or under which `account` counts as low."""
        if account.low_credit_threshold is not None:
            return account.low_credit_threshold
        return self.low_credit_units

    def requests_per_minute(self, account: Account) -> int | None:
        """`account`'s rate limit; None: unlimited."""
        if account.requests_per_minute is not None:
            return account.requests_per_minute
        return self.settings.default_requests_per_minute

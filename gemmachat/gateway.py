"""What every request handler needs, built once at start-up."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from gemmachat.backends.base import Backend
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

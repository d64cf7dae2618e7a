"""One charged generation, the same for every route and mode:
reserve the most it can cost, generate, then settle to the actual cost.

A backend failure refunds everything. A caller who goes away is charged for
what was generated up to then, and the generation is stopped.
"""

import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, replace

import anyio

from gemmachat.backends.base import Finished, GenerationRequest
from gemmachat.errors import GemmaChatError
from gemmachat.gateway import Gateway
from gemmachat.ledger import ledger
from gemmachat.ledger.accounts import Account
from gemmachat.ledger.ledger import Reservation, UsageRecord


@dataclass
class Charge:
    """The caller's side of the bill, after settlement."""

    charged: int
    remaining: int
    low: bool


class MeteredGeneration:
    def __init__(
        self,
        gateway: Gateway,
        account: Account,
        route: str,
        request_id: str,
        request: GenerationRequest,
        input_tokens: int,
    ):
        self.gateway = gateway
        self.account = account
        self.request = request
        self.record = UsageRecord(
            request_id, route, gateway.backend.info.name, input_tokens=input_tokens
        )
        self.finished: Finished | None = None
        self.charge: Charge | None = None
        self.reserved_remaining = 0
        self._reservation: Reservation | None = None
        self._started = time.perf_counter()

    async def __aenter__(self) -> "MeteredGeneration":
        cap = self.account.max_tokens
        if cap is not None and self.request.max_tokens > cap:
            # The key's own limit, set by an admin: longer answers stop at
            # `cap` tokens (finish_reason "length") and cost no more.
            self.request = replace(self.request, max_tokens=cap)
        most = self.gateway.pricing.most(
            self.record.input_tokens, self.request.max_tokens
        )
        self._reservation, self.reserved_remaining = await ledger.reserve(
            self.gateway.engine, self.account.id, most, self.record.request_id
        )
        return self

    async def pieces(self) -> AsyncIterator[str]:
        """The generated text, piece by piece."""
        generation = self.gateway.backend.generate(self.request)
        async with aclosing(generation) as stream:
            async for item in stream:
                if isinstance(item, Finished):
                    self.finished = item
                    self._count(item)
                elif item:
                    self.record.output_tokens += 1
                    yield item

    def _count(self, finished: Finished) -> None:
        self.record.input_tokens = finished.input_tokens or self.record.input_tokens
        self.record.output_tokens = finished.output_tokens

    async def text(self) -> str:
        return "".join([piece async for piece in self.pieces()])

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self.finished is None:
            self.record.status = "incomplete"
        elif exc_type is None:
            self.record.status = "ok"
        elif issubclass(exc_type, GemmaChatError):
            self.record.status = exc.type
        elif issubclass(exc_type, (anyio.get_cancelled_exc_class(), GeneratorExit)):
            self.record.status = "client_disconnected"
        else:
            self.record.status = "error"
        with anyio.CancelScope(shield=True):
            await self._settle()

    async def _settle(self) -> None:
        self.record.latency_ms = int((time.perf_counter() - self._started) * 1000)
        units = self._cost()
        remaining = await ledger.settle(
            self.gateway.engine, self._reservation, units, self.record
        )
        threshold = self.gateway.threshold_for(self.account)
        self.charge = Charge(units, remaining, remaining <= threshold)
        self.gateway.alerts.notice(self.account, remaining, threshold)

    def _cost(self) -> int:
        """Finished requests pay in full; interrupted ones pay for the
        tokens produced; failures pay nothing."""
        status, output = self.record.status, self.record.output_tokens
        if status == "ok" or (status == "client_disconnected" and output > 0):
            return self.gateway.pricing.cost(self.record.input_tokens, output)
        return 0

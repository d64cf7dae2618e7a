"""One charged generation, the same for every route and mode:
reserve the most it can cost, generate, then settle to the actual cost.

A backend failure refunds everything. A caller who goes away is charged for
what was generated up to then, and the generation is stopped.
"""

import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass

import anyio

from gemmachat import rate_limits
from gemmachat.backends.base import Finished, GenerationRequest
from gemmachat.errors import GemmaChatError, InsufficientCredits
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


@dataclass
class Outcome:
    """A finished generation, in terms every surface can render."""

    text: str
    model: str
    finish_reason: str
    input_tokens: int
    output_tokens: int
    charge: Charge
    # max_tokens as asked, when the balance could only pay for fewer
    clamped_from: int | None = None
    max_tokens: int = 0
    extra: dict = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Outcome":
        return cls(**(data | {"charge": Charge(**data["charge"])}))


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
        self.clamped_from: int | None = None
        self.disconnected = False
        self._pieces = 0
        self._reservation: Reservation | None = None
        # The key's rate-limit window once admitted; None for unlimited keys.
        self.window: rate_limits.Window | None = None
        self._started = time.perf_counter()

    async def admit(self) -> None:
        """Count the request against the key's rate limit (or raise a 429),
        then reserve the most it can cost (or raise a 402).

        Under per-token pricing a balance that cannot pay for `max_tokens`
        lowers it instead, as long as the prompt and one token are covered.
        """
        await self._count_request()
        cap = self.account.max_tokens
        if cap is not None and self.request.max_tokens > cap:
            # The key's own limit, set by an admin: longer answers stop at
            # `cap` tokens (finish_reason "length") and cost no more.
            self.request = dataclasses.replace(self.request, max_tokens=cap)
        try:
            await self._reserve()
        except InsufficientCredits as refused:
            pricing = self.gateway.pricing
            if pricing.per_request:
                raise
            affordable = pricing.affordable_output(
                self.record.input_tokens, refused.remaining_units
            )
            if affordable < 1:
                raise
            self.clamped_from = self.request.max_tokens
            self.request = dataclasses.replace(self.request, max_tokens=affordable)
            await self._reserve()

    async def _count_request(self) -> None:
        # Before any credits move, so a refused request costs nothing and
        # leaves no ledger or usage rows. Unlimited keys skip the table.
        limit = self.gateway.requests_per_minute(self.account)
        if limit is not None:
            self.window = await rate_limits.take(
                self.gateway.engine, self.account.id, limit, self.gateway.clock()
            )

    async def _reserve(self) -> None:
        most = self.gateway.pricing.most(
            self.record.input_tokens, self.request.max_tokens
        )
        self._reservation, _ = await ledger.reserve(
            self.gateway.engine, self.account.id, most, self.record.request_id
        )

    async def pieces(self) -> AsyncIterator[str]:
        """The generated text, piece by piece."""
        generation = self.gateway.backend.generate(self.request)
        async with aclosing(generation) as stream:
            async for item in stream:
                if isinstance(item, Finished):
                    self.finished = item
                    self._count(item)
                elif item:
                    self._pieces += 1
                    yield item

    def _count(self, finished: Finished) -> None:
        self.record.input_tokens = finished.input_tokens or self.record.input_tokens
        self.record.output_tokens = finished.output_tokens

    async def text(self) -> str:
        return "".join([piece async for piece in self.pieces()])

    def outcome(self, text: str) -> Outcome:
        return Outcome(
            text=text,
            model=self.gateway.backend.info.name,
            finish_reason=self.finished.finish_reason,
            input_tokens=self.record.input_tokens,
            output_tokens=self.record.output_tokens,
            charge=self.charge,
            clamped_from=self.clamped_from,
            max_tokens=self.request.max_tokens,
        )

    async def finish(self, error: BaseException | None) -> None:
        """Settle: call exactly once, whatever happened."""
        self.record.status = self._status(error)
        with anyio.CancelScope(shield=True):
            await self._settle()

    def _status(self, error: BaseException | None) -> str:
        cancelled = (anyio.get_cancelled_exc_class(), GeneratorExit)
        if self.disconnected or isinstance(error, cancelled):
            return "client_disconnected"
        if error is None:
            return "ok" if self.finished else "incomplete"
        if isinstance(error, GemmaChatError):
            return error.type
        return "error"

    async def __aenter__(self) -> "MeteredGeneration":
        await self.admit()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await self.finish(exc)

    async def _settle(self) -> None:
        if self.finished is None:
            # Cut short: count what the backend reports sampling, or at least
            # the pieces it sent, whichever says more.
            progress = self.request.progress.output_tokens
            self.record.output_tokens = max(progress, self._pieces)
        self.record.latency_ms = int((time.perf_counter() - self._started) * 1000)
        units = self._cost()
        remaining = await ledger.settle(
            self.gateway.engine, self._reservation, units, self.record
        )
        threshold = self.gateway.threshold_for(self.account)
        self.charge = Charge(units, remaining, remaining <= threshold)
        self.gateway.alerts.notice(self.account, remaining, threshold)

    def _cost(self) -> int:
        """Finished requests pay in full; interrupted ones pay for the work
        the model had begun (the prompt, the tokens produced); failures and
        requests still waiting in the queue pay nothing."""
        status, output = self.record.status, self.record.output_tokens
        begun = self.request.progress.started or output > 0
        if status == "ok" or (status == "client_disconnected" and begun):
            return self.gateway.pricing.cost(self.record.input_tokens, output)
        return 0

"""What a request may cost before it runs, and what it costs once it ran."""

from dataclasses import dataclass

from gemmachat.ledger.money import to_units
from gemmachat.settings import Settings


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Pricing:
    per_request: bool
    request_units: int
    input_units_per_1k: int
    output_units_per_1k: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "Pricing":
        return cls(
            per_request=settings.pricing == "per_request",
            request_units=to_units(settings.request_cost),
            input_units_per_1k=to_units(settings.input_credits_per_1k_tokens),
            output_units_per_1k=to_units(settings.output_credits_per_1k_tokens),
        )

    def cost(self, input_tokens: int, output_tokens: int) -> int:
        """Units for a request that read and wrote this many tokens."""
        if self.per_request:
            return self.request_units
        raw = (input_tokens * self.input_units_per_1k
               + output_tokens * self.output_units_per_1k)
        return _ceil_div(raw, 1000)

    def most(self, input_tokens: int, max_tokens: int) -> int:
        """The reservation: the most a request may cost."""
        return self.cost(input_tokens, max_tokens)

    def affordable_output(self, input_tokens: int, balance: int) -> int:
        """The largest max_tokens `balance` can pay for (per-token only)."""
        left = balance * 1000 - input_tokens * self.input_units_per_1k
        if left < 0:
            return -1
        if self.output_units_per_1k == 0:
            return 1 << 30
        return left // self.output_units_per_1k

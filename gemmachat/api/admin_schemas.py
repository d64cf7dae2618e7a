"""Request bodies of the admin routes, the voucher redemption and the
payment webhook. Credit amounts arrive as units, checked by one function
(gemmachat.admin.amounts) for the API and the CLI alike."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from gemmachat.admin.amounts import MAX_CREDITS, units_from_json
from gemmachat.rate_limits import MAX_PER_MINUTE


def _positive(value: object) -> int:
    return _units(value, allow_zero=False)


def _not_negative(value: object) -> int:
    return _units(value, allow_zero=True)


def _units(value: object, allow_zero: bool) -> int:
    try:
        return units_from_json(value, allow_zero=allow_zero)
    except ValueError as error:
        # A custom error keeps pydantic from prefixing "Value error, ".
        raise PydanticCustomError("credits", str(error)) from None


_NUMBER = {"type": "number", "maximum": int(MAX_CREDITS), "multipleOf": 0.000001}
Credits = Annotated[
    int, PlainValidator(_positive), WithJsonSchema(_NUMBER | {"exclusiveMinimum": 0})
]
CreditsOrZero = Annotated[
    int, PlainValidator(_not_negative), WithJsonSchema(_NUMBER | {"minimum": 0})
]
Name = Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=200)]
Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=500)]
Reason = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
]
MaxTokens = Annotated[StrictInt, Field(ge=1)]
RequestsPerMinute = Annotated[StrictInt, Field(ge=1, le=MAX_PER_MINUTE)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RefillBody(Strict):
    credits: Credits
    period: Literal["day", "month"]


class KeyUpdate(Strict):
    """Only the fields sent change; null clears an optional setting."""

    label: Name = ""
    owner: Name = ""
    expires_at: datetime | None = None
    max_tokens: MaxTokens | None = None
    low_credit_threshold: CreditsOrZero | None = None
    # None: DEFAULT_REQUESTS_PER_MINUTE (unlimited when that is unset).
    requests_per_minute: RequestsPerMinute | None = None
    refill: RefillBody | None = None


class KeyCreate(KeyUpdate):
    # INITIAL_CREDITS when left out.
    credits: CreditsOrZero | None = None


class RechargeBody(Strict):
    credits: Credits
    reason: Reason


class VoucherCreate(Strict):
    credits: Credits
    max_uses: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = 1
    expires_at: datetime | None = None
    note: Text = ""
    count: Annotated[StrictInt, Field(ge=1, le=1000)] = 1


class RedeemBody(Strict):
    code: Annotated[
        StrictStr,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    ]


class PaymentEventBody(BaseModel):
    # Providers send more than we read; the rest is ignored.
    model_config = ConfigDict(extra="ignore")

    id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
    key_id: Annotated[StrictInt, Field(ge=1)]
    credits: Credits
    note: Text = ""

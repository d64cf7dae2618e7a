"""Credits are exact: stored as integer units, a millionth of a credit each."""

from decimal import Decimal, InvalidOperation

UNITS_PER_CREDIT = 1_000_000


def to_units(credits: Decimal | int | str) -> int:
    """Credits to units; refuses anything finer than one unit."""
    try:
        value = Decimal(credits) * UNITS_PER_CREDIT
    except InvalidOperation as error:
        raise ValueError(f"not a number: {credits!r}") from error
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"not a whole number of units: {credits!r}")
    return int(value)


def to_credits(units: int) -> Decimal:
    return (Decimal(units) / UNITS_PER_CREDIT).normalize()


def as_json_number(units: int) -> int | float:
    """Credits as a JSON number: an int when whole, else a float that
    round-trips the six decimals exactly."""
    credits = to_credits(units)
    if credits == credits.to_integral_value():
        return int(credits)
    return float(credits)

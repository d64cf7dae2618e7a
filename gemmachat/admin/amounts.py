"""Credit amounts given by an admin, a payment event or the CLI: checked
the same way everywhere before they become units."""

from decimal import Decimal, InvalidOperation

from gemmachat.ledger.money import to_units

# One operation may move at most this many credits: a typo such as an
# extra six zeros is refused instead of granted.
MAX_CREDITS = Decimal(1_000_000_000)


def units_from_json(value: object, *, allow_zero: bool = False) -> int:
    """Units for a JSON number; strings, booleans and null are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number of credits")
    # repr keeps what the JSON said: 0.1 stays 0.1, 1e-7 stays too fine.
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return checked_units(exact, allow_zero=allow_zero)


def units_from_text(text: str, *, allow_zero: bool = False) -> int:
    """Units for a number typed on the command line."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as error:
        raise ValueError(f"{text!r} is not a number") from error
    return checked_units(value, allow_zero=allow_zero)


def checked_units(value: Decimal, *, allow_zero: bool = False) -> int:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(
            "must not be negative" if allow_zero else "must be greater than 0"
        )
    if value > MAX_CREDITS:
        raise ValueError(f"must be at most {MAX_CREDITS}")
    try:
        return to_units(value)
    except ValueError:
        raise ValueError("must have at most 6 decimal places") from None

"""How a charge is shown to the caller: body fields, headers and the alert."""

from fastapi import Request

from gemmachat.api.schemas import Credits
from gemmachat.ledger.money import as_json_number
from gemmachat.metering import Charge, MeteredGeneration


def low_credit_alert(remaining: int) -> str:
    return (f"Low credits: {as_json_number(remaining)} left on this key. "
            "Ask an admin to recharge it.")


def credits_view(charge: Charge) -> Credits:
    return Credits(
        charged=as_json_number(charge.charged),
        remaining=as_json_number(charge.remaining),
        low=charge.low,
        alert=low_credit_alert(charge.remaining) if charge.low else None,
    )


def credit_headers(charge: Charge) -> dict[str, str]:
    return {
        "X-Credits-Charged": str(as_json_number(charge.charged)),
        "X-Credits-Remaining": str(as_json_number(charge.remaining)),
        "X-Credits-Low": "true" if charge.low else "false",
    }


def note_for_log(request: Request, call: MeteredGeneration) -> None:
    """What the one access log line reports about this request."""
    request.state.input_tokens = call.record.input_tokens
    request.state.output_tokens = call.record.output_tokens
    if call.charge is not None:
        request.state.credits = as_json_number(call.charge.charged)

"""POST /webhooks/payments: a payment provider tops up a key.

The signature is checked over the raw body before anything parses it; an
event id applies once."""

import json

from fastapi import APIRouter, Request
from pydantic import ValidationError

from gemmachat.admin import payments, signing
from gemmachat.api.admin_schemas import PaymentEventBody
from gemmachat.api.admin_views import grant_json
from gemmachat.api.deps import CurrentGateway, context
from gemmachat.errors import InvalidRequest, NotFound

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post("/payments")
async def payment_event(request: Request, gateway: CurrentGateway) -> dict:
    settings = gateway.settings
    if settings.payment_webhook_secret is None:
        raise NotFound("Payment webhooks are off: PAYMENT_WEBHOOK_SECRET is not set.")
    raw = await request.body()
    signing.verify(
        settings.payment_webhook_secret.get_secret_value().encode(),
        request.headers.get(signing.HEADER),
        raw,
        gateway.clock(),
        settings.payment_webhook_tolerance_seconds,
    )
    body = _parsed(raw)
    event = payments.PaymentEvent(body.id, body.key_id, body.credits, body.note)
    grant = await payments.apply_event(context(request, "payments"), event)
    return {"event_id": event.id, **grant_json(grant)}


def _parsed(raw: bytes) -> PaymentEventBody:
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidRequest(
            "The request body is not valid JSON.", param="body"
        ) from None
    try:
        return PaymentEventBody.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        param = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidRequest(f"{param}: {first['msg']}", param=param) from None

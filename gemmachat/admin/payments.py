"""Top-ups from a payment provider: a signed event grants credits to a key,
and each event id applies once."""

from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from gemmachat.admin.context import Context
from gemmachat.admin.credits import Grant, add_credits, usable_account
from gemmachat.db.tables import payment_events
from gemmachat.errors import DuplicateEvent


@dataclass(frozen=True)
class PaymentEvent:
    id: str
    key_id: int
    units: int
    note: str = ""


async def apply_event(ctx: Context, event: PaymentEvent) -> Grant:
    """Grant the event's credits; a replayed event id raises DuplicateEvent
    and changes nothing."""
    try:
        async with ctx.engine.begin() as conn:
            await usable_account(conn, event.key_id)
            await conn.execute(
                insert(payment_events).values(
                    event_id=event.id,
                    account_id=event.key_id,
                    credits=event.units,
                    created_at=ctx.now(),
                )
            )
            return await add_credits(
                conn,
                ctx,
                event.key_id,
                event.units,
                kind="payment",
                action="payment.grant",
                note=event.note or f"payment {event.id}",
                event_id=event.id,
            )
    except IntegrityError:
        raise DuplicateEvent(
            f"Event {event.id!r} was already applied.", param="id"
        ) from None

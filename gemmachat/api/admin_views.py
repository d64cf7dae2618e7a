"""How admin objects look in JSON: credits as numbers (not units), times
as ISO 8601 in UTC."""

from datetime import datetime

from gemmachat.admin.audit import AuditEntry
from gemmachat.admin.credits import Grant
from gemmachat.admin.key_views import KeyView
from gemmachat.admin.pages import Page
from gemmachat.admin.usage import DayTotal, UsageRow
from gemmachat.admin.vouchers import VoucherView
from gemmachat.ledger.money import as_json_number

# A body carrying a plaintext key or code must not be cached anywhere.
NO_STORE = {"Cache-Control": "no-store"}


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _credits(units: int | None) -> int | float | None:
    return as_json_number(units) if units is not None else None


def page_json(page: Page, convert) -> dict:
    return {
        "data": [convert(item) for item in page.items],
        "next_cursor": page.next_cursor,
    }


def key_json(view: KeyView) -> dict:
    refill = None
    if view.refill is not None:
        refill = {"credits": _credits(view.refill.units), "period": view.refill.period}
    return {
        "id": view.id,
        "key_prefix": view.key_prefix,
        "label": view.label,
        "owner": view.owner,
        "source": view.source,
        "state": view.state,
        "balance": _credits(view.balance),
        "created_at": _time(view.created_at),
        "last_used_at": _time(view.last_used_at),
        "expires_at": _time(view.expires_at),
        "max_tokens": view.max_tokens,
        "low_credit_threshold": _credits(view.low_credit_threshold),
        "requests_per_minute": view.requests_per_minute,
        "refill": refill,
    }


def grant_json(grant: Grant) -> dict:
    return {
        "key_id": grant.key_id,
        "key_prefix": grant.key_prefix,
        "credits": _credits(grant.units),
        "balance": _credits(grant.balance),
    }


def voucher_json(view: VoucherView) -> dict:
    return {
        "id": view.id,
        "code_prefix": view.code_prefix,
        "credits": _credits(view.units),
        "max_uses": view.max_uses,
        "uses": view.uses,
        "note": view.note,
        "state": view.state,
        "created_at": _time(view.created_at),
        "expires_at": _time(view.expires_at),
    }


def usage_json(row: UsageRow) -> dict:
    return {
        "time": _time(row.time),
        "request_id": row.request_id,
        "key_id": row.key_id,
        "key_prefix": row.key_prefix,
        "route": row.route,
        "model": row.model,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "credits": _credits(row.credits),
        "status": row.status,
        "latency_ms": row.latency_ms,
    }


def day_json(total: DayTotal) -> dict:
    shown = {"day": total.day}
    if total.key_id is not None:
        shown |= {"key_id": total.key_id, "key_prefix": total.key_prefix}
    return shown | {
        "requests": total.requests,
        "input_tokens": total.input_tokens,
        "output_tokens": total.output_tokens,
        "credits": _credits(total.credits),
    }


def audit_json(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "time": _time(entry.time),
        "actor": entry.actor,
        "action": entry.action,
        "key_id": entry.key_id,
        "target": entry.target,
        "balance_before": _credits(entry.balance_before),
        "balance_after": _credits(entry.balance_after),
        "detail": entry.detail,
        "request_id": entry.request_id,
    }

"""Request dependencies: the gateway, the caller behind an API key, and
the admin behind ADMIN_API_KEY.

Both ways of presenting a key (`x-api-key` and `Authorization: Bearer`) go
through `presented_key`, and every refusal of a user key reads the same.
"""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gemmachat.admin import refills
from gemmachat.admin.context import Context
from gemmachat.errors import ExpiredKey, Forbidden, Unauthorized
from gemmachat.gateway import Gateway
from gemmachat.ledger.accounts import Account, find_by_key

INVALID_KEY = "Invalid or missing API key."
INVALID_ADMIN_KEY = "Invalid or missing admin API key."


def get_gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key is None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        key = token if scheme.lower() == "bearer" else None
    key = (key or "").strip()
    return key if key and key.isascii() and len(key) <= 200 else None


@dataclass(frozen=True)
class Caller:
    account: Account


async def _usable_account(gateway: Gateway, key: str) -> Account | None:
    """The active account behind `key`, or None; raises for an expired one."""
    account = await find_by_key(gateway.engine, gateway.secret, key)
    if account is None or account.state != "active":
        return None
    if account.expires_at is not None and account.expires_at <= gateway.clock():
        raise ExpiredKey("This API key has expired.")
    return account


def context(request: Request, actor: str) -> Context:
    gateway = get_gateway(request)
    return Context(
        gateway.engine,
        gateway.settings,
        actor,
        gateway.clock,
        getattr(request.state, "request_id", None),
    )


async def authenticate_admin(request: Request) -> None:
    """ADMIN_API_KEY, compared in constant time. A user key is recognised
    (403, so its holder knows the key works but lacks the right); anything
    else is 401."""
    key = presented_key(request)
    if key is None:
        raise Unauthorized(INVALID_ADMIN_KEY)
    admin = get_gateway(request).settings.admin_api_key
    if admin and hmac.compare_digest(_digest(key), _digest(admin.get_secret_value())):
        request.state.key_prefix = "admin"
        return
    try:
        user = await _usable_account(get_gateway(request), key)
    except ExpiredKey:
        user = None
    if user is not None:
        raise Forbidden("This route needs the admin API key.")
    raise Unauthorized(INVALID_ADMIN_KEY)


def _digest(value: str) -> bytes:
    # Comparing digests keeps the comparison's time independent of length.
    return hashlib.sha256(value.encode()).digest()


async def admin_context(
    request: Request, _: Annotated[None, Depends(authenticate_admin)]
) -> Context:
    return context(request, "admin")


AdminContext = Annotated[Context, Depends(admin_context)]


async def authenticate(request: Request) -> Caller:
    key = presented_key(request)
    if key is None:
        raise Unauthorized(INVALID_KEY)
    account = await _usable_account(get_gateway(request), key)
    if account is None:
        raise Unauthorized(INVALID_KEY)
    request.state.key_prefix = account.key_prefix
    # A key with an allowance gets this period's refill on first use.
    await refills.apply_if_due(context(request, "refill"), account)
    return Caller(account)


CurrentCaller = Annotated[Caller, Depends(authenticate)]
CurrentGateway = Annotated[Gateway, Depends(get_gateway)]

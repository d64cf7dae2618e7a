"""Request dependencies: the gateway, and the caller behind an API key.

Both ways of presenting a key (`x-api-key` and `Authorization: Bearer`) go
through `authenticate`, and every refusal of a user key reads the same.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from gemmachat.errors import ExpiredKey, Unauthorized
from gemmachat.gateway import Gateway
from gemmachat.ledger.accounts import Account, find_by_key

INVALID_KEY = "Invalid or missing API key."


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


async def authenticate(request: Request) -> Caller:
    key = presented_key(request)
    if key is None:
        raise Unauthorized(INVALID_KEY)
    gateway = get_gateway(request)
    account = await find_by_key(gateway.engine, gateway.secret, key)
    if account is None or account.state != "active":
        raise Unauthorized(INVALID_KEY)
    if account.expires_at is not None and account.expires_at <= datetime.now(UTC):
        raise ExpiredKey("This API key has expired.")
    request.state.key_prefix = account.key_prefix
    return Caller(account)


CurrentCaller = Annotated[Caller, Depends(authenticate)]
CurrentGateway = Annotated[Gateway, Depends(get_gateway)]

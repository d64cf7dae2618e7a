"""Idempotency-Key: a retried request gets the stored answer, and its
effect (a recharge, a charge) happens once.

`run_once` writes the effect and the stored answer in one transaction; the
unique constraint on (scope, owner, key) makes concurrent retries wait for
the first and then replay its answer.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gemmachat.db.tables import idempotency_keys
from gemmachat.errors import Conflict, InvalidRequest
from gemmachat.ledger.accounts import now

MAX_KEY_LENGTH = 200

Action = Callable[[AsyncConnection], Awaitable[tuple[int, dict]]]


class IdempotencyConflict(Conflict):
    type = "idempotency_conflict"


def fingerprint(body: bytes | dict) -> str:
    """A hash of the request, to tell a true retry from a reused key."""
    if isinstance(body, dict):
        body = json.dumps(body, sort_keys=True, default=str).encode()
    return hashlib.sha256(body).hexdigest()


def checked_key(key: str | None) -> str | None:
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
            param="Idempotency-Key")
    return key


async def run_once(engine: AsyncEngine, scope: str, owner: str, key: str,
                   request_hash: str, action: Action) -> tuple[int, dict]:
    """Run `action` once per key; later calls replay its (status, body)."""
    stored = await _lookup(engine, scope, owner, key)
    if stored is not None:
        return _replay(stored, request_hash)
    try:
        async with engine.begin() as conn:
            status, body = await action(conn)
            await conn.execute(insert(idempotency_keys).values(
                scope=scope, owner=owner, key=key, request_hash=request_hash,
                status_code=status, response=json.dumps(body), created_at=now()))
        return status, body
    except IntegrityError:
        stored = await _lookup(engine, scope, owner, key)
        if stored is None:
            raise
        return _replay(stored, request_hash)


async def _lookup(engine: AsyncEngine, scope: str, owner: str, key: str):
    query = select(idempotency_keys).where(
        idempotency_keys.c.scope == scope, idempotency_keys.c.owner == owner,
        idempotency_keys.c.key == key)
    async with engine.connect() as conn:
        return (await conn.execute(query)).first()


def _replay(stored, request_hash: str) -> tuple[int, dict]:
    if stored.request_hash != request_hash:
        raise IdempotencyConflict(
            "This Idempotency-Key was used with a different request.",
            param="Idempotency-Key")
    return stored.status_code, json.loads(stored.response)

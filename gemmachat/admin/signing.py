"""Signed webhooks, both ways: payment events we receive and low-credit
alerts we send. The signature is an HMAC-SHA256 over "<timestamp>." plus
the raw body, sent as `GemmaChat-Signature: t=<unix seconds>,v1=<hex>`.

Covering the timestamp lets a receiver refuse an old request replayed
with its valid signature."""

import hashlib
import hmac
from datetime import datetime

from gemmachat.errors import InvalidSignature, StaleSignature

HEADER = "GemmaChat-Signature"


def _digest(secret: bytes, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The header value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(
    secret: bytes,
    header: str | None,
    body: bytes,
    moment: datetime,
    tolerance_seconds: int,
) -> None:
    """Raise unless `header` signs `body` and its time is within tolerance
    of `moment`."""
    timestamp, signatures = _parse(header)
    expected = _digest(secret, timestamp, body) if timestamp is not None else ""
    # Every candidate is compared, in constant time, whether or not one
    # matched already.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not expected or not any(matches):
        raise InvalidSignature(f"Missing or invalid {HEADER} header.", param=HEADER)
    if abs(moment.timestamp() - timestamp) > tolerance_seconds:
        raise StaleSignature(
            f"The {HEADER} timestamp is more than {tolerance_seconds} seconds "
            "from the server's clock.",
            param=HEADER,
        )


def _parse(header: str | None) -> tuple[int | None, list[str]]:
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    return timestamp, signatures

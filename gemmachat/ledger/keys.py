"""API keys: generated here, stored only as a keyed hash plus a prefix."""

import hashlib
import hmac
import secrets

KEY_PREFIX = "gc_"
DISPLAY_PREFIX_LENGTH = 10


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def hash_key(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]

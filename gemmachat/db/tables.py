"""The schema. Money columns hold integer units (see ledger.money)."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("owner", String(200), nullable=False, default=""),
    # config: listed in API_KEYS; admin: created through the admin API/CLI
    Column("source", String(16), nullable=False),
    # active, revoked, or unlisted (a config key dropped from API_KEYS)
    Column("state", String(16), nullable=False, default="active"),
    Column("balance", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    # grant, reserve, release, charge, recharge, ...
    Column("kind", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("reservation_id", String(36)),
    Column("request_id", String(64)),
    Column("note", String(500), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_ledger_entries_account", "account_id", "id"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Index("ix_reservations_open", "closed_at", "created_at"),
)

usage = Table(
    "usage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("route", String(100), nullable=False),
    Column("model", String(200), nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("credits", BigInteger, nullable=False),
    # ok, client_disconnected, backend_error, ...
    Column("status", String(32), nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_usage_account_time", "account_id", "created_at"),
)

chat_sessions = Table(
    "chat_sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

chat_turns = Table(
    "chat_turns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("chat_sessions.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_chat_turns_session", "session_id", "id"),
)

# A retried request with the same Idempotency-Key gets the stored answer
# instead of running (and being charged) again. `owner` scopes the key:
# "admin" for admin routes, "account:<id>" for a key holder's requests.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(64), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("scope", "owner", "key", name="uq_idempotency_scope_owner_key"),
)

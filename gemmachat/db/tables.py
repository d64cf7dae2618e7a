"""The schema. Money columns hold integer units (see ledger.money)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
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
    true,
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
    # Limits an admin may set: the most output tokens one request may ask
    # for, and the balance at or under which the key counts as low.
    Column("max_tokens", Integer),
    Column("low_credit_threshold", BigInteger),
    # Requests the key may start per minute; None: DEFAULT_REQUESTS_PER_MINUTE.
    Column("requests_per_minute", Integer),
    # True until a low-credit alert fires; a grant lifting the balance back
    # above the threshold sets it again, so one crossing fires one alert.
    Column("alert_armed", Boolean, nullable=False, server_default=true()),
    # Allowance: each `refill_period` ("day" or "month", UTC) the balance is
    # topped up to `refill_credits`. `refill_applied_period` names the last
    # period served ("2030-01-31" or "2030-01"), so each applies once.
    Column("refill_credits", BigInteger),
    Column("refill_period", String(8)),
    Column("refill_applied_period", String(10)),
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

# Who did what to which key, with the balance before and after.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    # "admin" (the admin API key), "cli:<user>", "key:<prefix>" (a key
    # holder redeeming a voucher), "payments" or "refill"
    Column("actor", String(64), nullable=False),
    # key.create, key.update, key.revoke, key.rotate, credits.recharge,
    # credits.refill, voucher.create, voucher.redeem, payment.grant
    Column("action", String(32), nullable=False),
    Column("account_id", ForeignKey("accounts.id")),
    Column("target", String(64), nullable=False, default=""),
    Column("balance_before", BigInteger),
    Column("balance_after", BigInteger),
    Column("detail", Text, nullable=False, default="{}"),
    Column("request_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_audit_log_account", "account_id", "id"),
)

# Credit packs. Codes are bearer secrets like keys: only a keyed hash and a
# display prefix are stored.
vouchers = Table(
    "vouchers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("code_prefix", String(16), nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("max_uses", Integer, nullable=False),
    Column("uses", Integer, nullable=False, default=0),
    Column("note", String(500), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
)

# One row per redemption; a key redeems a given code at most once.
voucher_redemptions = Table(
    "voucher_redemptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("voucher_id", ForeignKey("vouchers.id"), nullable=False),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("voucher_id", "account_id", name="uq_redemption_voucher_account"),
)

# Payment provider events already applied: the unique event id is what
# makes a replayed event change nothing.
payment_events = Table(
    "payment_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Low-credit alerts to deliver to LOW_CREDIT_WEBHOOK_URL, with their retries.
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("payload", Text, nullable=False),
    # pending, delivered, or failed (out of attempts)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_status", Integer),
    Column("last_error", String(500)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Index("ix_alert_deliveries_due", "state", "next_attempt_at"),
)

# Rate limits: how many requests each key started in each one-minute window
# (UTC, on the gateway's clock). One row per key and minute, counted up by a
# single conditional statement, so every replica shares the same count.
rate_windows = Table(
    "rate_windows",
    metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("requests", Integer, nullable=False),
)

"""admin: key limits, allowances and alert flag; audit log, vouchers,
payment events, alert deliveries

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def _account_columns() -> list[sa.Column]:
    return [
        sa.Column("max_tokens", sa.Integer(), nullable=True),
        sa.Column("low_credit_threshold", sa.BigInteger(), nullable=True),
        sa.Column(
            "alert_armed", sa.Boolean(), server_default=sa.true(), nullable=False
        ),
        sa.Column("refill_credits", sa.BigInteger(), nullable=True),
        sa.Column("refill_period", sa.String(length=8), nullable=True),
        sa.Column("refill_applied_period", sa.String(length=10), nullable=True),
    ]


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _account_id(nullable: bool = False) -> sa.Column:
    return sa.Column(
        "account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=nullable
    )


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a table in place beyond simple adds.
    with op.batch_alter_table("accounts") as batch:
        for column in _account_columns():
            batch.add_column(column)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        _account_id(nullable=True),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("balance_before", sa.BigInteger(), nullable=True),
        sa.Column("balance_after", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        _created_at(),
    )
    op.create_index("ix_audit_log_account", "audit_log", ["account_id", "id"])
    op.create_table(
        "vouchers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("code_prefix", sa.String(length=16), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "voucher_redemptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "voucher_id", sa.Integer(), sa.ForeignKey("vouchers.id"), nullable=False
        ),
        _account_id(),
        _created_at(),
        sa.UniqueConstraint(
            "voucher_id", "account_id", name="uq_redemption_voucher_account"
        ),
    )
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.String(length=200), nullable=False, unique=True),
        _account_id(),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        _created_at(),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account_id(),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        _created_at(),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_alert_deliveries_due", "alert_deliveries", ["state", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_due", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_table("payment_events")
    op.drop_table("voucher_redemptions")
    op.drop_table("vouchers")
    op.drop_index("ix_audit_log_account", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("accounts") as batch:
        for column in reversed(_account_columns()):
            batch.drop_column(column.name)

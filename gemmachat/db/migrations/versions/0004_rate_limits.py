"""rate limits: a key's requests per minute, and the per-minute counts

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a table in place beyond simple adds.
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("requests_per_minute", sa.Integer(), nullable=True))
    op.create_table(
        "rate_windows",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id"),
            primary_key=True,
        ),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("requests", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_windows")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("requests_per_minute")

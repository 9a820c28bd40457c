"""notifications: deliveries held for their recipient's daily digest

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = "in_digest AND state = 'queued'"


def upgrade() -> None:
    op.add_column(
        "notifications_deliveries",
        sa.Column("in_digest", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index(
        "ix_notifications_deliveries_digest",
        "notifications_deliveries",
        ["channel", "not_before"],
        postgresql_where=sa.text(WHERE),
        sqlite_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_deliveries_digest", table_name="notifications_deliveries")
    op.drop_column("notifications_deliveries", "in_digest")

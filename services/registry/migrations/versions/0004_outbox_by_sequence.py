"""registry: the outbox keyed by its sequence; the insert trigger wakes the relay

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

from alembic import op

from kit.migrations import key_outbox_by_id, key_outbox_by_sequence

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    key_outbox_by_sequence(op)


def downgrade() -> None:
    key_outbox_by_id(op)

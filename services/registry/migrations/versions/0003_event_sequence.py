"""registry: events numbered 1, 2, 3, ... in commit order (outbox_sequence)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

from alembic import op

from kit.migrations import add_event_sequence, drop_event_sequence

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_event_sequence(op)


def downgrade() -> None:
    drop_event_sequence(op)

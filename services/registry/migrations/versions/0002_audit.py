"""registry: the append-only audit of changes and their actors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:00:00
"""

from collections.abc import Sequence

from alembic import op

from kit.migrations import create_platform_tables, drop_platform_tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_tables(op, only=("audit_entries",))


def downgrade() -> None:
    drop_platform_tables(op, only=("audit_entries",))

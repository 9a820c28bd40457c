"""reception: the deputies on each session's rota

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rota_assignments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["reception_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "deputy_id", name="uq_rota_assignments_session_deputy"),
    )
    op.create_index("ix_rota_assignments_session_id", "rota_assignments", ["session_id"])
    op.create_index("ix_rota_assignments_deputy_id", "rota_assignments", ["deputy_id"])


def downgrade() -> None:
    op.drop_index("ix_rota_assignments_deputy_id", table_name="rota_assignments")
    op.drop_index("ix_rota_assignments_session_id", table_name="rota_assignments")
    op.drop_table("rota_assignments")

"""reception: rota states, deputies' unavailability and swaps

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "session_rotas",
        sa.Column("session_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["reception_sessions.id"]),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_table(
        "rota_unavailability",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rota_unavailability_deputy_id", "rota_unavailability", ["deputy_id"])
    op.create_table(
        "rota_swaps",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("proposer_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("counterpart_id", sa.BigInteger(), nullable=False),
        sa.Column("counterpart_session_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by_role", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["reception_sessions.id"]),
        sa.ForeignKeyConstraint(["counterpart_session_id"], ["reception_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("station_id", "proposer_id", "counterpart_id"):
        op.create_index(f"ix_rota_swaps_{column}", "rota_swaps", [column])


def downgrade() -> None:
    for column in ("counterpart_id", "proposer_id", "station_id"):
        op.drop_index(f"ix_rota_swaps_{column}", table_name="rota_swaps")
    op.drop_table("rota_swaps")
    op.drop_index("ix_rota_unavailability_deputy_id", table_name="rota_unavailability")
    op.drop_table("rota_unavailability")
    op.drop_table("session_rotas")

"""reception: bookings (places at a session's slots, the waitlist) and walk-ins

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status IN ('booked', 'waitlisted')")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "bookings",
        _id(),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("slot_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("waitlist_position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=False),
        sa.Column("owner_sub", sa.String(length=200), nullable=True),
        sa.Column("cancel_code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["reception_sessions.id"]),
        sa.ForeignKeyConstraint(["slot_id"], ["session_slots.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bookings_session_id", "bookings", ["session_id"])
    op.create_index("ix_bookings_slot_id", "bookings", ["slot_id"])
    op.create_index("ix_bookings_owner_sub", "bookings", ["owner_sub"])
    op.create_index("ix_bookings_slot_status", "bookings", ["slot_id", "status"])
    op.create_index(
        "uq_bookings_session_phone_live",
        "bookings",
        ["session_id", "phone"],
        unique=True,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )
    op.create_table(
        "walk_ins",
        _id(),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["reception_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_walk_ins_session_id", "walk_ins", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_walk_ins_session_id", table_name="walk_ins")
    op.drop_table("walk_ins")
    for index in (
        "uq_bookings_session_phone_live",
        "ix_bookings_slot_status",
        "ix_bookings_owner_sub",
        "ix_bookings_slot_id",
        "ix_bookings_session_id",
    ):
        op.drop_index(index, table_name="bookings")
    op.drop_table("bookings")

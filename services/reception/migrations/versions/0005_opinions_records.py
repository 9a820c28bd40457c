"""reception: opinions with their tracking codes and timelines, reception records

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "opinion_code_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "opinions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("tracking_code", sa.String(20), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("raiser_name", sa.String(100), nullable=False),
        sa.Column("raiser_phone", sa.String(40), nullable=False),
        sa.Column("raiser_contact", sa.String(300), nullable=False),
        sa.Column("raiser_sub", sa.String(200), nullable=False),
        sa.Column("taken_by_deputy_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("merged_into_id", sa.BigInteger(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["reception_sessions.id"]),
        sa.ForeignKeyConstraint(["merged_into_id"], ["opinions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tracking_code"),
    )
    for column in ("category", "station_id", "street_id", "session_id", "taken_by_deputy_id",
                   "status", "recorded_on"):  # fmt: skip
        op.create_index(f"ix_opinions_{column}", "opinions", [column])
    op.create_table(
        "opinion_timeline",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("opinion_id", sa.BigInteger(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["opinion_id"], ["opinions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_opinion_timeline_opinion_id", "opinion_timeline", ["opinion_id"])
    op.create_table(
        "reception_records",
        sa.Column("session_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("deputy_ids", sa.JSON(), nullable=False),
        sa.Column("person_times", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("locked_at", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["reception_sessions.id"]),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index("ix_reception_records_station_id", "reception_records", ["station_id"])
    op.create_index("ix_reception_records_session_date", "reception_records", ["session_date"])


def downgrade() -> None:
    op.drop_index("ix_reception_records_session_date", table_name="reception_records")
    op.drop_index("ix_reception_records_station_id", table_name="reception_records")
    op.drop_table("reception_records")
    op.drop_index("ix_opinion_timeline_opinion_id", table_name="opinion_timeline")
    op.drop_table("opinion_timeline")
    op.drop_table("opinions")
    op.drop_table("opinion_code_counters")

"""duties: deputies' activities (invitations, attendance), research with its
budget line locks, and the committees' visits with their follow-ups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 03:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duties_activities",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("organiser", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=True),
        sa.Column("station_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_duties_activities_year_street", "duties_activities", ["year", "street_id"], unique=False
    )
    op.create_table(
        "duties_budget_line_locks",
        sa.Column("budget_line_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("budget_line_id"),
    )
    op.create_table(
        "duties_research",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("amount_requested_yuan", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("budget_line_id", sa.BigInteger(), nullable=True),
        sa.Column("amount_granted_yuan", sa.BigInteger(), nullable=False),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_duties_research_budget_line", "duties_research", ["budget_line_id"], unique=False
    )
    op.create_index("ix_duties_research_deputy", "duties_research", ["deputy_id"], unique=False)
    op.create_index(
        "ix_duties_research_street_year", "duties_research", ["street_id", "year"], unique=False
    )
    op.create_table(
        "duties_visits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("visitors", sa.JSON(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("raised", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duties_visits_deputy", "duties_visits", ["deputy_id"], unique=False)
    op.create_index(
        "ix_duties_visits_street_year", "duties_visits", ["street_id", "year"], unique=False
    )
    op.create_table(
        "duties_activity_invitations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attendance", sa.String(length=32), nullable=True),
        sa.Column("attendance_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["duties_activities.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id", "deputy_id", name="uq_duties_invitations_deputy"),
    )
    op.create_index(
        "ix_duties_invitations_deputy", "duties_activity_invitations", ["deputy_id"], unique=False
    )
    op.create_table(
        "duties_visit_follow_ups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=200), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["duties_visits.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_duties_follow_ups_visit", "duties_visit_follow_ups", ["visit_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_duties_follow_ups_visit", table_name="duties_visit_follow_ups")
    op.drop_table("duties_visit_follow_ups")
    op.drop_index("ix_duties_invitations_deputy", table_name="duties_activity_invitations")
    op.drop_table("duties_activity_invitations")
    op.drop_index("ix_duties_visits_street_year", table_name="duties_visits")
    op.drop_index("ix_duties_visits_deputy", table_name="duties_visits")
    op.drop_table("duties_visits")
    op.drop_index("ix_duties_research_street_year", table_name="duties_research")
    op.drop_index("ix_duties_research_deputy", table_name="duties_research")
    op.drop_index("ix_duties_research_budget_line", table_name="duties_research")
    op.drop_table("duties_research")
    op.drop_table("duties_budget_line_locks")
    op.drop_index("ix_duties_activities_year_street", table_name="duties_activities")
    op.drop_table("duties_activities")
    # ### end Alembic commands ###

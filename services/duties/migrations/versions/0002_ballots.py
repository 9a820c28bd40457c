"""duties: duty reports to voters and their secret ballots (the papers,
comments and codes WITHOUT ROWID on SQLite: docs/BALLOTS.md)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:36:00.183419
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
        "report_meetings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_meetings_deputy", "report_meetings", ["deputy_id"], unique=False)
    op.create_index(
        "ix_report_meetings_street_year", "report_meetings", ["street_id", "year"], unique=False
    )
    op.create_table(
        "ballots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "meeting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("codes_issued", sa.Integer(), nullable=False),
        sa.Column("papers_cast", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("basically_satisfied", sa.Integer(), nullable=False),
        sa.Column("dissatisfied", sa.Integer(), nullable=False),
        sa.Column("min_turnout", sa.Integer(), nullable=False),
        sa.Column("reelection_share", sa.Float(), nullable=False),
        sa.Column("result_shown", sa.Boolean(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["report_meetings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ballots_deputy_id"), "ballots", ["deputy_id"], unique=False)
    op.create_index(op.f("ix_ballots_meeting_id"), "ballots", ["meeting_id"], unique=True)
    op.create_table(
        "ballot_codes",
        sa.Column(
            "ballot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("spent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballots.id"],
        ),
        sa.PrimaryKeyConstraint("ballot_id", "code_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "ballot_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "ballot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballots.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_ballot_comments_ballot", "ballot_comments", ["ballot_id"], unique=False)
    op.create_table(
        "ballot_papers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "ballot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("choice", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballots.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_ballot_papers_ballot", "ballot_papers", ["ballot_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ballot_papers_ballot", table_name="ballot_papers")
    op.drop_table("ballot_papers")
    op.drop_index("ix_ballot_comments_ballot", table_name="ballot_comments")
    op.drop_table("ballot_comments")
    op.drop_table("ballot_codes")
    op.drop_index(op.f("ix_ballots_meeting_id"), table_name="ballots")
    op.drop_index(op.f("ix_ballots_deputy_id"), table_name="ballots")
    op.drop_table("ballots")
    op.drop_index("ix_report_meetings_street_year", table_name="report_meetings")
    op.drop_index("ix_report_meetings_deputy", table_name="report_meetings")
    op.drop_table("report_meetings")

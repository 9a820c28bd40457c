"""referral: deputies' suggestions (议案建议) and meetings with agency heads (约见)

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-27 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRAILS = ("referral_suggestion_trail_entries", "referral_meeting_trail_entries")

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION referral_item_trail_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% are appended to, never changed', TG_TABLE_NAME;
END $$ LANGUAGE plpgsql;
"""


def _trail(name: str, owner: str, owners: str) -> None:
    op.create_table(
        name,
        sa.Column(owner, sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint([owner], [f"{owners}.id"]),
        sa.PrimaryKeyConstraint(owner, "seq"),
    )


def upgrade() -> None:
    op.create_table(
        "referral_suggestions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("session_code", sa.String(length=64), nullable=False),
        sa.Column("session_label", sa.String(length=200), nullable=False),
        sa.Column("session_year", sa.Integer(), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=False),
        sa.Column("proposer_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("lead_department_id", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_corresponding", sa.Date(), nullable=True),
        sa.Column("deadline_last_day", sa.Date(), nullable=True),
        sa.Column("deadline_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_holidays_known", sa.Boolean(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("satisfaction", sa.String(length=30), nullable=False),
        sa.Column("rating_comment", sa.Text(), nullable=False),
        sa.Column("trail_head", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for index, columns in (
        ("ix_referral_suggestions_session_stage", ["session_code", "stage"]),
        ("ix_referral_suggestions_street", ["street_id"]),
        ("ix_referral_suggestions_proposer", ["proposer_id"]),
        ("ix_referral_suggestions_lead", ["lead_department_id"]),
    ):
        op.create_index(index, "referral_suggestions", columns, unique=False)
    op.create_table(
        "referral_suggestion_cosigners",
        sa.Column("suggestion_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["suggestion_id"], ["referral_suggestions.id"]),
        sa.PrimaryKeyConstraint("suggestion_id", "position"),
    )
    op.create_index(
        "ix_referral_suggestion_cosigners_deputy", "referral_suggestion_cosigners", ["deputy_id"]
    )
    op.create_table(
        "referral_suggestion_co_handlers",
        sa.Column("suggestion_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("department_id", sa.BigInteger(), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("opinion_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["suggestion_id"], ["referral_suggestions.id"]),
        sa.PrimaryKeyConstraint("suggestion_id", "position"),
    )
    op.create_index(
        "ix_referral_suggestion_co_handlers_department",
        "referral_suggestion_co_handlers",
        ["department_id"],
    )
    op.create_table(
        "referral_meetings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=False),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("department_id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("suggestion_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attended_by", sa.String(length=200), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("trail_head", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["suggestion_id"], ["referral_suggestions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_referral_meetings_street_status", "referral_meetings", ["street_id", "status"]
    )
    op.create_index("ix_referral_meetings_suggestion", "referral_meetings", ["suggestion_id"])
    _trail(TRAILS[0], "suggestion_id", "referral_suggestions")
    _trail(TRAILS[1], "meeting_id", "referral_meetings")
    # Trails are appended to, never changed: PostgreSQL refuses an UPDATE
    # or DELETE of an entry whoever asks.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        for table in TRAILS:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION referral_item_trail_append_only()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TRAILS:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION referral_item_trail_append_only()")
    for table in reversed(TRAILS):
        op.drop_table(table)
    op.drop_index("ix_referral_meetings_suggestion", table_name="referral_meetings")
    op.drop_index("ix_referral_meetings_street_status", table_name="referral_meetings")
    op.drop_table("referral_meetings")
    op.drop_index(
        "ix_referral_suggestion_co_handlers_department",
        table_name="referral_suggestion_co_handlers",
    )
    op.drop_table("referral_suggestion_co_handlers")
    op.drop_index(
        "ix_referral_suggestion_cosigners_deputy", table_name="referral_suggestion_cosigners"
    )
    op.drop_table("referral_suggestion_cosigners")
    for index in (
        "ix_referral_suggestions_lead",
        "ix_referral_suggestions_proposer",
        "ix_referral_suggestions_street",
        "ix_referral_suggestions_session_stage",
    ):
        op.drop_index(index, table_name="referral_suggestions")
    op.drop_table("referral_suggestions")

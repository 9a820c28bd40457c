"""notifications: conversations, their participants and messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notifications_conversations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("started_by", sa.String(length=240), nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=True),
        sa.Column("station_name", sa.String(length=200), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=True),
        sa.Column("constituent_sub", sa.String(length=200), nullable=False),
        sa.Column("constituent_name", sa.String(length=100), nullable=False),
        sa.Column("constituent_phone", sa.String(length=40), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opinion_id", sa.BigInteger(), nullable=True),
        sa.Column("opinion_tracking_code", sa.String(length=40), nullable=False),
        sa.Column("opinion_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_notifications_conversations_street",
        "notifications_conversations",
        ["street_id", "kind"],
        unique=False,
    )
    op.create_table(
        "notifications_conversation_participants",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=240), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["notifications_conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "conversation_id", "address", name="uq_notifications_conversation_participants"
        ),
    )
    op.create_index(
        "ix_notifications_conversation_participants_address",
        "notifications_conversation_participants",
        ["address"],
        unique=False,
    )
    op.create_table(
        "notifications_conversation_messages",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("author_address", sa.String(length=240), nullable=False),
        sa.Column("author_label", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reject_reason", sa.String(length=500), nullable=False),
        sa.Column("moderated_by", sa.String(length=200), nullable=False),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["notifications_conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_notifications_conversation_messages_thread",
        "notifications_conversation_messages",
        ["conversation_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_notifications_conversation_messages_state",
        "notifications_conversation_messages",
        ["state", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_notifications_conversation_messages_state",
        table_name="notifications_conversation_messages",
    )
    op.drop_index(
        "ix_notifications_conversation_messages_thread",
        table_name="notifications_conversation_messages",
    )
    op.drop_table("notifications_conversation_messages")
    op.drop_index(
        "ix_notifications_conversation_participants_address",
        table_name="notifications_conversation_participants",
    )
    op.drop_table("notifications_conversation_participants")
    op.drop_index("ix_notifications_conversations_street", table_name="notifications_conversations")
    op.drop_table("notifications_conversations")

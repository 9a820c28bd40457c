"""Conversations' tables (on `notifications.models.Base`; rules in
`notifications.conversations`).

- `notifications_conversations`: a thread, its kind and subject; for a
  constituent's thread the station and street, the constituent's subject
  and name (personal data: masked to deputies) and a phone left for the
  opinion (never shown); once turned into an opinion, reception's id and
  tracking code, and `opinion_started_at`, written and committed before
  reception is called, so a retry after a crash knows to look for an
  opinion already recorded.
- `notifications_conversation_participants`: the thread's addresses, one
  row each (unique), with the label shown for them.
- `notifications_conversation_messages`: what was written, by which
  address, its moderation state (held, published, rejected with a reason)
  and who moderated it (their token's subject: a pseudonymous id).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kit.tables import Id, utcnow
from notifications.models import Base


class Conversation(Base):
    __tablename__ = "notifications_conversations"
    __table_args__ = (Index("ix_notifications_conversations_street", "street_id", "kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    started_by: Mapped[str] = mapped_column(String(240))  # an address
    station_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    station_name: Mapped[str] = mapped_column(String(200), default="")
    street_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    constituent_sub: Mapped[str] = mapped_column(String(200), default="")
    constituent_name: Mapped[str] = mapped_column(String(100), default="")
    constituent_phone: Mapped[str] = mapped_column(String(40), default="")
    # When a message of a constituent's thread was first approved: deputies
    # see the thread from then on. Set at once for the other kinds.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    opinion_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    opinion_tracking_code: Mapped[str] = mapped_column(String(40), default="")
    opinion_started_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationParticipant(Base):
    __tablename__ = "notifications_conversation_participants"
    __table_args__ = (
        UniqueConstraint(
            "conversation_id", "address", name="uq_notifications_conversation_participants"
        ),
        Index("ix_notifications_conversation_participants_address", "address"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notifications_conversations.id")
    )
    address: Mapped[str] = mapped_column(String(240))
    label: Mapped[str] = mapped_column(String(200), default="")


class ConversationMessage(Base):
    __tablename__ = "notifications_conversation_messages"
    __table_args__ = (
        Index("ix_notifications_conversation_messages_thread", "conversation_id", "id"),
        Index("ix_notifications_conversation_messages_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notifications_conversations.id")
    )
    author_address: Mapped[str] = mapped_column(String(240))
    author_label: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    reject_reason: Mapped[str] = mapped_column(String(500), default="")
    moderated_by: Mapped[str] = mapped_column(String(200), default="")
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

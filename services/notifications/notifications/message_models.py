"""The core tables: messages and their deliveries (on `notifications.models.Base`).

- `notifications_messages`: what one recipient (an address,
  `notifications.addresses`) is told of one event by one rule, rendered in
  the recipient's language. Unique by (event id, recipient, rule key): an
  event redelivered, handled by two workers at once or replayed after a
  crash makes no second message. Its inbox state (read, archived) is kept
  on it: a message has one recipient.
- `notifications_deliveries`: one per message and channel (unique), so a
  message is sent at most once on each channel whatever the redeliveries and
  restarts; its state (`DELIVERY_STATES`), attempts, the provider's answer,
  and when it may go (`not_before`: quiet hours and daily digests hold it).
  A sender claims a due delivery by taking a lease (`lease_until`) in a
  committed transaction before it calls the provider, so two workers never
  send the same delivery, and a worker killed mid-send leaves a lease that
  runs out rather than a lost delivery.

A message carries only what its recipient may see: the fan-out renders it
from the event (which holds no personal data) for that recipient alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kit.tables import Id, utcnow
from notifications.models import Base

CHANNELS = ("inbox", "email", "sms", "wechat")
# queued: waiting to be sent (at `not_before` at the earliest); sending: a
# sender holds its lease; sent: the provider accepted it; delivered: the
# provider confirmed it reached the recipient (the inbox at once); failed: an
# attempt failed, another is due at `next_attempt_at`; dead: attempts ran
# out (retryable by hand); suppressed: not sent, and why (no contact for
# the channel, unsubscribed, muted after it was queued); digested: went out
# in a daily digest (`digest_id`, notifications.digests).
DELIVERY_STATES = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "failed",
    "dead",
    "suppressed",
    "digested",
)
# The kind of a daily digest's own message (notifications.digests): not in
# the inbox, which holds the messages it gathers already.
DIGEST_KIND = "digest"
LOCALES = ("zh-CN", "en")


class Message(Base):
    __tablename__ = "notifications_messages"
    __table_args__ = (
        UniqueConstraint(
            "event_id", "recipient", "rule_key", name="uq_notifications_messages_event_recipient"
        ),
        Index("ix_notifications_messages_recipient", "recipient", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # The source event: its envelope's id and "<service>.<type>".
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100))
    # The rule that made it ("" for a message no rule made, e.g. a
    # conversation's), and its id when it is a stored rule.
    rule_key: Mapped[str] = mapped_column(String(100), default="")
    rule_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recipient: Mapped[str] = mapped_column(String(240))
    # The kind of message preferences are chosen by (e.g. "bookings").
    kind: Mapped[str] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Where the recipient follows it up: a path of the portal or the console.
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Delivery(Base):
    __tablename__ = "notifications_deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "channel", name="uq_notifications_deliveries_channel"),
        # The sender's question: which deliveries are due now.
        Index("ix_notifications_deliveries_due", "state", "next_attempt_at"),
        # The digests' question: which held deliveries of a channel are due.
        Index(
            "ix_notifications_deliveries_digest",
            "channel",
            "not_before",
            postgresql_where=text("in_digest AND state = 'queued'"),
            sqlite_where=text("in_digest AND state = 'queued'"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notifications_messages.id"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    # Not sent before this (quiet hours, a daily digest); None: at once.
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    provider: Mapped[str] = mapped_column(String(40), default="")
    provider_message_id: Mapped[str] = mapped_column(String(200), default="")
    provider_answer: Mapped[str] = mapped_column(Text, default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Waits for its recipient's daily digest (at `not_before`) rather than
    # going on its own (notifications.digests).
    in_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The digest message it went out in (None: sent on its own).
    digest_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

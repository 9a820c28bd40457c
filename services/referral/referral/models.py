"""The referral service's tables (SQLAlchemy 2). No other service reads them.

- `referral_letters`: one per opinion handed on (unique `opinion_id`: an
  event delivered twice, or under two event ids, opens one letter), with
  the opinion's facts copied from the event (never who raised it) and the
  letter's stage, and the hash of its trail's newest entry (`trail_head`).
- `referral_trail_entries`: each letter's audit trail (`referral.trail`),
  appended to and never changed: every entry carries the hash of the one
  before, and the letter keeps the newest hash, so an entry removed from the
  end is found too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.tables import Id, utcnow


class Base(DeclarativeBase):
    pass


class Letter(Base):
    __tablename__ = "referral_letters"
    __table_args__ = (
        UniqueConstraint("opinion_id", name="uq_referral_letters_opinion"),
        Index("ix_referral_letters_street_stage", "street_id", "stage"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    opinion_id: Mapped[int] = mapped_column(BigInteger)
    tracking_code: Mapped[str] = mapped_column(String(20))
    street_id: Mapped[int] = mapped_column(BigInteger)
    station_id: Mapped[int] = mapped_column(BigInteger)
    community_id: Mapped[int] = mapped_column(BigInteger)
    community_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    content: Mapped[str] = mapped_column(Text)
    deputy_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(30))
    trail_head: Mapped[str] = mapped_column(String(64), default="", server_default="")
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class TrailEntry(Base):
    __tablename__ = "referral_trail_entries"

    letter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("referral_letters.id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[object] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

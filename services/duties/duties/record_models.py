"""The duty record's and ratings' tables (on `duties.models.Base`).

- `duty_record_sources`: one row per source record of another service (a
  reception record, an opinion, a letter, a suggestion; or a part of one)
  with the version
  (the source service's event sequence and when it occurred) of the newest
  state applied (`duties.duty_record.merge`);
- `duty_record_entries`: what one deputy did per source record and kind,
  unique by (service, record type, record id, kind, deputy), so an event
  redelivered or given twice adds nothing; `shown` is false for an entry a
  newer state of its record no longer names (kept for its day);
- `deputy_ratings`: one per rater (token subject) per deputy per year,
  enforced by a unique constraint, so two concurrent ratings cannot both
  pass; a comment hidden by moderation keeps its text for the moderators;
- `deputy_rating_reports`: abuse reports of a rating's comment, one per
  reporter per rating (unique).

Who rated or reported (`rater_sub`, `reporter_sub`) is kept for the
one-per rules only and is never answered.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from duties.models import Base
from kit.tables import Id, utcnow


class DutyRecordSource(Base):
    __tablename__ = "duty_record_sources"
    __table_args__ = (
        UniqueConstraint(
            "service", "record_type", "record_id", "part", name="uq_duty_record_sources"
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    service: Mapped[str] = mapped_column(String(32))
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(BigInteger)
    part: Mapped[int] = mapped_column(BigInteger, default=0)  # duties.duty_record.SourceRecord
    # The newest state applied: None until one is (a row is created, locked,
    # then merged into, in one transaction).
    version_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    version_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class DutyRecordEntry(Base):
    __tablename__ = "duty_record_entries"
    __table_args__ = (
        UniqueConstraint(
            "service",
            "record_type",
            "record_id",
            "kind",
            "deputy_id",
            name="uq_duty_record_entries",
        ),
        # The public read: a deputy's year, newest first.
        Index("ix_duty_record_entries_deputy_year", "deputy_id", "year", "shown", "day"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(
        Id, ForeignKey("duty_record_sources.id", ondelete="CASCADE"), index=True
    )
    service: Mapped[str] = mapped_column(String(32))
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    deputy_id: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(64), default="")
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str] = mapped_column(String(200), default="")
    shown: Mapped[bool] = mapped_column(Boolean, default=True)


class DeputyRating(Base):
    __tablename__ = "deputy_ratings"
    __table_args__ = (
        UniqueConstraint("deputy_id", "year", "rater_sub", name="uq_deputy_ratings_one_a_year"),
        Index("ix_deputy_ratings_deputy_year", "deputy_id", "year"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    deputy_id: Mapped[int] = mapped_column(BigInteger)
    year: Mapped[int] = mapped_column(Integer)
    rater_sub: Mapped[str] = mapped_column(String(255))
    # The deputy's street when rated: whose street committee moderates the
    # lists (a moderation itself asks the registry again).
    street_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    level: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DeputyRatingReport(Base):
    __tablename__ = "deputy_rating_reports"
    __table_args__ = (
        UniqueConstraint("rating_id", "reporter_sub", name="uq_deputy_rating_reports_one_each"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    rating_id: Mapped[int] = mapped_column(
        Id, ForeignKey("deputy_ratings.id", ondelete="CASCADE"), index=True
    )
    reporter_sub: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""Tables of activities, research and visits (SQLAlchemy 2), on the duties
service's `Base`. No other service reads them.

- `duties_activities` and their `duties_activity_invitations` (one per
  deputy and activity: sign-up and attendance on the invitation);
- `duties_research`: a deputy's topic with its grant and report, and
  `duties_budget_line_locks`: one row per registry budget line grants were
  drawn on, locked while a grant is added (the amount granted is the sum
  of the research rows' grants against the line, counted under the lock);
- `duties_visits` and their `duties_visit_follow_ups`: an archive, inserted
  and (for a follow-up's answer, once) completed, never deleted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
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


class Activity(Base):
    __tablename__ = "duties_activities"
    __table_args__ = (Index("ix_duties_activities_year_street", "year", "street_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)  # of the first day
    place: Mapped[str] = mapped_column(String(200))
    organiser: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    street_id: Mapped[int | None] = mapped_column(BigInteger)  # None: the district's
    station_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Invitation(Base):
    __tablename__ = "duties_activity_invitations"
    __table_args__ = (
        UniqueConstraint("activity_id", "deputy_id", name="uq_duties_invitations_deputy"),
        Index("ix_duties_invitations_deputy", "deputy_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("duties_activities.id"))
    deputy_id: Mapped[int] = mapped_column(BigInteger)
    invited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    signed_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attendance: Mapped[str | None] = mapped_column(String(32))
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Research(Base):
    __tablename__ = "duties_research"
    __table_args__ = (
        Index("ix_duties_research_street_year", "street_id", "year"),
        Index("ix_duties_research_deputy", "deputy_id"),
        Index("ix_duties_research_budget_line", "budget_line_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    deputy_id: Mapped[int] = mapped_column(BigInteger)
    street_id: Mapped[int] = mapped_column(BigInteger)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(Text)
    amount_requested_yuan: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    budget_line_id: Mapped[int | None] = mapped_column(BigInteger)
    amount_granted_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[str] = mapped_column(Text, default="")
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class BudgetLineLock(Base):
    """A registry budget line grants were drawn on: its row is locked while
    a grant is added, so two grants cannot both see the old remainder."""

    __tablename__ = "duties_budget_line_locks"

    budget_line_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class Visit(Base):
    __tablename__ = "duties_visits"
    __table_args__ = (
        Index("ix_duties_visits_street_year", "street_id", "year"),
        Index("ix_duties_visits_deputy", "deputy_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    deputy_id: Mapped[int] = mapped_column(BigInteger)
    street_id: Mapped[int] = mapped_column(BigInteger)
    visited_on: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    visitors: Mapped[list[str]] = mapped_column(JSON)
    place: Mapped[str] = mapped_column(String(200))
    raised: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FollowUp(Base):
    __tablename__ = "duties_visit_follow_ups"
    __table_args__ = (Index("ix_duties_follow_ups_visit", "visit_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("duties_visits.id"))
    text: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(200), default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

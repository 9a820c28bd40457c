"""The referral service's tables (SQLAlchemy 2). No other service reads them.

- `referral_letters`: one per opinion handed on (unique `opinion_id`: an
  event delivered twice, or under two event ids, opens one letter), with
  the opinion's facts copied from the event (never who raised it) and the
  letter's stage, and the hash of its trail's newest entry (`trail_head`).
- the letter's workflow (`referral.routing.Letter`: route, sign-offs, hops
  with receipts, handling units, answers, ratings, extensions) whole as JSON
  in `state` (`referral.state`), and what queries need of it in columns:
  the route, the handling unit, the legal deadline (set at the handling
  unit's receipt), the current stage's clock, when it was answered and
  closed;
- `referral_handling_units`: the departments (lead and co-handling) and
  street offices a letter was sent to, for each unit's inbox, each with its
  `seq`, the position in the feed of letters sent (`WatchAssignedLetters`):
  numbered one after another as they are committed (referral.feed), so a
  reader that has seen one position has seen every lower one;
- `referral_trail_entries`: each letter's audit trail (`referral.trail`),
  appended to and never changed: every entry carries the hash of the one
  before, and the letter keeps the newest hash, so an entry removed from the
  end is found too.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.tables import Id, utcnow


class Base(DeclarativeBase):
    pass


class Letter(Base):
    __tablename__ = "referral_letters"
    __table_args__ = (
        UniqueConstraint("opinion_id", name="uq_referral_letters_opinion"),
        Index("ix_referral_letters_street_stage", "street_id", "stage"),
        # The deadline sweep reads open letters by their clocks.
        Index("ix_referral_letters_due", "due_at"),
        Index("ix_referral_letters_stage_due", "stage_due_at"),
        Index("ix_referral_letters_tracking_code", "tracking_code"),
        Index("ix_referral_letters_raiser", "raiser_sub"),
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
    # The account of the constituent who raised it online ("" otherwise): a
    # pseudonymous subject, never a name; it lets them follow and rate it.
    raiser_sub: Mapped[str] = mapped_column(String(200), default="", server_default="")
    note: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(30))
    trail_head: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The workflow, whole (referral.state); NULL only for letters opened
    # before it was kept, which were all awaiting their jurisdiction.
    state: Mapped[dict[str, object] | None] = mapped_column(JSON)
    route: Mapped[str | None] = mapped_column(String(20))
    handler_kind: Mapped[str | None] = mapped_column(String(40))
    handler_id: Mapped[int | None] = mapped_column(BigInteger)
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The legal deadline of this round (referral.deadlines), from the
    # handling unit's receipt: due_at is 24:00 Asia/Shanghai of due_last_day.
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_last_day: Mapped[date | None] = mapped_column(Date)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_extended: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    holidays_known: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # When the current stage's clock ends (working days per stage), if one runs.
    stage_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class HandlingUnit(Base):
    """A unit a letter was sent to for handling: its lead (the street office
    or a department) or a co-handling department."""

    __tablename__ = "referral_handling_units"
    __table_args__ = (
        Index("ix_referral_handling_units_unit", "unit_kind", "unit_id"),
        # The feed: the next position is the highest one plus one, and each
        # unit reads its own after a position.
        Index("uq_referral_handling_units_seq", "seq", unique=True),
        Index("ix_referral_handling_units_feed", "unit_kind", "unit_id", "seq"),
    )

    letter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("referral_letters.id"), primary_key=True
    )
    unit_kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lead: Mapped[bool] = mapped_column(Boolean)
    # The position in the feed of letters sent (referral.feed.next_position).
    seq: Mapped[int] = mapped_column(BigInteger)


class Attachment(Base):
    """A file uploaded for a letter's answer: its content lives in the file
    store (`referral.files`) under its SHA-256."""

    __tablename__ = "referral_attachments"

    letter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("referral_letters.id"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_kind: Mapped[str] = mapped_column(String(40))
    uploaded_by_id: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SupervisionMark(Base):
    """A reminder or an overdue escalation fired for a letter's round: its
    key makes each fire once, whichever worker's sweep gets there first."""

    __tablename__ = "referral_supervision_marks"

    letter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("referral_letters.id"), primary_key=True
    )
    round: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # reminder, overdue
    # Days before the last day (a reminder) or the overdue level.
    step: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


# ---------------------------------------------------------------- suggestions and meetings
#
# - `referral_suggestions`: deputies' suggestions (议案建议, `referral.suggestions`),
#   one row each, with its session, the proposer's street, the lead department
#   and its receipt and legal deadline, the answer and the proposer's rating,
#   and the hash of its trail's newest entry;
# - `referral_suggestion_cosigners`, `referral_suggestion_co_handlers`: its
#   co-signing deputies and co-handling departments (with their opinions);
# - `referral_meetings`: meetings with agency heads (约见);
# - `referral_suggestion_trail_entries`, `referral_meeting_trail_entries`:
#   their audit trails, as the letters' (`referral.trail`), appended to only.


class Suggestion(Base):
    __tablename__ = "referral_suggestions"
    __table_args__ = (
        Index("ix_referral_suggestions_session_stage", "session_code", "stage"),
        Index("ix_referral_suggestions_street", "street_id"),
        Index("ix_referral_suggestions_proposer", "proposer_id"),
        Index("ix_referral_suggestions_lead", "lead_department_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    session_code: Mapped[str] = mapped_column(String(64))
    session_label: Mapped[str] = mapped_column(String(200))
    session_year: Mapped[int] = mapped_column(Integer)
    street_id: Mapped[int] = mapped_column(BigInteger)
    proposer_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(20))
    lead_department_id: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The legal deadline (referral.deadlines.Deadline) from the receipt.
    deadline_corresponding: Mapped[date | None] = mapped_column(Date)
    deadline_last_day: Mapped[date | None] = mapped_column(Date)
    deadline_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline_holidays_known: Mapped[bool | None] = mapped_column(Boolean)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction: Mapped[str] = mapped_column(String(30), default="")
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    trail_head: Mapped[str] = mapped_column(String(64), default="")
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SuggestionCosigner(Base):
    __tablename__ = "referral_suggestion_cosigners"
    __table_args__ = (Index("ix_referral_suggestion_cosigners_deputy", "deputy_id"),)

    suggestion_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("referral_suggestions.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deputy_id: Mapped[int] = mapped_column(BigInteger)


class SuggestionCoHandler(Base):
    __tablename__ = "referral_suggestion_co_handlers"
    __table_args__ = (Index("ix_referral_suggestion_co_handlers_department", "department_id"),)

    suggestion_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("referral_suggestions.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    department_id: Mapped[int] = mapped_column(BigInteger)
    opinion: Mapped[str] = mapped_column(Text, default="")
    opinion_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Meeting(Base):
    __tablename__ = "referral_meetings"
    __table_args__ = (
        Index("ix_referral_meetings_street_status", "street_id", "status"),
        Index("ix_referral_meetings_suggestion", "suggestion_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    street_id: Mapped[int] = mapped_column(BigInteger)
    deputy_id: Mapped[int] = mapped_column(BigInteger)
    department_id: Mapped[int] = mapped_column(BigInteger)
    topic: Mapped[str] = mapped_column(Text)
    suggestion_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("referral_suggestions.id")
    )
    status: Mapped[str] = mapped_column(String(20))
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(Text, default="")
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attended_by: Mapped[str] = mapped_column(String(200), default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    trail_head: Mapped[str] = mapped_column(String(64), default="")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class _TrailColumns:
    """An entry of a trail (`referral.trail.Entry`), after its owner's key."""

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[object] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SuggestionTrailEntry(_TrailColumns, Base):
    __tablename__ = "referral_suggestion_trail_entries"

    owner_id: Mapped[int] = mapped_column(
        "suggestion_id", BigInteger, ForeignKey("referral_suggestions.id"), primary_key=True
    )


class MeetingTrailEntry(_TrailColumns, Base):
    __tablename__ = "referral_meeting_trail_entries"

    owner_id: Mapped[int] = mapped_column(
        "meeting_id", BigInteger, ForeignKey("referral_meetings.id"), primary_key=True
    )

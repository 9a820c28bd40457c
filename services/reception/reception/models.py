"""The reception service's tables (SQLAlchemy 2). No other service reads them.

Two groups:
- the read model of the registry (`registry_*`): what the service knows of
  stations, venues, communities, deputies and station heads, fed by the
  registry's events and snapshot (`reception.readmodel`). Each row keeps
  the registry event sequence it reflects (`sequence`), so an older event
  delivered late changes nothing. Ids are the registry's.
- the calendar: each station's rule, its sessions and their slots;
- the rota: the deputies on each session's rota, whether it is complete,
  deputies' unavailability, swaps between deputies (`reception.rotas`).
- opinions with their tracking codes and public timelines, and each
  session's reception record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kit.tables import Id, utcnow


class Base(DeclarativeBase):
    pass


# ---------------------------------------------------------------- the registry's, as known here


class RegistryFeed(Base):
    """One row: how far the read model is (the snapshot loaded, the newest
    event applied). Every change of the read model locks it first, so a
    snapshot and events never interleave."""

    __tablename__ = "registry_feed"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    snapshot_version: Mapped[int | None] = mapped_column(BigInteger)
    snapshot_loaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    newest_sequence: Mapped[int] = mapped_column(BigInteger, default=0)


class Reflected:
    """Columns of every record the read model keeps of the registry."""

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    # The registry event (or snapshot version) this row reflects.
    sequence: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)


class RegistryStation(Reflected, Base):
    __tablename__ = "registry_stations"
    code: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    street_id: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    area_id: Mapped[int] = mapped_column(BigInteger, default=0)
    venue_id: Mapped[int | None] = mapped_column(BigInteger)
    served: Mapped[list[RegistryStationCommunity]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="RegistryStationCommunity.community_id",
    )


class RegistryStationCommunity(Base):
    """A community a station serves, as the station's newest event said."""

    __tablename__ = "registry_station_communities"
    station_id: Mapped[int] = mapped_column(
        ForeignKey("registry_stations.id"), primary_key=True, autoincrement=False
    )
    community_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class RegistryVenue(Reflected, Base):
    __tablename__ = "registry_venues"
    name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    street_id: Mapped[int] = mapped_column(BigInteger, default=0)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    opening_hours: Mapped[str] = mapped_column(String(200), default="")


class RegistryCommunity(Reflected, Base):
    __tablename__ = "registry_communities"
    name: Mapped[str] = mapped_column(String(200), default="")
    street_id: Mapped[int] = mapped_column(BigInteger, default=0)


class RegistryDeputy(Reflected, Base):
    __tablename__ = "registry_deputies"
    name: Mapped[str] = mapped_column(String(200), default="")
    street_id: Mapped[int] = mapped_column(BigInteger, default=0)
    station_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    level: Mapped[str] = mapped_column(String(20), default="")
    expertise: Mapped[list[str]] = mapped_column(JSON, default=list)


class RegistryPosition(Base):
    """A station head's or deputy head's position; the heads of a station are
    the positions not ended. Others' positions are not kept."""

    __tablename__ = "registry_positions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(40))
    station_id: Mapped[int] = mapped_column(BigInteger, index=True)
    deputy_id: Mapped[int | None] = mapped_column(BigInteger)
    ended_on: Mapped[date | None] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)


# ---------------------------------------------------------------- the calendar


class StationRule(Base):
    """A station's own rule; a station without one follows the defaults."""

    __tablename__ = "station_rules"
    station_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day_of_month: Mapped[int] = mapped_column(Integer, default=15)
    day_off_policy: Mapped[str] = mapped_column(String(10), default="keep")
    # [[label, "09:00", "12:00"], ...]; empty: the venue's hours or the defaults.
    slots: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ReceptionSession(Base):
    """A reception day of a station: regular (the month's reception day) or
    extra. One of each kind per station and key day: for a regular session
    the nominal day it stands for (so a rule that moves it cannot schedule
    the month twice), for an extra one its day."""

    __tablename__ = "reception_sessions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    station_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(10))
    key_date: Mapped[date] = mapped_column(Date)
    session_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    reason: Mapped[str] = mapped_column(Text, default="")
    cancellation_reason: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    slots: Mapped[list[SessionSlot]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SessionSlot.starts_at"
    )
    __table_args__ = (
        UniqueConstraint("station_id", "key_date", "kind", name="uq_reception_sessions_key"),
        Index("ix_reception_sessions_station_date", "station_id", "session_date"),
    )


class SessionSlot(Base):
    __tablename__ = "session_slots"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("reception_sessions.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    local_start: Mapped[str] = mapped_column(String(5))
    local_end: Mapped[str] = mapped_column(String(5))
    capacity: Mapped[int] = mapped_column(Integer, default=0)


# ---------------------------------------------------------------- the rota


class RotaAssignment(Base):
    """A deputy on a session's rota: who receives constituents that day.
    `lead` marks the station head or deputy head who leads the session."""

    __tablename__ = "rota_assignments"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("reception_sessions.id"), index=True)
    deputy_id: Mapped[int] = mapped_column(BigInteger, index=True)
    lead: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        UniqueConstraint("session_id", "deputy_id", name="uq_rota_assignments_session_deputy"),
    )


class SessionRotaState(Base):
    """Whether a session's rota is published, and complete or with gaps
    (`reception.rota`: no_head_available, too_few_deputies). A session
    without a row needs a rota."""

    __tablename__ = "session_rotas"
    session_id: Mapped[int] = mapped_column(
        ForeignKey("reception_sessions.id"), primary_key=True, autoincrement=False
    )
    status: Mapped[str] = mapped_column(String(12), default="complete")
    gaps: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Unavailability(Base):
    """Days a deputy declared they cannot receive (both included). The
    reason is for the deputy and the station's staff only. Withdrawn ones
    stay, marked."""

    __tablename__ = "rota_unavailability"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    deputy_id: Mapped[int] = mapped_column(BigInteger, index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RotaSwap(Base):
    """A deputy on `session_id` offers it to `counterpart_id`, taking the
    counterpart's `counterpart_session_id` in return (None: nothing)."""

    __tablename__ = "rota_swaps"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    station_id: Mapped[int] = mapped_column(BigInteger, index=True)
    proposer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("reception_sessions.id"))
    counterpart_id: Mapped[int] = mapped_column(BigInteger, index=True)
    counterpart_session_id: Mapped[int | None] = mapped_column(ForeignKey("reception_sessions.id"))
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    decided_by_role: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------- bookings


class Booking(Base):
    """A constituent's place at a session's slot, or on its waitlist.

    `name`, `phone` (E.164), `topic` are personal data (`reception.access`).
    `owner_sub` ties the booking to a signed-in constituent; every booking
    also has a cancel code, of which only the SHA-256 is kept. A waitlisted
    booking's `waitlist_position` is its place in the slot's queue (1 =
    next), kept current under the slot's row lock; 0 otherwise."""

    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("reception_sessions.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("session_slots.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    waitlist_position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    community_id: Mapped[int] = mapped_column(BigInteger)
    topic: Mapped[str] = mapped_column(String(500))
    owner_sub: Mapped[str | None] = mapped_column(String(200), index=True)
    cancel_code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        # One live booking per phone and session, whoever asks and however fast.
        Index(
            "uq_bookings_session_phone_live",
            "session_id",
            "phone",
            unique=True,
            postgresql_where=text("status IN ('booked', 'waitlisted')"),
            sqlite_where=text("status IN ('booked', 'waitlisted')"),
        ),
        Index("ix_bookings_slot_status", "slot_id", "status"),
    )


class BookingReminder(Base):
    """The reminder of a booking, the day before its session: written in the
    unit of work that publishes its `booking_reminder_due`, its key makes it
    go once, whichever worker's sweep gets there first (`reception.reminders`)."""

    __tablename__ = "booking_reminders"
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id"), primary_key=True, autoincrement=False
    )
    session_id: Mapped[int] = mapped_column(BigInteger)
    reminded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WalkIn(Base):
    """A constituent received at a session without a booking."""

    __tablename__ = "walk_ins"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("reception_sessions.id"), index=True)
    name: Mapped[str] = mapped_column(String(50), default="")
    community_id: Mapped[int] = mapped_column(BigInteger)
    topic: Mapped[str] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------- opinions and reception records


class OpinionCodeCounter(Base):
    """The last tracking-code number given in a year. The row is taken with
    an upsert in the unit of work that records the opinion and stays locked
    until it commits: numbers follow each other without a gap (a rollback
    gives its number back) and no two opinions share one."""

    __tablename__ = "opinion_code_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class Opinion(Base):
    """An opinion (社情民意): raised at a reception, online, or an order (订单).
    `raiser_*` is personal data (`reception.opinions` says who may see it)."""

    __tablename__ = "opinions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    source: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(30), index=True)
    content: Mapped[str] = mapped_column(Text)
    community_id: Mapped[int] = mapped_column(BigInteger)
    station_id: Mapped[int] = mapped_column(BigInteger, index=True)
    street_id: Mapped[int] = mapped_column(BigInteger, index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("reception_sessions.id"), index=True)
    raiser_name: Mapped[str] = mapped_column(String(100), default="")
    raiser_phone: Mapped[str] = mapped_column(String(40), default="")
    raiser_contact: Mapped[str] = mapped_column(String(300), default="")
    raiser_sub: Mapped[str] = mapped_column(String(200), default="")
    taken_by_deputy_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("opinions.id"))
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    # The day it was recorded, in Asia/Shanghai: what figures count by.
    recorded_on: Mapped[date] = mapped_column(Date, index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    timeline: Mapped[list[OpinionTimelineEntry]] = relationship(
        lazy="selectin", order_by="OpinionTimelineEntry.id"
    )


class OpinionTimelineEntry(Base):
    """An opinion's public timeline, append-only: what happened and when, in
    public words (never who raised it)."""

    __tablename__ = "opinion_timeline"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinions.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")


class ReceptionRecord(Base):
    """What happened at a session: the deputies present, the people received
    (person-times), notes. One per session; locked records change no more."""

    __tablename__ = "reception_records"
    session_id: Mapped[int] = mapped_column(
        ForeignKey("reception_sessions.id"), primary_key=True, autoincrement=False
    )
    station_id: Mapped[int] = mapped_column(BigInteger, index=True)
    session_date: Mapped[date] = mapped_column(Date, index=True)
    deputy_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    person_times: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    locked: Mapped[bool] = mapped_column(default=False, nullable=False)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

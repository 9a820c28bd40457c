"""The registry's tables (SQLAlchemy 2). No other service reads them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kit.tables import Id, utcnow


class Base(DeclarativeBase):
    pass


class Record:
    """Columns every registry record has: a natural key and its history."""

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deactivation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Street(Record, Base):
    __tablename__ = "streets"


class Area(Record, Base):
    __tablename__ = "areas"
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)


class Community(Record, Base):
    __tablename__ = "communities"
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    keywords: Mapped[list[CommunityKeyword]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CommunityKeyword.id"
    )


class CommunityKeyword(Base):
    """A road or estate name that identifies the community in an address."""

    __tablename__ = "community_keywords"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    keyword: Mapped[str] = mapped_column(String(100), index=True)


class Venue(Record, Base):
    __tablename__ = "venues"
    address: Mapped[str] = mapped_column(String(300), default="")
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    opening_hours: Mapped[str] = mapped_column(String(200), default="")


class Station(Record, Base):
    __tablename__ = "stations"
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"))
    opened_on: Mapped[date | None] = mapped_column(Date)
    served: Mapped[list[StationCommunity]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="StationCommunity.community_id"
    )


class StationCommunity(Base):
    __tablename__ = "station_communities"
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id"), primary_key=True, index=True
    )


class Unit(Record, Base):
    __tablename__ = "units"
    kind: Mapped[str] = mapped_column(String(40), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"), index=True)
    responsibilities: Mapped[str] = mapped_column(Text, default="")


class Deputy(Record, Base):
    __tablename__ = "deputies"
    gender: Mapped[str] = mapped_column(String(4), default="")
    level: Mapped[str] = mapped_column(String(20), index=True)
    term: Mapped[str] = mapped_column(String(40), default="")
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    profession: Mapped[str] = mapped_column(String(200), default="")
    biography: Mapped[str] = mapped_column(Text, default="")
    expertise: Mapped[list[DeputyExpertise]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DeputyExpertise.id"
    )
    contact_communities: Mapped[list[DeputyContactCommunity]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="DeputyContactCommunity.community_id",
    )
    contact: Mapped[DeputyContact | None] = relationship(
        cascade="all, delete-orphan", lazy="joined", uselist=False
    )


class DeputyContact(Base):
    """Private: kept apart from the public profile, shown only to roles that need it."""

    __tablename__ = "deputy_contacts"
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), primary_key=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    workplace: Mapped[str] = mapped_column(String(200), default="")
    workplace_address: Mapped[str] = mapped_column(String(300), default="")


class DeputyExpertise(Base):
    __tablename__ = "deputy_expertise"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)
    tag: Mapped[str] = mapped_column(String(60), index=True)


class DeputyContactCommunity(Base):
    __tablename__ = "deputy_contact_communities"
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id"), primary_key=True, index=True
    )


class Position(Base):
    __tablename__ = "positions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    role: Mapped[str] = mapped_column(String(60), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputies.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(100))
    holder_title: Mapped[str] = mapped_column(String(200), default="")
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    __table_args__ = (Index("ix_positions_held", "role", "ended_on"),)


class BudgetLine(Base):
    __tablename__ = "budget_lines"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_yuan: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deactivation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    # One active line per (street committee, year, kind): checked by the service,
    # since deactivated lines of the same key are kept as history.
    __table_args__ = (Index("ix_budget_lines_key", "unit_id", "year", "kind"),)

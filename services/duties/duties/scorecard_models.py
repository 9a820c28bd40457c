"""Tables of the report plan and learning materials.

- `duties_report_plans`: one per cycle, by its first year (unique; cycles
  do not overlap, which the use case checks);
- `duties_report_slots`: each deputy's year in a plan (unique per plan and
  deputy); a deputy who leaves keeps their row with `withdrawn_at` set, so
  the slot is freed without anything hard-deleted, and is placed again if
  they return;
- `duties_materials`: learning materials, for the district (`street_id`
  null) or one street;
- `duties_material_reads`: who marked which material read, once (the
  primary key makes a second mark a no-op).
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
)
from sqlalchemy.orm import Mapped, mapped_column

from duties.models import Base
from kit.tables import Id, utcnow


class ReportPlanRow(Base):
    __tablename__ = "duties_report_plans"
    __table_args__ = (UniqueConstraint("first_year", name="uq_duties_report_plans_first_year"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    first_year: Mapped[int] = mapped_column(Integer)
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReportSlotRow(Base):
    __tablename__ = "duties_report_slots"
    __table_args__ = (
        UniqueConstraint("plan_id", "deputy_id", name="uq_duties_report_slots_plan_deputy"),
        Index("ix_duties_report_slots_plan_street", "plan_id", "street_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(Id, ForeignKey("duties_report_plans.id"))
    deputy_id: Mapped[int] = mapped_column(BigInteger)
    street_id: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[str] = mapped_column(String(20), default="")
    year: Mapped[int] = mapped_column(Integer)
    joined: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MaterialRow(Base):
    __tablename__ = "duties_materials"
    __table_args__ = (Index("ix_duties_materials_street", "street_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    street_id: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MaterialReadRow(Base):
    __tablename__ = "duties_material_reads"

    material_id: Mapped[int] = mapped_column(
        Id, ForeignKey("duties_materials.id"), primary_key=True
    )
    deputy_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

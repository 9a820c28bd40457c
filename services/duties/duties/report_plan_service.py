"""The duty-report plan's use cases: make a cycle's plan, extend it as
deputies join and leave, read it. Each change is one unit of work that
checks the caller, asks the registry who serves, lets `duties.report_plan`
decide, and stores the slots with their event and audit entry; a refused
call writes nothing.

Who may: make and extend, the standing committee office (and admin); read,
the district's offices (admin, standing committee office, working body) the
whole plan, street committee and station staff their street's, a deputy
their own year only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from duties.registry import Deputies, DeputyFacts
from duties.report_plan import (
    CYCLE_YEARS,
    PlannedDeputy,
    ReportPlan,
    ReportSlot,
    check_first_year,
    place_joiner,
    plan_cycle,
    withdraw,
)
from duties.scorecard import shanghai_today
from duties.scorecard_models import ReportPlanRow, ReportSlotRow
from kit import audit
from kit.auth import STREET_SCOPED_ROLES, Principal, Role, require
from kit.convert import timestamp
from kit.db import Database
from kit.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied, invalid
from liaison.duties.v1 import scorecard_events_pb2 as ev
from liaison.duties.v1 import scorecard_pb2 as pb

# The platform itself plans the demo cycle (kit.auth: never from a token).
PLANNERS = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.SYSTEM)
DISTRICT_READERS = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.WORKING_BODY)
READERS = (*DISTRICT_READERS, *STREET_SCOPED_ROLES, Role.DEPUTY)
MAX_ID = 2**63 - 1


def _year(value: int, field: str = "year") -> int:
    if not 2000 <= value <= 2200:
        raise invalid(field, "is required: a year between 2000 and 2200")
    return value


def _planned(deputies: Iterable[DeputyFacts]) -> list[PlannedDeputy]:
    return [PlannedDeputy(d.id, d.street_id, d.level) for d in deputies]


def plan_holding(session: Session, year: int, *, lock: bool = False) -> ReportPlanRow:
    """The plan whose cycle holds `year`; NotFound naming the year."""
    query = select(ReportPlanRow).where(
        ReportPlanRow.first_year <= year, ReportPlanRow.first_year > year - CYCLE_YEARS
    )
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"no report plan holds the year {year}")
    return row


class ReportPlans:
    """The report plan's use cases over one Database and the registry."""

    def __init__(
        self,
        db: Database,
        deputies: Deputies,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.deputies = deputies
        self.clock = clock or (lambda: datetime.now(UTC))

    def make(self, request: pb.MakeReportPlanRequest, actor: Principal | None) -> Any:
        who = require(actor, *PLANNERS, doing="make report plans")
        check_first_year(request.first_year)
        first = request.first_year
        plan = plan_cycle(_planned(self.deputies.all_active()), first)
        now = self.clock()
        with self.db.unit_of_work() as uow:
            session = uow.session
            if self.db.is_postgres:
                # Two plans made at once must not overlap: plans are rare.
                session.execute(text("LOCK TABLE duties_report_plans IN EXCLUSIVE MODE"))
            near = session.scalars(
                select(ReportPlanRow).where(
                    ReportPlanRow.first_year > first - CYCLE_YEARS,
                    ReportPlanRow.first_year < first + CYCLE_YEARS,
                )
            ).first()
            if near is not None and near.first_year == first:
                raise AlreadyExists(f"the cycle from {first} is already planned")
            if near is not None:
                raise FailedPrecondition(
                    f"the cycle {first}-{first + CYCLE_YEARS - 1} overlaps the planned cycle "
                    f"{near.first_year}-{near.first_year + CYCLE_YEARS - 1}"
                )
            row = ReportPlanRow(first_year=first, made_at=now, updated_at=now)
            session.add(row)
            session.flush()
            session.add_all(
                ReportSlotRow(
                    plan_id=row.id,
                    deputy_id=s.deputy_id,
                    street_id=s.street_id,
                    level=s.level,
                    year=s.year,
                    joined=False,
                )
                for s in plan.slots.values()
            )
            view = _plan_pb(row, plan.slots.values())
            uow.emit(ev.ReportPlanMade(plan=view))
            audit.record(session, who, "make_report_plan", "report_plan", row.id, ["slots"])
            return view

    def extend(self, request: pb.ExtendReportPlanRequest, actor: Principal | None) -> Any:
        who = require(actor, *PLANNERS, doing="extend report plans")
        year = _year(request.year)
        joined_in = (
            _year(request.joined_in, "joined_in")
            if request.joined_in
            else shanghai_today(self.clock()).year
        )
        serving = {d.id: d for d in self.deputies.all_active()}
        now = self.clock()
        with self.db.unit_of_work() as uow:
            session = uow.session
            row = plan_holding(session, year, lock=True)
            slots = {
                s.deputy_id: s
                for s in session.scalars(
                    select(ReportSlotRow).where(ReportSlotRow.plan_id == row.id)
                )
            }
            plan = ReportPlan(
                row.first_year,
                {
                    s.deputy_id: ReportSlot(s.deputy_id, s.street_id, s.level, s.year)
                    for s in slots.values()
                    if s.withdrawn_at is None
                },
            )
            withdrawn = sorted(i for i in plan.slots if i not in serving)
            for deputy_id in withdrawn:
                plan = withdraw(plan, deputy_id)
                slots[deputy_id].withdrawn_at = now
            joiners = sorted(
                (d for d in _planned(serving.values()) if d.deputy_id not in plan.slots),
                key=lambda d: (d.street_id, d.level, d.deputy_id),
            )
            for joiner in joiners:
                plan = place_joiner(plan, joiner, joined_in)
                placed = plan.slots[joiner.deputy_id]
                slot = slots.get(joiner.deputy_id)
                if slot is None:
                    slot = ReportSlotRow(plan_id=row.id, deputy_id=joiner.deputy_id)
                    session.add(slot)
                    slots[joiner.deputy_id] = slot
                slot.street_id, slot.level, slot.year = placed.street_id, placed.level, placed.year
                slot.joined, slot.withdrawn_at = True, None
            if withdrawn or joiners:
                row.updated_at = now
                session.flush()
                joined_slots = [_slot_pb(slots[j.deputy_id]) for j in joiners]
                uow.emit(
                    ev.ReportPlanExtended(
                        first_year=row.first_year, joined=joined_slots, withdrawn_ids=withdrawn
                    )
                )
                audit.record(
                    session,
                    who,
                    "extend_report_plan",
                    "report_plan",
                    row.id,
                    ["slots"],
                )
            session.flush()
            active = [s for s in slots.values() if s.withdrawn_at is None]
            view = _plan_pb(row, active)
            view.joined_ids.extend(j.deputy_id for j in joiners)
            view.withdrawn_ids.extend(withdrawn)
            return view

    def get(self, request: pb.GetReportPlanRequest, actor: Principal | None) -> Any:
        who = require(actor, *READERS, doing="read report plans")
        year = _year(request.year)
        for field in ("street_id", "deputy_id"):
            if not 0 <= getattr(request, field) <= MAX_ID:
                raise invalid(field, "must be a positive id")
        street_id, deputy_id = request.street_id, request.deputy_id
        if who.role is Role.DEPUTY:
            if who.deputy_id is None or deputy_id not in (0, who.deputy_id) or street_id:
                raise PermissionDenied("a deputy may read only their own year of the plan")
            deputy_id = who.deputy_id
        elif who.role in STREET_SCOPED_ROLES:
            if street_id not in (0, who.street_id):
                raise PermissionDenied(
                    f"a {who.role.value} of street {who.street_id} may not read "
                    f"street {street_id}'s plan"
                )
            street_id = who.street_id or 0
        with self.db.read() as session:
            row = plan_holding(session, year)
            query = select(ReportSlotRow).where(
                ReportSlotRow.plan_id == row.id, ReportSlotRow.withdrawn_at.is_(None)
            )
            if street_id:
                query = query.where(ReportSlotRow.street_id == street_id)
            if deputy_id:
                query = query.where(ReportSlotRow.deputy_id == deputy_id)
            return _plan_pb(row, list(session.scalars(query)))

    def reporting_in(self, year: int) -> set[int]:
        """The deputies whose planned year is `year` (the scorecard's fourth
        item is due for them); none when no plan holds the year."""
        with self.db.read() as session:
            return set(
                session.scalars(
                    select(ReportSlotRow.deputy_id)
                    .join(ReportPlanRow, ReportPlanRow.id == ReportSlotRow.plan_id)
                    .where(
                        ReportSlotRow.year == year,
                        ReportSlotRow.withdrawn_at.is_(None),
                        ReportPlanRow.first_year <= year,
                        ReportPlanRow.first_year > year - CYCLE_YEARS,
                    )
                )
            )


def _slot_pb(slot: Any) -> pb.ReportSlot:
    return pb.ReportSlot(
        deputy_id=slot.deputy_id,
        street_id=slot.street_id,
        level=slot.level,
        year=slot.year,
        joined=bool(getattr(slot, "joined", False)),
    )


def _plan_pb(row: ReportPlanRow, slots: Iterable[Any]) -> pb.ReportPlan:
    shown = sorted(slots, key=lambda s: (s.year, s.deputy_id))
    years = [row.first_year + i for i in range(CYCLE_YEARS)]
    return pb.ReportPlan(
        first_year=row.first_year,
        slots=[_slot_pb(s) for s in shown],
        loads=[pb.YearLoad(year=y, deputies=sum(1 for s in shown if s.year == y)) for y in years],
        made_at=timestamp(row.made_at),
        updated_at=timestamp(row.updated_at),
    )

"""Activities, research and visits: the use cases. Each one checks who is
asking, loads its record (the row locked when it changes), lets the rules
(`duties.activities`, `duties.research`, `duties.visits`) decide, stores
the result and records its event and audit entry in one commit; a refused
action writes nothing.

What the registry knows (a deputy's street and whether they serve:
`duties.registry`; a station's street, a budget line's unit, year, kind
and amount: `duties.activity_registry`) is asked before the transaction
begins, so no row stays locked while the registry answers.

Not built yet: correcting a recorded attendance, withdrawing a sign-up or
an invitation, editing or cancelling a scheduled activity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from duties import activities as activity_rules
from duties import activity_figures
from duties import activity_models as m
from duties import research as research_rules
from duties import visits as visit_rules
from duties.activities import ActivityPlan, Invitee, OrganiserLevel, Scope
from duties.activity_registry import RegistryLookups
from duties.registry import Deputies
from duties.research import ResearchState
from kit import audit
from kit.auth import Principal, Role, require
from kit.convert import EnumNames, iso, timestamp
from kit.db import Database
from kit.errors import FailedPrecondition, NotFound, PermissionDenied, Violations, invalid
from kit.records import page
from kit.workdays import SHANGHAI
from liaison.duties.v1 import activities_pb2 as pb
from liaison.duties.v1 import activity_events_pb2 as ev

MAX_ID = 2**63 - 1
KIND = EnumNames(pb.ActivityKind, "ACTIVITY_KIND")
LEVEL = EnumNames(pb.OrganiserLevel, "ORGANISER_LEVEL")
ATTENDANCE = EnumNames(pb.Attendance, "ATTENDANCE")
STATE = EnumNames(pb.ResearchState, "RESEARCH_STATE")

DISTRICT_READERS = frozenset({Role.STANDING_COMMITTEE_OFFICE, Role.ADMIN})
ACTIVITY_ROLES = (*DISTRICT_READERS, Role.STREET_COMMITTEE, Role.STATION_STAFF, Role.DEPUTY)
RESEARCH_ROLES = (*DISTRICT_READERS, Role.STREET_COMMITTEE, Role.DEPUTY)
VISIT_ROLES = RESEARCH_ROLES


def _id(value: int, field: str = "id") -> int:
    if not 0 < value <= MAX_ID:
        raise invalid(field, "is required: a positive id")
    return value


def _filter_id(value: int, field: str) -> int:
    if not 0 <= value <= MAX_ID:
        raise invalid(field, "must be a positive id")
    return value


def _year(value: int, field: str = "year", *, required: bool = False) -> int:
    if value == 0 and not required:
        return 0
    if not 2000 <= value <= 2100:
        raise invalid(field, "is required: a year between 2000 and 2100")
    return value


class ActivityUseCases:
    """Activities, research and visits over one Database and the registry.
    `clock` is the platform's unless given (the demo and the tests give theirs)."""

    def __init__(
        self,
        db: Database,
        deputies: Deputies,
        lookups: RegistryLookups,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.deputies = deputies
        self.lookups = lookups
        self.clock = clock or (lambda: datetime.now(UTC))

    def today(self) -> date:
        return self.clock().astimezone(SHANGHAI).date()

    # ------------------------------------------------------------ activities

    def schedule(self, request: pb.ScheduleActivityRequest, actor: Principal | None) -> Any:
        who = require(actor, *ACTIVITY_ROLES, doing="schedule activities")
        level = activity_rules.level_of(who)
        problems = Violations()
        plan = ActivityPlan(
            kind=KIND.to_name.get(request.kind, ""),
            title=request.title,
            starts_on=problems.iso_date("starts_on", request.starts_on, required=True),
            ends_on=problems.iso_date("ends_on", request.ends_on),
            place=request.place,
            organiser=request.organiser,
            station_id=request.station_id or None,
        )
        first, last = activity_rules.check_plan(plan, level, problems)
        scope = activity_rules.scope_for(who, plan)
        if scope.station_id is not None:
            street = self.lookups.station_street(scope.station_id)
            if street != scope.street_id:
                raise PermissionDenied(
                    f"station {scope.station_id} is not an active station of street "
                    f"{scope.street_id}: a station's staff organise for their own street's stations"
                )
        with self.db.unit_of_work() as uow:
            row = m.Activity(
                kind=plan.kind,
                title=plan.title.strip(),
                starts_on=first,
                ends_on=last,
                year=first.year,
                place=plan.place.strip(),
                organiser=plan.organiser.strip(),
                level=scope.level.value,
                street_id=scope.street_id,
                station_id=scope.station_id,
                created_by=who.sub,
            )
            uow.session.add(row)
            uow.session.flush()
            audit.record(uow.session, who, "schedule", "activity", row.id, ["kind", "starts_on"])
            return self._activity_pb(uow.session, row, who)

    def get_activity(self, activity_id: int, actor: Principal | None) -> Any:
        who = require(actor, *ACTIVITY_ROLES, doing="read activities")
        with self.db.read() as session:
            row = self._load_activity(session, _id(activity_id), lock=False)
            invited = who.deputy_id is not None and _is_invited(session, row.id, who.deputy_id)
            if not activity_rules.may_read(who, _scope(row), invited):
                raise PermissionDenied(f"a {who.role.value} may not read activity {row.id}")
            return self._activity_pb(session, row, who)

    def list_activities(
        self, request: pb.ListActivitiesRequest, actor: Principal | None
    ) -> tuple[list[Any], Any]:
        who = require(actor, *ACTIVITY_ROLES, doing="list activities")
        year = _year(request.year)
        street_id = _filter_id(request.street_id, "street_id")
        deputy_id = _filter_id(request.deputy_id, "deputy_id")
        kind = KIND.name(request.kind, "kind", required=False)
        a = m.Activity
        query = _readable_activities(who, select(a))
        if year:
            query = query.where(a.year == year)
        if street_id:
            query = query.where(a.street_id == street_id)
        if kind:
            query = query.where(a.kind == kind)
        if deputy_id:
            query = query.where(_invites(deputy_id))
        with self.db.read() as session:
            rows, info = page(session, query, a.id, request.page, request)
            return [self._activity_pb(session, r, who) for r in rows], info

    def invite(self, request: pb.InviteDeputiesRequest, actor: Principal | None) -> Any:
        who = require(actor, *ACTIVITY_ROLES, doing="invite deputies")
        activity_id = _id(request.activity_id, "activity_id")
        ids = list(dict.fromkeys(request.deputy_ids))
        if not ids:
            raise invalid("deputy_ids", "name at least one deputy")
        with self.db.read() as session:
            # Refuse early, before asking the registry about each deputy.
            activity_rules.require_organiser(
                who, _scope(self._load_activity(session, activity_id, lock=False)), "invite"
            )
        invitees = [self._invitee(deputy_id, f"deputy_ids[{i}]") for i, deputy_id in enumerate(ids)]
        with self.db.unit_of_work() as uow:
            row = self._load_activity(uow.session, activity_id, lock=True)
            scope = _scope(row)
            activity_rules.require_organiser(who, scope, "invite deputies to this activity")
            activity_rules.check_invitees(scope, invitees, row.ends_on, self.today())
            already = set(
                uow.session.scalars(
                    select(m.Invitation.deputy_id).where(m.Invitation.activity_id == row.id)
                )
            )
            new = [i.deputy_id for i in invitees if i.deputy_id not in already]
            for deputy_id in new:
                uow.session.add(m.Invitation(activity_id=row.id, deputy_id=deputy_id))
            if new:
                row.updated_at = self.clock()
                uow.emit(
                    ev.ActivityInvitationSent(
                        activity_id=row.id,
                        kind=KIND.number(row.kind),  # type: ignore[arg-type]
                        title=row.title,
                        starts_on=iso(row.starts_on),
                        ends_on=iso(row.ends_on),
                        street_id=row.street_id or 0,
                        deputy_ids=new,
                    )
                )
                audit.record(uow.session, who, "invite", "activity", row.id, ["invitations"])
            uow.session.flush()
            return self._activity_pb(uow.session, row, who)

    def _invitee(self, deputy_id: int, field: str) -> Invitee:
        facts = self.deputies.deputy(_id(deputy_id, field))
        return Invitee(facts.id, facts.street_id or None, facts.active)

    def sign_up(self, request: pb.SignUpRequest, actor: Principal | None) -> Any:
        who = require(actor, Role.DEPUTY, doing="sign up for activities")
        activity_id = _id(request.activity_id, "activity_id")
        with self.db.unit_of_work() as uow:
            row = self._load_activity(uow.session, activity_id, lock=True)
            invitation = _invitation(uow.session, row.id, who.deputy_id or 0)
            activity_rules.check_sign_up(
                who, who.deputy_id or 0, invitation is not None, row.starts_on, self.today()
            )
            assert invitation is not None
            if invitation.signed_up_at is None:
                invitation.signed_up_at = self.clock()
                audit.record(uow.session, who, "sign_up", "activity", row.id, ["signed_up_at"])
            return self._activity_pb(uow.session, row, who)

    def record_attendance(
        self, request: pb.RecordAttendanceRequest, actor: Principal | None
    ) -> Any:
        who = require(actor, *ACTIVITY_ROLES, doing="record attendance")
        activity_id = _id(request.activity_id, "activity_id")
        entries: dict[int, str] = {}
        problems = Violations()
        for index, entry in enumerate(request.entries):
            if entry.deputy_id in entries:
                problems.add(
                    f"entries[{index}].deputy_id", f"deputy {entry.deputy_id} is named twice"
                )
            entries[entry.deputy_id] = ATTENDANCE.to_name.get(entry.attendance, "")
        problems.raise_if_any("the attendance cannot be recorded")
        now = self.clock()
        with self.db.unit_of_work() as uow:
            row = self._load_activity(uow.session, activity_id, lock=True)
            activity_rules.require_organiser(who, _scope(row), "record this activity's attendance")
            invitations = {
                i.deputy_id: i
                for i in uow.session.scalars(
                    select(m.Invitation).where(m.Invitation.activity_id == row.id)
                )
            }
            recorded = {d: i.attendance for d, i in invitations.items() if i.attendance}
            new = activity_rules.check_attendance(
                entries, set(invitations), recorded, row.starts_on, self.today()
            )
            for deputy_id, attendance in new.items():
                invitation = invitations[deputy_id]
                invitation.attendance = attendance.value
                invitation.attendance_recorded_at = now
                if attendance is activity_rules.Attendance.ATTENDED:
                    uow.emit(
                        ev.ActivityAttended(
                            deputy_id=deputy_id,
                            activity_id=row.id,
                            kind=KIND.number(row.kind),  # type: ignore[arg-type]
                            starts_on=iso(row.starts_on),
                            ends_on=iso(row.ends_on),
                        )
                    )
            if new:
                row.updated_at = now
                audit.record(
                    uow.session, who, "record_attendance", "activity", row.id, ["attendance"]
                )
            uow.session.flush()
            return self._activity_pb(uow.session, row, who)

    def figures(self, request: pb.GetActivityFiguresRequest, actor: Principal | None) -> Any:
        who = require(
            actor,
            *DISTRICT_READERS,
            Role.STREET_COMMITTEE,
            Role.STATION_STAFF,
            doing="read activity figures",
        )
        year = _year(request.year, required=True)
        street_id = _filter_id(request.street_id, "street_id") or None
        if who.role in activity_rules.STREET_ORGANISERS:
            if street_id not in (None, who.street_id):
                raise PermissionDenied(
                    f"a {who.role.value} of street {who.street_id} may not read "
                    f"street {street_id}'s figures"
                )
            street_id = who.street_id or 0
        a, i = m.Activity, m.Invitation
        query = (
            select(a.id, a.kind, a.street_id, a.year, i.attendance, i.id)
            .outerjoin(i, i.activity_id == a.id)
            .where(a.year == year)
        )
        if street_id:
            query = query.where(a.street_id == street_id)
        grouped: dict[int, tuple[str, int | None, list[str | None]]] = {}
        with self.db.read() as session:
            for activity_id, kind, street, _, attendance, invitation_id in session.execute(query):
                entry = grouped.setdefault(activity_id, (kind, street, []))
                if invitation_id is not None:
                    entry[2].append(attendance)
        rows = [
            activity_figures.ActivityRow(kind, street, year, tuple(marks))
            for kind, street, marks in grouped.values()
        ]
        counted = activity_figures.count(rows, year, street_id)
        return pb.ActivityFigures(
            year=year,
            by_kind=_kinds(counted.district),
            total=_kind_pb(None, counted.district_total),
            streets=[
                pb.StreetActivityFigures(
                    street_id=street,
                    by_kind=_kinds(counted.by_street[street]),
                    total=_kind_pb(None, counted.street_total(street)),
                )
                for street in sorted(counted.by_street)
            ],
        )

    @staticmethod
    def _load_activity(session: Session, activity_id: int, *, lock: bool) -> m.Activity:
        row = session.get(m.Activity, activity_id, with_for_update=lock)
        if row is None:
            raise NotFound(f"no activity {activity_id}")
        return row

    @staticmethod
    def _activity_pb(session: Session, row: m.Activity, who: Principal) -> Any:
        invitations = list(
            session.scalars(
                select(m.Invitation)
                .where(m.Invitation.activity_id == row.id)
                .order_by(m.Invitation.deputy_id)
            )
        )
        shown = (
            [i for i in invitations if i.deputy_id == who.deputy_id]
            if who.role is Role.DEPUTY
            else invitations
        )
        return pb.Activity(
            id=row.id,
            kind=KIND.number(row.kind),  # type: ignore[arg-type]
            title=row.title,
            starts_on=iso(row.starts_on),
            ends_on=iso(row.ends_on),
            place=row.place,
            organiser=row.organiser,
            level=LEVEL.number(row.level),  # type: ignore[arg-type]
            street_id=row.street_id or 0,
            station_id=row.station_id or 0,
            invitations=[
                pb.Invitation(
                    deputy_id=i.deputy_id,
                    invited_at=timestamp(i.invited_at),
                    signed_up_at=timestamp(i.signed_up_at),
                    attendance=ATTENDANCE.number(i.attendance or ""),  # type: ignore[arg-type]
                    attendance_recorded_at=timestamp(i.attendance_recorded_at),
                )
                for i in shown
            ],
            invited=len(invitations),
            signed_up=sum(i.signed_up_at is not None for i in invitations),
            attended=sum(i.attendance == "attended" for i in invitations),
            created_at=timestamp(row.created_at),
            updated_at=timestamp(row.updated_at),
        )

    # ------------------------------------------------------------ research

    def propose(self, request: pb.ProposeResearchRequest, actor: Principal | None) -> Any:
        who = require(actor, Role.DEPUTY, doing="propose research")
        this_year = self.today().year
        proposal = research_rules.Proposal(
            title=request.title,
            plan=request.plan,
            amount_requested_yuan=request.amount_requested_yuan,
            year=request.year or this_year,
        )
        research_rules.check_proposal(who, who.deputy_id or 0, proposal, this_year)
        facts = self.deputies.deputy(who.deputy_id or 0)
        if not facts.active or not facts.street_id:
            raise FailedPrecondition(
                f"deputy {facts.id} has no street in the registry (or no longer serves): "
                "no street committee can fund the research"
            )
        with self.db.unit_of_work() as uow:
            row = m.Research(
                deputy_id=facts.id,
                street_id=facts.street_id,
                year=proposal.year,
                title=proposal.title.strip(),
                plan=proposal.plan,
                amount_requested_yuan=proposal.amount_requested_yuan,
                state=ResearchState.PROPOSED.value,
                amount_granted_yuan=0,
                decline_reason="",
                report="",
            )
            uow.session.add(row)
            uow.session.flush()
            audit.record(uow.session, who, "propose", "research", row.id, ["title", "plan"])
            return _research_pb(row)

    def approve(
        self, request: pb.ApproveResearchRequest, actor: Principal | None, bearer: str
    ) -> Any:
        """`bearer`: the caller's `authorization` value, with which the
        registry is asked for the budget line (it shows lines to staff only)."""
        who = require(actor, Role.STREET_COMMITTEE, doing="approve research")
        research_id = _id(request.id)
        with self.db.read() as session:
            # Refuse another street's research before asking the registry.
            row = _load_research(session, research_id, lock=False)
            research_rules.require_street_committee(who, row.street_id, "approve this research")
        line = self.lookups.budget_line(_id(request.budget_line_id, "budget_line_id"), bearer)
        with self.db.unit_of_work() as uow:
            row = _load_research(uow.session, research_id, lock=True)
            _lock_budget_line(uow.session, line.id)
            granted = uow.session.scalar(
                select(func.coalesce(func.sum(m.Research.amount_granted_yuan), 0)).where(
                    m.Research.budget_line_id == line.id
                )
            )
            research_rules.check_grant(
                who,
                street_id=row.street_id,
                state=row.state,
                year=row.year,
                amount_requested_yuan=row.amount_requested_yuan,
                amount_yuan=request.amount_yuan,
                line=line,
                granted_yuan=int(granted or 0),
            )
            row.state = ResearchState.APPROVED.value
            row.budget_line_id = line.id
            row.amount_granted_yuan = request.amount_yuan
            row.approved_at = self.clock()
            audit.record(
                uow.session,
                who,
                "approve",
                "research",
                row.id,
                ["budget_line_id", "amount_granted_yuan"],
            )
            uow.session.flush()
            return _research_pb(row)

    def decline(self, request: pb.DeclineResearchRequest, actor: Principal | None) -> Any:
        who = require(actor, Role.STREET_COMMITTEE, doing="decline research")
        with self.db.unit_of_work() as uow:
            row = _load_research(uow.session, _id(request.id), lock=True)
            research_rules.check_decline(who, row.street_id, row.state, request.reason)
            row.state = ResearchState.DECLINED.value
            row.decline_reason = request.reason.strip()
            audit.record(uow.session, who, "decline", "research", row.id, ["decline_reason"])
            uow.session.flush()
            return _research_pb(row)

    def report(self, request: pb.ReportResearchRequest, actor: Principal | None) -> Any:
        who = require(actor, Role.DEPUTY, doing="report research")
        now = self.clock()
        with self.db.unit_of_work() as uow:
            row = _load_research(uow.session, _id(request.id), lock=True)
            research_rules.check_report(who, row.deputy_id, row.state, request.text)
            row.state = ResearchState.REPORTED.value
            row.report = request.text
            row.reported_at = now
            uow.emit(
                ev.ResearchReported(
                    deputy_id=row.deputy_id,
                    research_id=row.id,
                    year=row.year,
                    reported_on=now.astimezone(SHANGHAI).date().isoformat(),
                )
            )
            audit.record(uow.session, who, "report", "research", row.id, ["report"])
            uow.session.flush()
            return _research_pb(row)

    def acknowledge(self, request: pb.AcknowledgeResearchRequest, actor: Principal | None) -> Any:
        who = require(actor, Role.STANDING_COMMITTEE_OFFICE, doing="acknowledge research reports")
        with self.db.unit_of_work() as uow:
            row = _load_research(uow.session, _id(request.id), lock=True)
            research_rules.check_acknowledge(who, row.state)
            row.state = ResearchState.ACKNOWLEDGED.value
            row.acknowledged_at = self.clock()
            audit.record(uow.session, who, "acknowledge", "research", row.id, ["acknowledged_at"])
            uow.session.flush()
            return _research_pb(row)

    def get_research(self, research_id: int, actor: Principal | None) -> Any:
        who = require(actor, *RESEARCH_ROLES, doing="read research")
        with self.db.read() as session:
            row = _load_research(session, _id(research_id), lock=False)
            if not research_rules.may_read(who, row.deputy_id, row.street_id):
                raise PermissionDenied(f"a {who.role.value} may not read research {row.id}")
            return _research_pb(row)

    def list_research(
        self, request: pb.ListResearchRequest, actor: Principal | None
    ) -> tuple[list[Any], Any]:
        who = require(actor, *RESEARCH_ROLES, doing="list research")
        r = m.Research
        query = _readable(who, select(r), r.street_id, r.deputy_id)
        query = _filtered(query, r, request.year, request.street_id, request.deputy_id)
        state = STATE.name(request.state, "state", required=False)
        if state:
            query = query.where(r.state == state)
        with self.db.read() as session:
            rows, info = page(session, query, r.id, request.page, request)
            return [_research_pb(row) for row in rows], info

    # ------------------------------------------------------------ visits

    def record_visit(self, request: pb.RecordVisitRequest, actor: Principal | None) -> Any:
        who = require(actor, Role.STREET_COMMITTEE, doing="record visits")
        problems = Violations()
        visited_on = problems.iso_date("visited_on", request.visited_on, required=True)
        facts = self.deputies.deputy(_id(request.deputy_id, "deputy_id"))
        note = visit_rules.VisitNote(
            visited_on, tuple(request.visitors), request.place, request.raised
        )
        visit_rules.check_visit(
            who, facts.street_id or None, facts.active, note, self.today(), problems
        )
        assert visited_on is not None
        with self.db.unit_of_work() as uow:
            row = m.Visit(
                deputy_id=facts.id,
                street_id=facts.street_id,
                visited_on=visited_on,
                year=visited_on.year,
                visitors=[v.strip() for v in request.visitors],
                place=request.place.strip(),
                raised=request.raised,
                recorded_by=who.sub,
            )
            uow.session.add(row)
            uow.session.flush()
            uow.emit(
                ev.VisitRecorded(
                    deputy_id=row.deputy_id,
                    visit_id=row.id,
                    street_id=row.street_id,
                    visited_on=iso(visited_on),
                )
            )
            audit.record(uow.session, who, "record", "visit", row.id, ["visited_on", "raised"])
            return _visit_pb(uow.session, row)

    def add_follow_up(self, request: pb.AddFollowUpRequest, actor: Principal | None) -> Any:
        who = require(actor, Role.STREET_COMMITTEE, doing="add follow-ups to visits")
        with self.db.unit_of_work() as uow:
            row = _load_visit(uow.session, _id(request.visit_id, "visit_id"), lock=True)
            visit_rules.require_committee_of(who, row.street_id, "add a follow-up to this visit")
            visit_rules.check_text("text", request.text)
            follow_up = m.FollowUp(
                visit_id=row.id, text=request.text, added_by=who.sub, added_at=self.clock()
            )
            uow.session.add(follow_up)
            uow.session.flush()
            audit.record(uow.session, who, "add_follow_up", "visit", row.id, ["follow_ups"])
            return _visit_pb(uow.session, row)

    def answer_follow_up(self, request: pb.AnswerFollowUpRequest, actor: Principal | None) -> Any:
        who = require(actor, Role.STREET_COMMITTEE, doing="answer follow-ups")
        with self.db.unit_of_work() as uow:
            row = _load_visit(uow.session, _id(request.visit_id, "visit_id"), lock=True)
            visit_rules.require_committee_of(who, row.street_id, "answer this visit's follow-ups")
            follow_up = uow.session.get(
                m.FollowUp, _id(request.follow_up_id, "follow_up_id"), with_for_update=True
            )
            if follow_up is None or follow_up.visit_id != row.id:
                raise NotFound(f"visit {row.id} has no follow-up {request.follow_up_id}")
            visit_rules.check_answer(follow_up.answered_at is not None, request.answer)
            follow_up.answer = request.answer
            follow_up.answered_by = who.sub
            follow_up.answered_at = self.clock()
            uow.session.flush()
            audit.record(uow.session, who, "answer_follow_up", "visit", row.id, ["follow_ups"])
            return _visit_pb(uow.session, row)

    def get_visit(self, visit_id: int, actor: Principal | None) -> Any:
        who = require(actor, *VISIT_ROLES, doing="read visits")
        with self.db.read() as session:
            row = _load_visit(session, _id(visit_id), lock=False)
            if not visit_rules.may_read(who, row.deputy_id, row.street_id):
                raise PermissionDenied(f"a {who.role.value} may not read visit {row.id}")
            return _visit_pb(session, row)

    def list_visits(
        self, request: pb.ListVisitsRequest, actor: Principal | None
    ) -> tuple[list[Any], Any]:
        who = require(actor, *VISIT_ROLES, doing="list visits")
        v = m.Visit
        query = _readable(who, select(v), v.street_id, v.deputy_id)
        query = _filtered(query, v, request.year, request.street_id, request.deputy_id)
        with self.db.read() as session:
            rows, info = page(session, query, v.id, request.page, request)
            return [_visit_pb(session, row) for row in rows], info

    def visit_coverage(self, request: pb.GetVisitCoverageRequest, actor: Principal | None) -> Any:
        """The street's serving deputies (the registry's) not visited in the year."""
        who = require(
            actor, *DISTRICT_READERS, Role.STREET_COMMITTEE, doing="read the visits' coverage"
        )
        year = _year(request.year, required=True)
        street_id = _filter_id(request.street_id, "street_id")
        if who.role is Role.STREET_COMMITTEE:
            if street_id and street_id != who.street_id:
                raise PermissionDenied(
                    f"a street committee of street {who.street_id} may not read "
                    f"street {street_id}'s visits"
                )
            street_id = who.street_id or 0
        if not street_id:
            raise invalid("street_id", "is required: the street whose deputies are counted")
        serving = [d.id for d in self.deputies.of_street(street_id)]
        with self.db.read() as session:
            visited = set(
                session.scalars(
                    select(m.Visit.deputy_id).where(
                        m.Visit.street_id == street_id, m.Visit.year == year
                    )
                )
            )
        missing = visit_rules.not_visited(serving, visited)
        return pb.VisitCoverage(
            year=year,
            street_id=street_id,
            deputies=len(serving),
            visited=len(serving) - len(missing),
            not_visited_deputy_ids=missing,
        )


# ---------------------------------------------------------------- helpers


def _scope(row: m.Activity) -> Scope:
    return Scope(OrganiserLevel(row.level), row.street_id, row.station_id)


def _invites(deputy_id: int) -> Any:
    i = m.Invitation
    return exists().where(i.activity_id == m.Activity.id, i.deputy_id == deputy_id)


def _invitation(session: Session, activity_id: int, deputy_id: int) -> m.Invitation | None:
    return session.scalar(
        select(m.Invitation)
        .where(m.Invitation.activity_id == activity_id, m.Invitation.deputy_id == deputy_id)
        .with_for_update()
    )


def _is_invited(session: Session, activity_id: int, deputy_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    m.Invitation.activity_id == activity_id, m.Invitation.deputy_id == deputy_id
                )
            )
        )
    )


def _readable_activities(who: Principal, query: Any) -> Any:
    """`query` narrowed to what `who` may read (as `activities.may_read`)."""
    a = m.Activity
    if who.role in activity_rules.STREET_ORGANISERS:
        return query.where(a.street_id == (who.street_id or 0))
    if who.role is Role.DEPUTY:
        return query.where(
            or_(a.level == OrganiserLevel.DISTRICT.value, _invites(who.deputy_id or 0))
        )
    return query


def _readable(who: Principal, query: Any, street_column: Any, deputy_column: Any) -> Any:
    """Research and visits `who` may read: a committee its street's, a
    deputy their own, the district offices everything."""
    if who.role is Role.STREET_COMMITTEE:
        return query.where(street_column == (who.street_id or 0))
    if who.role is Role.DEPUTY:
        return query.where(deputy_column == (who.deputy_id or 0))
    return query


def _filtered(query: Any, table: Any, year: int, street_id: int, deputy_id: int) -> Any:
    if _year(year):
        query = query.where(table.year == year)
    if _filter_id(street_id, "street_id"):
        query = query.where(table.street_id == street_id)
    if _filter_id(deputy_id, "deputy_id"):
        query = query.where(table.deputy_id == deputy_id)
    return query


def _kind_pb(kind: str | None, counts: activity_figures.KindCounts) -> Any:
    return pb.KindFigures(
        kind=KIND.number(kind or ""),  # type: ignore[arg-type]
        activities=counts.activities,
        invited=counts.invited,
        person_times=counts.person_times,
        absent_with_leave=counts.absent_with_leave,
        absent=counts.absent,
    )


def _kinds(by_kind: dict[str, activity_figures.KindCounts]) -> list[Any]:
    return [_kind_pb(kind, counts) for kind, counts in by_kind.items()]


def _load_research(session: Session, research_id: int, *, lock: bool) -> m.Research:
    row = session.get(m.Research, research_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"no research {research_id}")
    return row


def _lock_budget_line(session: Session, line_id: int) -> None:
    """Hold the line's row until commit: a second grant on it waits here and
    then counts this one's grant."""
    session.execute(
        pg_insert(m.BudgetLineLock).values(budget_line_id=line_id).on_conflict_do_nothing()
    )
    session.execute(
        select(m.BudgetLineLock.budget_line_id)
        .where(m.BudgetLineLock.budget_line_id == line_id)
        .with_for_update()
    )


def _research_pb(row: m.Research) -> Any:
    return pb.Research(
        id=row.id,
        deputy_id=row.deputy_id,
        street_id=row.street_id,
        year=row.year,
        title=row.title,
        plan=row.plan,
        amount_requested_yuan=row.amount_requested_yuan,
        state=STATE.number(row.state),  # type: ignore[arg-type]
        budget_line_id=row.budget_line_id or 0,
        amount_granted_yuan=row.amount_granted_yuan or 0,
        decline_reason=row.decline_reason or "",
        report=row.report or "",
        proposed_at=timestamp(row.proposed_at),
        approved_at=timestamp(row.approved_at),
        reported_at=timestamp(row.reported_at),
        acknowledged_at=timestamp(row.acknowledged_at),
        updated_at=timestamp(row.updated_at),
    )


def _load_visit(session: Session, visit_id: int, *, lock: bool) -> m.Visit:
    row = session.get(m.Visit, visit_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"no visit {visit_id}")
    return row


def _visit_pb(session: Session, row: m.Visit) -> Any:
    follow_ups: Iterable[m.FollowUp] = session.scalars(
        select(m.FollowUp).where(m.FollowUp.visit_id == row.id).order_by(m.FollowUp.id)
    )
    return pb.Visit(
        id=row.id,
        deputy_id=row.deputy_id,
        street_id=row.street_id,
        visited_on=iso(row.visited_on),
        visitors=list(row.visitors),
        place=row.place,
        raised=row.raised,
        follow_ups=[
            pb.FollowUp(
                id=f.id,
                text=f.text,
                added_at=timestamp(f.added_at),
                answer=f.answer or "",
                answered_at=timestamp(f.answered_at),
            )
            for f in follow_ups
        ],
        recorded_at=timestamp(row.recorded_at),
    )

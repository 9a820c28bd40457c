"""The referral service's use cases: each one a unit of work that checks who
is asking, changes letters, and records the events others need and the
audit entry, all in one commit.

A letter is opened from each opinion the reception service hands on
(`open_from_opinion`, called by the worker with the event); then each
action of its workflow (`referral.routing`: jurisdiction, sign-offs, the
district's review, dispatch and assignment, receipt, answer, extensions,
feedback, ratings, reopening) is one unit of work here: the letter's row
locked, the rules applied to its stored state, the new state and the
columns queries need (route, handling unit, legal deadline, stage clock)
written, one trail entry and one `letter_moved` event per fact, and the
audit record, all in one commit. A refused action changes nothing.

Who may read a letter: the district's offices (admin, standing committee
office, working body, government office, the platform itself) every
letter; the street committee and station staff of its street; the deputy
who took its opinion; the units it was sent to for handling (the street
office, the lead and co-handling departments).

Not built yet: the constituent's own rating online (the street committee
records it for them), a check of department ids against the registry's
units at assignment, attachments' upload (an answer names files by their
SHA-256 only), reminders and overdue escalation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, select

from kit import audit
from kit.auth import Principal, Role, require
from kit.db import Database, UnitOfWork
from kit.errors import NotFound, PermissionDenied, Violations, invalid
from kit.records import page
from kit.workdays import WorkCalendar
from liaison.reception.v1 import events_pb2 as rev
from liaison.referral.v1 import departments_pb2 as dpb
from liaison.referral.v1 import events_pb2 as ev
from liaison.referral.v1 import referral_pb2 as pb
from referral import deadlines, feed, models, routing, state, trail, trail_rows
from referral.convert import CATEGORY, RATER, ROUTE, SATISFACTION, STAGE, letter_pb, unit_pb
from referral.routing import Stage, Transition
from referral.units import Actor, Position, Unit

MAX_ID = 2**63 - 1
# Roles that read every letter of the district.
DISTRICT_READERS = (
    Role.ADMIN,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.WORKING_BODY,
    Role.GOVERNMENT_OFFICE,
    Role.SYSTEM,
)
STREET_READERS = (Role.STREET_COMMITTEE, Role.STATION_STAFF)
READERS = (*DISTRICT_READERS, *STREET_READERS, Role.DEPUTY, Role.DEPARTMENT)
# Who may take a letter's actions at all (the rules say which, and when).
ACTORS = (
    Role.STREET_COMMITTEE,
    Role.DEPUTY,
    Role.WORKING_BODY,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.GOVERNMENT_OFFICE,
    Role.DEPARTMENT,
)
# Who opens letters from the reception service's events (the worker).
OPENER = Principal.system("referral-worker")
# A token's position claim (the registry's position roles) as the rules name it.
POSITIONS = {
    "street_director": Position.DIRECTOR,
    "street_full_time_deputy_director": Position.DEPUTY_DIRECTOR,
}
# The stage clock (referral.deadlines.StageClocks) that runs at each stage.
STAGE_CLOCK = {
    Stage.DEPUTY_SIGN_OFF: deadlines.SIGN_OFF,
    Stage.DEPUTY_DIRECTOR_SIGN_OFF: deadlines.SIGN_OFF,
    Stage.DIRECTOR_SIGN_OFF: deadlines.SIGN_OFF,
    Stage.REVIEW: deadlines.REVIEW,
    Stage.DISPATCH: deadlines.DISPATCH,
    Stage.ASSIGNMENT: deadlines.ASSIGNMENT,
}
Action = Callable[[routing.Letter, Actor, datetime], Transition]


def actor_of(who: Principal) -> Actor:
    """The caller as the letter's rules see it."""
    return Actor.from_principal(who, position=POSITIONS.get(who.position or ""))


class Referral:
    """The referral service's application service, over one Database."""

    def __init__(
        self,
        db: Database,
        *,
        calendar: WorkCalendar | None = None,
        clocks: deadlines.StageClocks | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.calendar = calendar or WorkCalendar()
        self.clocks = clocks or deadlines.StageClocks()
        self.now = now

    # -- letters from the reception service's events

    def open_from_opinion(
        self, uow: UnitOfWork, who: Principal, opinion: rev.OpinionFacts, note: str
    ) -> pb.Letter | None:
        """Open, in `uow`, the letter of an opinion handed on; None when that
        opinion has one already (the event came again under another id)."""
        existing = uow.session.scalar(
            select(models.Letter.id).where(models.Letter.opinion_id == opinion.id)
        )
        if existing is not None:
            return None
        at = self.now()
        opened = routing.open_letter(
            actor_of(who),
            at,
            street_id=opinion.street_id,
            deputy_id=opinion.taken_by_deputy_id or None,
            category=CATEGORY.to_name.get(opinion.category, "") or "other",
            community_id=opinion.community_id or None,
        )
        row = models.Letter(
            opinion_id=opinion.id,
            tracking_code=opinion.tracking_code,
            street_id=opinion.street_id,
            station_id=opinion.station_id,
            community_id=opinion.community_id,
            community_name=opinion.community_name,
            category=CATEGORY.to_name.get(opinion.category, ""),
            content=opinion.content,
            deputy_id=opinion.taken_by_deputy_id or None,
            note=note,
            stage=opened.letter.stage.value,
            state=state.dump(opened.letter),
            opened_at=at,
            updated_at=at,
        )
        uow.session.add(row)
        uow.session.flush()
        self._append(
            uow,
            row,
            trail.OPENED,
            who,
            {"opinion_id": opinion.id, "tracking_code": opinion.tracking_code, "note": note},
        )
        view = letter_pb(row, opened.letter)
        uow.emit(ev.LetterOpened(letter=view))
        audit.record(uow.session, who, "opened", "letter", row.id, ["opinion_id"])
        return view

    # -- the workflow

    def act(
        self,
        letter_id: int,
        actor: Principal | None,
        doing: str,
        action: Action,
        *,
        check: Callable[[models.Letter, routing.Letter], None] | None = None,
    ) -> pb.Letter:
        """Apply `action` (a rule of referral.routing, its input bound) to
        the letter, as one unit of work; the letter as it stands after.
        `check` sees the row and the letter after the action, before
        anything is stored, and may still refuse it."""
        who = require(actor, *ACTORS, doing=doing)
        by = actor_of(who)
        with self.db.unit_of_work() as uow:
            row = self._locked(uow, letter_id)
            letter = _state(row)
            self._may_read(who, row, letter)
            at = max(self.now(), letter.updated_at)
            moved = action(letter, by, at)
            if check is not None:
                check(row, moved.letter)
            self._store(uow, row, letter, moved, who)
            audit.record(uow.session, who, moved.events[0].kind, "letter", row.id, ["stage"])
            return letter_pb(row, moved.letter)

    def _locked(self, uow: UnitOfWork, letter_id: int) -> models.Letter:
        row = (
            uow.session.get(models.Letter, letter_id, with_for_update=True)
            if 0 < letter_id <= MAX_ID
            else None
        )
        if row is None:
            raise NotFound(f"no letter {letter_id}")
        return row

    def _store(
        self,
        uow: UnitOfWork,
        row: models.Letter,
        before: routing.Letter,
        moved: Transition,
        who: Principal,
    ) -> None:
        after = moved.letter
        row.state = state.dump(after)
        row.stage = after.stage.value
        row.route = after.route.value if after.route else None
        row.round = after.round
        row.updated_at = after.updated_at
        if after.handler is not None:
            row.handler_kind, row.handler_id = after.handler.kind.value, after.handler.id
            self._handling_units(uow, row, after)
        if after.stage is not before.stage or after.round != before.round:
            clock = STAGE_CLOCK.get(after.stage)
            row.stage_due_at = (
                self.clocks.ends_at(clock, after.updated_at, self.calendar) if clock else None
            )
        if after.round != before.round:  # reopened: a new receipt, a new deadline
            row.received_at = row.due_at = row.due_last_day = None
            row.due_extended, row.answered_at = False, None
        if before.received_at is None and after.received_at is not None:
            self._deadline(row, deadlines.legal_deadline(after.received_at, calendar=self.calendar))
            row.received_at, row.due_extended = after.received_at, False
        if len(after.answers) > len(before.answers):
            row.answered_at = after.answers[-1].at
        if after.stage is Stage.CLOSED:
            row.closed_at = after.updated_at
        decided = after.extensions[-1] if after.extensions else None
        if (
            decided is not None
            and decided.decision is routing.Decision.APPROVED
            and before.pending_extension is not None
            and decided.until is not None
            and row.received_at is not None
        ):
            self._deadline(
                row,
                deadlines.extended_deadline(
                    _aware(row.received_at),
                    self._current(row),
                    decided.until,
                    calendar=self.calendar,
                ),
            )
            row.due_extended = True
        view = letter_pb(row, after)
        for event in moved.events:
            unit = unit_pb(event.unit)
            self._append(
                uow,
                row,
                event.kind,
                who,
                {
                    "stage": event.stage.value,
                    "detail": event.detail,
                    "unit": str(event.unit) if event.unit else "",
                    "by": str(event.by),
                },
                at=event.at,
            )
            uow.emit(
                ev.LetterMoved(
                    kind=event.kind,
                    detail=event.detail,
                    unit=unit,
                    actor_role=who.role.value,
                    letter=view,
                )
            )

    @staticmethod
    def _handling_units(uow: UnitOfWork, row: models.Letter, letter: routing.Letter) -> None:
        """Record the units the letter was sent to that are not yet, each
        at the next position of the feed of letters sent (referral.feed)."""
        wanted = [(letter.handler, True), *((u, False) for u in letter.co_handlers)]
        new = []
        for unit, lead in wanted:
            assert unit is not None and unit.id is not None
            if uow.session.get(models.HandlingUnit, (row.id, unit.kind.value, unit.id)) is None:
                new.append((unit, lead))
        if not new:
            return
        position = feed.next_position(uow.session)
        for offset, (unit, lead) in enumerate(new):
            assert unit.id is not None
            uow.session.add(
                models.HandlingUnit(
                    letter_id=row.id,
                    unit_kind=unit.kind.value,
                    unit_id=unit.id,
                    lead=lead,
                    seq=position + offset,
                )
            )

    @staticmethod
    def _deadline(row: models.Letter, deadline: deadlines.Deadline) -> None:
        row.due_last_day = deadline.last_day
        row.due_at = deadline.ends_at
        row.holidays_known = deadline.holidays_known

    @staticmethod
    def _current(row: models.Letter) -> deadlines.Deadline:
        assert row.received_at is not None and row.due_last_day is not None and row.due_at
        return deadlines.Deadline(
            received_on=deadlines.local_day(_aware(row.received_at)),
            corresponding=row.due_last_day,
            last_day=row.due_last_day,
            ends_at=_aware(row.due_at),
            holidays_known=row.holidays_known,
        )

    # -- the actions, as the API asks for them

    def decide_jurisdiction(
        self, request: pb.DecideJurisdictionRequest, actor: Principal | None
    ) -> pb.Letter:
        if request.route not in ROUTE.to_name:
            raise invalid("route", f"must be one of: {', '.join(ROUTE.names)}")
        route = routing.Route(ROUTE.to_name[request.route])
        return self.act(
            request.letter_id,
            actor,
            "decide letters' jurisdiction",
            lambda letter, by, at: routing.decide_jurisdiction(letter, by, at, route),
        )

    def sign_off(self, request: pb.SignOffRequest, actor: Principal | None) -> pb.Letter:
        return self.act(
            request.letter_id,
            actor,
            "sign letters off",
            lambda letter, by, at: routing.sign_off(letter, by, at, request.comment),
        )

    def refuse_sign_off(
        self, request: pb.RefuseSignOffRequest, actor: Principal | None
    ) -> pb.Letter:
        return self.act(
            request.letter_id,
            actor,
            "sign letters off",
            lambda letter, by, at: routing.refuse_sign_off(letter, by, at, request.reason),
        )

    def review(self, request: pb.ReviewLetterRequest, actor: Principal | None) -> pb.Letter:
        return self.act(
            request.letter_id,
            actor,
            "review letters",
            lambda letter, by, at: routing.review(
                letter, by, at, accept=request.accept, reason=request.reason
            ),
        )

    def dispatch(self, request: pb.DispatchLetterRequest, actor: Principal | None) -> pb.Letter:
        return self.act(request.letter_id, actor, "dispatch letters", routing.dispatch)

    def assign(self, request: pb.AssignLetterRequest, actor: Principal | None) -> pb.Letter:
        if not 0 <= request.lead_department_id <= MAX_ID:
            raise invalid("lead_department_id", "is not a department's id")
        if any(not 0 < d <= MAX_ID for d in request.co_handler_ids):
            raise invalid("co_handler_ids", "holds something that is not a department's id")
        return self.act(
            request.letter_id,
            actor,
            "assign letters",
            lambda letter, by, at: routing.assign(
                letter,
                by,
                at,
                lead=request.lead_department_id,
                co_handlers=list(request.co_handler_ids),
            ),
        )

    def acknowledge(
        self, request: pb.AcknowledgeLetterRequest, actor: Principal | None
    ) -> pb.Letter:
        return self.act(request.letter_id, actor, "acknowledge letters", routing.acknowledge)

    def answer(self, request: pb.AnswerLetterRequest, actor: Principal | None) -> pb.Letter:
        return self.act(
            request.letter_id,
            actor,
            "answer letters",
            lambda letter, by, at: routing.answer(
                letter, by, at, request.text, list(request.attachments)
            ),
        )

    def request_extension(
        self, request: pb.RequestExtensionRequest, actor: Principal | None
    ) -> pb.Letter:
        try:
            until = date.fromisoformat(request.requested_last_day)
        except ValueError:
            raise invalid(
                "requested_last_day",
                f"{request.requested_last_day or '(empty)'} is not a date (YYYY-MM-DD)",
            ) from None

        def within_limit(row: models.Letter, after: routing.Letter) -> None:
            if row.received_at is not None and row.due_at is not None:
                deadlines.check_extension(
                    _aware(row.received_at), self._current(row), until, calendar=self.calendar
                )

        return self.act(
            request.letter_id,
            actor,
            "ask for extensions",
            lambda letter, by, at: routing.request_extension(letter, by, at, request.reason, until),
            check=within_limit,
        )

    def decide_extension(
        self, request: pb.DecideExtensionRequest, actor: Principal | None
    ) -> pb.Letter:
        return self.act(
            request.letter_id,
            actor,
            "decide extension requests",
            lambda letter, by, at: routing.decide_extension(
                letter, by, at, approve=request.approve, comment=request.comment
            ),
        )

    def feed_back(self, request: pb.FeedBackRequest, actor: Principal | None) -> pb.Letter:
        return self.act(
            request.letter_id,
            actor,
            "feed answers back",
            lambda letter, by, at: routing.feed_back(letter, by, at, request.comment),
        )

    def rate(self, request: pb.RateAnswerRequest, actor: Principal | None) -> pb.Letter:
        v = Violations()
        if request.rater not in RATER.to_name:
            v.add("rater", f"must be one of: {', '.join(RATER.names)}")
        if request.satisfaction not in SATISFACTION.to_name:
            v.add("satisfaction", f"must be one of: {', '.join(SATISFACTION.names)}")
        v.raise_if_any("the rating is not valid")
        rater = routing.Rater(RATER.to_name[request.rater])
        satisfaction = routing.Satisfaction(SATISFACTION.to_name[request.satisfaction])
        return self.act(
            request.letter_id,
            actor,
            "rate answers",
            lambda letter, by, at: routing.rate(
                letter, by, at, rater=rater, satisfaction=satisfaction, reopen=request.reopen
            ),
        )

    # -- the trail

    _append = staticmethod(trail_rows.append)

    def verify_trail(self, letter_id: int, actor: Principal | None) -> pb.VerifyTrailResponse:
        require(actor, *DISTRICT_READERS, doing="check letters' trails")
        with self.db.read() as session:
            row = session.get(models.Letter, letter_id) if 0 < letter_id <= MAX_ID else None
            if row is None:
                raise NotFound(f"no letter {letter_id}")
            entries = [
                trail_rows.entry_of(e)
                for e in session.scalars(
                    select(models.TrailEntry)
                    .where(models.TrailEntry.letter_id == letter_id)
                    .order_by(models.TrailEntry.seq)
                )
            ]
            broken = trail.verify(entries, head=row.trail_head)
        if broken is None:
            return pb.VerifyTrailResponse(intact=True, entries=len(entries))
        return pb.VerifyTrailResponse(
            intact=False,
            entries=len(entries),
            break_position=broken.position,
            reason=broken.reason,
        )

    # -- reading

    def get_letter(self, letter_id: int, actor: Principal | None) -> pb.Letter:
        who = require(actor, *READERS, doing="read referral letters")
        with self.db.read() as session:
            row = session.get(models.Letter, letter_id) if 0 < letter_id <= MAX_ID else None
            if row is None:
                raise NotFound(f"no letter {letter_id}")
            letter = _state(row)
            self._may_read(who, row, letter)
            return letter_pb(row, letter)

    def list_letters(
        self, request: pb.ListLettersRequest, actor: Principal | None
    ) -> tuple[list[pb.Letter], Any]:
        who = require(actor, *READERS, doing="list referral letters")
        v = Violations()
        if not 0 <= request.street_id <= MAX_ID:
            v.add("street_id", "must be a positive number")
        if request.stage and request.stage not in STAGE.to_name:
            v.add("stage", f"must be one of: {', '.join(STAGE.names)}")
        v.raise_if_any("the query is not valid")
        query = select(models.Letter)
        if who.role in STREET_READERS:
            if request.street_id and request.street_id != who.street_id:
                raise PermissionDenied(
                    f"a {who.role.value} of street {who.street_id} may not list the letters "
                    f"of street {request.street_id}"
                )
            query = query.where(models.Letter.street_id == (who.street_id or 0))
        elif who.role is Role.DEPUTY:
            query = query.where(models.Letter.deputy_id == (who.deputy_id or 0))
        elif who.role is Role.DEPARTMENT:
            unit = actor_of(who).unit
            query = query.where(
                exists().where(
                    models.HandlingUnit.letter_id == models.Letter.id,
                    models.HandlingUnit.unit_kind == (unit.kind.value if unit else ""),
                    models.HandlingUnit.unit_id == (unit.id if unit and unit.id else 0),
                )
            )
        if request.street_id:
            query = query.where(models.Letter.street_id == request.street_id)
        if request.stage:
            query = query.where(models.Letter.stage == STAGE.to_name[request.stage])
        with self.db.read() as session:
            rows, info = page(session, query, models.Letter.id, request.page, request)
            return [letter_pb(r, _state(r)) for r in rows], info

    # -- departments' own systems (DepartmentService)

    @staticmethod
    def handling_unit(actor: Principal | None, doing: str) -> tuple[Principal, Unit]:
        """The caller of the departments' API and the unit it acts for: a
        department (its token's `unit_id`) or a street office (the
        department role with a `street_id` and no `unit_id`)."""
        who = require(actor, *READERS, doing=doing)
        if who.role is not Role.DEPARTMENT:
            raise PermissionDenied(
                f"the departments' API is for a department's or a street office's own token: "
                f"role {who.role.value} may not {doing} there"
            )
        unit = actor_of(who).unit
        if unit is None:
            raise PermissionDenied(
                f"a department's token names its unit (unit_id), a street office's its street "
                f"(street_id); this one names neither, so it may not {doing}"
            )
        return who, unit

    def watcher(self, actor: Principal | None, after: int) -> tuple[Principal, Unit]:
        """The caller of a watch of the feed from `after`, and its unit."""
        who, unit = self.handling_unit(actor, "watch the letters sent to it")
        if not 0 <= after <= MAX_ID:
            raise invalid("after", "must be 0 or a position the feed gave")
        return who, unit

    def letters_sent(
        self, actor: Principal | None, after: int, limit: int
    ) -> list[dpb.AssignedLetter]:
        """Up to `limit` letters sent to the caller's unit after position
        `after` of the feed (referral.feed), in its order."""
        who, unit = self.watcher(actor, after)
        query = (
            select(models.HandlingUnit, models.Letter)
            .join(models.Letter, models.Letter.id == models.HandlingUnit.letter_id)
            .where(
                models.HandlingUnit.unit_kind == unit.kind.value,
                models.HandlingUnit.unit_id == unit.id,
                models.HandlingUnit.seq > after,
            )
            .order_by(models.HandlingUnit.seq)
            .limit(limit)
        )
        found = []
        with self.db.read() as session:
            for sent, row in session.execute(query):
                letter = _state(row)
                try:  # a unit reads what it handles, by the same rule as everywhere
                    self._may_read(who, row, letter)
                except PermissionDenied:
                    continue
                found.append(
                    dpb.AssignedLetter(
                        position=sent.seq, lead=sent.lead, letter=letter_pb(row, letter)
                    )
                )
        return found

    @staticmethod
    def _may_read(who: Principal, row: models.Letter, letter: routing.Letter) -> None:
        if who.role in DISTRICT_READERS:
            return
        if who.role is Role.DEPARTMENT and actor_of(who).unit in (
            letter.handler,
            *letter.co_handlers,
        ):
            return
        if who.role in STREET_READERS and who.street_id == row.street_id:
            return
        if who.role is Role.DEPUTY and who.deputy_id is not None and who.deputy_id == row.deputy_id:
            return
        raise PermissionDenied(f"a {who.role.value} may not read letter {row.id}")

    # -- the audit

    def audit(self, request: Any, actor: Principal | None) -> tuple[list[Any], Any]:
        require(actor, Role.ADMIN, doing="read the audit")
        with self.db.read() as session:
            rows, info = page(
                session, audit.query(request), audit.audit_entries.c.id, request.page, request
            )
            return [audit.entry_pb(r) for r in rows], info


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _state(row: models.Letter) -> routing.Letter:
    """The letter's workflow as stored; a letter opened before the workflow
    was kept awaits its jurisdiction, as every such letter did."""
    if row.state is not None:
        return state.load(row.state)
    return routing.Letter(
        street_id=row.street_id,
        deputy_id=row.deputy_id,
        category=row.category or "other",
        community_id=row.community_id or None,
        opened_at=_aware(row.opened_at),
        updated_at=_aware(row.updated_at),
    )

"""Deputies' suggestions (议案建议) and meetings with agency heads (约见): the
use cases. Each one is a unit of work that checks who is asking, loads the
suggestion or meeting (its row locked), lets `referral.suggestions` decide,
stores the result, appends the trail's entry and records the event and the
audit entry, all in one commit; a refused action writes nothing.

Who may read (the rules' `may_read`, and the same as SQL filters for lists):
the district's offices everything; street committee and station staff
their street's; a deputy what they proposed, co-signed or asked for; a
department what it leads or co-handles, and the meetings with its head.
A deputy's street is the one the request names (for staff, their own): it
is not yet checked against the registry's read model.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import and_, exists, func, or_, select

from kit import audit
from kit.auth import Principal, Role, require
from kit.convert import EnumNames, timestamp
from kit.db import Database, UnitOfWork
from kit.errors import NotFound, PermissionDenied, invalid
from kit.records import page
from kit.workdays import WorkCalendar
from liaison.referral.v1 import referral_pb2 as rpb
from liaison.referral.v1 import suggestion_events_pb2 as ev
from liaison.referral.v1 import suggestions_pb2 as pb
from referral import models, trail
from referral import suggestions as rules
from referral.deadlines import Deadline, local_day
from referral.suggestions import Change, Meeting, MeetingStatus, Stage, Suggestion
from referral.units import Actor

MAX_ID = 2**63 - 1
CATEGORY = EnumNames(pb.SuggestionCategory, "SUGGESTION_CATEGORY")
STAGE = EnumNames(pb.SuggestionStage, "SUGGESTION_STAGE")
SATISFACTION = EnumNames(rpb.Satisfaction, "SATISFACTION")
STATUS = EnumNames(pb.MeetingStatus, "MEETING_STATUS")
# Every role that has something to do with suggestions (the rules decide the rest).
ROLES = (
    *rules.DISTRICT_READERS - {Role.SYSTEM},
    *rules.STREET_STAFF,
    Role.DEPUTY,
    Role.DEPARTMENT,
)
CHECKERS = (
    Role.ADMIN,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.WORKING_BODY,
    Role.GOVERNMENT_OFFICE,
)

SuggestionAction = Callable[[Suggestion, Actor, datetime], Change]
MeetingAction = Callable[[Meeting, Actor, datetime], Change]


def _id(value: int, field: str = "id") -> int:
    if not 0 < value <= MAX_ID:
        raise invalid(field, "is required: a positive id")
    return value


def _instant(message: Message, field: str) -> datetime:
    if not message.HasField(field):
        raise invalid(field, "is required")
    stamp = getattr(message, field)
    return stamp.ToDatetime(tzinfo=UTC)  # type: ignore[no-any-return]


class Suggestions:
    """The use cases of suggestions and meetings, over one Database. `clock`
    and `calendar` are the platform's unless given (the demo and the tests
    give their own)."""

    def __init__(
        self,
        db: Database,
        *,
        calendar: WorkCalendar | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.calendar = calendar or WorkCalendar()
        self.clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------ suggestions

    def register(self, request: pb.RegisterSuggestionRequest, actor: Principal | None) -> Any:
        who = require(actor, *ROLES, doing="register suggestions")
        category = CATEGORY.to_name.get(request.category, "")
        change = rules.register(
            Actor.from_principal(who),
            self.clock(),
            session=rules.CongressSession(
                request.session.code, request.session.label, request.session.year
            ),
            street_id=request.street_id,
            proposer_id=request.proposer_id or None,
            cosigners=list(request.cosigner_ids),
            title=request.title,
            content=request.content,
            category=category,
        )
        with self.db.unit_of_work() as uow:
            row = models.Suggestion(trail_head="")
            _store_suggestion(uow, row, change.value)
            return self._record_suggestion(uow, who, row, change, ev.SuggestionRegistered)

    def assign(self, request: pb.AssignSuggestionRequest, actor: Principal | None) -> Any:
        co = list(request.co_handler_ids)
        return self._change_suggestion(
            request.id,
            actor,
            "assign suggestions",
            lambda s, a, at: rules.assign(
                s, a, at, lead=request.lead_department_id, co_handlers=co
            ),
            ev.SuggestionAssigned,
        )

    def acknowledge(self, suggestion_id: int, actor: Principal | None) -> Any:
        return self._change_suggestion(
            suggestion_id,
            actor,
            "acknowledge suggestions",
            lambda s, a, at: rules.acknowledge(s, a, at, calendar=self.calendar),
            ev.SuggestionReceived,
        )

    def add_opinion(self, request: pb.AddCoHandlerOpinionRequest, actor: Principal | None) -> Any:
        return self._change_suggestion(
            request.id,
            actor,
            "add opinions to suggestions",
            lambda s, a, at: rules.add_opinion(s, a, at, request.opinion),
            None,
        )

    def answer(self, request: pb.AnswerSuggestionRequest, actor: Principal | None) -> Any:
        return self._change_suggestion(
            request.id,
            actor,
            "answer suggestions",
            lambda s, a, at: rules.answer(s, a, at, request.answer),
            ev.SuggestionAnswered,
        )

    def rate(self, request: pb.RateSuggestionRequest, actor: Principal | None) -> Any:
        grade = SATISFACTION.to_name.get(request.satisfaction, "")
        return self._change_suggestion(
            request.id,
            actor,
            "rate suggestions",
            lambda s, a, at: rules.rate(s, a, at, grade, request.comment),
            ev.SuggestionRated,
        )

    def _change_suggestion(
        self,
        suggestion_id: int,
        actor: Principal | None,
        doing: str,
        action: SuggestionAction,
        event: Any,
    ) -> Any:
        who = require(actor, *ROLES, doing=doing)
        _id(suggestion_id)
        with self.db.unit_of_work() as uow:
            row = uow.session.get(models.Suggestion, suggestion_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no suggestion {suggestion_id}")
            value = _suggestion_value(uow.session, row)
            change = action(value, Actor.from_principal(who), self.clock())
            _store_suggestion(uow, row, change.value)
            return self._record_suggestion(uow, who, row, change, event)

    def _record_suggestion(
        self, uow: UnitOfWork, who: Principal, row: models.Suggestion, change: Change, event: Any
    ) -> Any:
        uow.session.flush()
        row.trail_head = _append(uow, models.SuggestionTrailEntry, row.id, change, who).hash
        view = self._suggestion_pb(change.value, row.id)
        if event is not None:
            uow.emit(event(suggestion=view))
        audit.record(uow.session, who, change.kind, "suggestion", row.id, list(change.detail))
        return view

    def get_suggestion(self, suggestion_id: int, actor: Principal | None) -> Any:
        who = require(actor, *ROLES, doing="read suggestions")
        _id(suggestion_id)
        with self.db.read() as session:
            row = session.get(models.Suggestion, suggestion_id)
            if row is None:
                raise NotFound(f"no suggestion {suggestion_id}")
            value = _suggestion_value(session, row)
            if not rules.may_read(value, Actor.from_principal(who)):
                raise PermissionDenied(f"a {who.role.value} may not read suggestion {row.id}")
            return self._suggestion_pb(value, row.id)

    def list_suggestions(
        self, request: pb.ListSuggestionsRequest, actor: Principal | None
    ) -> tuple[list[Any], Any]:
        who = require(actor, *ROLES, doing="list suggestions")
        rules.validate_session_code(request.session_code)
        for field in ("street_id", "deputy_id", "department_id"):
            if not 0 <= getattr(request, field) <= MAX_ID:
                raise invalid(field, "must be a positive id")
        stage = STAGE.name(request.stage, "stage", required=False)
        s = models.Suggestion
        query = self._readable_suggestions(who, select(s))
        if request.session_code:
            query = query.where(s.session_code == request.session_code)
        if request.street_id:
            query = query.where(s.street_id == request.street_id)
        if stage:
            query = query.where(s.stage == stage)
        if request.deputy_id:
            query = query.where(_by_deputy(request.deputy_id))
        if request.department_id:
            query = query.where(_for_department(request.department_id))
        with self.db.read() as session:
            rows, info = page(session, query, s.id, request.page, request)
            return [self._suggestion_pb(_suggestion_value(session, r), r.id) for r in rows], info

    @staticmethod
    def _readable_suggestions(who: Principal, query: Any) -> Any:
        """`query` narrowed to what `who` may read (as `rules.may_read`)."""
        s = models.Suggestion
        if who.role in rules.STREET_STAFF:
            return query.where(s.street_id == (who.street_id or 0))
        if who.role is Role.DEPUTY:
            return query.where(_by_deputy(who.deputy_id or 0))
        if who.role is Role.DEPARTMENT:
            return query.where(_for_department(who.unit_id or 0))
        return query

    def summarize(self, session_code: str, actor: Principal | None) -> Any:
        """Counts of a session's suggestions the caller may read."""
        who = require(actor, *ROLES, doing="summarise suggestions")
        if not session_code:
            raise invalid("session_code", "is required")
        rules.validate_session_code(session_code)
        s = models.Suggestion
        now = self.clock()
        query = self._readable_suggestions(
            who,
            select(
                s.stage,
                s.satisfaction,
                func.count().label("n"),
                func.count()
                .filter(and_(s.stage == Stage.IN_HAND.value, s.deadline_ends_at <= now))
                .label("overdue"),
            ).where(s.session_code == session_code),
        ).group_by(s.stage, s.satisfaction)
        summary = pb.SessionSummary(session_code=session_code)
        with self.db.read() as session:
            for stage, satisfaction, n, overdue in session.execute(query):
                summary.suggestions += n
                setattr(summary, stage, getattr(summary, stage) + n)
                summary.overdue += overdue
                if satisfaction:
                    setattr(summary, satisfaction, getattr(summary, satisfaction) + n)
        if summary.rated:
            summary.satisfaction_rate = (
                summary.satisfied + summary.basically_satisfied
            ) / summary.rated
        return summary

    def _suggestion_pb(self, value: Suggestion, suggestion_id: int) -> Any:
        view = pb.Suggestion(
            id=suggestion_id,
            session=pb.CongressSession(
                code=value.session.code, label=value.session.label, year=value.session.year
            ),
            street_id=value.street_id,
            proposer_id=value.proposer_id,
            cosigner_ids=value.cosigners,
            title=value.title,
            content=value.content,
            category=CATEGORY.number(value.category.value),  # type: ignore[arg-type]
            stage=STAGE.number(value.stage.value),  # type: ignore[arg-type]
            lead_department_id=value.lead or 0,
            co_handlers=[
                pb.CoHandler(
                    department_id=c.department_id,
                    opinion=c.opinion,
                    opinion_at=timestamp(c.opinion_at),
                )
                for c in value.co_handlers
            ],
            answer=value.answer,
            answered_at=timestamp(value.answered_at),
            satisfaction=SATISFACTION.number(  # type: ignore[arg-type]
                value.satisfaction.value if value.satisfaction else ""
            ),
            rating_comment=value.rating_comment,
            registered_at=timestamp(value.registered_at),
            updated_at=timestamp(value.updated_at),
        )
        watch = rules.supervision(value, self.clock())
        if watch is not None:
            assert value.received_at is not None
            view.supervision.CopyFrom(
                pb.Supervision(
                    received_at=timestamp(value.received_at),
                    last_day=watch.deadline.last_day.isoformat(),
                    ends_at=timestamp(watch.deadline.ends_at),
                    holidays_known=watch.deadline.holidays_known,
                    overdue_level=int(watch.overdue),
                    answered_late=watch.answered_late,
                    reminder_days=[r.days_before for r in watch.reminders],
                    next_reminder_at=timestamp(watch.reminders[0].at) if watch.reminders else None,
                )
            )
        return view

    # ------------------------------------------------------------ meetings

    def request_meeting(self, request: pb.RequestMeetingRequest, actor: Principal | None) -> Any:
        who = require(actor, *ROLES, doing="ask for meetings with agency heads")
        with self.db.unit_of_work() as uow:
            suggestion = None
            if request.suggestion_id:
                found = uow.session.get(
                    models.Suggestion, _id(request.suggestion_id, "suggestion_id")
                )
                if found is None:
                    raise invalid("suggestion_id", f"no suggestion {request.suggestion_id}")
                suggestion = _suggestion_value(uow.session, found)
            change = rules.request_meeting(
                Actor.from_principal(who),
                self.clock(),
                street_id=request.street_id,
                deputy_id=request.deputy_id or None,
                department_id=request.department_id,
                topic=request.topic,
                suggestion=suggestion,
                suggestion_id=request.suggestion_id or None,
            )
            row = models.Meeting(trail_head="")
            _store_meeting(uow, row, change.value)
            return _record_meeting(uow, who, row, change, ev.MeetingRequested)

    def schedule_meeting(self, request: pb.ScheduleMeetingRequest, actor: Principal | None) -> Any:
        when = _instant(request, "scheduled_for")
        return self._change_meeting(
            request.id,
            actor,
            "schedule meetings",
            lambda m, a, at: rules.schedule_meeting(m, a, at, when=when, place=request.place),
            ev.MeetingScheduled,
        )

    def record_meeting(self, request: pb.RecordMeetingRequest, actor: Principal | None) -> Any:
        held_at = _instant(request, "held_at")
        return self._change_meeting(
            request.id,
            actor,
            "record meetings",
            lambda m, a, at: rules.record_meeting(
                m, a, at, held_at=held_at, attended_by=request.attended_by, minutes=request.minutes
            ),
            ev.MeetingHeld,
        )

    def cancel_meeting(self, request: pb.CancelMeetingRequest, actor: Principal | None) -> Any:
        return self._change_meeting(
            request.id,
            actor,
            "cancel meetings",
            lambda m, a, at: rules.cancel_meeting(m, a, at, request.reason),
            ev.MeetingCancelled,
        )

    def _change_meeting(
        self,
        meeting_id: int,
        actor: Principal | None,
        doing: str,
        action: MeetingAction,
        event: Any,
    ) -> Any:
        who = require(actor, *ROLES, doing=doing)
        _id(meeting_id)
        with self.db.unit_of_work() as uow:
            row = uow.session.get(models.Meeting, meeting_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no meeting {meeting_id}")
            change = action(_meeting_value(row), Actor.from_principal(who), self.clock())
            _store_meeting(uow, row, change.value)
            return _record_meeting(uow, who, row, change, event)

    def get_meeting(self, meeting_id: int, actor: Principal | None) -> Any:
        who = require(actor, *ROLES, doing="read meetings")
        _id(meeting_id)
        with self.db.read() as session:
            row = session.get(models.Meeting, meeting_id)
            if row is None:
                raise NotFound(f"no meeting {meeting_id}")
            if not rules.may_read_meeting(_meeting_value(row), Actor.from_principal(who)):
                raise PermissionDenied(f"a {who.role.value} may not read meeting {row.id}")
            return _meeting_pb(row)

    def list_meetings(
        self, request: pb.ListMeetingsRequest, actor: Principal | None
    ) -> tuple[list[Any], Any]:
        who = require(actor, *ROLES, doing="list meetings")
        for field in ("street_id", "suggestion_id"):
            if not 0 <= getattr(request, field) <= MAX_ID:
                raise invalid(field, "must be a positive id")
        status = STATUS.name(request.status, "status", required=False)
        m = models.Meeting
        query = select(m)
        if who.role in rules.STREET_STAFF:
            query = query.where(m.street_id == (who.street_id or 0))
        elif who.role is Role.DEPUTY:
            query = query.where(m.deputy_id == (who.deputy_id or 0))
        elif who.role is Role.DEPARTMENT:
            query = query.where(m.department_id == (who.unit_id or 0))
        if request.street_id:
            query = query.where(m.street_id == request.street_id)
        if status:
            query = query.where(m.status == status)
        if request.suggestion_id:
            query = query.where(m.suggestion_id == request.suggestion_id)
        with self.db.read() as session:
            rows, info = page(session, query, m.id, request.page, request)
            return [_meeting_pb(r) for r in rows], info

    # ------------------------------------------------------------ trails

    def verify_trail(
        self, request: pb.VerifySuggestionTrailRequest, actor: Principal | None
    ) -> Any:
        require(actor, *CHECKERS, doing="check suggestions' and meetings' trails")
        which = request.WhichOneof("of")
        if which is None:
            raise invalid("suggestion_id", "is required, or meeting_id")
        owner_id = _id(getattr(request, which), which)
        owner: type[models.Suggestion] | type[models.Meeting] = models.Meeting
        entries_model: TrailModel = models.MeetingTrailEntry
        if which == "suggestion_id":
            owner, entries_model = models.Suggestion, models.SuggestionTrailEntry
        with self.db.read() as session:
            row = session.get(owner, owner_id)
            if not isinstance(row, models.Suggestion | models.Meeting):
                raise NotFound(f"no {which.removesuffix('_id')} {owner_id}")
            entries = [
                _entry(e)
                for e in session.scalars(
                    select(entries_model)
                    .where(entries_model.owner_id == owner_id)
                    .order_by(entries_model.seq)
                )
            ]
            broken = trail.verify(entries, head=row.trail_head)
        if broken is None:
            return rpb.VerifyTrailResponse(intact=True, entries=len(entries))
        return rpb.VerifyTrailResponse(
            intact=False,
            entries=len(entries),
            break_position=broken.position,
            reason=broken.reason,
        )


# ---------------------------------------------------------------- rows and values


def _by_deputy(deputy_id: int) -> Any:
    s, c = models.Suggestion, models.SuggestionCosigner
    cosigned = exists().where(c.suggestion_id == s.id, c.deputy_id == deputy_id)
    return or_(s.proposer_id == deputy_id, cosigned)


def _for_department(department_id: int) -> Any:
    s, c = models.Suggestion, models.SuggestionCoHandler
    co = exists().where(c.suggestion_id == s.id, c.department_id == department_id)
    return or_(s.lead_department_id == department_id, co)


def _suggestion_value(session: Any, row: models.Suggestion) -> Suggestion:
    cosigners = session.scalars(
        select(models.SuggestionCosigner.deputy_id)
        .where(models.SuggestionCosigner.suggestion_id == row.id)
        .order_by(models.SuggestionCosigner.position)
    )
    co_handlers = session.scalars(
        select(models.SuggestionCoHandler)
        .where(models.SuggestionCoHandler.suggestion_id == row.id)
        .order_by(models.SuggestionCoHandler.position)
    )
    deadline = None
    if row.received_at is not None:
        assert row.deadline_corresponding and row.deadline_last_day and row.deadline_ends_at
        deadline = Deadline(
            received_on=local_day(_at(row.received_at)),
            corresponding=row.deadline_corresponding,
            last_day=row.deadline_last_day,
            ends_at=_at(row.deadline_ends_at),
            holidays_known=bool(row.deadline_holidays_known),
        )
    return Suggestion(
        session=rules.CongressSession(row.session_code, row.session_label, row.session_year),
        street_id=row.street_id,
        proposer_id=row.proposer_id,
        cosigners=tuple(cosigners),
        title=row.title,
        content=row.content,
        category=rules.Category(row.category),
        registered_at=_at(row.registered_at),
        updated_at=_at(row.updated_at),
        stage=Stage(row.stage),
        lead=row.lead_department_id,
        co_handlers=tuple(
            rules.CoHandler(c.department_id, c.opinion, _utc(c.opinion_at)) for c in co_handlers
        ),
        received_at=_utc(row.received_at),
        deadline=deadline,
        answer=row.answer,
        answered_at=_utc(row.answered_at),
        satisfaction=rules.Satisfaction(row.satisfaction) if row.satisfaction else None,
        rating_comment=row.rating_comment,
    )


def _store_suggestion(uow: UnitOfWork, row: models.Suggestion, value: Suggestion) -> None:
    """Write `value` onto `row` (new or locked), its co-signers and co-handlers."""
    new = row.id is None
    row.session_code = value.session.code
    row.session_label = value.session.label
    row.session_year = value.session.year
    row.street_id = value.street_id
    row.proposer_id = value.proposer_id
    row.title = value.title
    row.content = value.content
    row.category = value.category.value
    row.stage = value.stage.value
    row.lead_department_id = value.lead
    row.received_at = value.received_at
    deadline = value.deadline
    row.deadline_corresponding = deadline.corresponding if deadline else None
    row.deadline_last_day = deadline.last_day if deadline else None
    row.deadline_ends_at = deadline.ends_at if deadline else None
    row.deadline_holidays_known = deadline.holidays_known if deadline else None
    row.answer = value.answer
    row.answered_at = value.answered_at
    row.satisfaction = value.satisfaction.value if value.satisfaction else ""
    row.rating_comment = value.rating_comment
    row.registered_at = value.registered_at
    row.updated_at = value.updated_at
    if new:
        uow.session.add(row)
        uow.session.flush()
        for position, deputy_id in enumerate(value.cosigners):
            uow.session.add(
                models.SuggestionCosigner(
                    suggestion_id=row.id, position=position, deputy_id=deputy_id
                )
            )
    stored = {
        c.position: c
        for c in uow.session.scalars(
            select(models.SuggestionCoHandler).where(
                models.SuggestionCoHandler.suggestion_id == row.id
            )
        )
    }
    for position, handler in enumerate(value.co_handlers):
        kept = stored.get(position)
        if kept is None:
            kept = models.SuggestionCoHandler(
                suggestion_id=row.id, position=position, department_id=handler.department_id
            )
            uow.session.add(kept)
        kept.opinion = handler.opinion
        kept.opinion_at = handler.opinion_at


def _meeting_value(row: models.Meeting) -> Meeting:
    return Meeting(
        street_id=row.street_id,
        deputy_id=row.deputy_id,
        department_id=row.department_id,
        topic=row.topic,
        requested_at=_at(row.requested_at),
        updated_at=_at(row.updated_at),
        suggestion_id=row.suggestion_id,
        status=MeetingStatus(row.status),
        scheduled_for=_utc(row.scheduled_for),
        place=row.place,
        held_at=_utc(row.held_at),
        attended_by=row.attended_by,
        minutes=row.minutes,
        cancel_reason=row.cancel_reason,
    )


_MEETING_FIELDS = (
    "street_id",
    "deputy_id",
    "department_id",
    "topic",
    "requested_at",
    "updated_at",
    "suggestion_id",
    "scheduled_for",
    "place",
    "held_at",
    "attended_by",
    "minutes",
    "cancel_reason",
)


def _store_meeting(uow: UnitOfWork, row: models.Meeting, value: Meeting) -> None:
    for name in _MEETING_FIELDS:
        setattr(row, name, getattr(value, name))
    row.status = value.status.value
    if row.id is None:
        uow.session.add(row)


def _record_meeting(
    uow: UnitOfWork, who: Principal, row: models.Meeting, change: Change, event: Any
) -> Any:
    uow.session.flush()
    row.trail_head = _append(uow, models.MeetingTrailEntry, row.id, change, who).hash
    view = _meeting_pb(row)
    uow.emit(event(meeting=view))
    audit.record(uow.session, who, change.kind, "meeting", row.id, list(change.detail))
    return view


def _meeting_pb(row: models.Meeting) -> Any:
    return pb.Meeting(
        id=row.id,
        street_id=row.street_id,
        deputy_id=row.deputy_id,
        department_id=row.department_id,
        topic=row.topic,
        suggestion_id=row.suggestion_id or 0,
        status=STATUS.number(row.status),  # type: ignore[arg-type]
        scheduled_for=timestamp(row.scheduled_for),
        place=row.place,
        held_at=timestamp(row.held_at),
        attended_by=row.attended_by,
        minutes=row.minutes,
        cancel_reason=row.cancel_reason,
        requested_at=timestamp(row.requested_at),
        updated_at=timestamp(row.updated_at),
    )


def _utc(at: datetime | None) -> datetime | None:
    """An instant read back, in UTC (SQLite gives naive UTC back)."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _at(at: datetime) -> datetime:
    value = _utc(at)
    assert value is not None
    return value


# ---------------------------------------------------------------- trails

TrailModel = type[models.SuggestionTrailEntry] | type[models.MeetingTrailEntry]


def _append(
    uow: UnitOfWork, model: TrailModel, owner_id: int, change: Change, who: Principal
) -> trail.Entry:
    """The next entry of a suggestion's or a meeting's trail (its owner's
    row locked by the caller, or new), added to the unit of work."""
    newest = uow.session.scalar(
        select(model).where(model.owner_id == owner_id).order_by(model.seq.desc()).limit(1)
    )
    at = change.value.updated_at
    entry = trail.next_entry(
        _entry(newest) if newest is not None else None, change.kind, who.sub, at, change.detail
    )
    uow.session.add(model(owner_id=owner_id, **{k: getattr(entry, k) for k in _ENTRY_FIELDS}))
    return entry


_ENTRY_FIELDS = ("seq", "kind", "actor", "at", "payload", "prev_hash", "hash")


def _entry(row: Any) -> trail.Entry:
    fields = {k: getattr(row, k) for k in _ENTRY_FIELDS}
    fields["at"] = _at(row.at)
    return trail.Entry(**fields)

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
office, the lead and co-handling departments); the constituent who raised
it online while signed in (their account, `raiser_sub`), who also rates its
answer (the street committee records the rating of anyone else).

The government office's assignment names units the registry knows as
active departments (`referral.departments`, asked of the registry).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import object_session

from kit import audit
from kit.auth import Principal, Role, require
from kit.db import Database, UnitOfWork
from kit.errors import FailedPrecondition, NotFound, PermissionDenied, Violations, invalid
from kit.records import audit_page, page
from kit.workdays import SHANGHAI, WorkCalendar
from liaison.reception.v1 import events_pb2 as rev
from liaison.referral.v1 import departments_pb2 as dpb
from liaison.referral.v1 import events_pb2 as ev
from liaison.referral.v1 import referral_pb2 as pb
from referral import deadlines, feed, figures, models, routing, state, trail, trail_rows
from referral.convert import (
    CATEGORY,
    RATER,
    ROUTE,
    SATISFACTION,
    STAGE,
    attachment_pb,
    letter_pb,
    public_letter_pb,
    unit_of,
    unit_pb,
)
from referral.departments import Departments
from referral.files import FileStore
from referral.routing import Stage, Transition
from referral.units import Actor, Position, Unit

MAX_ID = 2**63 - 1
MAX_TRACKED = 1000
TRACKING_CODE = re.compile(r"^TH-[0-9]{4}-[0-9]{6,10}$")
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$", re.I)
# Roles that read every letter of the district.
DISTRICT_READERS = (
    Role.ADMIN,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.WORKING_BODY,
    Role.GOVERNMENT_OFFICE,
    Role.SYSTEM,
)
STREET_READERS = (Role.STREET_COMMITTEE, Role.STATION_STAFF)
READERS = (*DISTRICT_READERS, *STREET_READERS, Role.DEPUTY, Role.DEPARTMENT, Role.CONSTITUENT)
# Who may take a letter's actions at all (the rules say which, and when).
ACTORS = (
    Role.STREET_COMMITTEE,
    Role.DEPUTY,
    Role.WORKING_BODY,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.GOVERNMENT_OFFICE,
    Role.DEPARTMENT,
    Role.CONSTITUENT,  # who raised it online: rates the answer
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
        files: FileStore | None = None,
        max_file_bytes: int = 10 * 1024 * 1024,
        departments: Departments | None = None,
    ) -> None:
        self.departments = departments
        self.db = db
        self.files = files
        self.max_file_bytes = max_file_bytes
        self.calendar = calendar or WorkCalendar()
        self.clocks = clocks or deadlines.StageClocks()
        self.now = now

    # -- letters from the reception service's events

    def open_from_opinion(
        self,
        uow: UnitOfWork,
        who: Principal,
        opinion: rev.OpinionFacts,
        note: str,
        raiser_sub: str = "",
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
            raiser_sub=raiser_sub[:200],
            stage=opened.letter.stage.value,
            state=state.dump(opened.letter),
            opened_at=at,
            updated_at=at,
        )
        # The trail's first entry, its hash the letter's head from the start
        # (no newest entry to read, no second write of the row).
        first = trail.next_entry(
            None,
            trail.OPENED,
            who.sub,
            at,
            {"opinion_id": opinion.id, "tracking_code": opinion.tracking_code, "note": note},
        )
        row.trail_head = first.hash
        uow.session.add(row)
        uow.session.flush()
        uow.session.add(trail_rows.row_of(row.id, first))
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
        return _letter_row(uow.session, letter_id, for_update=True)

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
                    raiser_sub=row.raiser_sub or "",
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
            # Once the rules let the caller assign it: units the registry
            # knows as active departments.
            check=lambda row, after: (
                self.departments.check(request.lead_department_id, list(request.co_handler_ids))
                if self.departments is not None
                else None
            ),
        )

    def acknowledge(
        self, request: pb.AcknowledgeLetterRequest, actor: Principal | None
    ) -> pb.Letter:
        return self.act(request.letter_id, actor, "acknowledge letters", routing.acknowledge)

    def answer(self, request: pb.AnswerLetterRequest, actor: Principal | None) -> pb.Letter:
        def uploaded(row: models.Letter, after: routing.Letter) -> None:
            named = set(request.attachments)
            if not named:
                return
            # In the action's own unit of work (the letter's row is locked).
            session = object_session(row)
            assert session is not None
            found = set(
                session.scalars(
                    select(models.Attachment.sha256).where(
                        models.Attachment.letter_id == row.id,
                        models.Attachment.sha256.in_(named),
                    )
                )
            )
            missing = sorted(named - found)
            if missing:
                raise invalid(
                    "attachments",
                    f"names a file not uploaded to this letter: {missing[0]} (upload it first)",
                )

        return self.act(
            request.letter_id,
            actor,
            "answer letters",
            lambda letter, by, at: routing.answer(
                letter, by, at, request.text, list(request.attachments)
            ),
            check=uploaded,
        )

    # -- answers' files

    def upload_attachment(
        self, request: pb.UploadAttachmentRequest, actor: Principal | None
    ) -> pb.Attachment:
        """Keep a file for the handling unit's answer (before it answers)."""
        who = require(actor, Role.DEPARTMENT, doing="attach files to answers")
        v = Violations()
        name = request.filename.strip()
        if not name:
            v.add("filename", "is required")
        elif len(name) > 200 or any(c in name for c in "/\\") or not name.isprintable():
            v.add("filename", "must be a file's name: at most 200 printable characters, no path")
        if not request.content:
            v.add("content", "is empty")
        elif len(request.content) > self.max_file_bytes:
            v.add("content", f"is larger than {self.max_file_bytes} bytes")
        content_type = request.content_type.strip() or "application/octet-stream"
        if len(content_type) > 100 or not CONTENT_TYPE.match(content_type):
            v.add("content_type", "is not a media type such as application/pdf")
        v.raise_if_any("the file cannot be attached")
        by = actor_of(who)
        with self.db.read() as session:
            row = _letter_row(session, request.letter_id)
            letter = _state(row)
            self._may_read(who, row, letter)
            letter_id = row.id
        if by.unit not in (letter.handler, *letter.co_handlers) or by.unit is None:
            raise PermissionDenied(
                f"only the units handling letter {letter_id} attach files to its answer"
            )
        if letter.stage is not Stage.IN_HAND:
            raise FailedPrecondition(
                f"the letter awaits {routing.AWAITS[letter.stage]}: files are attached while "
                "it is in hand, before the answer"
            )
        if self.files is None:
            raise FailedPrecondition("this deployment keeps no files")
        sha256 = self.files.put(request.content, content_type)
        with self.db.unit_of_work() as uow:
            stored = uow.session.get(models.Attachment, (letter_id, sha256))
            if stored is None:
                assert by.unit is not None
                stored = models.Attachment(
                    letter_id=letter_id,
                    sha256=sha256,
                    filename=name,
                    content_type=content_type,
                    size=len(request.content),
                    uploaded_by_kind=by.unit.kind.value,
                    uploaded_by_id=by.unit.id or 0,
                    uploaded_at=self.now(),
                )
                uow.session.add(stored)
                audit.record(uow.session, who, "attached", "letter", letter_id, ["attachments"])
            uow.session.flush()
            return attachment_pb(stored)

    def get_attachment(
        self, request: pb.GetAttachmentRequest, actor: Principal | None
    ) -> pb.AttachmentContent:
        who = require(actor, *READERS, doing="read referral letters")
        with self.db.read() as session:
            row = _letter_row(session, request.letter_id)
            self._may_read(who, row, _state(row))
            stored = session.get(models.Attachment, (row.id, request.sha256.lower()))
            if stored is None:
                raise NotFound(f"letter {row.id} has no file {request.sha256[:64]}")
            meta = attachment_pb(stored)
        if self.files is None:
            raise FailedPrecondition("this deployment keeps no files")
        return pb.AttachmentContent(attachment=meta, content=self.files.get(meta.sha256))

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
            row = _letter_row(session, letter_id)
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
            row = _letter_row(session, letter_id)
            letter = _state(row)
            self._may_read(who, row, letter)
            message = letter_pb(row, letter)
            message.attachments.extend(
                attachment_pb(a)
                for a in session.scalars(
                    select(models.Attachment)
                    .where(models.Attachment.letter_id == row.id)
                    .order_by(models.Attachment.uploaded_at, models.Attachment.sha256)
                )
            )
            return message

    def track_letters(self, request: pb.TrackLettersRequest) -> pb.TrackLettersResponse:
        """Public: the letters of the opinions whose tracking codes are given."""
        codes = [c.strip().upper() for c in request.tracking_codes]
        if len(codes) > MAX_TRACKED:
            raise invalid("tracking_codes", f"may name at most {MAX_TRACKED} codes")
        if any(not TRACKING_CODE.match(c) for c in codes):
            raise invalid("tracking_codes", "holds something that is not a tracking code")
        if not codes:
            return pb.TrackLettersResponse()
        with self.db.read() as session:
            rows = {
                r.tracking_code: r
                for r in session.scalars(
                    select(models.Letter).where(models.Letter.tracking_code.in_(set(codes)))
                )
            }
            return pb.TrackLettersResponse(
                letters=[
                    public_letter_pb(rows[c], _state(rows[c]))
                    for c in dict.fromkeys(codes)
                    if c in rows
                ]
            )

    def figures(self, request: pb.GetLetterFiguresRequest) -> pb.LetterFigures:
        """Public aggregates of a year's letters (referral.figures)."""
        v = Violations()
        if not 2000 <= request.year <= 2100:
            v.add("year", "is required: a year from 2000 to 2100")
        if not 0 <= request.street_id <= MAX_ID:
            v.add("street_id", "must be a positive number")
        v.raise_if_any("the figures' scope is not valid")
        start = datetime(request.year, 1, 1, tzinfo=SHANGHAI)
        end = datetime(request.year + 1, 1, 1, tzinfo=SHANGHAI)
        query = select(models.Letter).where(
            models.Letter.opened_at >= start, models.Letter.opened_at < end
        )
        if request.street_id:
            query = query.where(models.Letter.street_id == request.street_id)
        with self.db.read() as session:
            rows = [_figure_row(r) for r in session.scalars(query)]
        counted = figures.count(rows, self.now())
        handlers = sorted(counted.by_handler.items(), key=lambda item: (-item[1].received, item[0]))
        return pb.LetterFigures(
            year=request.year,
            street_id=request.street_id,
            totals=_counts_pb(counted.totals),
            by_street=[
                pb.StreetLetterFigures(street_id=street, counts=_counts_pb(c))
                for street, c in sorted(counted.by_street.items())
            ],
            by_handler=[
                pb.HandlerLetterFigures(
                    unit=unit_pb(unit_of(kind, unit_id)),
                    counts=_counts_pb(c),
                    median_days_to_answer=figures.quantile(
                        counted.days_by_handler[(kind, unit_id)], 0.5
                    ),
                    p90_days_to_answer=figures.quantile(
                        counted.days_by_handler[(kind, unit_id)], 0.9
                    ),
                )
                for (kind, unit_id), c in handlers
            ],
            by_month=[
                pb.MonthLetterFigures(
                    month=m,
                    received=counted.received_by_month[m],
                    answered=counted.answered_by_month[m],
                )
                for m in (f"{request.year}-{n:02d}" for n in range(1, 13))
            ],
            open_by_stage=[
                pb.StageCount(
                    stage=STAGE.number(stage.value),  # type: ignore[arg-type]
                    letters=counted.open_by_stage[stage.value],
                )
                for stage in routing.Stage
                if stage in routing.open_stages
            ],
            satisfaction=pb.SatisfactionCounts(
                satisfied=counted.satisfaction[routing.Satisfaction.SATISFIED.value],
                basically_satisfied=counted.satisfaction[
                    routing.Satisfaction.BASICALLY_SATISFIED.value
                ],
                dissatisfied=counted.satisfaction[routing.Satisfaction.DISSATISFIED.value],
            ),
            median_days_to_answer=figures.quantile(counted.days, 0.5),
            p90_days_to_answer=figures.quantile(counted.days, 0.9),
        )

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
        elif who.role is Role.CONSTITUENT:
            query = query.where(models.Letter.raiser_sub == who.sub, models.Letter.raiser_sub != "")
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
        if who.role is Role.CONSTITUENT and row.raiser_sub and who.sub == row.raiser_sub:
            return
        raise PermissionDenied(f"a {who.role.value} may not read letter {row.id}")

    # -- the audit

    def audit(self, request: Any, actor: Principal | None) -> tuple[list[Any], Any]:
        return audit_page(self.db, request, actor)


def _letter_row(session: Any, letter_id: int, *, for_update: bool = False) -> models.Letter:
    """The letter's row (locked for update when asked); NotFound when there is none."""
    row = (
        session.get(models.Letter, letter_id, with_for_update=for_update)
        if 0 < letter_id <= MAX_ID
        else None
    )
    if row is None:
        raise NotFound(f"no letter {letter_id}")
    return row  # type: ignore[no-any-return]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _counts_pb(c: figures.Counts) -> pb.LetterCounts:
    return pb.LetterCounts(
        received=c.received,
        referred=c.referred,
        answered=c.answered,
        in_hand=c.in_hand,
        overdue=c.overdue,
        closed=c.closed,
    )


def _figure_row(row: models.Letter) -> figures.Row:
    rated = row.stage in (Stage.FED_BACK.value, Stage.CLOSED.value) or row.round > 1
    return figures.Row(
        street_id=row.street_id,
        stage=row.stage,
        route=row.route,
        handler=(row.handler_kind, row.handler_id or 0) if row.handler_kind else None,
        opened_at=_aware(row.opened_at),
        received_at=_aware(row.received_at) if row.received_at else None,
        answered_at=_aware(row.answered_at) if row.answered_at else None,
        due_at=_aware(row.due_at) if row.due_at else None,
        ratings=figures.latest_ratings(_state(row)) if rated else (),
    )


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

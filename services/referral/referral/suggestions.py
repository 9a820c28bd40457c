"""Deputies' suggestions (议案建议) and meetings with agency heads (约见), as
pure rules: immutable values and the actions that move them on. No
database, no gRPC; the service stores what an action returns.

Every action takes the value, the actor (`referral.units.Actor`) and the
time, and returns a `Change`: the new value, the kind of what happened and
its details (for the trail and the events). A refused action raises and
returns nothing, so the value it was given is unchanged:
- `PermissionDenied` when the actor may never take that action on it (the
  message names who may);
- `FailedPrecondition` when the actor may, but not now (the message names
  what the suggestion or meeting awaits);
- `InvalidArgument` naming the field when the action's own input is wrong.

A suggestion::

    register (the deputy; their street's staff or the standing committee office for them)
        |
        v
    REGISTERED --assign (standing committee office: a lead department, co-handlers)-->
    ASSIGNED --acknowledge (the lead department: its three months start)-->
    IN_HAND --answer (the lead department, in writing)--> ANSWERED
        --rate (the proposing deputy: satisfied / basically / dissatisfied)--> RATED

Co-handling departments add their opinions while it is ASSIGNED or IN_HAND.
The legal deadline is `referral.deadlines.legal_deadline` from the lead
department's receipt; its reminders and overdue level, those of
`referral.deadlines` at the time asked (`supervision`).

A meeting::

    REQUESTED --schedule (the street committee: when, where)--> SCHEDULED
    SCHEDULED --schedule again--> SCHEDULED (moved)
    SCHEDULED --record (the street committee: who came, the minutes)--> HELD
    REQUESTED or SCHEDULED --cancel (the street committee or the deputy, with a reason)-->
        CANCELLED

Decisions the article leaves open, made here:
- a suggestion is assigned once; it is not reassigned, and a dissatisfied
  rating does not reopen it (the office may follow up by a meeting);
- a meeting about a suggestion asks for the head of its lead department or
  of a co-handling one, so the suggestion must be assigned already;
- time never goes back: an action dated before the last change is refused
  (`InvalidArgument` on `at`); a meeting is scheduled for a time after
  now, and recorded as held at a time not after now;
- nobody acts in another's name but as said above: an administrator takes
  no action here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from kit.auth import Role
from kit.errors import CODE_RE, FailedPrecondition, PermissionDenied, Violations, invalid
from kit.workdays import WorkCalendar
from referral import deadlines
from referral.deadlines import Deadline, Overdue, Reminder
from referral.routing import Satisfaction
from referral.routing import _text as text_field
from referral.units import STANDING_COMMITTEE_OFFICE, Actor, department, street_committee

MAX_TITLE = 200
MAX_CONTENT = 10_000
MAX_ANSWER = 10_000
MAX_OPINION = 5_000
MAX_NOTE = 500
MAX_TOPIC = 500
MAX_MINUTES = 20_000
MAX_COSIGNERS = 50
MAX_CO_HANDLERS = 20
FIRST_YEAR, LAST_YEAR = 1954, 2200  # the people's congresses' first, and far enough


class Stage(StrEnum):
    REGISTERED = "registered"
    ASSIGNED = "assigned"
    IN_HAND = "in_hand"
    ANSWERED = "answered"
    RATED = "rated"


AWAITS: dict[Stage, str] = {
    Stage.REGISTERED: "the standing committee office's assignment",
    Stage.ASSIGNED: "the lead department's receipt",
    Stage.IN_HAND: "the lead department's written answer",
    Stage.ANSWERED: "the proposing deputy's rating",
    Stage.RATED: "nothing: it is rated",
}


class Category(StrEnum):
    URBAN_DEVELOPMENT = "urban_development"
    TRANSPORT = "transport"
    EDUCATION = "education"
    HEALTH = "health"
    ENVIRONMENT = "environment"
    SOCIAL_SECURITY = "social_security"
    ECONOMY = "economy"
    PUBLIC_SAFETY = "public_safety"
    OTHER = "other"


class MeetingStatus(StrEnum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


MEETING_AWAITS: dict[MeetingStatus, str] = {
    MeetingStatus.REQUESTED: "the street committee's scheduling",
    MeetingStatus.SCHEDULED: "the meeting and its minutes",
    MeetingStatus.HELD: "nothing: it was held",
    MeetingStatus.CANCELLED: "nothing: it was cancelled",
}

# What happened: the trail's kinds and the events' names.
REGISTERED = "registered"
ASSIGNED = "assigned"
RECEIVED = "received"
OPINION_ADDED = "opinion_added"
ANSWERED = "answered"
RATED = "rated"
MEETING_REQUESTED = "requested"
MEETING_SCHEDULED = "scheduled"
MEETING_HELD = "held"
MEETING_CANCELLED = "cancelled"

# Roles that read every suggestion and meeting of the district.
DISTRICT_READERS = frozenset(
    {
        Role.ADMIN,
        Role.STANDING_COMMITTEE_OFFICE,
        Role.WORKING_BODY,
        Role.GOVERNMENT_OFFICE,
        Role.SYSTEM,
    }
)
STREET_STAFF = frozenset({Role.STREET_COMMITTEE, Role.STATION_STAFF})


@dataclass(frozen=True)
class CongressSession:
    """A session of the district congress: "17-3", "区十七届人大三次会议", 2027."""

    code: str
    label: str
    year: int


@dataclass(frozen=True)
class CoHandler:
    department_id: int
    opinion: str = ""
    opinion_at: datetime | None = None


@dataclass(frozen=True)
class Suggestion:
    session: CongressSession
    street_id: int  # the proposing deputy's street
    proposer_id: int
    cosigners: tuple[int, ...]
    title: str
    content: str
    category: Category
    registered_at: datetime
    updated_at: datetime
    stage: Stage = Stage.REGISTERED
    lead: int | None = None  # the lead department's id
    co_handlers: tuple[CoHandler, ...] = ()
    received_at: datetime | None = None
    deadline: Deadline | None = None
    answer: str = ""
    answered_at: datetime | None = None
    satisfaction: Satisfaction | None = None
    rating_comment: str = ""

    @property
    def deputies(self) -> tuple[int, ...]:
        return (self.proposer_id, *self.cosigners)

    @property
    def departments(self) -> tuple[int, ...]:
        lead = () if self.lead is None else (self.lead,)
        return (*lead, *(c.department_id for c in self.co_handlers))


@dataclass(frozen=True)
class Meeting:
    street_id: int
    deputy_id: int
    department_id: int  # the agency whose head is asked to come
    topic: str
    requested_at: datetime
    updated_at: datetime
    suggestion_id: int | None = None
    status: MeetingStatus = MeetingStatus.REQUESTED
    scheduled_for: datetime | None = None
    place: str = ""
    held_at: datetime | None = None
    attended_by: str = ""
    minutes: str = ""
    cancel_reason: str = ""


class Change(NamedTuple):
    """An action's result: the new value, what happened, and its details
    (JSON values only: the trail's payload)."""

    value: Any
    kind: str
    detail: dict[str, Any]


# ---------------------------------------------------------------- checks


def _no_proxy(actor: Actor) -> None:
    if actor.role in (Role.ADMIN, Role.SYSTEM):
        raise PermissionDenied(
            f"a {actor.role.value} may not act on a suggestion or a meeting in anyone's name"
        )


def _clock(updated_at: datetime, at: datetime) -> None:
    if at.tzinfo is None:
        raise invalid("at", "needs a time zone")
    if at < updated_at:
        raise invalid("at", f"is before the last change ({updated_at.isoformat()})")


def _one(field: str, text: str, limit: int, *, required: bool) -> str:
    v = Violations()
    value = text_field(v, field, text, limit, required=required)
    v.raise_if_any(f"the {field.replace('_', ' ')} is not valid")
    return value


def _ids(v: Violations, field: str, ids: Sequence[int], limit: int, what: str) -> None:
    if any(i < 1 for i in ids):
        v.add(field, f"holds something that is not a {what}'s id")
    if len(set(ids)) != len(ids):
        v.add(field, f"names a {what} twice")
    if len(ids) > limit:
        v.add(field, f"names more than {limit}")


def _for_deputy(
    actor: Actor, street_id: int, deputy_id: int | None, doing: str, *, office: bool
) -> int | None:
    """Who a deputy's item is for: the calling deputy themself, or (staff of
    the deputy's street, and with `office` the standing committee office)
    the deputy named. Raises PermissionDenied for anyone else."""
    _no_proxy(actor)
    if actor.role is Role.DEPUTY:
        if deputy_id not in (None, 0, actor.deputy_id) or not actor.deputy_id:
            raise PermissionDenied(f"a deputy may {doing} only for themself; {actor} may not")
        return actor.deputy_id
    if actor.role in STREET_STAFF:
        if actor.street_id is None or actor.street_id != street_id:
            raise PermissionDenied(
                f"only the staff of street {street_id} may {doing} for its deputies; "
                f"{actor} may not"
            )
        return deputy_id or None
    if office and actor.role is Role.STANDING_COMMITTEE_OFFICE:
        return deputy_id or None
    staff = "their street's staff or the standing committee office" if office else "street staff"
    raise PermissionDenied(f"only the deputy, or {staff} for them, may {doing}; {actor} may not")


def _awaiting(suggestion: Suggestion, stages: Sequence[Stage], doing: str) -> None:
    if suggestion.stage not in stages:
        raise FailedPrecondition(
            f"the suggestion awaits {AWAITS[suggestion.stage]}: it cannot be {doing} now"
        )


def _lead_only(suggestion: Suggestion, actor: Actor, doing: str) -> None:
    _no_proxy(actor)
    if suggestion.lead is None:
        raise FailedPrecondition(
            f"the suggestion awaits {AWAITS[suggestion.stage]}: no department leads it yet"
        )
    unit = department(suggestion.lead)
    if actor.unit != unit:
        raise PermissionDenied(
            f"only {unit}, which leads the suggestion, may {doing}; {actor} may not"
        )


def _move(value: Any, at: datetime, **changes: Any) -> Any:
    return dataclasses.replace(value, updated_at=at, **changes)


# ---------------------------------------------------------------- suggestions


def register(
    actor: Actor,
    at: datetime,
    *,
    session: CongressSession,
    street_id: int,
    proposer_id: int | None,
    cosigners: Sequence[int],
    title: str,
    content: str,
    category: str,
) -> Change:
    """A deputy's suggestion at a session. A deputy registers their own (with
    the street the registry has them in); the staff of that street, or the
    standing committee office, register one for a deputy they name."""
    proposer = _for_deputy(actor, street_id, proposer_id, "register a suggestion", office=True)
    v = Violations()
    v.code("session.code", session.code)
    label = text_field(v, "session.label", session.label, 200, required=True)
    if not FIRST_YEAR <= session.year <= LAST_YEAR:
        v.add("session.year", f"must be a year from {FIRST_YEAR} to {LAST_YEAR}")
    if street_id < 1:
        v.add("street_id", "is required: the deputy's street")
    if proposer is None or proposer < 1:
        v.add("proposer_id", "is required: the deputy who proposes it")
    _ids(v, "cosigner_ids", cosigners, MAX_COSIGNERS, "deputy")
    if proposer is not None and proposer in cosigners:
        v.add("cosigner_ids", f"names the proposer ({proposer})")
    title = text_field(v, "title", title, MAX_TITLE, required=True)
    content = text_field(v, "content", content, MAX_CONTENT, required=True)
    v.one_of("category", category, [c.value for c in Category])
    if at.tzinfo is None:
        v.add("at", "needs a time zone")
    v.raise_if_any("the suggestion cannot be registered")
    assert proposer is not None
    value = Suggestion(
        session=CongressSession(session.code, label, session.year),
        street_id=street_id,
        proposer_id=proposer,
        cosigners=tuple(cosigners),
        title=title,
        content=content,
        category=Category(category),
        registered_at=at,
        updated_at=at,
    )
    return Change(value, REGISTERED, {"session": session.code, "proposer_id": proposer})


def assign(
    suggestion: Suggestion, actor: Actor, at: datetime, *, lead: int, co_handlers: Sequence[int]
) -> Change:
    """The standing committee office hands it to one lead department and any
    co-handling departments (distinct, the lead not among them)."""
    _no_proxy(actor)
    if actor.unit != STANDING_COMMITTEE_OFFICE:
        raise PermissionDenied(
            f"only {STANDING_COMMITTEE_OFFICE} may assign a suggestion; {actor} may not"
        )
    _awaiting(suggestion, [Stage.REGISTERED], "assigned")
    _clock(suggestion.updated_at, at)
    v = Violations()
    if lead < 1:
        v.add("lead_department_id", "is required: a department's id")
    _ids(v, "co_handler_ids", co_handlers, MAX_CO_HANDLERS, "department")
    if lead in co_handlers:
        v.add("co_handler_ids", f"names the lead department ({lead})")
    v.raise_if_any("the suggestion cannot be assigned")
    after = _move(
        suggestion,
        at,
        stage=Stage.ASSIGNED,
        lead=lead,
        co_handlers=tuple(CoHandler(d) for d in co_handlers),
    )
    return Change(after, ASSIGNED, {"lead": lead, "co_handlers": list(co_handlers)})


def acknowledge(
    suggestion: Suggestion, actor: Actor, at: datetime, *, calendar: WorkCalendar
) -> Change:
    """The lead department's receipt: the legal three months start."""
    _lead_only(suggestion, actor, "acknowledge receipt")
    _awaiting(suggestion, [Stage.ASSIGNED], "acknowledged")
    _clock(suggestion.updated_at, at)
    deadline = deadlines.legal_deadline(at, calendar=calendar)
    after = _move(suggestion, at, stage=Stage.IN_HAND, received_at=at, deadline=deadline)
    return Change(after, RECEIVED, {"last_day": deadline.last_day.isoformat()})


def add_opinion(suggestion: Suggestion, actor: Actor, at: datetime, opinion: str) -> Change:
    """A co-handling department's opinion, for the lead's answer (one each;
    a second replaces the first until the answer)."""
    _no_proxy(actor)
    mine = next(
        (c for c in suggestion.co_handlers if actor.unit == department(c.department_id)), None
    )
    if mine is None:
        co = ", ".join(str(department(c.department_id)) for c in suggestion.co_handlers)
        raise PermissionDenied(
            f"only a co-handling department ({co or 'none yet'}) may add an opinion; "
            f"{actor} may not"
        )
    _awaiting(suggestion, [Stage.ASSIGNED, Stage.IN_HAND], "given an opinion")
    _clock(suggestion.updated_at, at)
    text = _one("opinion", opinion, MAX_OPINION, required=True)
    given = dataclasses.replace(mine, opinion=text, opinion_at=at)
    handlers = tuple(given if c is mine else c for c in suggestion.co_handlers)
    after = _move(suggestion, at, co_handlers=handlers)
    return Change(after, OPINION_ADDED, {"department_id": mine.department_id})


def answer(suggestion: Suggestion, actor: Actor, at: datetime, text: str) -> Change:
    """The lead department answers in writing."""
    _lead_only(suggestion, actor, "answer the suggestion")
    _awaiting(suggestion, [Stage.IN_HAND], "answered (the lead department acknowledges it first)")
    _clock(suggestion.updated_at, at)
    text = _one("answer", text, MAX_ANSWER, required=True)
    after = _move(suggestion, at, stage=Stage.ANSWERED, answer=text, answered_at=at)
    late = suggestion.deadline is not None and at >= suggestion.deadline.ends_at
    return Change(after, ANSWERED, {"late": late})


def rate(
    suggestion: Suggestion,
    actor: Actor,
    at: datetime,
    satisfaction: str,
    comment: str = "",
) -> Change:
    """The proposing deputy rates the answer, once."""
    _no_proxy(actor)
    if actor.role is not Role.DEPUTY or actor.deputy_id != suggestion.proposer_id:
        raise PermissionDenied(
            f"only deputy {suggestion.proposer_id}, who proposed it, may rate the answer; "
            f"{actor} may not"
        )
    _awaiting(suggestion, [Stage.ANSWERED], "rated")
    _clock(suggestion.updated_at, at)
    v = Violations()
    v.one_of("satisfaction", satisfaction, [s.value for s in Satisfaction])
    comment = text_field(v, "comment", comment, MAX_NOTE, required=False)
    v.raise_if_any("the rating is not valid")
    after = _move(
        suggestion,
        at,
        stage=Stage.RATED,
        satisfaction=Satisfaction(satisfaction),
        rating_comment=comment,
    )
    return Change(after, RATED, {"satisfaction": satisfaction})


@dataclass(frozen=True)
class Supervision:
    """Where a received suggestion stands against its deadline at a time."""

    deadline: Deadline
    overdue: Overdue  # NONE once answered
    answered_late: bool
    reminders: tuple[Reminder, ...]  # still to come; none once answered


def supervision(suggestion: Suggestion, now: datetime) -> Supervision | None:
    """Its deadline's reminders and overdue level at `now`; None before the
    lead department's receipt."""
    if suggestion.deadline is None:
        return None
    ends_at = suggestion.deadline.ends_at
    if suggestion.answered_at is not None:
        late = suggestion.answered_at >= ends_at
        return Supervision(suggestion.deadline, Overdue.NONE, late, ())
    return Supervision(
        suggestion.deadline,
        deadlines.overdue_level(ends_at, now),
        False,
        deadlines.reminder_instants(ends_at, now),
    )


def may_read(suggestion: Suggestion, actor: Actor) -> bool:
    """The district's offices every one; street staff their street's; a
    deputy those they proposed or co-signed; a department those it leads
    or co-handles."""
    if actor.role in DISTRICT_READERS:
        return True
    if actor.role in STREET_STAFF:
        return actor.street_id is not None and actor.street_id == suggestion.street_id
    if actor.role is Role.DEPUTY:
        return actor.deputy_id is not None and actor.deputy_id in suggestion.deputies
    if actor.role is Role.DEPARTMENT:
        return actor.department_id is not None and actor.department_id in suggestion.departments
    return False


# ---------------------------------------------------------------- meetings


def request_meeting(
    actor: Actor,
    at: datetime,
    *,
    street_id: int,
    deputy_id: int | None,
    department_id: int,
    topic: str,
    suggestion: Suggestion | None = None,
    suggestion_id: int | None = None,
) -> Change:
    """A deputy asks, through their street's committee, to meet the head of a
    department on a topic (about a suggestion, when `suggestion` is given:
    then the department leads or co-handles it)."""
    deputy = _for_deputy(actor, street_id, deputy_id, "ask for a meeting", office=False)
    v = Violations()
    if street_id < 1:
        v.add("street_id", "is required: the deputy's street")
    if deputy is None or deputy < 1:
        v.add("deputy_id", "is required: the deputy who asks")
    if department_id < 1:
        v.add("department_id", "is required: the department whose head is asked")
    topic = text_field(v, "topic", topic, MAX_TOPIC, required=True)
    if (suggestion is None) != (suggestion_id is None):
        raise ValueError("a meeting's suggestion comes with its id")
    if suggestion is not None and department_id >= 1:
        if suggestion.lead is None:
            v.add(
                "suggestion_id", f"suggestion {suggestion_id} is not assigned to a department yet"
            )
        elif department_id not in suggestion.departments:
            v.add(
                "department_id",
                f"department {department_id} neither leads nor co-handles "
                f"suggestion {suggestion_id}",
            )
    if at.tzinfo is None:
        v.add("at", "needs a time zone")
    v.raise_if_any("the meeting cannot be requested")
    assert deputy is not None
    value = Meeting(
        street_id=street_id,
        deputy_id=deputy,
        department_id=department_id,
        topic=topic,
        requested_at=at,
        updated_at=at,
        suggestion_id=suggestion_id,
    )
    return Change(
        value,
        MEETING_REQUESTED,
        {"deputy_id": deputy, "department_id": department_id, "suggestion_id": suggestion_id},
    )


def _committee_only(meeting: Meeting, actor: Actor, doing: str) -> None:
    _no_proxy(actor)
    committee = street_committee(meeting.street_id)
    if actor.unit != committee:
        raise PermissionDenied(f"only {committee} may {doing}; {actor} may not")


def _meeting_awaiting(meeting: Meeting, statuses: Sequence[MeetingStatus], doing: str) -> None:
    if meeting.status not in statuses:
        raise FailedPrecondition(
            f"the meeting awaits {MEETING_AWAITS[meeting.status]}: it cannot be {doing} now"
        )


def schedule_meeting(
    meeting: Meeting, actor: Actor, at: datetime, *, when: datetime, place: str
) -> Change:
    """The street committee fixes (or moves) when and where: a time to come."""
    _committee_only(meeting, actor, "schedule the meeting")
    _meeting_awaiting(meeting, [MeetingStatus.REQUESTED, MeetingStatus.SCHEDULED], "scheduled")
    _clock(meeting.updated_at, at)
    v = Violations()
    if when.tzinfo is None:
        v.add("scheduled_for", "needs a time zone")
    elif when <= at:
        v.add("scheduled_for", f"is not in the future ({when.isoformat()})")
    place = text_field(v, "place", place, MAX_NOTE, required=True)
    v.raise_if_any("the meeting cannot be scheduled")
    after = _move(meeting, at, status=MeetingStatus.SCHEDULED, scheduled_for=when, place=place)
    moved = meeting.status is MeetingStatus.SCHEDULED
    return Change(after, MEETING_SCHEDULED, {"scheduled_for": when, "moved": moved})


def record_meeting(
    meeting: Meeting,
    actor: Actor,
    at: datetime,
    *,
    held_at: datetime,
    attended_by: str,
    minutes: str,
) -> Change:
    """The street committee records that the head came and answered: who,
    when, and the minutes."""
    _committee_only(meeting, actor, "record the meeting")
    _meeting_awaiting(meeting, [MeetingStatus.SCHEDULED], "recorded as held")
    _clock(meeting.updated_at, at)
    v = Violations()
    if held_at.tzinfo is None:
        v.add("held_at", "needs a time zone")
    elif held_at > at:
        v.add("held_at", f"is in the future ({held_at.isoformat()})")
    elif held_at < meeting.requested_at:
        v.add("held_at", "is before the meeting was requested")
    attended_by = text_field(v, "attended_by", attended_by, MAX_TITLE, required=True)
    minutes = text_field(v, "minutes", minutes, MAX_MINUTES, required=True)
    v.raise_if_any("the meeting cannot be recorded")
    after = _move(
        meeting,
        at,
        status=MeetingStatus.HELD,
        held_at=held_at,
        attended_by=attended_by,
        minutes=minutes,
    )
    return Change(after, MEETING_HELD, {"held_at": held_at})


def cancel_meeting(meeting: Meeting, actor: Actor, at: datetime, reason: str) -> Change:
    """The street committee, or the deputy who asked, calls it off with a reason."""
    _no_proxy(actor)
    own = actor.role is Role.DEPUTY and actor.deputy_id == meeting.deputy_id
    if not own and actor.unit != street_committee(meeting.street_id):
        raise PermissionDenied(
            f"only {street_committee(meeting.street_id)} or deputy {meeting.deputy_id} "
            f"may cancel the meeting; {actor} may not"
        )
    _meeting_awaiting(meeting, [MeetingStatus.REQUESTED, MeetingStatus.SCHEDULED], "cancelled")
    _clock(meeting.updated_at, at)
    reason = _one("reason", reason, MAX_NOTE, required=True)
    after = _move(meeting, at, status=MeetingStatus.CANCELLED, cancel_reason=reason)
    return Change(after, MEETING_CANCELLED, {"reason": reason})


def may_read_meeting(meeting: Meeting, actor: Actor) -> bool:
    """The district's offices every one; street staff their street's; the
    deputy who asked; the department whose head is asked."""
    if actor.role in DISTRICT_READERS:
        return True
    if actor.role in STREET_STAFF:
        return actor.street_id is not None and actor.street_id == meeting.street_id
    if actor.role is Role.DEPUTY:
        return actor.deputy_id is not None and actor.deputy_id == meeting.deputy_id
    if actor.role is Role.DEPARTMENT:
        return actor.department_id is not None and actor.department_id == meeting.department_id
    return False


def validate_session_code(code: str) -> None:
    """InvalidArgument unless `code` is a session's code (for queries)."""
    if code and not CODE_RE.match(code):
        raise invalid("session_code", f"{code!r} is not a session's code")

"""Deputies' suggestions and meetings with agency heads, without I/O: the
whole way from registration to rating and from request to minutes, every
refusal (wrong person, wrong street, wrong department, out of turn, wrong
input), the deadline from the lead's receipt with its reminders and
overdue levels, and random sequences of actions by random actors that
never reach an invalid value and never change a value they are refused."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from kit.auth import Role
from kit.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PermissionDenied,
)
from kit.workdays import WorkCalendar
from referral import deadlines
from referral import suggestions as s
from referral.suggestions import CongressSession, Meeting, MeetingStatus, Stage, Suggestion
from referral.units import Actor

T0 = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)
DAYS = WorkCalendar()
SESSION = CongressSession("17-3", "区十七届人大三次会议", 2027)

DEPUTY = Actor(Role.DEPUTY, deputy_id=7, sub="deputy-7")
COSIGNER = Actor(Role.DEPUTY, deputy_id=8, sub="deputy-8")
OTHER_DEPUTY = Actor(Role.DEPUTY, deputy_id=9, sub="deputy-9")
COMMITTEE = Actor(Role.STREET_COMMITTEE, street_id=1, sub="committee-1")
STATION = Actor(Role.STATION_STAFF, street_id=1, sub="station-1")
OTHER_COMMITTEE = Actor(Role.STREET_COMMITTEE, street_id=2, sub="committee-2")
SCO = Actor(Role.STANDING_COMMITTEE_OFFICE, sub="sco")
WB = Actor(Role.WORKING_BODY)
GOV = Actor(Role.GOVERNMENT_OFFICE)
LEAD = Actor(Role.DEPARTMENT, department_id=5, sub="dept-5")
CO = Actor(Role.DEPARTMENT, department_id=6, sub="dept-6")
OTHER_DEPARTMENT = Actor(Role.DEPARTMENT, department_id=9)
STREET_OFFICE = Actor(Role.DEPARTMENT, street_id=1)
ADMIN = Actor(Role.ADMIN)
SYSTEM = Actor(Role.SYSTEM)
CONSTITUENT = Actor(Role.CONSTITUENT)
EVERYONE = [
    DEPUTY,
    COSIGNER,
    OTHER_DEPUTY,
    COMMITTEE,
    STATION,
    OTHER_COMMITTEE,
    SCO,
    WB,
    GOV,
    LEAD,
    CO,
    OTHER_DEPARTMENT,
    STREET_OFFICE,
    ADMIN,
    SYSTEM,
    CONSTITUENT,
]


def registered(actor: Actor = DEPUTY, at: datetime = T0, **changes: Any) -> Suggestion:
    values: dict[str, Any] = {
        "session": SESSION,
        "street_id": 1,
        "proposer_id": None if actor is DEPUTY else 7,
        "cosigners": [8],
        "title": "增设公交站点",
        "content": "建议在天河路增设公交站点，方便居民出行。",
        "category": "transport",
    }
    values.update(changes)
    return s.register(actor, at, **values).value


def hours(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def assigned() -> Suggestion:
    return s.assign(registered(), SCO, hours(1), lead=5, co_handlers=[6]).value


def in_hand() -> Suggestion:
    return s.acknowledge(assigned(), LEAD, hours(2), calendar=DAYS).value


def answered() -> Suggestion:
    return s.answer(in_hand(), LEAD, hours(3), "已协调公交公司增设站点。").value


# ---------------------------------------------------------------- the way through


def test_a_suggestion_from_registration_to_rating() -> None:
    change = s.register(
        DEPUTY,
        T0,
        session=SESSION,
        street_id=1,
        proposer_id=None,
        cosigners=[8, 12],
        title="  增设公交站点 ",
        content="建议增设公交站点",
        category="transport",
    )
    first = change.value
    assert (change.kind, first.stage, first.proposer_id, first.title) == (
        s.REGISTERED,
        Stage.REGISTERED,
        7,
        "增设公交站点",
    )
    assert first.deputies == (7, 8, 12)
    second = s.assign(first, SCO, hours(1), lead=5, co_handlers=[6, 11])
    assert second.value.stage is Stage.ASSIGNED and second.value.departments == (5, 6, 11)
    assert second.detail == {"lead": 5, "co_handlers": [6, 11]}
    opinion = s.add_opinion(second.value, CO, hours(2), "同意增设")
    assert opinion.value.co_handlers[0].opinion == "同意增设"
    assert opinion.value.co_handlers[0].opinion_at == hours(2)
    received = s.acknowledge(opinion.value, LEAD, hours(3), calendar=DAYS)
    assert received.value.stage is Stage.IN_HAND
    assert received.value.deadline == deadlines.legal_deadline(hours(3), calendar=DAYS)
    answer = s.answer(received.value, LEAD, hours(4), "已增设")
    assert answer.value.stage is Stage.ANSWERED and answer.detail == {"late": False}
    rated = s.rate(answer.value, DEPUTY, hours(5), "basically_satisfied", "还需跟进")
    assert rated.value.stage is Stage.RATED
    assert rated.value.satisfaction is s.Satisfaction.BASICALLY_SATISFIED
    assert rated.value.rating_comment == "还需跟进"


def test_staff_of_the_street_and_the_office_register_for_a_deputy() -> None:
    for actor in (COMMITTEE, STATION, SCO):
        assert registered(actor).proposer_id == 7


def test_the_deadline_is_three_months_from_the_leads_receipt() -> None:
    # Received 2027-01-20 (Shanghai): the corresponding day is 2027-04-20, a Tuesday.
    value = in_hand()
    assert value.deadline is not None
    assert value.deadline.received_on == date(2027, 1, 20)
    assert value.deadline.last_day == date(2027, 4, 20)
    watch = s.supervision(value, hours(3))
    assert watch is not None and watch.overdue is deadlines.Overdue.NONE
    assert [r.days_before for r in watch.reminders] == [30, 7, 1]
    late = s.supervision(value, value.deadline.ends_at + timedelta(days=31))
    assert late is not None and late.overdue is deadlines.Overdue.OVER_30_DAYS
    assert late.reminders == ()
    assert s.supervision(assigned(), hours(3)) is None


def test_an_answer_after_the_deadline_is_late_and_no_longer_overdue() -> None:
    value = in_hand()
    assert value.deadline is not None
    after = value.deadline.ends_at + timedelta(hours=1)
    change = s.answer(value, LEAD, after, "迟复")
    assert change.detail == {"late": True}
    watch = s.supervision(change.value, after + timedelta(days=200))
    assert watch is not None
    assert (watch.overdue, watch.answered_late, watch.reminders) == (
        deadlines.Overdue.NONE,
        True,
        (),
    )


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("actor", "changes", "message"),
    [
        (OTHER_COMMITTEE, {}, "only the staff of street 1"),
        (DEPUTY, {"proposer_id": 9}, "only for themself"),
        (WB, {}, "only the deputy"),
        (LEAD, {}, "only the deputy"),
        (ADMIN, {}, "in anyone's name"),
        (CONSTITUENT, {}, "only the deputy"),
    ],
)
def test_who_may_not_register(actor: Actor, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PermissionDenied, match=message):
        registered(actor, **changes)


def test_bad_registrations_name_every_field() -> None:
    with pytest.raises(InvalidArgument) as refused:
        s.register(
            COMMITTEE,
            T0,
            session=CongressSession("17 3", "", 1900),
            street_id=1,
            proposer_id=None,
            cosigners=[8, 8, 0],
            title=" ",
            content="x" * (s.MAX_CONTENT + 1),
            category="weather",
        )
    fields = {v.field for v in refused.value.violations}
    assert fields == {
        "session.code",
        "session.label",
        "session.year",
        "proposer_id",
        "cosigner_ids",
        "title",
        "content",
        "category",
    }
    with pytest.raises(InvalidArgument) as refused:
        registered(cosigners=[7])
    assert refused.value.violations[0] == FieldViolation("cosigner_ids", "names the proposer (7)")


SUGGESTION_REFUSALS: list[Any] =     [
        (registered, lambda v: s.assign(v, GOV, hours(1), lead=5, co_handlers=[]),
         PermissionDenied, "only the standing committee office"),
        (registered, lambda v: s.assign(v, SCO, hours(1), lead=5, co_handlers=[5, 6, 6]),
         InvalidArgument, "cannot be assigned"),
        (registered, lambda v: s.assign(v, SCO, hours(1), lead=0, co_handlers=[]),
         InvalidArgument, "cannot be assigned"),
        (assigned, lambda v: s.assign(v, SCO, hours(2), lead=5, co_handlers=[]),
         FailedPrecondition, "awaits the lead department's receipt"),
        (registered, lambda v: s.acknowledge(v, LEAD, hours(1), calendar=DAYS),
         FailedPrecondition, "no department leads it yet"),
        (assigned, lambda v: s.acknowledge(v, CO, hours(2), calendar=DAYS),
         PermissionDenied, "only department 5"),
        (assigned, lambda v: s.answer(v, LEAD, hours(2), "答复"),
         FailedPrecondition, "acknowledges it first"),
        (in_hand, lambda v: s.answer(v, CO, hours(3), "答复"),
         PermissionDenied, "only department 5, which leads"),
        (in_hand, lambda v: s.answer(v, LEAD, hours(3), "  "),
         InvalidArgument, "answer"),
        (in_hand, lambda v: s.answer(v, LEAD, hours(1), "答复"),
         InvalidArgument, "before the last change"),
        (in_hand, lambda v: s.add_opinion(v, LEAD, hours(3), "意见"),
         PermissionDenied, "only a co-handling department"),
        (answered, lambda v: s.add_opinion(v, CO, hours(4), "意见"),
         FailedPrecondition, "awaits the proposing deputy's rating"),
        (answered, lambda v: s.rate(v, COSIGNER, hours(4), "satisfied"),
         PermissionDenied, "only deputy 7, who proposed it"),
        (answered, lambda v: s.rate(v, COMMITTEE, hours(4), "satisfied"),
         PermissionDenied, "only deputy 7"),
        (answered, lambda v: s.rate(v, DEPUTY, hours(4), "happy"),
         InvalidArgument, "rating is not valid"),
        (in_hand, lambda v: s.rate(v, DEPUTY, hours(4), "satisfied"),
         FailedPrecondition, "awaits the lead department's written answer"),
    ]  # fmt: skip


def test_rated_once() -> None:
    rated = s.rate(answered(), DEPUTY, hours(4), "dissatisfied").value
    with pytest.raises(FailedPrecondition, match="nothing: it is rated"):
        s.rate(rated, DEPUTY, hours(5), "satisfied")


@pytest.mark.parametrize(
    ("actor", "readable"),
    [
        (DEPUTY, True),
        (COSIGNER, True),
        (OTHER_DEPUTY, False),
        (COMMITTEE, True),
        (STATION, True),
        (OTHER_COMMITTEE, False),
        (SCO, True),
        (WB, True),
        (GOV, True),
        (ADMIN, True),
        (LEAD, True),
        (CO, True),
        (OTHER_DEPARTMENT, False),
        (STREET_OFFICE, False),
        (CONSTITUENT, False),
    ],
)
def test_who_may_read(actor: Actor, readable: bool) -> None:
    assert s.may_read(assigned(), actor) is readable


# ---------------------------------------------------------------- meetings


def requested(actor: Actor = DEPUTY, **changes: Any) -> Meeting:
    values: dict[str, Any] = {
        "street_id": 1,
        "deputy_id": None if actor is DEPUTY else 7,
        "department_id": 5,
        "topic": "公交站点增设进度",
    }
    values.update(changes)
    return s.request_meeting(actor, T0, **values).value


def test_a_meeting_from_request_to_minutes() -> None:
    meeting = requested(suggestion=assigned(), suggestion_id=3)
    assert (meeting.status, meeting.deputy_id, meeting.suggestion_id) == (
        MeetingStatus.REQUESTED,
        7,
        3,
    )
    scheduled = s.schedule_meeting(
        meeting, COMMITTEE, hours(1), when=hours(48), place="棠下街人大工委会议室"
    )
    assert scheduled.detail == {"scheduled_for": hours(48), "moved": False}
    moved = s.schedule_meeting(
        scheduled.value, COMMITTEE, hours(2), when=hours(72), place="棠下街人大工委会议室"
    )
    assert moved.detail["moved"] is True and moved.value.scheduled_for == hours(72)
    held = s.record_meeting(
        moved.value,
        COMMITTEE,
        hours(80),
        held_at=hours(72),
        attended_by="区交通运输局局长",
        minutes="局长到场说明情况并回答代表提问。",
    )
    assert held.value.status is MeetingStatus.HELD
    assert held.value.minutes == "局长到场说明情况并回答代表提问。"


def test_a_meeting_cancelled_by_the_deputy_or_the_committee() -> None:
    for actor in (DEPUTY, COMMITTEE):
        cancelled = s.cancel_meeting(requested(), actor, hours(1), "问题已解决")
        assert cancelled.value.status is MeetingStatus.CANCELLED
        assert cancelled.value.cancel_reason == "问题已解决"


MEETING_REFUSALS: list[Any] =     [
        (requested, lambda m: s.schedule_meeting(m, OTHER_COMMITTEE, hours(1), when=hours(9), place="会议室"),
         PermissionDenied, "only the street committee of street 1"),
        (requested, lambda m: s.schedule_meeting(m, STATION, hours(1), when=hours(9), place="会议室"),
         PermissionDenied, "only the street committee of street 1"),
        (requested, lambda m: s.schedule_meeting(m, COMMITTEE, hours(1), when=hours(1), place=""),
         InvalidArgument, "cannot be scheduled"),
        (requested, lambda m: s.record_meeting(m, COMMITTEE, hours(1), held_at=hours(1), attended_by="局长", minutes="纪要"),
         FailedPrecondition, "awaits the street committee's scheduling"),
        (requested, lambda m: s.cancel_meeting(m, OTHER_DEPUTY, hours(1), "理由"),
         PermissionDenied, "or deputy 7"),
        (requested, lambda m: s.cancel_meeting(m, COMMITTEE, hours(1), ""),
         InvalidArgument, "reason"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "action", "error", "message"), SUGGESTION_REFUSALS + MEETING_REFUSALS
)
def test_refusals_name_who_may_or_what_it_awaits(
    make: Callable[[], Any],
    action: Callable[[Any], s.Change],
    error: type[DomainError],
    message: str,
) -> None:
    value = make()
    before = copy.deepcopy(value)
    with pytest.raises(error, match=message):
        action(value)
    assert value == before


def test_a_meeting_on_a_suggestion_asks_a_department_that_handles_it() -> None:
    with pytest.raises(InvalidArgument, match="meeting cannot be requested") as refused:
        requested(department_id=9, suggestion=assigned(), suggestion_id=3)
    assert refused.value.violations[0].field == "department_id"
    with pytest.raises(InvalidArgument) as refused:
        requested(suggestion=registered(), suggestion_id=3)
    assert "not assigned to a department yet" in refused.value.violations[0].description
    with pytest.raises(PermissionDenied, match="street staff"):
        requested(SCO)


def test_a_meeting_is_held_not_in_the_future() -> None:
    scheduled = s.schedule_meeting(
        requested(), COMMITTEE, hours(1), when=hours(9), place="会议室"
    ).value
    with pytest.raises(InvalidArgument) as refused:
        s.record_meeting(
            scheduled, COMMITTEE, hours(2), held_at=hours(9), attended_by="", minutes=""
        )
    assert {v.field for v in refused.value.violations} == {"held_at", "attended_by", "minutes"}


# ---------------------------------------------------------------- random walks

Action = Callable[[Any, Actor, datetime], s.Change]
SUGGESTION_ACTIONS: dict[str, Action] = {
    "assign": lambda x, a, at: s.assign(x, a, at, lead=5, co_handlers=[6]),
    "assign_badly": lambda x, a, at: s.assign(x, a, at, lead=5, co_handlers=[5]),
    "acknowledge": lambda x, a, at: s.acknowledge(x, a, at, calendar=DAYS),
    "opinion": lambda x, a, at: s.add_opinion(x, a, at, "意见"),
    "answer": lambda x, a, at: s.answer(x, a, at, "答复"),
    "answer_nothing": lambda x, a, at: s.answer(x, a, at, ""),
    **{
        f"rate_{g.value}": (lambda x, a, at, g=g: s.rate(x, a, at, g.value)) for g in s.Satisfaction
    },
}
MEETING_ACTIONS: dict[str, Action] = {
    "schedule": lambda x, a, at: s.schedule_meeting(x, a, at, when=at + timedelta(days=2), place="会议室"),
    "schedule_in_the_past": lambda x, a, at: s.schedule_meeting(x, a, at, when=at, place="会议室"),
    "record": lambda x, a, at: s.record_meeting(x, a, at, held_at=at, attended_by="局长", minutes="纪要"),
    "cancel": lambda x, a, at: s.cancel_meeting(x, a, at, "取消"),
}  # fmt: skip
SUGGESTION_MOVES = {
    (Stage.REGISTERED, Stage.ASSIGNED),
    (Stage.ASSIGNED, Stage.IN_HAND),
    (Stage.IN_HAND, Stage.ANSWERED),
    (Stage.ANSWERED, Stage.RATED),
}
MEETING_MOVES = {
    (MeetingStatus.REQUESTED, MeetingStatus.SCHEDULED),
    (MeetingStatus.SCHEDULED, MeetingStatus.HELD),
    (MeetingStatus.REQUESTED, MeetingStatus.CANCELLED),
    (MeetingStatus.SCHEDULED, MeetingStatus.CANCELLED),
}


def check_suggestion(value: Suggestion) -> None:
    at_least = list(Stage).index(value.stage)
    assert (value.lead is not None) == (at_least >= 1)
    assert (value.received_at is not None) == (value.deadline is not None) == (at_least >= 2)
    assert (value.answered_at is not None) == bool(value.answer) == (at_least >= 3)
    assert (value.satisfaction is not None) == (value.stage is Stage.RATED)
    assert value.lead not in {c.department_id for c in value.co_handlers}
    assert value.proposer_id not in value.cosigners
    if value.deadline is not None and value.received_at is not None:
        assert value.deadline.received_on == deadlines.local_day(value.received_at)
    assert value.registered_at <= value.updated_at


def check_meeting(value: Meeting) -> None:
    status = value.status
    assert (value.scheduled_for is not None) == bool(value.place)
    assert (value.held_at is not None) == bool(value.minutes) == (status is MeetingStatus.HELD)
    assert bool(value.cancel_reason) == (status is MeetingStatus.CANCELLED)
    if status is MeetingStatus.SCHEDULED:
        assert value.scheduled_for is not None


def walk(
    data: st.DataObject,
    value: Any,
    actions: dict[str, Action],
    moves: set[tuple[Any, Any]],
    state: Callable[[Any], Any],
    check: Callable[[Any], None],
) -> Any:
    pairs = [(a, actor) for a in actions.values() for actor in EVERYONE]
    at = value.updated_at
    for _ in range(data.draw(st.integers(1, 40), label="steps")):
        at += timedelta(minutes=data.draw(st.integers(-30, 40 * 24 * 60), label="minutes"))
        # Half the steps try every pair from a random start and take the first
        # that succeeds (so that the walk gets deep); the rest one pair.
        start = data.draw(st.integers(0, len(pairs) - 1), label="pair")
        forward = data.draw(st.booleans(), label="forward")
        order = pairs[start:] + pairs[:start] if forward else [pairs[start]]
        before = copy.deepcopy(value)
        for action, actor in order:
            try:
                change = action(value, actor, at)
            except (PermissionDenied, FailedPrecondition, InvalidArgument):
                assert value == before
                continue
            after = change.value
            assert after.updated_at == at
            assert state(value) == state(after) or (state(value), state(after)) in moves
            value = after
            check(value)
            break
    return value


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([DEPUTY, COMMITTEE, SCO]), st.data())
def test_random_actions_keep_a_suggestion_valid(author: Actor, data: st.DataObject) -> None:
    value = registered(author)
    check_suggestion(value)
    value = walk(
        data, value, SUGGESTION_ACTIONS, SUGGESTION_MOVES, lambda v: v.stage, check_suggestion
    )
    event(f"ended at {value.stage.value}")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([DEPUTY, COMMITTEE, STATION]), st.data())
def test_random_actions_keep_a_meeting_valid(author: Actor, data: st.DataObject) -> None:
    value = requested(author)
    check_meeting(value)
    value = walk(data, value, MEETING_ACTIONS, MEETING_MOVES, lambda v: v.status, check_meeting)
    event(f"ended {value.status.value}")


def test_the_walks_reach_the_end() -> None:
    """Trying every pair in turn takes a suggestion to RATED and a meeting
    to HELD: the property tests' walks can get there."""
    value: Any = registered()
    at = T0
    for _ in range(len(Stage)):
        at += timedelta(hours=1)
        for action in SUGGESTION_ACTIONS.values():
            for actor in EVERYONE:
                try:
                    value = action(value, actor, at).value
                    break
                except DomainError:
                    continue
    assert value.stage is Stage.RATED
    meeting: Any = requested()
    for name in ("schedule", "record"):
        at += timedelta(days=3)
        meeting = MEETING_ACTIONS[name](meeting, COMMITTEE, at).value
    assert meeting.status is MeetingStatus.HELD

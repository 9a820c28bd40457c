"""Deputies' suggestions and meetings with agency heads on PostgreSQL: each
operation with its row, trail entry, event and audit entry in one commit;
who may do and read what, by role, street, deputy and department; bad
input and refused actions answered with the field or the reason, writing
nothing; the legal deadline and the overdue count; and through the gRPC
API as anything that reaches its port would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy.exc
from grpc_status import rpc_status
from sqlalchemy import func, select, update

from kit.auth import Principal, Role
from kit.db import Database
from kit.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    violations_from_status,
)
from kit.grpc_client import with_bearer
from kit.tables import audit_entries, outbox_events
from liaison.referral.v1 import referral_pb2 as rpb
from liaison.referral.v1 import suggestions_pb2 as pb
from liaison.referral.v1 import suggestions_pb2_grpc as pb_grpc
from referral import models
from referral.suggestion_service import Suggestions

from ..conftest import token

pytestmark = pytest.mark.postgres

T0 = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)
SESSION = pb.CongressSession(code="17-3", label="区十七届人大三次会议", year=2027)


class Clock:
    """The service's time: set by the test, an hour on at each change."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def person(role: Role, *, street: int | None = None, deputy: int | None = None,
           unit: int | None = None) -> Principal:  # fmt: skip
    name = f"test:{role.value}-{street or deputy or unit or 0}"
    return Principal(sub=name, role=role, street_id=street, deputy_id=deputy, unit_id=unit)


DEPUTY = person(Role.DEPUTY, deputy=7)
COSIGNER = person(Role.DEPUTY, deputy=8)
OTHER_DEPUTY = person(Role.DEPUTY, deputy=9)
COMMITTEE = person(Role.STREET_COMMITTEE, street=1)
STATION = person(Role.STATION_STAFF, street=1)
OTHER_COMMITTEE = person(Role.STREET_COMMITTEE, street=2)
SCO = person(Role.STANDING_COMMITTEE_OFFICE)
WB = person(Role.WORKING_BODY)
GOV = person(Role.GOVERNMENT_OFFICE)
LEAD = person(Role.DEPARTMENT, unit=5)
CO = person(Role.DEPARTMENT, unit=6)
OTHER_DEPARTMENT = person(Role.DEPARTMENT, unit=9)
ADMIN = person(Role.ADMIN)
CONSTITUENT = person(Role.CONSTITUENT)
EVERYONE = {
    "deputy": DEPUTY,
    "cosigner": COSIGNER,
    "other_deputy": OTHER_DEPUTY,
    "committee": COMMITTEE,
    "station": STATION,
    "other_committee": OTHER_COMMITTEE,
    "sco": SCO,
    "working_body": WB,
    "government_office": GOV,
    "lead": LEAD,
    "co": CO,
    "other_department": OTHER_DEPARTMENT,
    "admin": ADMIN,
    "constituent": CONSTITUENT,
    "anonymous": None,
}


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def service(referral_url: str, clock: Clock) -> Iterator[Suggestions]:
    db = Database(referral_url, "referral")
    try:
        yield Suggestions(db, clock=clock)
    finally:
        db.dispose()


def register(service: Suggestions, who: Principal | None = DEPUTY, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "session": SESSION,
        "street_id": 1,
        "proposer_id": 0 if who is DEPUTY else 7,
        "cosigner_ids": [8],
        "title": "增设公交站点",
        "content": "建议在天河路增设公交站点，方便居民出行。",
        "category": pb.SUGGESTION_CATEGORY_TRANSPORT,
    }
    values.update(changes)
    return service.register(pb.RegisterSuggestionRequest(**values), who)


def assigned(service: Suggestions, **changes: Any) -> Any:
    suggestion = register(service, **changes)
    return service.assign(
        pb.AssignSuggestionRequest(id=suggestion.id, lead_department_id=5, co_handler_ids=[6]),
        SCO,
    )


def in_hand(service: Suggestions, **changes: Any) -> Any:
    return service.acknowledge(assigned(service, **changes).id, LEAD)


def answered(service: Suggestions) -> Any:
    return service.answer(pb.AnswerSuggestionRequest(id=in_hand(service).id, answer="已增设"), LEAD)


def written(service: Suggestions) -> dict[str, int]:
    """How many rows of each kind there are: what a refused action must not change."""
    with service.db.read() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (
                models.Suggestion,
                models.SuggestionCosigner,
                models.SuggestionCoHandler,
                models.SuggestionTrailEntry,
                models.Meeting,
                models.MeetingTrailEntry,
            )
        } | {
            "outbox": session.scalar(select(func.count()).select_from(outbox_events)) or 0,
            "audit": session.scalar(select(func.count()).select_from(audit_entries)) or 0,
        }


def refused_writing_nothing(service: Suggestions, cases: list[Any]) -> None:
    """Each (act, error, message): refused with that error and message, nothing written."""
    for act, error, message in cases:
        before = written(service)
        with pytest.raises(error, match=message):
            act()
        assert written(service) == before


def events_of(service: Suggestions, kind: str) -> list[Any]:
    with service.db.read() as session:
        return list(session.execute(select(outbox_events).where(outbox_events.c.type == kind)))


# ---------------------------------------------------------------- the way through


def test_a_suggestion_from_registration_to_rating(service: Suggestions) -> None:
    first = register(service, cosigner_ids=[8, 12])
    assert (first.proposer_id, list(first.cosigner_ids), first.stage) == (
        7,
        [8, 12],
        pb.SUGGESTION_STAGE_REGISTERED,
    )
    assert first.session == SESSION and first.street_id == 1
    second = service.assign(
        pb.AssignSuggestionRequest(id=first.id, lead_department_id=5, co_handler_ids=[6]), SCO
    )
    assert second.stage == pb.SUGGESTION_STAGE_ASSIGNED and second.lead_department_id == 5
    opinion = service.add_opinion(pb.AddCoHandlerOpinionRequest(id=first.id, opinion="同意"), CO)
    assert [(c.department_id, c.opinion) for c in opinion.co_handlers] == [(6, "同意")]
    received = service.acknowledge(first.id, LEAD)
    assert received.stage == pb.SUGGESTION_STAGE_IN_HAND
    # Received on 20 January 2027 (Shanghai): three months end on 20 April.
    assert received.supervision.last_day == "2027-04-20"
    assert received.supervision.overdue_level == 0
    assert list(received.supervision.reminder_days) == [30, 7, 1]
    answer = service.answer(pb.AnswerSuggestionRequest(id=first.id, answer="已增设站点"), LEAD)
    assert answer.stage == pb.SUGGESTION_STAGE_ANSWERED and answer.answer == "已增设站点"
    assert not answer.supervision.answered_late and not answer.supervision.reminder_days
    rated = service.rate(
        pb.RateSuggestionRequest(
            id=first.id, satisfaction=rpb.SATISFACTION_SATISFIED, comment="很满意"
        ),
        DEPUTY,
    )
    assert rated.stage == pb.SUGGESTION_STAGE_RATED
    assert rated.satisfaction == rpb.SATISFACTION_SATISFIED
    assert service.get_suggestion(first.id, COSIGNER) == rated
    # Each change: one trail entry, the trail intact; events of what others need.
    check = service.verify_trail(pb.VerifySuggestionTrailRequest(suggestion_id=first.id), SCO)
    assert check.intact and check.entries == 6
    with service.db.read() as session:
        kinds = session.scalars(
            select(models.SuggestionTrailEntry.kind)
            .where(models.SuggestionTrailEntry.owner_id == first.id)
            .order_by(models.SuggestionTrailEntry.seq)
        ).all()
        assert kinds == ["registered", "assigned", "opinion_added", "received", "answered", "rated"]
        audited = session.scalars(
            select(audit_entries.c.action).where(
                audit_entries.c.record_kind == "suggestion", audit_entries.c.record_id == first.id
            )
        ).all()
        assert sorted(audited) == sorted(kinds)
    for kind in (
        "suggestion_registered",
        "suggestion_assigned",
        "suggestion_received",
        "suggestion_answered",
        "suggestion_rated",
    ):
        assert events_of(service, kind), kind


def test_the_trail_cannot_be_edited_and_a_tampered_head_is_found(service: Suggestions) -> None:
    suggestion = assigned(service)
    with (
        pytest.raises(sqlalchemy.exc.DBAPIError, match="appended to, never changed"),
        service.db.unit_of_work() as uow,
    ):
        uow.session.execute(
            update(models.SuggestionTrailEntry)
            .where(models.SuggestionTrailEntry.owner_id == suggestion.id)
            .values(actor="someone else")
        )
    with service.db.unit_of_work() as uow:
        uow.session.execute(
            update(models.Suggestion)
            .where(models.Suggestion.id == suggestion.id)
            .values(trail_head="0" * 64)
        )
    broken = service.verify_trail(pb.VerifySuggestionTrailRequest(suggestion_id=suggestion.id), SCO)
    assert not broken.intact and broken.entries == 2 and "recorded head" in broken.reason
    with pytest.raises(PermissionDenied):
        service.verify_trail(pb.VerifySuggestionTrailRequest(suggestion_id=suggestion.id), LEAD)
    with pytest.raises(InvalidArgument, match="suggestion_id"):
        service.verify_trail(pb.VerifySuggestionTrailRequest(), SCO)


def test_overdue_and_the_sessions_summary(service: Suggestions, clock: Clock) -> None:
    code = "overdue-1"
    session = pb.CongressSession(code=code, label="测试会议", year=2027)
    late = in_hand(service, session=session)
    for grade in (rpb.SATISFACTION_SATISFIED, rpb.SATISFACTION_DISSATISFIED):
        done = service.answer(
            pb.AnswerSuggestionRequest(id=in_hand(service, session=session).id, answer="答复"), LEAD
        )
        service.rate(pb.RateSuggestionRequest(id=done.id, satisfaction=grade), DEPUTY)
    register(service, session=session)
    saved = clock.now
    clock.now = saved + timedelta(days=120)
    try:
        summary = service.summarize(code, SCO)
        assert service.get_suggestion(late.id, DEPUTY).supervision.overdue_level == 1
    finally:
        clock.now = saved + timedelta(days=121)
    assert (summary.suggestions, summary.registered, summary.in_hand, summary.rated) == (4, 1, 1, 2)
    assert (summary.overdue, summary.satisfied, summary.dissatisfied) == (1, 1, 1)
    assert summary.satisfaction_rate == pytest.approx(0.5)
    # A deputy's summary counts theirs only; another deputy's is empty.
    assert service.summarize(code, OTHER_DEPUTY).suggestions == 0
    with pytest.raises(InvalidArgument, match="session_code"):
        service.summarize("", SCO)


# ---------------------------------------------------------------- who may do what

Action = Any
ACTIONS: dict[str, tuple[Any, Any, set[str]]] = {
    # name: (prepare, act(service, id, who), who may)
    "register": (
        None,
        lambda sv, _, who: register(sv, who),
        {"deputy", "committee", "station", "sco"},
    ),
    "assign": (
        register,
        lambda sv, i, who: sv.assign(
            pb.AssignSuggestionRequest(id=i, lead_department_id=5, co_handler_ids=[6]), who
        ),
        {"sco"},
    ),
    "acknowledge": (assigned, lambda sv, i, who: sv.acknowledge(i, who), {"lead"}),
    "opinion": (
        assigned,
        lambda sv, i, who: sv.add_opinion(pb.AddCoHandlerOpinionRequest(id=i, opinion="意见"), who),
        {"co"},
    ),
    "answer": (
        in_hand,
        lambda sv, i, who: sv.answer(pb.AnswerSuggestionRequest(id=i, answer="答复"), who),
        {"lead"},
    ),
    "rate": (
        answered,
        lambda sv, i, who: sv.rate(
            pb.RateSuggestionRequest(id=i, satisfaction=rpb.SATISFACTION_SATISFIED), who
        ),
        {"deputy"},
    ),
    "read": (
        assigned,
        lambda sv, i, who: sv.get_suggestion(i, who),
        {
            "deputy",
            "cosigner",
            "committee",
            "station",
            "sco",
            "working_body",
            "government_office",
            "admin",
            "lead",
            "co",
        },
    ),
}
MATRIX = [(action, caller) for action in ACTIONS for caller in EVERYONE]


@pytest.mark.parametrize(("action", "caller"), MATRIX, ids=[f"{a}-{c}" for a, c in MATRIX])
def test_who_may_do_what(service: Suggestions, action: str, caller: str) -> None:
    prepare, act, allowed = ACTIONS[action]
    target = prepare(service).id if prepare else 0
    before = written(service)
    who = EVERYONE[caller]
    try:
        act(service, target, who)
    except DomainError as error:
        assert caller not in allowed, f"{caller} was refused: {error}"
        assert isinstance(error, PermissionDenied) or who is None
        assert written(service) == before
    else:
        assert caller in allowed, f"{caller} may not {action}"


def test_lists_show_what_each_caller_may_read(service: Suggestions) -> None:
    code = "lists-1"
    session = pb.CongressSession(code=code, label="列表测试", year=2027)
    mine = register(service, session=session, cosigner_ids=[8])
    other = register(
        service, person(Role.STREET_COMMITTEE, street=2), session=session, street_id=2,
        proposer_id=9, cosigner_ids=[],
    )  # fmt: skip
    service.assign(pb.AssignSuggestionRequest(id=other.id, lead_department_id=6), SCO)

    def listed(who: Principal, **query: Any) -> set[int]:
        request = pb.ListSuggestionsRequest(session_code=code, **query)
        return {x.id for x in service.list_suggestions(request, who)[0]}

    assert listed(SCO) == listed(GOV) == {mine.id, other.id}
    assert listed(COMMITTEE) == listed(STATION) == listed(DEPUTY) == listed(COSIGNER) == {mine.id}
    assert listed(OTHER_DEPUTY) == {other.id}
    assert listed(CO) == {other.id} and listed(LEAD) == set()
    # Street committees follow their street's deputies' suggestions.
    assert listed(SCO, street_id=2) == {other.id}
    assert listed(SCO, deputy_id=8) == {mine.id}
    assert listed(SCO, department_id=6) == {other.id}
    assert listed(SCO, stage=pb.SUGGESTION_STAGE_ASSIGNED) == {other.id}
    assert listed(COMMITTEE, street_id=2) == set()
    with pytest.raises(InvalidArgument, match="stage"):
        listed(SCO, stage=42)
    with pytest.raises(InvalidArgument, match="session_code"):
        service.list_suggestions(pb.ListSuggestionsRequest(session_code="a b"), SCO)


# ---------------------------------------------------------------- bad input


BAD_REGISTRATIONS = [
    ({"session": pb.CongressSession(code="", label="", year=0)},
     {"session.code", "session.label", "session.year"}),
    ({"street_id": 0}, {"street_id"}),
    ({"cosigner_ids": [7]}, {"cosigner_ids"}),
    ({"cosigner_ids": [8, 8]}, {"cosigner_ids"}),
    ({"title": "", "content": ""}, {"title", "content"}),
    ({"category": pb.SUGGESTION_CATEGORY_UNSPECIFIED}, {"category"}),
    ({"title": "x" * 201}, {"title"}),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "fields"), BAD_REGISTRATIONS)
def test_bad_registrations_name_the_fields_and_write_nothing(
    service: Suggestions, changes: dict[str, Any], fields: set[str]
) -> None:
    before = written(service)
    with pytest.raises(InvalidArgument) as refused:
        register(service, **changes)
    assert {v.field for v in refused.value.violations} == fields
    assert written(service) == before


def test_out_of_turn_and_bad_input_change_nothing(service: Suggestions) -> None:
    fresh = register(service)
    done = answered(service)
    cases = [
        (lambda: service.acknowledge(fresh.id, LEAD), FailedPrecondition, "no department leads"),
        (lambda: service.answer(pb.AnswerSuggestionRequest(id=done.id, answer="再答"), LEAD),
         FailedPrecondition, "awaits the proposing deputy's rating"),
        (lambda: service.assign(
            pb.AssignSuggestionRequest(id=fresh.id, lead_department_id=5, co_handler_ids=[5]),
            SCO), InvalidArgument, "cannot be assigned"),
        (lambda: service.rate(pb.RateSuggestionRequest(id=done.id), DEPUTY),
         InvalidArgument, "rating is not valid"),
        (lambda: service.acknowledge(0, LEAD), InvalidArgument, "id"),
        (lambda: service.acknowledge(99_999_999, LEAD), NotFound, "no suggestion 99999999"),
        (lambda: service.get_suggestion(99_999_999, SCO), NotFound, "no suggestion"),
    ]  # fmt: skip
    refused_writing_nothing(service, cases)


# ---------------------------------------------------------------- meetings


def test_a_meeting_from_request_to_minutes(service: Suggestions, clock: Clock) -> None:
    suggestion = assigned(service)
    meeting = service.request_meeting(
        pb.RequestMeetingRequest(
            street_id=1, department_id=5, topic="公交站点进度", suggestion_id=suggestion.id
        ),
        DEPUTY,
    )
    assert (meeting.deputy_id, meeting.status) == (7, pb.MEETING_STATUS_REQUESTED)
    when = clock.now + timedelta(days=7)
    scheduled = service.schedule_meeting(
        pb.ScheduleMeetingRequest(id=meeting.id, scheduled_for=when, place="棠下街人大工委"),
        COMMITTEE,
    )
    assert scheduled.status == pb.MEETING_STATUS_SCHEDULED
    assert scheduled.scheduled_for.ToDatetime(tzinfo=UTC) == when
    clock.now = when + timedelta(hours=3)
    held = service.record_meeting(
        pb.RecordMeetingRequest(
            id=meeting.id, held_at=when, attended_by="区交通运输局局长", minutes="局长回答提问。"
        ),
        COMMITTEE,
    )
    assert held.status == pb.MEETING_STATUS_HELD and held.minutes == "局长回答提问。"
    assert service.get_meeting(meeting.id, LEAD) == held
    check = service.verify_trail(pb.VerifySuggestionTrailRequest(meeting_id=meeting.id), WB)
    assert check.intact and check.entries == 3
    for kind in ("meeting_requested", "meeting_scheduled", "meeting_held"):
        assert events_of(service, kind), kind
    listed = service.list_meetings(pb.ListMeetingsRequest(suggestion_id=suggestion.id), COMMITTEE)
    assert [m.id for m in listed[0]] == [meeting.id]
    theirs = service.list_meetings(pb.ListMeetingsRequest(), OTHER_COMMITTEE)[0]
    assert meeting.id not in {m.id for m in theirs}
    assert [m.id for m in service.list_meetings(pb.ListMeetingsRequest(), LEAD)[0]] == [meeting.id]
    with pytest.raises(PermissionDenied):
        service.get_meeting(meeting.id, OTHER_DEPARTMENT)


def test_meeting_refusals_change_nothing(service: Suggestions, clock: Clock) -> None:
    meeting = service.request_meeting(
        pb.RequestMeetingRequest(street_id=1, deputy_id=7, department_id=5, topic="约见"),
        COMMITTEE,
    )
    unassigned = register(service)
    cases = [
        (lambda: service.request_meeting(
            pb.RequestMeetingRequest(street_id=1, department_id=5, topic="约见"), OTHER_COMMITTEE),
         PermissionDenied, "only the staff of street 1"),
        (lambda: service.request_meeting(
            pb.RequestMeetingRequest(street_id=1, department_id=5, topic="约见",
                                     suggestion_id=unassigned.id), DEPUTY),
         InvalidArgument, "cannot be requested"),
        (lambda: service.request_meeting(
            pb.RequestMeetingRequest(street_id=1, department_id=5, topic="约见",
                                     suggestion_id=99_999_999), DEPUTY),
         InvalidArgument, "suggestion_id"),
        (lambda: service.schedule_meeting(pb.ScheduleMeetingRequest(id=meeting.id, place="会议室"),
                                          COMMITTEE), InvalidArgument, "scheduled_for"),
        (lambda: service.schedule_meeting(
            pb.ScheduleMeetingRequest(id=meeting.id, scheduled_for=clock.now - timedelta(days=1),
                                      place="会议室"), COMMITTEE),
         InvalidArgument, "cannot be scheduled"),
        (lambda: service.schedule_meeting(
            pb.ScheduleMeetingRequest(id=meeting.id, scheduled_for=clock.now + timedelta(days=9),
                                      place="会议室"), DEPUTY),
         PermissionDenied, "only the street committee of street 1"),
        (lambda: service.record_meeting(
            pb.RecordMeetingRequest(id=meeting.id, held_at=clock.now, attended_by="局长",
                                    minutes="纪要"), COMMITTEE),
         FailedPrecondition, "awaits the street committee's scheduling"),
        (lambda: service.cancel_meeting(pb.CancelMeetingRequest(id=meeting.id, reason="x"),
                                        OTHER_DEPUTY), PermissionDenied, "or deputy 7"),
        (lambda: service.cancel_meeting(pb.CancelMeetingRequest(id=99_999_999, reason="x"),
                                        COMMITTEE), NotFound, "no meeting"),
    ]  # fmt: skip
    refused_writing_nothing(service, cases)
    cancelled = service.cancel_meeting(
        pb.CancelMeetingRequest(id=meeting.id, reason="问题已解决"), DEPUTY
    )
    assert cancelled.status == pb.MEETING_STATUS_CANCELLED
    assert cancelled.cancel_reason == "问题已解决"


# ---------------------------------------------------------------- over gRPC


def stub(api: Any, claims: dict[str, Any]) -> pb_grpc.SuggestionServiceStub:
    return pb_grpc.SuggestionServiceStub(with_bearer(api.channel, token(claims)))


def test_over_grpc_errors_carry_their_fields(api: Any) -> None:
    deputy = stub(api, {"sub": "test:d7", "role": "deputy", "deputy_id": 7})
    request = pb.RegisterSuggestionRequest(
        session=SESSION,
        street_id=1,
        title="增设公交站点",
        content="建议增设",
        category=pb.SUGGESTION_CATEGORY_TRANSPORT,
    )
    made = deputy.RegisterSuggestion(request)
    assert made.proposer_id == 7 and made.registered_at.seconds > 0
    with pytest.raises(grpc.RpcError) as bad:
        deputy.RegisterSuggestion(pb.RegisterSuggestionRequest(session=SESSION, street_id=1))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(bad.value)  # type: ignore[arg-type]
    assert status is not None
    assert {v.field for v in violations_from_status(status)} == {"title", "content", "category"}
    with pytest.raises(grpc.RpcError) as denied:
        deputy.AssignSuggestion(pb.AssignSuggestionRequest(id=made.id, lead_department_id=5))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    office = stub(api, {"sub": "test:sco", "role": "standing_committee_office"})
    assert (
        office.AssignSuggestion(
            pb.AssignSuggestionRequest(id=made.id, lead_department_id=5)
        ).lead_department_id
        == 5
    )
    department = stub(api, {"sub": "test:dept-5", "role": "department", "unit_id": 5})
    received = department.AcknowledgeSuggestion(pb.AcknowledgeSuggestionRequest(id=made.id))
    assert received.supervision.last_day >= date.today().isoformat()
    with pytest.raises(grpc.RpcError) as anonymous:
        pb_grpc.SuggestionServiceStub(api.channel).GetSuggestion(
            pb.GetSuggestionRequest(id=made.id)
        )
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as missing:
        office.GetMeeting(pb.GetMeetingRequest(id=99_999_999))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

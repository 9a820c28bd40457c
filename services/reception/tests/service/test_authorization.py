"""Who may do what, called on the reception service's gRPC API directly, as
anything that reaches its port would.

One table: each operation, and for each caller whether it is allowed or
which status refuses it. A refused call changes nothing: no session, no
event, no audit entry. Callers with a street act for street 1 (station A1's
street) or street 2.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from kit import audit
from kit.grpc_client import with_bearer
from kit.tables import outbox_events
from liaison.common.v1 import auth_pb2
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.reception.v1 import reception_pb2 as pb
from liaison.reception.v1 import reception_pb2_grpc as pb_grpc
from liaison.reception.v1 import rota_pb2
from liaison.registry.v1 import events_pb2 as rev
from liaison.registry.v1 import registry_pb2 as reg
from reception import domain, models
from reception.readmodel import apply_event
from reception.testing import DEPUTY_A1, STATION_A1, STREET_A, STREET_B

pytestmark = pytest.mark.postgres

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
NO_TOKEN = grpc.StatusCode.UNAUTHENTICATED

CALLERS = (
    "anonymous",
    "constituent",
    "deputy",
    "station-staff-a",
    "station-staff-b",
    "street-committee-a",
    "street-committee-b",
    "standing-committee-office",
    "working-body",
    "government-office",
    "department",
    "department-system",
    "admin",
)
DISTRICT = {"standing-committee-office", "admin"}
STAFF = set(CALLERS) - {"anonymous", "constituent"}


def allowed(*callers: str) -> dict[str, grpc.StatusCode]:
    return {c: OK if c in callers else NO_TOKEN if c == "anonymous" else DENIED for c in CALLERS}


PUBLIC = {c: OK for c in CALLERS}
STAFF_ONLY = allowed(*STAFF)
CALENDAR_OF_A = allowed(*DISTRICT, "station-staff-a", "street-committee-a")
ADMIN_ONLY = allowed("admin")

_days = itertools.count(30)


def stub(api: Any, caller: str) -> Any:
    if caller == "anonymous":
        return api.anonymous
    if caller.endswith(("-a", "-b")):
        street = STREET_A if caller.endswith("-a") else STREET_B
        role = caller[:-2].replace("-", "_")
        return api.as_({"sub": f"test:{caller}", "role": role, "street_id": street})
    return api.as_(caller)


def traces(api: Any) -> tuple[int, ...]:
    with api.db.read() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in (outbox_events, audit.audit_entries, models.ReceptionSession.__table__)
        )


def _upcoming(api: Any) -> int:
    """A new extra session of station A1, made by the admin."""
    day = domain.today() + timedelta(days=next(_days))
    return int(
        api.as_("admin")
        .AddSession(
            pb.AddSessionRequest(station_id=STATION_A1, date=day.isoformat(), reason="加开")
        )
        .id
    )


Prepare = Callable[[Any], Callable[[Any], Any]]


def _on_new_session(api: Any, operation: Callable[[Any, int], Any]) -> Callable[[Any], Any]:
    """`operation` on a session made for it beforehand."""
    session_id = _upcoming(api)
    return lambda s: operation(s, session_id)


def call(operation: Callable[[Any], Any]) -> Prepare:
    return lambda api: operation


MATRIX: list[tuple[str, Prepare, dict[str, grpc.StatusCode]]] = [
    (
        "ListSessions",
        call(
            lambda s: s.ListSessions(
                pb.ListSessionsRequest(
                    station_id=STATION_A1, **{"from": "2026-01-01", "to": "2026-12-31"}
                )
            )
        ),
        PUBLIC,
    ),
    (
        "GetSession",
        lambda api: _on_new_session(api, lambda s, i: s.GetSession(pb.GetSessionRequest(id=i))),
        PUBLIC,
    ),
    (
        "GetStationCalendar",
        call(lambda s: s.GetStationCalendar(pb.GetStationCalendarRequest(station_id=STATION_A1))),
        PUBLIC,
    ),
    (
        "GetDeputyCalendar",
        call(lambda s: s.GetDeputyCalendar(pb.GetDeputyCalendarRequest(deputy_id=DEPUTY_A1))),
        PUBLIC,
    ),
    (
        "GetStationRule",
        call(lambda s: s.GetStationRule(pb.GetStationRuleRequest(station_id=STATION_A1))),
        STAFF_ONLY,
    ),
    (
        "SetStationRule of station A1",
        call(
            lambda s: s.SetStationRule(
                pb.SetStationRuleRequest(
                    rule=pb.StationRule(
                        station_id=STATION_A1, day_off_policy=pb.DAY_OFF_POLICY_KEEP
                    )
                )
            )
        ),
        CALENDAR_OF_A,
    ),
    (
        "ScheduleSessions of station A1",
        call(
            lambda s: s.ScheduleSessions(
                pb.ScheduleSessionsRequest(station_id=STATION_A1, from_month="2027-06", months=1)
            )
        ),
        CALENDAR_OF_A,
    ),
    (
        "AddSession at station A1",
        call(
            lambda s: s.AddSession(
                pb.AddSessionRequest(
                    station_id=STATION_A1,
                    date=(domain.today() + timedelta(days=next(_days))).isoformat(),
                    reason="热点问题",
                )
            )
        ),
        CALENDAR_OF_A,
    ),
    (
        "CancelSession at station A1",
        lambda api: _on_new_session(
            api, lambda s, i: s.CancelSession(pb.CancelSessionRequest(id=i, reason="改期"))
        ),
        CALENDAR_OF_A,
    ),
    (
        "ListAuditEntries",
        call(lambda s: s.ListAuditEntries(auth_pb2.ListAuditEntriesRequest())),
        ADMIN_ONLY,
    ),
]
# ---------------------------------------------------------------- the rota

SWAPPERS = (1003, 1004)  # two more deputies of station A1, for swaps
_rota_sequence = itertools.count(10_000)


def _swappers(api: Any) -> None:
    """Deputies 1003 and 1004 at station A1 (once), as the registry's events
    would bring them."""
    with api.db.unit_of_work() as uow:
        for d in SWAPPERS:
            if uow.session.get(models.RegistryDeputy, d) is None:
                profile = reg.DeputyProfile(
                    id=d, name=f"代表{d}", street_id=STREET_A, station_id=STATION_A1, active=True
                )
                apply_event(uow.session, rev.DeputyRegistered(deputy=profile), next(_rota_sequence))


def _swap_request(api: Any) -> rota_pb2.ProposeSwapRequest:
    """A swap that can be made: on a new session of A1, its deputy who is not
    the lead hands it to the other of the two."""
    _swappers(api)
    session_id = _upcoming(api)
    rota = api.anonymous.GetRota(rota_pb2.GetRotaRequest(session_id=session_id))
    on = {d.deputy_id for d in rota.deputies}
    proposer = next(d for d in SWAPPERS if d in on)
    other = next(d for d in SWAPPERS if d not in on)
    return rota_pb2.ProposeSwapRequest(
        proposer_id=proposer, session_id=session_id, counterpart_id=other
    )


def _proposed(api: Any, decide: str) -> Callable[[Any], Any]:
    swap = api.as_("admin").ProposeSwap(_swap_request(api))
    return lambda s: getattr(s, decide)(rota_pb2.DecideSwapRequest(id=swap.id))


def _declared(api: Any) -> Callable[[Any], Any]:
    away = api.as_("admin").DeclareUnavailability(_away_request())
    return lambda s: s.WithdrawUnavailability(
        rota_pb2.WithdrawUnavailabilityRequest(deputy_id=DEPUTY_A1, id=away.id)
    )


def _away_request() -> rota_pb2.DeclareUnavailabilityRequest:
    day = (domain.today() + timedelta(days=next(_days))).isoformat()
    return rota_pb2.DeclareUnavailabilityRequest(
        deputy_id=DEPUTY_A1, first_day=day, last_day=day, reason="出差"
    )


def _proposal(api: Any) -> Callable[[Any], Any]:
    request = _swap_request(api)
    return lambda s: s.ProposeSwap(request)


MATRIX += [
    (
        "GetRota",
        lambda api: _on_new_session(
            api, lambda s, i: s.GetRota(rota_pb2.GetRotaRequest(session_id=i))
        ),
        PUBLIC,
    ),
    (
        "SetRota at station A1",
        lambda api: _on_new_session(
            api,
            lambda s, i: s.SetRota(
                rota_pb2.SetRotaRequest(
                    session_id=i, deputies=[rota_pb2.RotaPick(deputy_id=DEPUTY_A1)]
                )
            ),
        ),
        CALENDAR_OF_A,
    ),
    (
        "GenerateRota of station A1",
        call(
            lambda s: s.GenerateRota(rota_pb2.GenerateRotaRequest(station_id=STATION_A1, months=2))
        ),
        CALENDAR_OF_A,
    ),
    (
        "DeclareUnavailability of a deputy of A1",
        call(lambda s: s.DeclareUnavailability(_away_request())),
        CALENDAR_OF_A,
    ),
    (
        "ListUnavailability of a deputy of A1",
        call(
            lambda s: s.ListUnavailability(rota_pb2.ListUnavailabilityRequest(deputy_id=DEPUTY_A1))
        ),
        CALENDAR_OF_A,
    ),
    ("WithdrawUnavailability of a deputy of A1", _declared, CALENDAR_OF_A),
    ("ProposeSwap at station A1", _proposal, CALENDAR_OF_A),
    ("AcceptSwap at station A1", lambda api: _proposed(api, "AcceptSwap"), CALENDAR_OF_A),
    ("DeclineSwap at station A1", lambda api: _proposed(api, "DeclineSwap"), CALENDAR_OF_A),
    (
        "ListSwaps of station A1",
        call(lambda s: s.ListSwaps(rota_pb2.ListSwapsRequest(station_id=STATION_A1))),
        CALENDAR_OF_A,
    ),
]


# ---------------------------------------------------------------- opinions and reception records

TRIAGE_OF_A = allowed(*DISTRICT, "station-staff-a", "street-committee-a")
_past = itertools.count(1)


def _held(api: Any) -> int:
    """A session of station A1 held some days ago, with deputy A1 on its rota."""
    day = domain.today() - timedelta(days=next(_past))
    with api.db.unit_of_work() as uow:
        row = models.ReceptionSession(
            station_id=STATION_A1,
            kind=domain.EXTRA,
            key_date=day,
            session_date=day,
            status=domain.SCHEDULED,
            reason="接待日",
        )
        uow.session.add(row)
        uow.session.flush()
        uow.session.add(models.RotaAssignment(session_id=row.id, deputy_id=DEPUTY_A1))
        return int(row.id)


def _online(**fields: Any) -> opb.RecordOpinionRequest:
    values: dict[str, Any] = {
        "source": opb.OPINION_SOURCE_ONLINE,
        "category": opb.OPINION_CATEGORY_TRANSPORT,
        "content": "路口红绿灯时间太短",
        "community_id": 501,
        "raiser_name": "陈先生",
        "raiser_phone": "13800000000",
    } | fields
    return opb.RecordOpinionRequest(**values)


def _opinion(api: Any, **fields: Any) -> opb.Opinion:
    """An opinion of street 1, recorded by the admin."""
    return api.as_("admin").RecordOpinion(_online(**fields))  # type: ignore[no-any-return]


def _on_opinion(operation: Callable[[Any, opb.Opinion], Any], **fields: Any) -> Prepare:
    def prepare(api: Any) -> Callable[[Any], Any]:
        opinion = _opinion(api, **fields)
        return lambda s: operation(s, opinion)

    return prepare


def _on_held(operation: Callable[[Any, int], Any]) -> Prepare:
    def prepare(api: Any) -> Callable[[Any], Any]:
        session_id = _held(api)
        return lambda s: operation(s, session_id)

    return prepare


def _on_recorded(operation: Callable[[Any, int], Any]) -> Prepare:
    def prepare(api: Any) -> Callable[[Any], Any]:
        session_id = _held(api)
        api.as_("admin").PutReceptionRecord(
            opb.PutReceptionRecordRequest(session_id=session_id, person_times=3)
        )
        return lambda s: operation(s, session_id)

    return prepare


ORDER = {"source": opb.OPINION_SOURCE_ORDER, "raiser_name": "", "raiser_phone": ""}

MATRIX += [
    ("RecordOpinion online", call(lambda s: s.RecordOpinion(_online())), PUBLIC),
    (
        "RecordOpinion at a reception of station A1",
        _on_held(
            lambda s, i: s.RecordOpinion(
                _online(source=opb.OPINION_SOURCE_RECEPTION, community_id=0, session_id=i)
            )
        ),
        TRIAGE_OF_A,
    ),
    (
        "RecordOpinion an order of street 1",
        call(lambda s: s.RecordOpinion(_online(**ORDER))),
        allowed(*DISTRICT, "street-committee-a"),
    ),
    (
        "TrackOpinion",
        _on_opinion(
            lambda s, o: s.TrackOpinion(opb.TrackOpinionRequest(tracking_code=o.tracking_code))
        ),
        PUBLIC,
    ),
    (
        "ListPublicOpinions",
        call(lambda s: s.ListPublicOpinions(opb.ListPublicOpinionsRequest(limit=5))),
        PUBLIC,
    ),
    (
        "ListOpinionCategories",
        call(lambda s: s.ListOpinionCategories(opb.ListOpinionCategoriesRequest())),
        PUBLIC,
    ),
    (
        "ListOpinions",
        call(lambda s: s.ListOpinions(opb.ListOpinionsRequest())),
        allowed(*DISTRICT, *(c for c in CALLERS if c.endswith(("-a", "-b"))), "deputy"),
    ),
    (
        "GetOpinion of street 1",
        _on_opinion(lambda s, o: s.GetOpinion(opb.GetOpinionRequest(id=o.id))),
        allowed(*DISTRICT, "station-staff-a", "street-committee-a", "working-body", "deputy"),
    ),
    (
        "AnswerOpinion of street 1",
        _on_opinion(
            lambda s, o: s.AnswerOpinion(opb.AnswerOpinionRequest(id=o.id, answer="已答复"))
        ),
        TRIAGE_OF_A,
    ),
    (
        "HandOnOpinion of street 1",
        _on_opinion(lambda s, o: s.HandOnOpinion(opb.HandOnOpinionRequest(id=o.id))),
        TRIAGE_OF_A,
    ),
    (
        "MergeOpinion of street 1",
        lambda api: (
            lambda into: _on_opinion(
                lambda s, o: s.MergeOpinion(opb.MergeOpinionRequest(id=o.id, into_id=into))
            )(api)
        )(_opinion(api).id),
        TRIAGE_OF_A,
    ),
    (
        "DeclineOpinion of street 1",
        _on_opinion(
            lambda s, o: s.DeclineOpinion(opb.DeclineOpinionRequest(id=o.id, reason="重复"))
        ),
        TRIAGE_OF_A,
    ),
    (
        "AssignOpinion of street 1",
        _on_opinion(
            lambda s, o: s.AssignOpinion(opb.AssignOpinionRequest(id=o.id, deputy_id=DEPUTY_A1))
        ),
        TRIAGE_OF_A,
    ),
    (
        "CompleteOpinion an order of street 1",
        _on_opinion(
            lambda s, o: s.CompleteOpinion(opb.CompleteOpinionRequest(id=o.id, answer="已办结")),
            taken_by_deputy_id=DEPUTY_A1,
            **ORDER,
        ),
        TRIAGE_OF_A,
    ),
    (
        "SuggestDeputies of street 1",
        _on_opinion(lambda s, o: s.SuggestDeputies(opb.SuggestDeputiesRequest(id=o.id))),
        TRIAGE_OF_A,
    ),
    (
        "PutReceptionRecord at station A1",
        _on_held(
            lambda s, i: s.PutReceptionRecord(
                opb.PutReceptionRecordRequest(session_id=i, deputy_ids=[DEPUTY_A1], person_times=4)
            )
        ),
        TRIAGE_OF_A,
    ),
    (
        "GetReceptionRecord at station A1",
        _on_recorded(
            lambda s, i: s.GetReceptionRecord(opb.GetReceptionRecordRequest(session_id=i))
        ),
        TRIAGE_OF_A,
    ),
    (
        "GetReceptionFigures",
        call(
            lambda s: s.GetReceptionFigures(
                opb.GetReceptionFiguresRequest(street_id=STREET_A, year=2026)
            )
        ),
        PUBLIC,
    ),
]

CASES = [
    pytest.param(op, caller, expected[caller], id=f"{name}-{caller}")
    for name, op, expected in MATRIX
    for caller in CALLERS
]


def test_the_matrix_names_every_caller_of_every_operation() -> None:
    assert all(set(expected) == set(CALLERS) for _, _, expected in MATRIX)
    assert len(CASES) == len(MATRIX) * len(CALLERS)


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_authorisation_matrix(api: Any, operation: Prepare, caller: str, expected: Any) -> None:
    make_call = operation(api)
    before = traces(api)
    try:
        make_call(stub(api, caller))
        code = OK
    except grpc.RpcError as error:
        code = error.code()  # type: ignore[attr-defined]
    assert code == expected
    if expected is not OK:
        assert traces(api) == before, "a refused call leaves no session, event or audit entry"


def test_street_staff_schedule_only_their_own_streets_stations(api: Any) -> None:
    done = stub(api, "station-staff-b").ScheduleSessions(
        pb.ScheduleSessionsRequest(from_month="2027-09", months=1)
    )
    assert {s.street_id for s in done.sessions} == {STREET_B}
    assert done.created == 1


def test_a_deputy_acts_on_their_own_rota_only(api: Any) -> None:
    """The deputy's side of the rota: a deputy declares their own
    unavailability and proposes and decides their own swaps, never
    another's."""
    request = _swap_request(api)
    proposer = api.as_({"sub": "test:p", "role": "deputy", "deputy_id": request.proposer_id})
    other = api.as_({"sub": "test:o", "role": "deputy", "deputy_id": request.counterpart_id})
    with pytest.raises(grpc.RpcError) as refused:
        other.ProposeSwap(request)
    assert refused.value.code() == DENIED  # type: ignore[attr-defined]
    swap = proposer.ProposeSwap(request)
    with pytest.raises(grpc.RpcError) as refused:
        proposer.AcceptSwap(rota_pb2.DecideSwapRequest(id=swap.id))
    assert refused.value.code() == DENIED  # type: ignore[attr-defined]
    assert other.AcceptSwap(rota_pb2.DecideSwapRequest(id=swap.id)).decided_by_role == "deputy"
    away = _away_request()
    away.deputy_id = request.proposer_id
    assert proposer.DeclareUnavailability(away).deputy_id == request.proposer_id
    with pytest.raises(grpc.RpcError) as refused:
        other.DeclareUnavailability(away)
    assert refused.value.code() == DENIED  # type: ignore[attr-defined]


def test_a_bad_token_is_refused_even_on_public_reads(api: Any) -> None:
    forged = pb_grpc.ReceptionServiceStub(with_bearer(api.channel, "not.a.token"))
    with pytest.raises(grpc.RpcError) as refused:
        forged.GetSession(pb.GetSessionRequest(id=1))
    assert refused.value.code() == NO_TOKEN  # type: ignore[attr-defined]


# ---------------------------------------------------------------- bookings
# The demo deputy's token names deputy 1: on the rota of some sessions below
# ("the deputy receives at it"), not of others.

from liaison.reception.v1 import bookings_pb2 as bpb  # noqa: E402
from reception.testing import put_on_rota, seed_session  # noqa: E402

SESSION_STAFF_OF_A = (*DISTRICT, "station-staff-a", "street-committee-a")
_booking_phones = itertools.count(1)


def _booking_request(session_id: int, slot_id: int) -> Any:
    return bpb.BookSlotRequest(
        session_id=session_id,
        slot_id=slot_id,
        name="测试选民",
        phone=f"1370000{next(_booking_phones):04d}",
        community_id=501,
        topic="道路维修",
    )


def _bookings_case(
    operation: Callable[[Any, Any, Any], Any],
    *,
    on_rota: bool = False,
    booked_by: str | None = "anonymous",
) -> Prepare:
    """`operation(stub, bpb, ids)` on a session of station A1 today (its
    slots an hour ahead), with the demo deputy on its rota when `on_rota`,
    and one booking made by `booked_by` beforehand (ids: session, slot,
    booking, cancel code)."""

    def prepare(api: Any) -> Callable[[Any], Any]:
        session_id, slots = seed_session(api.db, capacity=50)
        if on_rota:
            put_on_rota(api.db, session_id, 1)
        booking_id, code = 0, ""
        if booked_by is not None:
            made = stub(api, booked_by).BookSlot(_booking_request(session_id, slots[0]))
            booking_id, code = made.booking.id, made.cancel_code
        ids = {"session": session_id, "slot": slots[0], "booking": booking_id, "code": code}
        return lambda s: operation(s, bpb, ids)

    return prepare


BOOKINGS_MATRIX: list[tuple[str, Prepare, dict[str, grpc.StatusCode]]] = [
    (
        "BookSlot",
        _bookings_case(
            lambda s, bpb, i: s.BookSlot(_booking_request(i["session"], i["slot"])),
            booked_by=None,
        ),
        PUBLIC,
    ),
    (
        "GetAvailability",
        _bookings_case(
            lambda s, bpb, i: s.GetAvailability(bpb.GetAvailabilityRequest(session_id=i["session"]))
        ),
        PUBLIC,
    ),
    (
        "ListSessionBookings of a session the deputy receives at",
        _bookings_case(
            lambda s, bpb, i: s.ListSessionBookings(
                bpb.ListSessionBookingsRequest(session_id=i["session"])
            ),
            on_rota=True,
        ),
        allowed(*SESSION_STAFF_OF_A, "deputy"),
    ),
    (
        "ListSessionBookings of a session the deputy is not on",
        _bookings_case(
            lambda s, bpb, i: s.ListSessionBookings(
                bpb.ListSessionBookingsRequest(session_id=i["session"])
            )
        ),
        allowed(*SESSION_STAFF_OF_A),
    ),
    (
        "ListMyBookings",
        call(lambda s: s.ListMyBookings(bpb.ListMyBookingsRequest())),
        allowed("constituent"),
    ),
    (
        "CancelBooking of another's booking, without a code",
        _bookings_case(
            lambda s, bpb, i: s.CancelBooking(bpb.CancelBookingRequest(booking_id=i["booking"]))
        ),
        allowed(*SESSION_STAFF_OF_A),
    ),
    (
        "CancelBooking of the constituent's own booking",
        _bookings_case(
            lambda s, bpb, i: s.CancelBooking(bpb.CancelBookingRequest(booking_id=i["booking"])),
            booked_by="constituent",
        ),
        allowed(*SESSION_STAFF_OF_A, "constituent"),
    ),
    (
        "CancelBooking with its cancel code",
        _bookings_case(
            lambda s, bpb, i: s.CancelBooking(
                bpb.CancelBookingRequest(booking_id=i["booking"], cancel_code=i["code"])
            )
        ),
        PUBLIC,
    ),
    (
        "RecordWalkIn at a session the deputy receives at",
        _bookings_case(
            lambda s, bpb, i: s.RecordWalkIn(
                bpb.RecordWalkInRequest(session_id=i["session"], community_id=501, topic="噪音")
            ),
            on_rota=True,
        ),
        allowed(*SESSION_STAFF_OF_A, "deputy"),
    ),
    (
        "RecordWalkIn at a session the deputy is not on",
        _bookings_case(
            lambda s, bpb, i: s.RecordWalkIn(
                bpb.RecordWalkInRequest(session_id=i["session"], community_id=501, topic="噪音")
            )
        ),
        allowed(*SESSION_STAFF_OF_A),
    ),
    (
        "MarkAttendance at a session the deputy receives at",
        _bookings_case(
            lambda s, bpb, i: s.MarkAttendance(
                bpb.MarkAttendanceRequest(
                    booking_id=i["booking"], attendance=bpb.ATTENDANCE_ATTENDED
                )
            ),
            on_rota=True,
        ),
        allowed(*SESSION_STAFF_OF_A, "deputy"),
    ),
    (
        "MarkAttendance at a session the deputy is not on",
        _bookings_case(
            lambda s, bpb, i: s.MarkAttendance(
                bpb.MarkAttendanceRequest(
                    booking_id=i["booking"], attendance=bpb.ATTENDANCE_NO_SHOW
                )
            )
        ),
        allowed(*SESSION_STAFF_OF_A),
    ),
]
BOOKINGS_CASES = [
    pytest.param(op, caller, expected[caller], id=f"{name}-{caller}")
    for name, op, expected in BOOKINGS_MATRIX
    for caller in CALLERS
]


def test_the_bookings_matrix_names_every_caller_of_every_operation() -> None:
    assert all(set(expected) == set(CALLERS) for _, _, expected in BOOKINGS_MATRIX)
    named = {name.split(" ")[0] for name, _, _ in BOOKINGS_MATRIX}
    bookings_rpcs = {
        "BookSlot",
        "CancelBooking",
        "GetAvailability",
        "ListSessionBookings",
        "ListMyBookings",
        "RecordWalkIn",
        "MarkAttendance",
    }
    assert named == bookings_rpcs


@pytest.mark.parametrize(("operation", "caller", "expected"), BOOKINGS_CASES)
def test_authorisation_matrix_of_bookings(
    api: Any, operation: Prepare, caller: str, expected: Any
) -> None:
    test_authorisation_matrix(api, operation, caller, expected)

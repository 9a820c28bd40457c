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

"""The rota over gRPC, on PostgreSQL: drawing a station's rotas (fair,
idempotent, a head on each), new sessions given one, rotas set by hand,
unavailability, swaps (atomic), and deputies leaving the station through
the registry's events; every bad input a clear error with nothing written."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import grpc
import pytest
from grpc_status import rpc_status
from sqlalchemy import delete, func, select, update

from kit import audit
from kit.auth import Principal
from kit.errors import violations_from_status
from kit.tables import outbox_events
from liaison.reception.v1 import reception_pb2 as pb
from liaison.reception.v1 import rota_pb2 as rpb
from liaison.registry.v1 import events_pb2 as rev
from liaison.registry.v1 import registry_pb2 as reg
from reception import domain, models
from reception.readmodel import apply_event
from reception.testing import DEPUTY_A1, DEPUTY_A2, DEPUTY_B1, STATION_A1, STATION_A2, STREET_A

pytestmark = pytest.mark.postgres

# Station A1: head DEPUTY_A1 (from the snapshot), deputy head 1106, and five more.
HEAD2 = 1106
OTHERS = [1101, 1102, 1103, 1104, 1105]
A1_DEPUTIES = [DEPUTY_A1, HEAD2, *OTHERS]
_sequence = itertools.count(100)


def fails(call: Any, request: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=30)
    return caught.value


def problems(error: grpc.RpcError) -> str:
    """The error's message and every field violation, as one text."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    found = violations_from_status(status) if status else []
    return " | ".join([error.details(), *(f"{v.field}: {v.description}" for v in found)])  # type: ignore[attr-defined]


def traces(api: Any) -> tuple[int, ...]:
    with api.db.read() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in (
                outbox_events,
                audit.audit_entries,
                models.RotaAssignment.__table__,
                models.RotaSwap.__table__,
                models.Unavailability.__table__,
            )
        )


def registry_event(api: Any, event: Any) -> None:
    """What the worker's handler does with one registry event."""
    with api.db.unit_of_work() as uow:
        touched = apply_event(uow.session, event, next(_sequence))
        api.reception.rota.after_registry_event(
            uow, Principal.system("test"), touched, "deputy_left"
        )


def profile(deputy_id: int, station_id: int, active: bool = True) -> reg.DeputyProfile:
    return reg.DeputyProfile(
        id=deputy_id,
        name=f"代表{deputy_id}",
        street_id=STREET_A,
        station_id=station_id,
        level=reg.DEPUTY_LEVEL_CITY,
        active=active,
    )


def deputy(api: Any, deputy_id: int) -> Any:
    return api.as_({"sub": f"test:d{deputy_id}", "role": "deputy", "deputy_id": deputy_id})


def month(offset: int) -> date:
    first = domain.today().replace(day=1)
    for _ in range(offset):
        first = (first + timedelta(days=32)).replace(day=1)
    return first


@pytest.fixture(scope="module")
def district(api: Any) -> Iterator[Any]:
    """Station A1's deputies, and a year of its sessions ahead."""
    for d in [HEAD2, *OTHERS]:
        registry_event(api, rev.DeputyRegistered(deputy=profile(d, STATION_A1)))
    registry_event(
        api,
        rev.PositionFilled(
            position=rev.PositionHeld(
                id=9003,
                role=reg.POSITION_ROLE_STATION_DEPUTY_HEAD,
                station_id=STATION_A1,
                deputy_id=HEAD2,
            )
        ),
    )
    start = month(1)
    api.as_("admin").ScheduleSessions(
        pb.ScheduleSessionsRequest(
            station_id=STATION_A1, from_month=f"{start.year}-{start.month:02d}", months=12
        )
    )
    yield api


def sessions_ahead(api: Any, station_id: int = STATION_A1) -> list[pb.Session]:
    first = month(1)
    reply = api.anonymous.ListSessions(
        pb.ListSessionsRequest(
            station_id=station_id,
            **{"from": first.isoformat(), "to": (first + timedelta(days=399)).isoformat()},
        )
    )
    return [s for s in reply.sessions if s.status == pb.SESSION_STATUS_SCHEDULED]


def rota_of(api: Any, session_id: int) -> rpb.SessionRota:
    return api.anonymous.GetRota(rpb.GetRotaRequest(session_id=session_id))


def ids(r: rpb.SessionRota) -> list[int]:
    return [d.deputy_id for d in r.deputies]


def test_scheduled_sessions_get_a_fair_rota_led_by_a_head(district: Any) -> None:
    rotas = [rota_of(district, s.id) for s in sessions_ahead(district)]
    assert len(rotas) == 12
    for r in rotas:
        assert r.status == rpb.ROTA_STATUS_COMPLETE and not r.gaps
        assert len(r.deputies) == 2
        assert r.deputies[0].lead and r.deputies[0].deputy_id in (DEPUTY_A1, HEAD2)
        assert r.deputies[0].name and r.deputies[0].level
    for year in {r.date[:4] for r in rotas}:  # fair over each year
        counts = Counter(d for r in rotas if r.date.startswith(year) for d in ids(r))
        heads = [counts[DEPUTY_A1], counts[HEAD2]]
        assert max(heads) - min(heads) <= 1
        others = [counts[d] for d in OTHERS]
        assert max(others) - min(others) <= 1


def test_generating_again_keeps_published_rotas_unless_asked(district: Any) -> None:
    admin = district.as_("admin")
    start = month(1)
    request = rpb.GenerateRotaRequest(
        station_id=STATION_A1, from_month=f"{start.year}-{start.month:02d}", months=12
    )
    before = [ids(rota_of(district, s.id)) for s in sessions_ahead(district)]
    again = admin.GenerateRota(request)
    assert (again.published, again.kept) == (0, 12)
    assert [ids(rota_of(district, s.id)) for s in sessions_ahead(district)] == before
    request.regenerate = True
    redrawn = admin.GenerateRota(request)
    assert redrawn.published == 12
    assert all(r.status == rpb.ROTA_STATUS_COMPLETE for r in redrawn.rotas)


def test_a_station_without_heads_or_deputies_is_flagged(district: Any) -> None:
    start = month(2)
    district.as_("admin").ScheduleSessions(
        pb.ScheduleSessionsRequest(
            station_id=STATION_A2, from_month=f"{start.year}-{start.month:02d}", months=1
        )
    )
    (session,) = sessions_ahead(district, STATION_A2)
    r = rota_of(district, session.id)
    assert r.status == rpb.ROTA_STATUS_GAPS
    assert list(r.gaps) == ["no_head_available", "too_few_deputies"]
    assert ids(r) == [DEPUTY_A2]


def test_a_rota_set_by_hand(district: Any) -> None:
    session = sessions_ahead(district)[3]
    staff = district.as_({"sub": "test:staff", "role": "station_staff", "street_id": STREET_A})
    r = staff.SetRota(
        rpb.SetRotaRequest(
            session_id=session.id,
            deputies=[rpb.RotaPick(deputy_id=1101), rpb.RotaPick(deputy_id=HEAD2)],
        )
    )
    assert [(d.deputy_id, d.lead) for d in r.deputies] == [(HEAD2, True), (1101, False)]
    assert r.status == rpb.ROTA_STATUS_COMPLETE
    alone = staff.SetRota(
        rpb.SetRotaRequest(session_id=session.id, deputies=[rpb.RotaPick(deputy_id=DEPUTY_A1)])
    )
    assert alone.status == rpb.ROTA_STATUS_GAPS and list(alone.gaps) == ["too_few_deputies"]


@pytest.mark.parametrize(
    ("picks", "field", "words"),
    [
        ([1101, 1102], "deputies", "no station head"),
        ([DEPUTY_A1, DEPUTY_B1], "deputies[1].deputy_id", "not of station"),
        ([DEPUTY_A1, 999999], "deputies[1].deputy_id", "no deputy has id"),
        ([DEPUTY_A1, DEPUTY_A1], "deputies[1].deputy_id", "twice"),
        ([], "deputies", "is required"),
    ],
)
def test_a_bad_rota_is_refused_naming_the_problem(
    district: Any, picks: list[int], field: str, words: str
) -> None:
    session = sessions_ahead(district)[4]
    before, rota = traces(district), ids(rota_of(district, session.id))
    error = fails(
        district.as_("admin").SetRota,
        rpb.SetRotaRequest(
            session_id=session.id, deputies=[rpb.RotaPick(deputy_id=d) for d in picks]
        ),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"{field}: " in problems(error) and words in problems(error)
    assert traces(district) == before and ids(rota_of(district, session.id)) == rota


def test_a_lead_must_be_a_head_and_past_or_cancelled_sessions_keep_their_rota(
    district: Any,
) -> None:
    admin = district.as_("admin")
    session = sessions_ahead(district)[5]
    error = fails(
        admin.SetRota,
        rpb.SetRotaRequest(
            session_id=session.id,
            deputies=[rpb.RotaPick(deputy_id=1101, lead=True), rpb.RotaPick(deputy_id=HEAD2)],
        ),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    past = admin.ScheduleSessions(
        pb.ScheduleSessionsRequest(station_id=STATION_A1, from_month="2025-01", months=1)
    ).sessions[0]
    picks = [rpb.RotaPick(deputy_id=DEPUTY_A1), rpb.RotaPick(deputy_id=1101)]
    assert (
        fails(admin.SetRota, rpb.SetRotaRequest(session_id=past.id, deputies=picks)).code()
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    admin.CancelSession(pb.CancelSessionRequest(id=session.id, reason="场地维修"))
    error = fails(admin.SetRota, rpb.SetRotaRequest(session_id=session.id, deputies=picks))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "cancelled" in error.details()


def test_unavailability_takes_a_deputy_off_and_fills_the_gap(district: Any) -> None:
    sessions = sessions_ahead(district)
    target = next(s for s in sessions[6:] if 1103 in ids(rota_of(district, s.id)))
    day = date.fromisoformat(target.date)
    me = deputy(district, 1103)
    away = me.DeclareUnavailability(
        rpb.DeclareUnavailabilityRequest(
            deputy_id=1103,
            first_day=day.isoformat(),
            last_day=(day + timedelta(days=1)).isoformat(),
            reason="出差",
        )
    )
    r = rota_of(district, target.id)
    assert 1103 not in ids(r) and len(r.deputies) == 2 and r.deputies[0].lead
    listed = me.ListUnavailability(rpb.ListUnavailabilityRequest(deputy_id=1103))
    assert [(u.id, u.reason) for u in listed.items] == [(away.id, "出差")]
    # Another deputy may neither declare nor read it.
    other = deputy(district, 1104)
    assert (
        fails(other.ListUnavailability, rpb.ListUnavailabilityRequest(deputy_id=1103)).code()
        == grpc.StatusCode.PERMISSION_DENIED
    )
    # Nor may staff put them back on that day by hand.
    error = fails(
        district.as_("admin").SetRota,
        rpb.SetRotaRequest(
            session_id=target.id,
            deputies=[rpb.RotaPick(deputy_id=DEPUTY_A1), rpb.RotaPick(deputy_id=1103)],
        ),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "deputies[1].deputy_id: deputy 1103 declared themself unavailable" in problems(error)
    with district.db.read() as session:
        bodies = session.scalars(
            select(outbox_events.c.body).where(outbox_events.c.type == "deputy_unavailable")
        ).all()
    assert bodies and all("出差" not in b for b in bodies), "the reason stays out of events"
    withdrawn = me.WithdrawUnavailability(
        rpb.WithdrawUnavailabilityRequest(deputy_id=1103, id=away.id)
    )
    assert withdrawn.HasField("withdrawn_at")
    assert not me.ListUnavailability(rpb.ListUnavailabilityRequest(deputy_id=1103)).items


def test_bad_unavailability_is_refused(district: Any) -> None:
    me = deputy(district, 1104)
    before = traces(district)
    error = fails(
        me.DeclareUnavailability,
        rpb.DeclareUnavailabilityRequest(
            deputy_id=1104, first_day="2020-01-01", last_day="2019-01-01", reason=""
        ),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    for field in ("first_day: is in the past", "last_day: is before", "reason: is required"):
        assert field in problems(error)
    assert traces(district) == before


def _pair(api: Any) -> tuple[pb.Session, int, pb.Session, int]:
    """Two sessions ahead and a deputy of each who is not on the other's,
    neither of them the lead."""
    sessions = sessions_ahead(api)[7:]
    for x, y in itertools.permutations(sessions, 2):
        rx, ry = rota_of(api, x.id), rota_of(api, y.id)
        px = [d.deputy_id for d in rx.deputies if not d.lead and d.deputy_id not in ids(ry)]
        py = [d.deputy_id for d in ry.deputies if not d.lead and d.deputy_id not in ids(rx)]
        if px and py:
            return x, px[0], y, py[0]
    raise AssertionError("no two sessions to swap")


def test_a_swap_proposed_and_accepted_changes_both_rotas(district: Any) -> None:
    x, px, y, py = _pair(district)
    swap = deputy(district, px).ProposeSwap(
        rpb.ProposeSwapRequest(
            proposer_id=px, session_id=x.id, counterpart_id=py, counterpart_session_id=y.id
        )
    )
    assert swap.status == rpb.SWAP_STATUS_PROPOSED
    assert (
        fails(deputy(district, px).AcceptSwap, rpb.DecideSwapRequest(id=swap.id)).code()
        == grpc.StatusCode.PERMISSION_DENIED
    ), "the proposer does not accept their own proposal"
    listed = deputy(district, py).ListSwaps(rpb.ListSwapsRequest(deputy_id=py))
    assert swap.id in [s.id for s in listed.swaps]
    done = deputy(district, py).AcceptSwap(rpb.DecideSwapRequest(id=swap.id))
    assert done.status == rpb.SWAP_STATUS_ACCEPTED and done.decided_by_role == "deputy"
    assert py in ids(rota_of(district, x.id)) and px not in ids(rota_of(district, x.id))
    assert px in ids(rota_of(district, y.id)) and py not in ids(rota_of(district, y.id))
    again = fails(deputy(district, py).AcceptSwap, rpb.DecideSwapRequest(id=swap.id))
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_swap_with_a_deputy_of_another_station_is_refused(district: Any) -> None:
    x, px, _, _ = _pair(district)
    before = traces(district)
    error = fails(
        deputy(district, px).ProposeSwap,
        rpb.ProposeSwapRequest(proposer_id=px, session_id=x.id, counterpart_id=DEPUTY_B1),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"counterpart_id: deputy {DEPUTY_B1} is a deputy of station" in problems(error)
    assert f"not of station {STATION_A1}" in problems(error)
    error = fails(
        deputy(district, px).ProposeSwap,
        rpb.ProposeSwapRequest(proposer_id=1 + px, session_id=x.id, counterpart_id=1101),
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED, "a deputy proposes as themself"
    assert traces(district) == before


def test_a_swap_that_would_leave_a_session_without_a_head_changes_nothing(district: Any) -> None:
    sessions = sessions_ahead(district)[7:]
    for x, y in itertools.permutations(sessions, 2):
        rx, ry = rota_of(district, x.id), rota_of(district, y.id)
        px = [d.deputy_id for d in rx.deputies if not d.lead and d.deputy_id not in ids(ry)]
        lead_y = ry.deputies[0].deputy_id
        if px and lead_y not in ids(rx):
            break
    else:
        raise AssertionError("no two sessions to swap")
    swap = district.as_("admin").ProposeSwap(
        rpb.ProposeSwapRequest(
            proposer_id=px[0], session_id=x.id, counterpart_id=lead_y, counterpart_session_id=y.id
        )
    )
    before = traces(district), ids(rota_of(district, x.id)), ids(rota_of(district, y.id))
    error = fails(deputy(district, lead_y).AcceptSwap, rpb.DecideSwapRequest(id=swap.id))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "without a station head" in error.details()
    after = traces(district), ids(rota_of(district, x.id)), ids(rota_of(district, y.id))
    assert after == before, "neither rota changed"
    declined = deputy(district, lead_y).DeclineSwap(rpb.DecideSwapRequest(id=swap.id))
    assert declined.status == rpb.SWAP_STATUS_DECLINED


def test_a_deputy_moved_or_deactivated_leaves_the_rotas_ahead(district: Any) -> None:
    def on_rotas(d: int) -> list[int]:
        return [s.id for s in sessions_ahead(district) if d in ids(rota_of(district, s.id))]

    with district.db.read() as session:
        past_before = session.scalar(
            select(func.count())
            .select_from(models.RotaAssignment)
            .join(models.ReceptionSession)
            .where(models.ReceptionSession.session_date < domain.today())
        )
    moved = 1105
    assert on_rotas(moved)
    registry_event(district, rev.DeputyReassigned(deputy=profile(moved, STATION_A2)))
    assert not on_rotas(moved)
    gone = 1101
    assert on_rotas(gone)
    registry_event(district, rev.DeputyDeactivated(deputy=profile(gone, STATION_A1, False)))
    assert not on_rotas(gone)
    for s in sessions_ahead(district):
        r = rota_of(district, s.id)
        assert len(r.deputies) == 2 and r.deputies[0].lead, "every gap was filled"
    with district.db.read() as session:
        changed = session.scalars(
            select(outbox_events.c.body).where(outbox_events.c.type == "rota_changed")
        ).all()
        past_after = session.scalar(
            select(func.count())
            .select_from(models.RotaAssignment)
            .join(models.ReceptionSession)
            .where(models.ReceptionSession.session_date < domain.today())
        )
    assert any(json.loads(b)["payload"]["cause"] == "deputy_left" for b in changed)
    assert past_after == past_before, "past rotas are what happened"


def test_a_head_leaving_flags_sessions_when_no_head_is_left(district: Any) -> None:
    # Station A1's two heads both leave their posts: the rotas ahead are flagged.
    with district.db.unit_of_work() as uow:
        uow.session.execute(
            update(models.RegistryPosition)
            .where(models.RegistryPosition.station_id == STATION_A1)
            .values(ended_on=domain.today())
        )
        district.reception.rota.after_registry_event(
            uow, Principal.system("test"), [STATION_A1], "head_changed"
        )
    r = rota_of(district, sessions_ahead(district)[-1].id)
    assert r.status == rpb.ROTA_STATUS_GAPS and "no_head_available" in r.gaps
    with district.db.unit_of_work() as uow:
        uow.session.execute(
            update(models.RegistryPosition)
            .where(models.RegistryPosition.station_id == STATION_A1)
            .values(ended_on=None)
        )
        district.reception.rota.after_registry_event(
            uow, Principal.system("test"), [STATION_A1], "head_changed"
        )
    assert rota_of(district, sessions_ahead(district)[-1].id).status == rpb.ROTA_STATUS_COMPLETE


def test_a_deputys_calendar_holds_the_sessions_of_their_rota(district: Any) -> None:
    mine = {s.id for s in sessions_ahead(district) if HEAD2 in ids(rota_of(district, s.id))}
    feed = district.anonymous.GetDeputyCalendar(pb.GetDeputyCalendarRequest(deputy_id=HEAD2))
    assert mine and feed.content.count("BEGIN:VEVENT") >= len(mine)
    others = {s.id for s in sessions_ahead(district)} - mine
    assert others, "the deputy is not on every session"
    every = district.anonymous.GetStationCalendar(
        pb.GetStationCalendarRequest(station_id=STATION_A1)
    )
    assert feed.content.count("BEGIN:VEVENT") < every.content.count("BEGIN:VEVENT")


def test_todays_rota_may_still_change(district: Any) -> None:
    admin = district.as_("admin")
    today = admin.AddSession(
        pb.AddSessionRequest(station_id=STATION_A1, date=domain.today().isoformat(), reason="加开")
    )
    assert rota_of(district, today.id).status == rpb.ROTA_STATUS_COMPLETE
    r = admin.SetRota(
        rpb.SetRotaRequest(
            session_id=today.id,
            deputies=[rpb.RotaPick(deputy_id=DEPUTY_A1), rpb.RotaPick(deputy_id=1102)],
        )
    )
    assert ids(r) == [DEPUTY_A1, 1102]


def test_the_timer_draws_the_rotas_sessions_ahead_lack(district: Any) -> None:
    """Sessions scheduled before rotas existed need one: the worker's timer
    draws it, and once drawn there is nothing more to draw."""
    last = sessions_ahead(district)[-1]
    with district.db.unit_of_work() as uow:
        for model in (models.RotaAssignment, models.SessionRotaState):
            uow.session.execute(delete(model).where(model.session_id == last.id))
    assert rota_of(district, last.id).status == rpb.ROTA_STATUS_NEEDS_ROTA
    drawn = district.reception.rota.publish_missing(Principal.system("test"))
    assert [r.session_id for r in drawn] == [last.id]
    r = rota_of(district, last.id)
    assert r.status == rpb.ROTA_STATUS_COMPLETE and len(r.deputies) == 2
    assert district.reception.rota.publish_missing(Principal.system("test")) == []

"""The authorisation matrix through the gateway: every role against every
kind of operation, over HTTP, on the running platform (registry and
reception on PostgreSQL, RabbitMQ, the gateway). The same rules are tested
on each service's gRPC API directly in services/<service>/tests; here they
hold for what clients actually call, and a refused write changes nothing.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from kit.testrun import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

CALLERS = (
    "anonymous",
    "constituent",
    "deputy",
    "station-staff",
    "street-committee",  # of street 1, whose records the writes below touch
    "street-committee-2",  # a street committee of street 2
    "standing-committee-office",
    "working-body",
    "government-office",
    "department",
    "department-system",
    "admin",
)
DISTRICT = {"standing-committee-office", "admin"}
STAFF = set(CALLERS) - {"anonymous", "constituent"}


def allowed(*callers: str, ok: int = 200) -> dict[str, int]:
    """`ok` for `callers`, 401 without a token, 403 for everyone else."""
    return {c: ok if c in callers else 401 if c == "anonymous" else 403 for c in CALLERS}


@dataclass
class World:
    http: httpx.Client
    headers: dict[str, dict[str, str]]
    station_id: int  # a station of street 1
    committee_id: int  # street 1's committee

    def admin(self) -> dict[str, str]:
        return self.headers["admin"]

    def traces(self) -> tuple[int, ...]:
        """What a refused write must leave as it was: each service's audit of every change."""
        totals = []
        for service in ("registry", "reception"):
            page = self.http.get(
                f"/api/v1/{service}/audit-entries", params={"page_size": 1}, headers=self.admin()
            )
            assert page.status_code == 200, page.text
            totals.append(page.json()["total_size"])
        return tuple(totals)


@pytest.fixture(scope="module")
def platform(unlimited_platform: Platform) -> Platform:
    # Every case reads each service's audit twice, as the admin: many reads a minute.
    return unlimited_platform


@pytest.fixture(scope="module")
def world(platform: Platform) -> Iterator[World]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as http:
        headers: dict[str, dict[str, str]] = {"anonymous": {}}
        for caller in CALLERS[1:]:
            body: dict[str, Any] = {"account": caller}
            if caller == "street-committee-2":
                body = {"account": "street-committee", "street_id": 2}
            reply = http.post("/api/v1/dev/tokens", json=body)
            assert reply.status_code == 200, reply.text
            headers[caller] = {"authorization": f"Bearer {reply.json()['access_token']}"}
        station = http.get("/api/v1/stations", params={"street_id": 1}).json()["items"][0]
        units = http.get("/api/v1/units", params={"street_id": 1, "kind": "street_committee"})
        yield World(http, headers, station["id"], units.json()["items"][0]["id"])


def _code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


Operation = Callable[[World], Callable[[dict[str, str]], httpx.Response]]


def get(path: str, **params: Any) -> Operation:
    return lambda w: lambda h: w.http.get(path, params=params, headers=h)


def create_area(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(
        "/api/v1/areas", json={"code": _code("a"), "name": "新片区", "street_id": 1}, headers=h
    )


def rename_station(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.patch(
        f"/api/v1/stations/{w.station_id}", json={"name": f"联络站{_code('n')}"}, headers=h
    )


def deactivate_venue(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    venue = w.http.post(
        "/api/v1/venues",
        json={"code": _code("v"), "name": "活动室", "street_id": 1},
        headers=w.admin(),
    ).json()
    return lambda h: w.http.post(
        f"/api/v1/venues/{venue['id']}:deactivate", json={"reason": "场地收回"}, headers=h
    )


def fill_position(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {"role": "street_paid_staff", "unit_id": w.committee_id, "holder_name": "工作人员"}
    return lambda h: w.http.post("/api/v1/positions", json=body, headers=h)


def create_street(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(
        "/api/v1/streets", json={"code": _code("s"), "name": "新街道"}, headers=h
    )


def import_roster(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    station = w.http.get(f"/api/v1/stations/{w.station_id}").json()["code"]
    street = w.http.get("/api/v1/streets/1").json()["code"]
    content = (
        "代表编号,姓名,性别,代表层级,届次,街道,联络站\n"
        f"{_code('TI')},导入代表,女,区,第十届,{street},{station}\n"
    ).encode()
    files = {"file": ("deputies.csv", content, "text/csv")}
    return lambda h: w.http.post("/api/v1/rosters/deputies:import", files=files, headers=h)


# Days ahead for extra sessions: each one its own day.
_days = itertools.count(40)


def _future_day() -> str:
    return (date.today() + timedelta(days=next(_days))).isoformat()


def sessions_of_station(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    params = {"from": date.today().isoformat(), "to": _future_day()}
    return lambda h: w.http.get(
        f"/api/v1/stations/{w.station_id}/sessions", params=params, headers=h
    )


def station_calendar(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.get(f"/api/v1/stations/{w.station_id}/calendar.ics", headers=h)


def reception_rule(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.get(f"/api/v1/stations/{w.station_id}/reception-rule", headers=h)


def set_reception_rule(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {
        "day_of_month": 15,
        "day_off_policy": "keep",
        "slots": [{"start": "09:00", "end": "12:00"}, {"start": "14:30", "end": "17:30"}],
    }
    return lambda h: w.http.put(
        f"/api/v1/stations/{w.station_id}/reception-rule", json=body, headers=h
    )


def schedule_sessions(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {"station_id": w.station_id, "months": 1}
    return lambda h: w.http.post("/api/v1/reception-sessions:schedule", json=body, headers=h)


def add_session(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {"date": _future_day(), "reason": "区人代会召开前听取意见"}
    return lambda h: w.http.post(f"/api/v1/stations/{w.station_id}/sessions", json=body, headers=h)


def cancel_session(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    added = add_session(w)(w.admin())
    assert added.status_code == 201, added.text
    return lambda h: w.http.post(
        f"/api/v1/reception-sessions/{added.json()['id']}:cancel",
        json={"reason": "场地维修"},
        headers=h,
    )


CALENDAR_OF_STREET_1 = (*DISTRICT, "station-staff", "street-committee")


# ---------------------------------------------------------------- the rota


def _new_session_rota(w: World) -> dict[str, Any]:
    """The rota drawn for a new extra session of the station."""
    added = add_session(w)(w.admin())
    assert added.status_code == 201, added.text
    rota = w.http.get(f"/api/v1/sessions/{added.json()['id']}/rota")
    assert rota.status_code == 200, rota.text
    body: dict[str, Any] = rota.json()
    return body


def session_rota(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    rota = _new_session_rota(w)
    return lambda h: w.http.get(f"/api/v1/sessions/{rota['session_id']}/rota", headers=h)


def set_rota(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    rota = _new_session_rota(w)
    body = {
        "deputies": [{"deputy_id": d["deputy_id"], "lead": d["lead"]} for d in rota["deputies"]]
    }
    return lambda h: w.http.put(f"/api/v1/sessions/{rota['session_id']}/rota", json=body, headers=h)


def generate_rota(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(
        f"/api/v1/stations/{w.station_id}/rota:generate", json={"months": 1}, headers=h
    )


def _station_deputies(w: World) -> list[int]:
    """The demo's deputies of the station, by id, but the demo deputy account's
    (deputy 1). Deputies a roster import of this module adds come later, and
    may not have reached the reception service's read model yet."""
    listed = w.http.get("/api/v1/deputies", params={"station_id": w.station_id, "page_size": 50})
    assert listed.status_code == 200, listed.text
    return sorted(d["id"] for d in listed.json()["items"] if d["id"] != 1)[:5]


def declare_unavailability(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    deputy = _station_deputies(w)[0]
    body = {"first_day": _future_day(), "last_day": _future_day(), "reason": "出差"}
    return lambda h: w.http.post(f"/api/v1/deputies/{deputy}/unavailability", json=body, headers=h)


def list_unavailability(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    deputy = _station_deputies(w)[0]
    return lambda h: w.http.get(f"/api/v1/deputies/{deputy}/unavailability", headers=h)


def _proposal(w: World) -> dict[str, Any]:
    """A swap proposed by the admin on behalf of a deputy of a new session."""
    rota = _new_session_rota(w)
    on = [d["deputy_id"] for d in rota["deputies"] if not d["lead"] and d["deputy_id"] != 1]
    off = [d for d in _station_deputies(w) if d not in [x["deputy_id"] for x in rota["deputies"]]]
    assert on and off, rota
    return {"proposer_id": on[0], "session_id": rota["session_id"], "counterpart_id": off[0]}


def propose_swap(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = _proposal(w)
    return lambda h: w.http.post("/api/v1/rota-swaps", json=body, headers=h)


def decide_swap(decision: str) -> Operation:
    def prepare(w: World) -> Callable[[dict[str, str]], httpx.Response]:
        made = w.http.post("/api/v1/rota-swaps", json=_proposal(w), headers=w.admin())
        assert made.status_code == 201, made.text
        return lambda h: w.http.post(
            f"/api/v1/rota-swaps/{made.json()['id']}:{decision}", headers=h
        )

    return prepare


def station_swaps(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.get(
        "/api/v1/rota-swaps", params={"station_id": w.station_id}, headers=h
    )


MATRIX: list[tuple[str, Operation, dict[str, int]]] = [
    ("GET /streets", get("/api/v1/streets"), allowed(*CALLERS)),
    ("GET /find-station", get("/api/v1/find-station", community_id=1), allowed(*CALLERS)),
    ("GET /deputies/1/profile", get("/api/v1/deputies/1/profile"), allowed(*CALLERS)),
    ("GET /positions", get("/api/v1/positions"), allowed(*STAFF)),
    ("GET /budget-checks", get("/api/v1/budget-checks", year=2025), allowed(*STAFF)),
    ("POST /areas in street 1", create_area, allowed(*DISTRICT, "street-committee", ok=201)),
    ("PATCH /stations in street 1", rename_station, allowed(*DISTRICT, "street-committee")),
    ("deactivate a venue of street 1", deactivate_venue, allowed(*DISTRICT, "street-committee")),
    ("POST /positions in street 1", fill_position, allowed(*DISTRICT, "street-committee", ok=201)),
    ("import a roster of street 1", import_roster, allowed(*DISTRICT, "street-committee")),
    (
        "GET /rosters/deputies of street 1",
        get("/api/v1/rosters/deputies", street_id=1),
        allowed(*DISTRICT, "street-committee"),
    ),
    ("POST /streets", create_street, allowed(*DISTRICT, ok=201)),
    ("GET /registry/audit-entries", get("/api/v1/registry/audit-entries"), allowed("admin")),
    ("GET a station's sessions", sessions_of_station, allowed(*CALLERS)),
    ("GET a station's calendar.ics", station_calendar, allowed(*CALLERS)),
    ("GET /deputies/1/calendar.ics", get("/api/v1/deputies/1/calendar.ics"), allowed(*CALLERS)),
    ("GET a station's reception rule", reception_rule, allowed(*STAFF)),
    ("PUT a reception rule in street 1", set_reception_rule, allowed(*CALENDAR_OF_STREET_1)),
    ("schedule sessions in street 1", schedule_sessions, allowed(*CALENDAR_OF_STREET_1)),
    ("add a session in street 1", add_session, allowed(*CALENDAR_OF_STREET_1, ok=201)),
    ("cancel a session in street 1", cancel_session, allowed(*CALENDAR_OF_STREET_1)),
    ("GET /reception/audit-entries", get("/api/v1/reception/audit-entries"), allowed("admin")),
    ("GET a session's rota", session_rota, allowed(*CALLERS)),
    ("PUT a session's rota in street 1", set_rota, allowed(*CALENDAR_OF_STREET_1)),
    ("draw the rotas of a station of street 1", generate_rota, allowed(*CALENDAR_OF_STREET_1)),
    (
        "declare a deputy of street 1 unavailable",
        declare_unavailability,
        allowed(*CALENDAR_OF_STREET_1, ok=201),
    ),
    (
        "GET a deputy of street 1's unavailability",
        list_unavailability,
        allowed(*CALENDAR_OF_STREET_1),
    ),
    ("propose a swap in street 1", propose_swap, allowed(*CALENDAR_OF_STREET_1, ok=201)),
    ("accept a swap in street 1", decide_swap("accept"), allowed(*CALENDAR_OF_STREET_1)),
    ("decline a swap in street 1", decide_swap("decline"), allowed(*CALENDAR_OF_STREET_1)),
    ("GET a station of street 1's swaps", station_swaps, allowed(*CALENDAR_OF_STREET_1)),
]
CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name}-{caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_authorisation_matrix_through_the_gateway(
    world: World, operation: Operation, caller: str, expected: int
) -> None:
    make_call = operation(world)
    before = world.traces()
    reply = make_call(world.headers[caller])
    assert reply.status_code == expected, reply.text
    if expected >= 400:
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert world.traces() == before, "a refused write changes nothing"


def test_private_contact_leaves_only_for_roles_that_need_it(world: World) -> None:
    deputy = world.http.get("/api/v1/deputies", params={"street_id": 1}).json()["items"][0]
    seen = {
        caller: world.http.get(f"/api/v1/deputies/{deputy['id']}", headers=h).json()["contact"]
        is not None
        for caller, h in world.headers.items()
    }
    assert {c for c, has in seen.items() if has} == DISTRICT | {"street-committee"}

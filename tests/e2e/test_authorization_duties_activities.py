"""The authorisation matrix of activities, research and visits through the
gateway, on the running platform (the duties service asking the real
registry): every role against every operation, and a refused write changes
nothing (the audits of every service, the duties service's included, stay
as they were). The same rules are tested on the service's gRPC API in
services/duties/tests/service/test_activities.py."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import httpx
import pytest

from kit.workdays import SHANGHAI
from tests.e2e import test_authorization_e2e as matrix
from tests.e2e.test_authorization_e2e import CALLERS, DISTRICT, World, allowed, get

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

# The platform and the callers' tokens of the main matrix, for this module.
platform = matrix.platform
world = matrix.world


@dataclasses.dataclass
class DutyWorld(World):
    deputy_id: int = 0  # a deputy of street 1: the "deputy" caller here


@pytest.fixture(scope="module")
def w(world: World) -> DutyWorld:
    """The main matrix's callers, with "deputy" a deputy of street 1 (whose
    committee and staff the other street-1 callers are)."""
    deputies = world.http.get("/api/v1/deputies", params={"street_id": 1}).json()["items"]
    deputy_id = int(next(d["id"] for d in deputies if d["active"]))
    reply = world.http.post(
        "/api/v1/dev/tokens", json={"account": "deputy", "deputy_id": deputy_id}
    )
    assert reply.status_code == 200, reply.text
    headers = {
        **world.headers,
        "deputy": {"authorization": f"Bearer {reply.json()['access_token']}"},
    }
    return DutyWorld(world.http, headers, world.station_id, world.committee_id, deputy_id)


YEAR = datetime.now(SHANGHAI).year


def today() -> date:
    """Today in Asia/Shanghai when asked (a run may pass midnight)."""
    return datetime.now(SHANGHAI).date()


STREET_STAFF_1 = ("station-staff", "street-committee")
Call = Callable[[dict[str, str]], httpx.Response]
_titles = itertools.count(1)


def _as(w: World, caller: str) -> dict[str, str]:
    return w.headers[caller]


def _ok(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code in (200, 201), reply.text
    body: dict[str, Any] = reply.json()
    return body


def _activity(
    w: DutyWorld, caller: str = "street-committee", invite: bool = False
) -> dict[str, Any]:
    body = {
        "kind": "training",
        "title": f"代表履职培训{next(_titles)}",
        "starts_on": today().isoformat(),
        "place": "代表之家",
        "organiser": "街道人大工委",
    }
    made = _ok(w.http.post("/api/v1/activities", json=body, headers=_as(w, caller)))
    if invite:
        _ok(
            w.http.post(
                f"/api/v1/activities/{made['id']}/invitations",
                json={"deputy_ids": [w.deputy_id]},
                headers=_as(w, caller),
            )
        )
    return made


def schedule_activity(w: DutyWorld) -> Call:
    body = {
        "kind": "forum",
        "title": "代表座谈",
        "starts_on": today().isoformat(),
        "place": "联络站",
        "organiser": "联络站",
        "station_id": w.station_id,
    }
    return lambda h: w.http.post("/api/v1/activities", json=body, headers=h)


def get_activity(w: DutyWorld) -> Call:
    activity_id = _activity(w)["id"]
    return lambda h: w.http.get(f"/api/v1/activities/{activity_id}", headers=h)


def invite_a_deputy(w: DutyWorld) -> Call:
    activity_id = _activity(w)["id"]
    return lambda h: w.http.post(
        f"/api/v1/activities/{activity_id}/invitations",
        json={"deputy_ids": [w.deputy_id]},
        headers=h,
    )


def sign_up(w: DutyWorld) -> Call:
    activity_id = _activity(w, invite=True)["id"]
    return lambda h: w.http.post(f"/api/v1/activities/{activity_id}:sign-up", headers=h)


def record_attendance(w: DutyWorld) -> Call:
    activity_id = _activity(w, invite=True)["id"]
    body = {"entries": [{"deputy_id": w.deputy_id, "attendance": "attended"}]}
    return lambda h: w.http.post(
        f"/api/v1/activities/{activity_id}/attendance", json=body, headers=h
    )


RESEARCH = {"title": "老旧小区加装电梯调研", "plan": "走访三个社区", "amount_requested_yuan": 2000}


def _research(w: World, to: str = "proposed") -> dict[str, Any]:
    made = _ok(w.http.post("/api/v1/research", json=RESEARCH, headers=_as(w, "deputy")))
    url = f"/api/v1/research/{made['id']}"
    if to in ("approved", "reported"):
        body = {"budget_line_id": _operations_line(w), "amount_yuan": 1}
        made = _ok(w.http.post(f"{url}:approve", json=body, headers=_as(w, "street-committee")))
    if to == "reported":
        made = _ok(w.http.post(f"{url}:report", json={"text": "报告"}, headers=_as(w, "deputy")))
    return made


def _operations_line(w: DutyWorld) -> int:
    """Street 1's operations line of this year (made by the admin if the
    demo's budget is of another year)."""
    query = {"unit_id": w.committee_id, "year": YEAR}
    lines = _ok(w.http.get("/api/v1/budget-lines", params=query, headers=w.admin()))["items"]
    found = [line["id"] for line in lines if line["kind"] == "operations"]
    if found:
        return int(found[0])
    body = {"unit_id": w.committee_id, "year": YEAR, "kind": "operations", "amount_yuan": 400_000}
    return int(_ok(w.http.post("/api/v1/budget-lines", json=body, headers=w.admin()))["id"])


def propose_research(w: DutyWorld) -> Call:
    return lambda h: w.http.post("/api/v1/research", json=RESEARCH, headers=h)


def get_research(w: DutyWorld) -> Call:
    research_id = _research(w)["id"]
    return lambda h: w.http.get(f"/api/v1/research/{research_id}", headers=h)


def approve_research(w: DutyWorld) -> Call:
    body = {"budget_line_id": _operations_line(w), "amount_yuan": 1}
    research_id = _research(w)["id"]
    return lambda h: w.http.post(f"/api/v1/research/{research_id}:approve", json=body, headers=h)


def report_research(w: DutyWorld) -> Call:
    research_id = _research(w, "approved")["id"]
    url = f"/api/v1/research/{research_id}:report"
    return lambda h: w.http.post(url, json={"text": "调研报告"}, headers=h)


def acknowledge_research(w: DutyWorld) -> Call:
    research_id = _research(w, "reported")["id"]
    return lambda h: w.http.post(f"/api/v1/research/{research_id}:acknowledge", headers=h)


def _visit_body(w: DutyWorld) -> dict[str, Any]:
    return {
        "deputy_id": w.deputy_id,
        "visited_on": today().isoformat(),
        "visitors": ["街道工委干部"],
        "place": "代表单位",
        "raised": "社区停车难",
    }


def _visit(w: DutyWorld) -> dict[str, Any]:
    body = _visit_body(w)
    return _ok(w.http.post("/api/v1/visits", json=body, headers=_as(w, "street-committee")))


def record_visit(w: DutyWorld) -> Call:
    return lambda h: w.http.post("/api/v1/visits", json=_visit_body(w), headers=h)


def get_visit(w: DutyWorld) -> Call:
    visit_id = _visit(w)["id"]
    return lambda h: w.http.get(f"/api/v1/visits/{visit_id}", headers=h)


def add_follow_up(w: DutyWorld) -> Call:
    visit_id = _visit(w)["id"]
    return lambda h: w.http.post(
        f"/api/v1/visits/{visit_id}/follow-ups", json={"text": "跟进停车问题"}, headers=h
    )


READERS = (*DISTRICT, "street-committee", "deputy")
MATRIX: list[tuple[str, Callable[[DutyWorld], Call], dict[str, int]]] = [
    ("POST /activities", schedule_activity,
     allowed(*STREET_STAFF_1, "street-committee-2", "standing-committee-office", ok=201)),
    ("GET /activities", get("/api/v1/activities"),
     allowed(*DISTRICT, *STREET_STAFF_1, "street-committee-2", "deputy")),
    ("GET an activity of street 1", get_activity, allowed(*DISTRICT, *STREET_STAFF_1)),
    ("invite a deputy to street 1's activity", invite_a_deputy, allowed(*STREET_STAFF_1)),
    ("sign up, invited", sign_up, allowed("deputy")),
    ("record attendance", record_attendance, allowed(*STREET_STAFF_1)),
    ("GET /activity-figures", get("/api/v1/activity-figures", year=YEAR),
     allowed(*DISTRICT, *STREET_STAFF_1, "street-committee-2")),
    ("POST /research", propose_research, allowed("deputy", ok=201)),
    ("GET a deputy's research", get_research, allowed(*READERS)),
    ("approve a deputy's research", approve_research, allowed("street-committee")),
    ("report research", report_research, allowed("deputy")),
    ("acknowledge a research report", acknowledge_research,
     allowed("standing-committee-office")),
    ("POST /visits to a deputy of street 1", record_visit, allowed("street-committee", ok=201)),
    ("GET a visit to a deputy", get_visit, allowed(*READERS)),
    ("add a visit's follow-up", add_follow_up, allowed("street-committee", ok=201)),
    ("GET /visits", get("/api/v1/visits"), allowed(*READERS, "street-committee-2")),
    ("GET /visit-coverage of street 1", get("/api/v1/visit-coverage", year=YEAR, street_id=1),
     allowed(*DISTRICT, "street-committee")),
]  # fmt: skip

CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name}-{caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_authorisation_matrix_of_activities_research_and_visits(
    w: DutyWorld, operation: Callable[[DutyWorld], Call], caller: str, expected: int
) -> None:
    make_call = operation(w)
    before = w.traces()
    reply = make_call(w.headers[caller])
    assert reply.status_code == expected, reply.text
    if expected >= 400:
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert w.traces() == before, "a refused write changes nothing"


def test_a_visit_to_another_streets_deputy_is_refused_naming_it(w: DutyWorld) -> None:
    deputies = w.http.get("/api/v1/deputies", params={"street_id": 2}).json()["items"]
    other = deputies[0]["id"]
    before = w.traces()
    reply = w.http.post(
        "/api/v1/visits",
        json={**_visit_body(w), "deputy_id": other},
        headers=_as(w, "street-committee"),
    )
    assert reply.status_code == 403, reply.text
    assert "deputy of street 2" in reply.json()["detail"]
    assert w.traces() == before


def test_a_grant_above_the_remaining_amount_is_refused_naming_it(w: DutyWorld) -> None:
    line = _operations_line(w)
    amount = _ok(w.http.get(f"/api/v1/budget-lines/{line}", headers=w.admin()))["amount_yuan"]
    big = {**RESEARCH, "amount_requested_yuan": min(int(amount) + 1, 10_000_000)}
    research = _ok(w.http.post("/api/v1/research", json=big, headers=_as(w, "deputy")))
    before = w.traces()
    reply = w.http.post(
        f"/api/v1/research/{research['id']}:approve",
        json={"budget_line_id": line, "amount_yuan": big["amount_requested_yuan"]},
        headers=_as(w, "street-committee"),
    )
    assert reply.status_code == 409, reply.text
    assert f"budget line {line}'s remaining" in reply.json()["detail"]
    assert w.traces() == before
    got = w.http.get(f"/api/v1/research/{research['id']}", headers=_as(w, "deputy"))
    assert got.json()["state"] == "proposed"

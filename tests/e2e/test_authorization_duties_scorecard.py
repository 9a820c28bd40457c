"""The authorisation matrix of the report plan and learning materials
through the gateway, on the running platform (the duties service with the
demo district's registry): every caller against every operation, and a
refused write changes no service's audit. The rules are tested on the
duties service's gRPC API (services/duties/tests); here they hold for what
clients call."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.e2e import test_authorization_e2e as matrix
from tests.e2e.test_authorization_e2e import CALLERS, World, allowed

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]
# The platform and the callers' tokens, as the whole matrix has them.
platform = matrix.platform
world = matrix.world

Operation = Callable[[World], Callable[[dict[str, str]], httpx.Response]]
OFFICES = ("standing-committee-office", "working-body", "admin")
STREET_STAFF = ("station-staff", "street-committee", "street-committee-2")
# Each plan made in the matrix is a cycle of its own, none overlapping.
_CYCLES = itertools.count(2100, 3)


def _plan_2026(w: World) -> None:
    reply = w.http.post("/api/v1/report-plans", json={"first_year": 2026}, headers=w.admin())
    assert reply.status_code in (201, 409), reply.text


def _district_material(w: World) -> int:
    reply = w.http.post(
        "/api/v1/learning-materials",
        json={"title": f"学习材料{uuid.uuid4().hex[:6]}", "kind": "article", "text": "正文"},
        headers=w.admin(),
    )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


def make_plan(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    first = next(_CYCLES)
    return lambda h: w.http.post("/api/v1/report-plans", json={"first_year": first}, headers=h)


def extend_plan(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    _plan_2026(w)
    return lambda h: w.http.post(
        "/api/v1/report-plans/2026:extend", json={"joined_in": 2026}, headers=h
    )


def read_plan(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    _plan_2026(w)
    return lambda h: w.http.get("/api/v1/report-plans/2027", headers=h)


def publish(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(
        "/api/v1/learning-materials",
        json={"title": "代表履职学习", "kind": "video", "url": "https://example.org/v"},
        headers=h,
    )


def list_materials(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.get("/api/v1/learning-materials", headers=h)


def mark_read(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    material = _district_material(w)
    return lambda h: w.http.post(f"/api/v1/learning-materials/{material}:read", headers=h)


def readership(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    material = _district_material(w)
    return lambda h: w.http.get(f"/api/v1/learning-materials/{material}/readership", headers=h)


def shortfalls(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.get("/api/v1/scorecard/shortfalls", headers=h)


MATRIX: list[tuple[str, Operation, dict[str, int]]] = [
    ("make report plan", make_plan,
     allowed("standing-committee-office", "admin", ok=201)),
    ("extend report plan", extend_plan, allowed("standing-committee-office", "admin")),
    ("read report plan", read_plan, allowed(*OFFICES, *STREET_STAFF, "deputy")),
    ("publish material", publish,
     allowed(*OFFICES, "street-committee", "street-committee-2", ok=201)),
    ("list materials", list_materials, allowed(*OFFICES, *STREET_STAFF, "deputy")),
    ("mark material read", mark_read, allowed("deputy")),
    ("material readership", readership, allowed(*OFFICES, *STREET_STAFF)),
    ("scorecard shortfalls", shortfalls, allowed(*OFFICES, *STREET_STAFF)),
]  # fmt: skip
CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name}-{caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_scorecard_authorisation_through_the_gateway(
    world: World, operation: Operation, caller: str, expected: int
) -> None:
    matrix.test_authorisation_matrix_through_the_gateway(world, operation, caller, expected)


def test_a_deputy_reads_only_their_own_year(world: World) -> None:
    _plan_2026(world)
    own = world.http.get("/api/v1/report-plans/2026", headers=world.headers["deputy"])
    assert own.status_code == 200, own.text
    assert [s["deputy_id"] for s in own.json()["slots"]] == [1]
    other = world.http.get(
        "/api/v1/report-plans/2026", params={"deputy_id": 2}, headers=world.headers["deputy"]
    )
    assert other.status_code == 403
    street2 = world.http.get(
        "/api/v1/report-plans/2026", headers=world.headers["street-committee-2"]
    ).json()
    assert {s["street_id"] for s in street2["slots"]} <= {2}


def test_a_street_committee_cannot_publish_for_another_street(world: World) -> None:
    before = world.traces()
    refused = world.http.post(
        "/api/v1/learning-materials",
        json={"title": "t", "kind": "article", "text": "b", "street_id": 2},
        headers=world.headers["street-committee"],
    )
    assert refused.status_code == 403
    assert "street 2" in refused.json()["detail"]
    assert world.traces() == before


def test_anyone_reads_a_deputys_scorecard_from_the_demo_year(world: World) -> None:
    reply = world.http.get("/api/v1/deputies/1/scorecard")
    assert reply.status_code == 200, reply.text
    card = reply.json()
    assert [i["item"] for i in card["items"]] == [
        "training",
        "suggestion",
        "research",
        "duty_report",
        "visit",
    ]
    # The demo year visits every deputy (its event reaches the duty record
    # through the worker: wait for it); an item is done exactly when it has
    # evidence (the demo's trainings are attended by most, not all).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "visit" in card["short"]:
        time.sleep(0.5)
        card = world.http.get("/api/v1/deputies/1/scorecard").json()
    assert "visit" not in card["short"], card
    for item in card["items"]:
        if item["status"] != "not_due":
            assert (item["status"] == "done") == bool(item["evidence"]), item
    staff = world.http.get(
        "/api/v1/scorecard/shortfalls", headers=world.headers["street-committee"]
    )
    assert staff.status_code == 200, staff.text
    assert {s["street_id"] for s in staff.json()["streets"]} <= {1}

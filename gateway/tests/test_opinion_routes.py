"""The opinion routes through the gateway, over the real reception service
(its gRPC API on a migrated PostgreSQL holding a small district): an online
opinion answered with its tracking code and followed without a token, the
triage queue and the transitions as problem+json when refused, who raised an
opinion only for those who may see it, reception records and figures."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.config import GatewaySettings
from kit.db import Database
from reception import domain, models
from reception.testing import DEPUTY_A1, STATION_A1

from .conftest import TEST_AUTH, RegistryServer, every_service, reception_api, reception_database

pytestmark = pytest.mark.postgres

NAME, PHONE = "陈美玲", "13900139000"


@pytest.fixture(scope="module")
def reception_db(postgres_admin_url: str) -> Iterator[Database]:
    with reception_database(postgres_admin_url, "gateway_opinions") as db:
        yield db


@pytest.fixture(scope="module")
def http(reception_db: Database, registry_server: RegistryServer) -> Iterator[TestClient]:
    with reception_api(reception_db) as target:
        gateway = GatewaySettings(
            targets=every_service(registry_server.target) | {"reception": target},
            grpc_deadline_seconds=5.0,
            read_rate_per_minute=1_000_000,
            write_rate_per_minute=1_000_000,
            auth=TEST_AUTH,
            directory=False,
        )
        with TestClient(create_app(gateway)) as client:
            yield client


@pytest.fixture(scope="module")
def as_(http: TestClient) -> Callable[..., dict[str, str]]:
    def headers(account: str, **claims: Any) -> dict[str, str]:
        reply = http.post("/api/v1/dev/tokens", json={"account": account, **claims})
        assert reply.status_code == 200, reply.text
        return {"Authorization": f"Bearer {reply.json()['access_token']}"}

    return headers


_days = itertools.count(1)


def _held_session(db: Database, rota: tuple[int, ...]) -> int:
    day = domain.today() - timedelta(days=next(_days))
    with db.unit_of_work() as uow:
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
        for deputy_id in rota:
            uow.session.add(models.RotaAssignment(session_id=row.id, deputy_id=deputy_id))
        return int(row.id)


def _send(http: TestClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
    body = {
        "category": "environment",
        "content": "河涌夏天有异味，希望清淤",
        "community_id": 501,
        "raiser_name": NAME,
        "raiser_phone": PHONE,
    }
    reply = http.post("/api/v1/opinions", json=body, headers=headers or {})
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def test_an_online_opinion_and_its_public_tracking(http: TestClient) -> None:
    sent = _send(http)
    code = sent["tracking_code"]
    assert sent["source"] == "online" and sent["status"] == "recorded"
    assert sent["raiser"] is None and sent["raiser_hidden"] is True
    track = http.get(f"/api/v1/opinions/track/{code}")
    assert track.status_code == 200, track.text
    assert track.json()["category"] == "environment"
    assert track.json()["timeline"][0]["kind"] == "recorded"
    assert NAME not in track.text and PHONE not in track.text
    assert http.get("/api/v1/opinions/track/TH-1999-000001").status_code == 404


def test_bad_input_is_a_problem_naming_the_field(
    http: TestClient, problem: Callable[[Any, int], dict[str, Any]]
) -> None:
    body = {"category": "weather", "content": "x", "community_id": 501}
    problem(http.post("/api/v1/opinions", json=body), 422)
    missing = {"category": "legal", "content": "邻里纠纷", "community_id": 501}
    found = problem(http.post("/api/v1/opinions", json=missing), 422)
    assert "raiser_name" in str(found)
    problem(http.get("/api/v1/opinions/track/not-a-code"), 422)


def test_triage_and_transitions_through_the_gateway(
    http: TestClient,
    as_: Callable[..., dict[str, str]],
    problem: Callable[[Any, int], dict[str, Any]],
) -> None:
    staff = as_("station-staff")
    sent = _send(http)
    queue = http.get("/api/v1/opinions", params={"status": "recorded"}, headers=staff)
    assert queue.status_code == 200, queue.text
    assert sent["id"] in [o["id"] for o in queue.json()["items"]]
    assert all(o["raiser"] is None for o in queue.json()["items"])
    problem(http.get("/api/v1/opinions", headers=as_("constituent")), 403)
    problem(http.get("/api/v1/opinions"), 401)
    seen = http.get(f"/api/v1/opinions/{sent['id']}", headers=staff).json()
    assert seen["raiser"]["name"] == NAME
    suggested = http.get(f"/api/v1/opinions/{sent['id']}/suggested-deputies", headers=staff)
    assert suggested.status_code == 200, suggested.text
    assert all(d["reason"] for d in suggested.json()["items"])
    handed = http.post(
        f"/api/v1/opinions/{sent['id']}:hand-on", json={"note": "转街道办"}, headers=staff
    )
    assert handed.status_code == 200 and handed.json()["status"] == "handed_on"
    again = problem(
        http.post(f"/api/v1/opinions/{sent['id']}:decline", json={"reason": "重复"}, headers=staff),
        409,
    )
    assert "handed_on" in again["detail"]
    itself = http.post(
        f"/api/v1/opinions/{sent['id']}:merge", json={"into_id": sent["id"]}, headers=staff
    )
    problem(itself, 422)
    problem(http.post(f"/api/v1/opinions/{sent['id']}:decline", json={}, headers=staff), 422)
    other = as_("station-staff", street_id=2)
    problem(
        http.post(
            f"/api/v1/opinions/{_send(http)['id']}:answer", json={"answer": "好"}, headers=other
        ),
        403,
    )
    problem(http.get("/api/v1/opinions/999999", headers=staff), 404)


def test_a_deputy_on_the_rota_records_and_sees_who_raised_it(
    http: TestClient, reception_db: Database, as_: Callable[..., dict[str, str]]
) -> None:
    session_id = _held_session(reception_db, (DEPUTY_A1,))
    mine = as_("deputy", deputy_id=DEPUTY_A1)
    body = {
        "source": "reception",
        "session_id": session_id,
        "category": "education",
        "content": "学位紧张",
        "raiser_name": NAME,
        "raiser_phone": PHONE,
    }
    reply = http.post("/api/v1/opinions", json=body, headers=mine)
    assert reply.status_code == 201, reply.text
    assert reply.headers["location"] == f"/api/v1/opinions/track/{reply.json()['tracking_code']}"
    assert reply.json()["raiser"]["phone"] == PHONE
    opinion_id = reply.json()["id"]
    other = as_("deputy", deputy_id=1002)
    hidden = http.get(f"/api/v1/opinions/{opinion_id}", headers=other).json()
    assert hidden["raiser"] is None and NAME not in str(hidden)


def test_reception_records_and_figures(
    http: TestClient, reception_db: Database, as_: Callable[..., dict[str, str]],
    problem: Callable[[Any, int], dict[str, Any]],
) -> None:  # fmt: skip
    session_id = _held_session(reception_db, (DEPUTY_A1,))
    staff = as_("station-staff")
    body = {"deputy_ids": [DEPUTY_A1], "person_times": 11, "notes": "接待顺利"}
    put = http.put(f"/api/v1/sessions/{session_id}/record", json=body, headers=staff)
    assert put.status_code == 200, put.text
    got = http.get(f"/api/v1/sessions/{session_id}/record", headers=staff)
    assert got.json()["person_times"] == 11 and got.json()["deputy_names"] == [f"代表{DEPUTY_A1}"]
    problem(http.put(f"/api/v1/sessions/{session_id}/record", json={"person_times": -1},
                     headers=staff), 422)  # fmt: skip
    problem(http.put(f"/api/v1/sessions/{session_id}/record", json=body,
                     headers=as_("constituent")), 403)  # fmt: skip
    year = domain.today().year
    figures = http.get("/api/v1/reception-figures", params={"street_id": 1, "year": year})
    assert figures.status_code == 200, figures.text
    assert figures.json()["reception_person_times"] >= 11
    assert figures.json()["deputy_activity_person_times"] >= 1
    assert figures.json()["opinions_collected"] >= 1
    assert {c["key"] for c in figures.json()["by_category"]} >= {"education", "environment"}
    problem(http.get("/api/v1/reception-figures", params={"year": 1999}), 422)


def test_a_record_is_locked_only_by_a_json_boolean(
    http: TestClient, reception_db: Database, as_: Callable[..., dict[str, str]],
    problem: Callable[[Any, int], dict[str, Any]],
) -> None:  # fmt: skip
    path = f"/api/v1/sessions/{_held_session(reception_db, ())}/record"
    for lax in (0, "true", 1):
        problem(http.put(path, json={"lock": lax}, headers=as_("admin")), 422)
    locked = http.put(path, json={"lock": True}, headers=as_("admin"))
    assert locked.status_code == 200 and locked.json()["locked"] is True

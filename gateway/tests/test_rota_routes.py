"""The rota's routes (gateway/routes/rota.py) over the fake reception service
of conftest.py: public reads, the roles the gateway refuses early, bodies
checked before any call, and the service's refusals as problem+json naming
what is wrong. The rules themselves are tested on the service
(services/reception/tests/service/test_rota_api.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient


def test_a_sessions_rota_is_public(client: TestClient) -> None:
    reply = client.get("/api/v1/sessions/1/rota")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "complete"
    assert [(d["deputy_id"], d["lead"]) for d in body["deputies"]] == [(1, True), (2, False)]
    assert body["deputies"][0]["name"] == "代表一" and body["deputies"][0]["level"] == "district"


def test_an_unknown_session_is_a_404(client: TestClient, problem: Callable[..., Any]) -> None:
    problem(client.get("/api/v1/sessions/2/rota"), 404)


def test_setting_a_rota_is_for_calendar_writers(
    client: TestClient, auth: Callable[[str], dict[str, str]], problem: Callable[..., Any]
) -> None:
    body = {"deputies": [{"deputy_id": 1, "lead": True}, {"deputy_id": 2}]}
    problem(client.put("/api/v1/sessions/1/rota", json=body), 401)
    problem(client.put("/api/v1/sessions/1/rota", json=body, headers=auth("deputy")), 403)
    problem(client.put("/api/v1/sessions/1/rota", json=body, headers=auth("working-body")), 403)
    reply = client.put("/api/v1/sessions/1/rota", json=body, headers=auth("station-staff"))
    assert reply.status_code == 200, reply.text


def test_a_rota_without_a_head_is_a_422_naming_the_field(
    client: TestClient, auth: Callable[[str], dict[str, str]], problem: Callable[..., Any]
) -> None:
    body = {"deputies": [{"deputy_id": 2}]}
    refused = problem(client.put("/api/v1/sessions/1/rota", json=body, headers=auth("admin")), 422)
    assert "deputies" in str(refused["errors"]) and "no station head" in str(refused["errors"])
    empty = client.put("/api/v1/sessions/1/rota", json={"deputies": []}, headers=auth("admin"))
    problem(empty, 422)


def test_a_swap_with_a_deputy_of_another_station_is_a_422(
    client: TestClient, auth: Callable[[str], dict[str, str]], problem: Callable[..., Any]
) -> None:
    body = {"proposer_id": 1, "session_id": 1, "counterpart_id": 21}
    refused = problem(client.post("/api/v1/rota-swaps", json=body, headers=auth("deputy")), 422)
    assert "counterpart_id" in str(refused["errors"]) and "station 21" in str(refused["errors"])
    body["counterpart_id"] = 2
    made = client.post("/api/v1/rota-swaps", json=body, headers=auth("deputy"))
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "proposed" and made.json()["counterpart_session_id"] is None
    problem(client.post("/api/v1/rota-swaps", json=body, headers=auth("constituent")), 403)


def test_a_swap_that_cannot_be_made_is_a_409(
    client: TestClient, auth: Callable[[str], dict[str, str]], problem: Callable[..., Any]
) -> None:
    refused = problem(client.post("/api/v1/rota-swaps/7:accept", headers=auth("deputy")), 409)
    assert "without a station head" in refused["detail"]


def test_unavailability_bodies_are_checked_before_any_call(
    client: TestClient, auth: Callable[[str], dict[str, str]], problem: Callable[..., Any]
) -> None:
    bad = {"first_day": "not a day", "last_day": "2027-01-02", "reason": ""}
    refused = problem(
        client.post("/api/v1/deputies/1/unavailability", json=bad, headers=auth("deputy")), 422
    )
    assert {"first_day", "reason"} <= {e["field"].split(".")[-1] for e in refused["errors"]}
    problem(client.get("/api/v1/deputies/1/unavailability"), 401)
    problem(client.get("/api/v1/deputies/1/unavailability", headers=auth("constituent")), 403)


def test_the_rota_operations_are_in_the_openapi_with_their_problems(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method, codes in [
        ("/api/v1/sessions/{id}/rota", "get", {"404", "422"}),
        ("/api/v1/sessions/{id}/rota", "put", {"401", "403", "404", "409", "422"}),
        ("/api/v1/stations/{id}/rota:generate", "post", {"403", "409", "422"}),
        ("/api/v1/rota-swaps", "post", {"403", "409", "422"}),
        ("/api/v1/rota-swaps", "get", {"403", "422"}),
        ("/api/v1/rota-swaps/{id}:accept", "post", {"409"}),
        ("/api/v1/rota-swaps/{id}:decline", "post", {"409"}),
        ("/api/v1/deputies/{id}/unavailability", "post", {"403", "422"}),
        ("/api/v1/deputies/{id}/unavailability", "get", {"403"}),
        ("/api/v1/deputies/{id}/unavailability/{unavailability_id}", "delete", {"404", "409"}),
    ]:
        assert codes <= set(paths[path][method]["responses"]), (path, method)

"""Errors: problem+json shape, the gRPC status table, validation, request ids."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.rpc import error_details_pb2

from gateway.config import GatewaySettings
from liaison.registry.v1 import registry_pb2 as pb

Headers = Callable[[str], dict[str, str]]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 422),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.INTERNAL, 502),
        (grpc.StatusCode.UNKNOWN, 502),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 502),
        (grpc.StatusCode.UNIMPLEMENTED, 502),
    ],
)
def test_grpc_codes_map_to_http(
    client: TestClient, fake: Any, problem: Any, code: grpc.StatusCode, status: int
) -> None:
    fake.fail("GetStreet", code, "registry says no: secret internals")
    body = problem(client.get("/api/v1/streets/1"), status)
    if status < 500:
        assert body["detail"] == "registry says no: secret internals"
    else:
        # Upstream internals stay in the log.
        assert "secret internals" not in body["detail"]


def test_field_violations_become_errors(
    client: TestClient, fake: Any, auth: Headers, problem: Any
) -> None:
    fake.fail(
        "CreateStreet",
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid street",
        error_details_pb2.ErrorInfo(reason="INVALID_ARGUMENT", domain="registry.liaison"),
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field="street.code", description="is taken"
                ),
                error_details_pb2.BadRequest.FieldViolation(
                    field="street.name", description="too long"
                ),
            ]
        ),
    )
    reply = client.post("/api/v1/streets", json={"code": "x", "name": "y"}, headers=auth("admin"))
    body = problem(reply, 422)
    assert body["errors"] == [
        {"field": "street.code", "message": "is taken"},
        {"field": "street.name", "message": "too long"},
    ]


def test_domain_errors_raised_by_the_registry(
    client: TestClient, fake: Any, auth: Headers, problem: Any
) -> None:
    headers = auth("admin")
    body = problem(
        client.post("/api/v1/streets", json={"code": "linhe", "name": "重复"}, headers=headers), 409
    )
    assert "exists" in body["detail"]
    problem(client.get("/api/v1/streets/99"), 404)


def test_roster_row_errors(client: TestClient, fake: Any, auth: Headers, problem: Any) -> None:
    files = {"file": ("deputies.csv", b"code,level\nD1,bad\nD2,bad\n", "text/csv")}
    body = problem(
        client.post("/api/v1/rosters/deputies:import", files=files, headers=auth("admin")), 422
    )
    assert body["errors"] == [
        {"row": 2, "column": "level", "message": "unknown level"},
        {"row": 3, "column": "street", "message": "no such street"},
    ]


def test_real_deadline_is_504(
    fake: Any,
    settings: GatewaySettings,
    make_client: Callable[[GatewaySettings], TestClient],
    problem: Any,
) -> None:
    fake.delays["ListStreets"] = 0.6
    quick = make_client(dataclasses.replace(settings, grpc_deadline_seconds=0.2))
    problem(quick.get("/api/v1/streets"), 504)


def test_a_roster_import_has_a_deadline_of_its_own(
    fake: Any,
    settings: GatewaySettings,
    make_client: Callable[[GatewaySettings], TestClient],
) -> None:
    fake.delays["ImportRoster"] = 0.6
    quick = make_client(
        dataclasses.replace(settings, grpc_deadline_seconds=0.2, import_deadline_seconds=10)
    )
    token = quick.post("/api/v1/dev/tokens", json={"account": "admin"}).json()["access_token"]
    files = {"file": ("deputies.csv", "代表编号,姓名\nD9,x\n".encode(), "text/csv")}
    reply = quick.post(
        "/api/v1/rosters/deputies:import", files=files, headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200, reply.text


def test_unreachable_registry_is_503(
    settings: GatewaySettings,
    make_client: Callable[[GatewaySettings], TestClient],
    problem: Any,
    free_port: Callable[[], int],
) -> None:
    port = free_port()
    down = make_client(
        dataclasses.replace(
            settings, targets={"registry": f"127.0.0.1:{port}"}, grpc_deadline_seconds=1.0
        )
    )
    body = problem(down.get("/api/v1/streets"), 503)
    assert body["detail"] == "the registry service is unavailable", "the failing service is named"
    assert down.get("/readyz").status_code == 503


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/streets", {"code": "x"}, "body.name"),
        ("post", "/api/v1/streets", {"code": "x", "name": "y", "colour": "red"}, "body.colour"),
        ("post", "/api/v1/streets", {"code": "has space", "name": "y"}, "body.code"),
        ("post", "/api/v1/units", {"code": "u", "name": "y", "kind": "ministry"}, "body.kind"),
        (
            "post",
            "/api/v1/stations",
            {"code": "s", "name": "y", "area_id": 1, "opened_on": "soon"},
            "body.opened_on",
        ),
        ("post", "/api/v1/areas/1:deactivate", {}, "body.reason"),
        ("patch", "/api/v1/areas/1", {}, "body"),
        ("get", "/api/v1/streets?page_size=0", None, "query.page_size"),
        ("get", "/api/v1/streets?page_size=501", None, "query.page_size"),
        ("get", "/api/v1/deputies?level=mayor", None, "query.level"),
        ("get", "/api/v1/streets/abc", None, "path.id"),
        ("get", "/api/v1/streets/0", None, "path.id"),
        ("get", "/api/v1/find-station", None, "query.community_id"),
        ("get", "/api/v1/find-station?community_id=1&address=x1", None, "query.address"),
        ("get", "/api/v1/budget-checks", None, "query.year"),
        ("get", "/api/v1/rosters/deputies?format=pdf", None, "query.format"),
        # Every integer bound to its proto field's range, before any call.
        ("get", f"/api/v1/streets/{2**63}", None, "path.id"),
        ("get", f"/api/v1/deputies/{2**63}/profile", None, "path.id"),
        ("get", f"/api/v1/areas?street_id={2**63}", None, "query.street_id"),
        ("get", f"/api/v1/find-station?community_id={2**64}", None, "query.community_id"),
        ("get", f"/api/v1/budget-checks?year=2024&unit_id={2**63}", None, "query.unit_id"),
        ("get", f"/api/v1/rosters/deputies?street_id={2**63}", None, "query.street_id"),
        ("patch", f"/api/v1/venues/{2**63}", {"name": "x"}, "path.id"),
        ("post", "/api/v1/areas", {"code": "a", "name": "y", "street_id": 2**63}, "body.street_id"),
        (
            "post",
            "/api/v1/stations",
            {"code": "s", "name": "y", "area_id": 1, "community_ids": [1, 2**64]},
            "body.community_ids.1",
        ),
        ("patch", "/api/v1/venues/1", {"capacity": 2**31}, "body.capacity"),
        ("patch", "/api/v1/venues/1", {"capacity": True}, "body.capacity"),
        ("patch", "/api/v1/areas/1", {"street_id": "2"}, "body.street_id"),
        ("patch", "/api/v1/stations/1", {"opened_on": 0}, "body.opened_on"),
        (
            "post",
            "/api/v1/budget-lines",
            {"unit_id": 1, "year": 2024, "kind": "personnel", "amount_yuan": 2**63},
            "body.amount_yuan",
        ),
        # Text protobuf or PostgreSQL would refuse.
        ("post", "/api/v1/streets", {"code": "x", "name": "a\x00b"}, "body.name"),
        ("patch", "/api/v1/deputies/1", {"expertise": ["ok", "b\x00"]}, "body.expertise.1"),
        ("get", "/api/v1/find-station?address=%00%00ab", None, "query.address"),
        ("get", "/api/v1/streets?query=a%00", None, "query.query"),
    ],
)
def test_request_validation_names_the_field(
    client: TestClient,
    fake: Any,
    auth: Headers,
    problem: Any,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    kwargs: dict[str, Any] = {"headers": auth("admin")}
    if body is not None:
        kwargs["json"] = body
    reply = problem(getattr(client, method)(path, **kwargs), 422)
    assert field in [e["field"] for e in reply["errors"]], reply
    assert fake.writes() == []


def test_a_lone_surrogate_is_422(
    client: TestClient, fake: Any, auth: Headers, problem: Any
) -> None:
    headers = {**auth("admin"), "Content-Type": "application/json"}
    body = b'{"code": "x", "name": "a\\ud800b"}'
    reply = problem(client.post("/api/v1/streets", content=body, headers=headers), 422)
    assert reply["errors"] == [
        {"field": "body.name", "message": "must be valid Unicode text (no lone surrogates)"}
    ]
    assert fake.writes() == []


def test_the_largest_id_reaches_the_registry(client: TestClient, fake: Any, problem: Any) -> None:
    problem(client.get(f"/api/v1/streets/{2**53 - 1}"), 404)
    assert fake.calls_to("GetStreet")[-1].request.id == 2**53 - 1


def test_405_names_every_method_of_the_path(client: TestClient, problem: Any) -> None:
    reply = client.put("/api/v1/streets")
    problem(reply, 405)
    assert reply.headers["allow"] == "GET, POST"
    # A custom method is its own resource, not an id of `/streets/{id}`.
    reply = client.patch("/api/v1/streets/1:deactivate", json={})
    problem(reply, 405)
    assert reply.headers["allow"] == "POST"
    problem(client.get("/api/v1/rosters/deputies:import"), 405)


def test_malformed_json_is_422(client: TestClient, auth: Headers, problem: Any) -> None:
    headers = {**auth("admin"), "Content-Type": "application/json"}
    problem(client.post("/api/v1/streets", content=b"{not json", headers=headers), 422)


def test_roster_upload_must_be_csv_or_xlsx(
    client: TestClient, fake: Any, auth: Headers, problem: Any
) -> None:
    files = {"file": ("deputies.pdf", b"%PDF", "application/pdf")}
    body = problem(
        client.post("/api/v1/rosters/deputies:import", files=files, headers=auth("admin")), 422
    )
    assert body["errors"] == [{"field": "file", "message": "must be a .csv or .xlsx file"}]
    problem(client.post("/api/v1/rosters/deputies:import", headers=auth("admin")), 422)
    problem(
        client.post(
            "/api/v1/rosters/mayors:import",
            files={"file": ("a.csv", b"a\n", "text/csv")},
            headers=auth("admin"),
        ),
        422,
    )
    assert fake.writes() == []


def test_unknown_route_and_method_are_problems(client: TestClient, problem: Any) -> None:
    problem(client.get("/api/v1/nothing-here"), 404)
    problem(client.delete("/api/v1/streets/1"), 405)


def test_request_id_is_echoed(client: TestClient, fake: Any) -> None:
    reply = client.get("/api/v1/streets/1", headers={"X-Request-ID": "req-abc.123"})
    assert reply.headers["x-request-id"] == "req-abc.123"
    assert fake.calls_to("GetStreet")[-1].metadata["x-correlation-id"] == "req-abc.123"


def test_request_id_is_generated_when_absent_or_unsafe(client: TestClient, fake: Any) -> None:
    generated = client.get("/api/v1/streets/1").headers["x-request-id"]
    assert UUID.match(generated)
    assert fake.calls_to("GetStreet")[-1].metadata["x-correlation-id"] == generated
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert UUID.match(unsafe.headers["x-request-id"])


def test_request_id_on_errors_too(client: TestClient, problem: Any) -> None:
    reply = client.get("/api/v1/streets/abc", headers={"X-Request-ID": "r-1"})
    assert problem(reply, 422)["request_id"] == "r-1"


def test_unmapped_upstream_error_detail_never_leaks_a_500(
    client: TestClient, fake: Any, problem: Any
) -> None:
    # A registry that sends garbage status details is still a 502, not a crash.
    fake.fail("GetStreet", grpc.StatusCode.DATA_LOSS, "x", pb.Street(id=1))
    problem(client.get("/api/v1/streets/1"), 502)


def test_a_bug_is_a_500_problem_with_the_request_id(
    fresh_client: TestClient, monkeypatch: pytest.MonkeyPatch, problem: Any
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    registry = fresh_client.app.state.upstreams["registry"]  # type: ignore[attr-defined]
    monkeypatch.setattr(registry, "call", broken)
    fresh_client.raise_server_exceptions = False
    reply = fresh_client.get("/api/v1/streets/1", headers={"X-Request-ID": "bug-1"})
    assert problem(reply, 500)["request_id"] == "bug-1"
    assert "bug" not in reply.text.replace("bug-1", "")

"""Operations: health, readiness, metrics, logs, OpenAPI."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import grpc
import pytest
from fastapi.testclient import TestClient
from grpc_health.v1 import health_pb2
from prometheus_client import REGISTRY

from gateway.observability import configure_logging
from gateway.upstream import UPSTREAMS
from kit.settings import Settings

Headers = Callable[[str], dict[str, str]]


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "services": None, "directory": None}


def test_readyz_follows_registry_health(client: TestClient, registry_server: Any) -> None:
    assert client.get("/readyz").status_code == 200
    registry_server.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    reply = client.get("/readyz")
    assert reply.status_code == 503
    assert reply.json() == {
        "status": "unavailable",
        "services": {u.name: "not serving" for u in UPSTREAMS},
        "directory": None,
    }


def test_metrics_count_requests_and_grpc_calls(fresh_client: TestClient, fake: Any) -> None:
    client = fresh_client

    def calls(code: str) -> float:
        labels = {"grpc_type": "unary", "grpc_service": "liaison.registry.v1.RegistryService",
                  "grpc_method": "GetStreet", "grpc_code": code}  # fmt: skip
        return REGISTRY.get_sample_value("grpc_client_handled_total", labels) or 0.0

    ok, not_found = calls("OK"), calls("NotFound")
    client.get("/api/v1/streets/1")
    client.get("/api/v1/streets/2")
    client.get("/api/v1/streets/99")
    text = client.get("/metrics").text
    assert (
        'liaison_gateway_http_requests_total{method="GET",route="/api/v1/streets/{id}",status="200"} 2.0'
        in text
    )
    assert (
        'liaison_gateway_http_requests_total{method="GET",route="/api/v1/streets/{id}",status="404"} 1.0'
        in text
    )
    # The calls to the services are kit's client metrics, the same in every process.
    assert (calls("OK") - ok, calls("NotFound") - not_found) == (2.0, 1.0)
    assert "grpc_client_handled_total{" in text
    assert (
        'liaison_gateway_http_request_duration_seconds_count{method="GET",route="/api/v1/streets/{id}"} 3.0'
        in text
    )


def test_unmatched_paths_share_one_metric_label(fresh_client: TestClient) -> None:
    client = fresh_client
    client.get("/no/such/path/1")
    client.get("/no/such/path/2")
    text = client.get("/metrics").text
    assert 'route="<unmatched>",status="404"} 2.0' in text


@pytest.fixture
def json_logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(Settings.load("gateway", "gateway"))
    buffer = io.StringIO()
    for handler in root.handlers:
        if handler not in saved[0] and isinstance(handler, logging.StreamHandler):
            handler.setStream(buffer)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_access_log_is_one_json_line_per_request(
    client: TestClient, json_logs: Callable[[], list[dict[str, Any]]]
) -> None:
    client.get("/api/v1/streets/1", headers={"X-Request-ID": "log-1"})
    [line] = [x for x in json_logs() if x["logger"] == "gateway.access"]
    assert line["route"] == "/api/v1/streets/{id}"
    assert line["status"] == 200
    assert line["request_id"] == line["correlation_id"] == "log-1"
    assert line["service"] == "gateway"
    assert isinstance(line["duration_ms"], float)


ADDRESS = "天河区林和东路108号3栋"
NAME = "王秀英"


def _gateway_log(lines: list[dict[str, Any]]) -> str:
    # httpx logs the test client's own requests, URL and all; the gateway
    # itself makes no HTTP calls.
    return "\n".join(json.dumps(x, ensure_ascii=False) for x in lines if x["logger"] != "httpx")


def test_no_personal_data_in_the_logs(
    client: TestClient,
    fake: Any,
    auth: Callable[[str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    admin = auth("admin")
    assert client.get("/api/v1/find-station", params={"address": ADDRESS}).status_code == 200
    street = {"code": "wxy", "name": NAME}
    assert client.post("/api/v1/streets", json=street, headers=admin).status_code == 201
    venue = {"code": "v-wxy", "name": NAME, "street_id": 1, "capacity": 2**40}
    assert client.post("/api/v1/venues", json=venue, headers=admin).status_code == 422
    # The registry's own words may quote the request: not logged either.
    fake.fail("FindStation", grpc.StatusCode.INTERNAL, f"no geocode for {ADDRESS}")
    assert client.get("/api/v1/find-station", params={"address": ADDRESS}).status_code == 502
    fake.fail("CreateStreet", grpc.StatusCode.UNKNOWN, f"insert of {NAME} failed")
    assert client.post("/api/v1/streets", json=street, headers=admin).status_code == 502

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"could not handle {ADDRESS} for {NAME}")

    registry = client.app.state.upstreams["registry"]  # type: ignore[attr-defined]
    monkeypatch.setattr(registry, "call", broken)
    client.raise_server_exceptions = False
    try:
        reply = client.get("/api/v1/find-station", params={"address": ADDRESS})
    finally:
        client.raise_server_exceptions = True
    assert reply.status_code == 500

    lines = json_logs()
    text = _gateway_log(lines)
    for secret in (ADDRESS, NAME, quote(ADDRESS), quote(NAME), "林和"):
        assert secret not in text, text
    access = [x for x in lines if x["logger"] == "gateway.access" and "route" in x]
    assert {x["route"] for x in access} >= {"/api/v1/find-station", "/api/v1/streets"}
    assert all("?" not in json.dumps(x) for x in access)
    [error] = [x for x in lines if x["level"] == "ERROR"]
    assert error["error_type"] == "RuntimeError"
    assert "broken" in error["stack"]


# ---------------------------------------------------------------- OpenAPI


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    reply = client.get("/openapi.json")
    assert reply.status_code == 200
    spec: dict[str, Any] = reply.json()
    return spec


def test_openapi_documents_the_schemas(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    for name in (
        "Problem", "FieldError", "RowError", "Street", "StreetCreate", "StreetUpdate", "StreetPage",
        "Area", "Community", "Venue", "Station", "Unit", "Deputy", "DeputyContact", "DeputyProfile",
        "Position", "PositionCreate", "Vacate", "BudgetLine", "BudgetChecks", "FindStationResult",
        "Deactivate", "RosterImportResult", "DeputyLevel", "UnitKind", "PositionRole",
    ):  # fmt: skip
        assert name in schemas, name
    assert "HTTPValidationError" not in schemas
    assert schemas["DeputyLevel"]["enum"] == ["national", "provincial", "city", "district"]
    problem = schemas["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "errors", "request_id"} <= set(problem)


def test_openapi_documents_errors_as_problems(openapi: dict[str, Any]) -> None:
    operations = [
        (path, method, op)
        for path, item in openapi["paths"].items()
        if path.startswith("/api/v1/") and not path.startswith("/api/v1/dev")
        for method, op in item.items()
    ]
    assert len(operations) > 45
    for path, method, op in operations:
        codes = set(op["responses"])
        assert {"422", "502", "503", "504"} <= codes, (path, method, codes)
        if method in ("post", "patch"):
            assert {"401", "403", "429"} <= codes, (path, method, codes)
        for code, response in op["responses"].items():
            if int(code) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (path, code)
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


def test_openapi_writes_document_conflicts_and_not_found(openapi: dict[str, Any]) -> None:
    patch = openapi["paths"]["/api/v1/streets/{id}"]["patch"]
    assert {"404", "409"} <= set(patch["responses"])
    assert openapi["paths"]["/api/v1/streets"]["post"]["responses"]["201"]
    assert openapi["paths"]["/api/v1/positions/{id}:vacate"]["post"]
    assert openapi["paths"]["/api/v1/streets/{id}:deactivate"]["post"]
    assert "/api/v1/positions/{id}:deactivate" not in openapi["paths"]

"""Operations: health, readiness, metrics, logs, rate limits, OpenAPI."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from grpc_health.v1 import health_pb2
from prometheus_client import REGISTRY

from gateway.config import GatewaySettings
from gateway.observability import configure_logging
from kit.settings import Settings

Headers = Callable[[str], dict[str, str]]


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "services": None}


def test_readyz_follows_registry_health(client: TestClient, registry_server: Any) -> None:
    assert client.get("/readyz").status_code == 200
    registry_server.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    reply = client.get("/readyz")
    assert reply.status_code == 503
    assert reply.json() == {"status": "unavailable", "services": {"registry": "not serving"}}


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


def test_writes_are_rate_limited_per_client(
    fake: Any,
    settings: GatewaySettings,
    make_client: Callable[[GatewaySettings], TestClient],
    problem: Any,
) -> None:
    limited = make_client(dataclasses.replace(settings, write_rate_per_minute=2))
    token = limited.post("/api/v1/dev/tokens", json={"account": "admin"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    body = {"reason": "x"}
    assert (
        limited.post("/api/v1/venues/1:deactivate", json=body, headers=headers).status_code == 200
    )
    assert (
        limited.post("/api/v1/venues/1:deactivate", json=body, headers=headers).status_code == 200
    )
    reply = limited.post("/api/v1/venues/1:deactivate", json=body, headers=headers)
    problem(reply, 429)
    assert int(reply.headers["retry-after"]) >= 1
    assert len(fake.calls_to("DeactivateVenue")) == 2
    # Reads are not limited, and another client has its own bucket.
    assert limited.get("/api/v1/venues").status_code == 200
    other = limited.post("/api/v1/dev/tokens", json={"account": "standing-committee-office"})
    other_headers = {"Authorization": f"Bearer {other.json()['access_token']}"}
    assert (
        limited.post("/api/v1/venues/1:deactivate", json=body, headers=other_headers).status_code
        == 200
    )


def test_token_bucket_refills() -> None:
    from gateway.ratelimit import TokenBucketLimiter

    now = [0.0]
    limiter = TokenBucketLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("a") == 0.0 for _ in range(60))
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0.0
    now[0] += 1.0
    assert limiter.take("a") == 0.0


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

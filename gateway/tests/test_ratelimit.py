"""Rate limits: reads and writes per client, in memory or shared through Redis."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.config import ConfigurationError, GatewaySettings
from gateway.ratelimit import KEY_PREFIX
from kit.testrun import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


def _client(settings: GatewaySettings, peer: str) -> Generator[TestClient, None, None]:
    with TestClient(create_app(settings), client=(peer, 40000)) as client:
        yield client


@pytest.fixture
def limited(fake: Any, settings: GatewaySettings) -> Callable[..., GatewaySettings]:
    """Settings with small limits; keyword arguments override."""

    def make(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "read_rate_per_minute": 3,
            "write_rate_per_minute": 2,
            **overrides,
        }
        return dataclasses.replace(settings, **values)

    return make


@pytest.fixture
def open_client() -> Iterator[Callable[[GatewaySettings, str], TestClient]]:
    stack: list[Generator[TestClient, None, None]] = []

    def make(settings: GatewaySettings, peer: str = "192.0.2.10") -> TestClient:
        generator = _client(settings, peer)
        stack.append(generator)
        return next(generator)

    yield make
    for generator in stack:
        generator.close()


def _token(client: TestClient, account: str) -> dict[str, str]:
    reply = client.post("/api/v1/dev/tokens", json={"account": account})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def test_reads_past_the_rate_are_429_with_retry_after(
    limited: Callable[..., GatewaySettings],
    open_client: Callable[..., TestClient],
    fake: Any,
    problem: Any,
) -> None:
    client = open_client(limited())
    for _ in range(3):
        assert client.get("/api/v1/streets/1").status_code == 200
    reply = client.get("/api/v1/streets/1")
    body = problem(reply, 429)
    assert "reads" in body["detail"]
    assert 1 <= int(reply.headers["retry-after"]) <= 60
    assert len(fake.calls_to("GetStreet")) == 3
    metrics = client.get("/metrics").text
    assert 'liaison_gateway_rate_limited_total{kind="read"} 1.0' in metrics


def test_writes_have_their_own_limit_per_subject(
    limited: Callable[..., GatewaySettings],
    open_client: Callable[..., TestClient],
    fake: Any,
    problem: Any,
) -> None:
    client = open_client(limited(read_rate_per_minute=1000))
    admin = _token(client, "admin")
    body = {"reason": "x"}
    for _ in range(2):
        reply = client.post("/api/v1/venues/1:deactivate", json=body, headers=admin)
        assert reply.status_code == 200
    problem(client.post("/api/v1/venues/1:deactivate", json=body, headers=admin), 429)
    assert len(fake.calls_to("DeactivateVenue")) == 2
    # Reads are counted apart, and another subject from the same address has
    # its own count (the two token requests were writes of the address).
    assert client.get("/api/v1/venues", headers=admin).status_code == 200
    office = _token(client, "standing-committee-office")
    reply = client.post("/api/v1/venues/1:deactivate", json=body, headers=office)
    assert reply.status_code == 200


def test_health_metrics_and_the_portal_are_not_limited(
    limited: Callable[..., GatewaySettings], open_client: Callable[..., TestClient]
) -> None:
    client = open_client(limited(read_rate_per_minute=1))
    for path in ("/healthz", "/readyz", "/metrics", "/", "/portal/portal.css"):
        for _ in range(3):
            assert client.get(path).status_code == 200, path
    assert client.get("/api/v1/streets").status_code == 200
    assert client.get("/api/v1/streets").status_code == 429


def test_openapi_documents_429_on_reads_and_writes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (
        ("/api/v1/streets", "get"),
        ("/api/v1/streets", "post"),
        ("/api/v1/find-station", "get"),
        ("/api/v1/rosters/{kind}:import", "post"),
    ):
        assert "429" in paths[path][method]["responses"], (path, method)
    assert "429" not in paths["/healthz"]["get"]["responses"]


# ---------------------------------------------------------------- client address


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(
    limited: Callable[..., GatewaySettings], open_client: Callable[..., TestClient]
) -> None:
    client = open_client(limited(trusted_proxies=("10.0.0.0/8",)), peer="192.0.2.50")
    statuses = [
        client.get("/api/v1/streets", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_a_trusted_proxy_names_the_client(
    limited: Callable[..., GatewaySettings], open_client: Callable[..., TestClient]
) -> None:
    client = open_client(limited(trusted_proxies=("10.0.0.0/8",)), peer="10.1.2.3")
    first = {"X-Forwarded-For": "203.0.113.7"}
    # A client may put anything first; the proxy appends the address it saw.
    second = {"X-Forwarded-For": "203.0.113.7, 198.51.100.9"}
    assert [client.get("/api/v1/streets", headers=first).status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]
    assert client.get("/api/v1/streets", headers=second).status_code == 200


def test_trusted_proxies_must_be_addresses_or_networks(fake: Any) -> None:
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXIES"):
        create_app(GatewaySettings(trusted_proxies=("ingress.local",)))


# ---------------------------------------------------------------- shared through Redis


@pytest.fixture
def redis_server() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError as exc:
        raise RuntimeError(f"these tests need Redis at {REDIS_URL}") from exc
    yield connection
    for key in connection.scan_iter(f"{KEY_PREFIX}*"):
        connection.delete(key)
    connection.close()


@pytest.mark.redis
def test_two_replicas_share_one_limit_through_redis(
    redis_server: redis.Redis,
    limited: Callable[..., GatewaySettings],
    open_client: Callable[..., TestClient],
    problem: Any,
) -> None:
    settings = limited(rate_limit_redis_url=REDIS_URL, read_rate_per_minute=4)
    # An address of its own, so no earlier run's count is in the way.
    peer = f"client-{uuid.uuid4().hex}"
    one = open_client(settings, peer=peer)
    two = open_client(settings, peer=peer)
    assert one.app is not two.app
    assert [one.get("/api/v1/streets").status_code for _ in range(2)] == [200, 200]
    assert [two.get("/api/v1/streets").status_code for _ in range(2)] == [200, 200]
    problem(one.get("/api/v1/streets"), 429)
    problem(two.get("/api/v1/streets"), 429)
    assert list(redis_server.scan_iter(f"{KEY_PREFIX}*{peer}*"))
    # Another client is not affected.
    other = open_client(settings, peer=f"client-{uuid.uuid4().hex}")
    assert other.get("/api/v1/streets").status_code == 200


def test_without_redis_the_limit_falls_back_to_this_process(
    limited: Callable[..., GatewaySettings],
    open_client: Callable[..., TestClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A port nothing listens on: every connection is refused.
    down = limited(rate_limit_redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = open_client(down)
    with caplog.at_level(logging.WARNING, logger="gateway.ratelimit"):
        statuses = [client.get("/api/v1/streets").status_code for _ in range(4)]
    # Served while Redis is away, and still held to the rate by this replica.
    assert statuses == [200, 200, 200, 429]
    assert any("rate-limit storage unreachable" in r.getMessage() for r in caplog.records)
    metrics = client.get("/metrics").text
    assert "liaison_gateway_rate_limit_storage_errors_total 1.0" in metrics

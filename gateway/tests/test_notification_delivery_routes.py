"""The delivery log through the gateway (gateway/routes/notification_deliveries.py),
over a fake DeliveryService of this module's own: what each route sends and
answers, the roles the gateway refuses early, bad filters refused before any
call, the service's refusals as problem+json, and the OpenAPI. The rules
themselves are tested on the notifications service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf.timestamp_pb2 import Timestamp

from liaison.common.v1 import envelope_pb2
from liaison.notifications.v1 import deliveries_pb2 as pb
from liaison.notifications.v1 import deliveries_pb2_grpc as pb_grpc

from .conftest import fake_upstream

Auth = Callable[[str], dict[str, str]]
Problem = Callable[..., Any]


def stamp() -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))
    return ts


def record(delivery_id: int, state: str = "dead") -> pb.DeliveryRecord:
    return pb.DeliveryRecord(
        id=delivery_id,
        message_id=3,
        channel="sms",
        state=state,
        event_type="reception.booking_confirmed",
        recipient="user:abc",
        kind="bookings",
        attempts=6,
        provider="sms-http",
        last_error="sms-http answered 500",
        created_at=stamp(),
    )


class FakeDeliveries(pb_grpc.DeliveryServiceServicer):
    """Answers from fixed values and keeps what it was sent; delivery 404 is
    unknown, delivery 409 is sent already."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}

    def _keep(self, name: str, request: Any, context: grpc.ServicerContext) -> None:
        self.last[name] = request
        if getattr(request, "id", 0) == 404:
            context.abort(grpc.StatusCode.NOT_FOUND, "delivery 404 does not exist")

    def ListDeliveries(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("ListDeliveries", request, context)
        return pb.ListDeliveriesResponse(
            deliveries=[record(7)], page=envelope_pb2.PageInfo(next_page_token="t", total_size=9)
        )

    def GetDelivery(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("GetDelivery", request, context)
        return record(request.id)

    def RetryDelivery(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("RetryDelivery", request, context)
        if request.id == 409:
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "delivery 409 is sent: only a failed or dead delivery is retried",
            )
        return record(request.id, "queued")


@pytest.fixture(scope="module")
def deliveries_server() -> Iterator[tuple[FakeDeliveries, str]]:
    fake = FakeDeliveries()
    with fake_upstream(fake, pb_grpc.add_DeliveryServiceServicer_to_server) as target:
        yield fake, target


@pytest.fixture
def deliveries(deliveries_server: tuple[FakeDeliveries, str]) -> FakeDeliveries:
    deliveries_server[0].last.clear()
    return deliveries_server[0]


@pytest.fixture
def app(
    client_with: Callable[[str, str], TestClient], deliveries_server: tuple[FakeDeliveries, str]
) -> TestClient:
    return client_with("notifications", deliveries_server[1])


@pytest.mark.parametrize("who", ["admin", "standing-committee-office"])
def test_the_log_is_listed_with_its_filters(
    app: TestClient, auth: Auth, deliveries: FakeDeliveries, who: str
) -> None:
    reply = app.get(
        "/api/v1/notification-deliveries",
        params={
            "state": "dead",
            "channel": "sms",
            "event_type": "reception.booking_confirmed",
            "recipient": "user:abc",
            "created_from": "2026-11-01",
            "created_to": "2026-11-27T10:00:00+08:00",
            "page_size": 20,
        },
        headers=auth(who),
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["total_size"], body["next_page_token"]) == (9, "t")
    [item] = body["items"]
    assert (item["id"], item["state"], item["recipient"], item["attempts"]) == (
        7,
        "dead",
        "user:abc",
        6,
    )
    sent = deliveries.last["ListDeliveries"]
    assert (sent.state, sent.channel, sent.recipient, sent.page.page_size) == (
        "dead",
        "sms",
        "user:abc",
        20,
    )
    assert (sent.created_from, sent.created_to) == ("2026-11-01", "2026-11-27T10:00:00+08:00")


def test_one_delivery_is_read_and_a_dead_one_retried(
    app: TestClient, auth: Auth, deliveries: FakeDeliveries
) -> None:
    got = app.get("/api/v1/notification-deliveries/12", headers=auth("admin"))
    assert got.status_code == 200, got.text
    assert got.json()["id"] == 12
    retried = app.post("/api/v1/notification-deliveries/12:retry", headers=auth("admin"))
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "queued"
    assert deliveries.last["RetryDelivery"].id == 12


@pytest.mark.parametrize("who", ["constituent", "deputy", "street-committee", "department"])
def test_other_roles_are_refused_before_any_call(
    app: TestClient, auth: Auth, deliveries: FakeDeliveries, problem: Problem, who: str
) -> None:
    problem(app.get("/api/v1/notification-deliveries", headers=auth(who)), 403)
    problem(app.post("/api/v1/notification-deliveries/5:retry", headers=auth(who)), 403)
    assert deliveries.last == {}
    problem(app.get("/api/v1/notification-deliveries"), 401)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"channel": "fax"}, "channel"),
        ({"page_size": 0}, "page_size"),
        ({"recipient": "x" * 241}, "recipient"),
    ],
)
def test_bad_filters_are_refused_before_any_call(
    app: TestClient,
    auth: Auth,
    deliveries: FakeDeliveries,
    problem: Problem,
    params: dict[str, Any],
    field: str,
) -> None:
    body = problem(
        app.get("/api/v1/notification-deliveries", params=params, headers=auth("admin")), 422
    )
    assert field in str(body["errors"])
    assert deliveries.last == {}


def test_the_services_refusals_are_problems_naming_the_delivery(
    app: TestClient, auth: Auth, problem: Problem
) -> None:
    missing = problem(app.get("/api/v1/notification-deliveries/404", headers=auth("admin")), 404)
    assert "delivery 404" in missing["detail"]
    sent = problem(
        app.post("/api/v1/notification-deliveries/409:retry", headers=auth("admin")), 409
    )
    assert "delivery 409 is sent" in sent["detail"]
    problem(app.get("/api/v1/notification-deliveries/0", headers=auth("admin")), 422)


def test_the_routes_are_in_the_openapi_under_notifications(app: TestClient) -> None:
    paths = app.get("/openapi.json").json()["paths"]
    assert paths["/api/v1/notification-deliveries"]["get"]["tags"] == ["notifications"]
    assert "get" in paths["/api/v1/notification-deliveries/{id}"]
    retry = paths["/api/v1/notification-deliveries/{id}:retry"]["post"]
    assert retry["operationId"] == "retry_notification_delivery"
    assert "409" in retry["responses"]

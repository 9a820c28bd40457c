"""The authorisation matrix of the notifications' delivery log through the
gateway, on the running platform: every caller against every operation, and
a refused retry changes no service's audit and leaves the delivery dead.
Besides: a retried delivery is queued again and the notifications worker
takes it (with no contact known for its recipient it is suppressed, saying
why); a delivery in another state is 409 naming it; an unknown one is 404.
The rules are tested on the notifications service's gRPC API
(services/notifications/tests); here they hold for what clients call."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import update

from kit.db import Database
from kit.testrun import Platform
from notifications.message_models import Delivery
from notifications.sending_testrun import delivery, queue
from tests.e2e import test_authorization_e2e as matrix
from tests.e2e.test_authorization_e2e import CALLERS, DISTRICT, World, allowed, get

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]
platform = matrix.platform
world = matrix.world

Operation = Callable[[World], Callable[[dict[str, str]], httpx.Response]]
_db: list[Database] = []


@pytest.fixture(scope="module", autouse=True)
def notifications_db(platform: Platform) -> Iterator[Database]:
    """The running notifications service's database, to put deliveries in."""
    db = Database(platform.services["notifications"].database_url, "notifications")
    _db.append(db)
    yield db
    _db.clear()
    db.dispose()


def dead_delivery(channel: str = "sms") -> int:
    """A delivery whose attempts ran out (what the sender leaves after a failing provider)."""
    db = _db[0]
    delivery_id = queue(db, channel, recipient="deputy:1", state="dead")
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(attempts=6, last_error="sms-http answered 500: the provider failed")
        )
    return delivery_id


def retry(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    delivery_id = dead_delivery()
    return lambda h: w.http.post(f"/api/v1/notification-deliveries/{delivery_id}:retry", headers=h)


def read_one(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    delivery_id = dead_delivery()
    return lambda h: w.http.get(f"/api/v1/notification-deliveries/{delivery_id}", headers=h)


MATRIX: list[tuple[str, Operation, dict[str, int]]] = [
    ("GET the delivery log", get("/api/v1/notification-deliveries"), allowed(*DISTRICT)),
    (
        "GET the delivery log's dead ones",
        get("/api/v1/notification-deliveries", state="dead", channel="sms"),
        allowed(*DISTRICT),
    ),
    ("GET one delivery", read_one, allowed(*DISTRICT)),
    ("retry a dead delivery", retry, allowed(*DISTRICT)),
]
CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name} as {caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_delivery_log_authorisation_through_the_gateway(
    world: World, operation: Operation, caller: str, expected: int
) -> None:
    matrix.test_authorisation_matrix_through_the_gateway(world, operation, caller, expected)


def test_a_refused_retry_leaves_the_delivery_dead(world: World) -> None:
    delivery_id = dead_delivery()
    reply = world.http.post(
        f"/api/v1/notification-deliveries/{delivery_id}:retry", headers=world.headers["deputy"]
    )
    assert reply.status_code == 403
    assert "role deputy may not" in reply.json()["detail"]
    assert delivery(_db[0], delivery_id).state == "dead"


def test_a_retried_delivery_is_taken_by_the_worker(world: World) -> None:
    delivery_id = dead_delivery()
    reply = world.http.post(
        f"/api/v1/notification-deliveries/{delivery_id}:retry", headers=world.admin()
    )
    assert reply.status_code == 200, reply.text
    assert (reply.json()["state"], reply.json()["attempts"]) == ("queued", 0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = world.http.get(
            f"/api/v1/notification-deliveries/{delivery_id}", headers=world.admin()
        ).json()
        if found["state"] != "queued":
            break
        time.sleep(0.5)
    # No contact is known for the recipient (the preferences' contacts are not wired yet).
    assert (found["state"], found["last_error"]) == ("suppressed", "no sms contact for deputy:1")
    listed = world.http.get(
        "/api/v1/notification-deliveries",
        params={"recipient": "deputy:1", "state": "suppressed"},
        headers=world.admin(),
    )
    assert delivery_id in [d["id"] for d in listed.json()["items"]]


def test_a_delivery_in_another_state_is_409_and_an_unknown_one_404(world: World) -> None:
    sent = queue(_db[0], "email", recipient="deputy:1", state="sent")
    conflict = world.http.post(
        f"/api/v1/notification-deliveries/{sent}:retry", headers=world.admin()
    )
    assert conflict.status_code == 409
    assert f"delivery {sent} is sent" in conflict.json()["detail"]
    missing = world.http.get("/api/v1/notification-deliveries/987654321", headers=world.admin())
    assert missing.status_code == 404
    assert "delivery 987654321" in missing.json()["detail"]
    bad = world.http.get(
        "/api/v1/notification-deliveries",
        params={"created_from": "yesterday"},
        headers=world.admin(),
    )
    assert bad.status_code in (400, 422)
    assert "created_from" in bad.text

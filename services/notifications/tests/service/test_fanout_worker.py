"""The notifications worker fans events out on real RabbitMQ and PostgreSQL.

The worker runs as a process (migrated first, which declares its queues and
loads the default rules, on a virtual host of the test's own). Events are
published on reception's and referral's exchanges as their relays would,
each twice and some under the same id at once: exactly one message per
recipient and rule and one delivery per channel come of them, and nothing
is dead-lettered.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import kombu
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage
from sqlalchemy import func, select

from kit.db import Database
from kit.events import event_type_of
from kit.tables import processed_events
from kit.testrun import Broker, Platform, own_vhost, platform_environment, throwaway_database
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import rota_pb2
from notifications.message_models import Delivery, Message

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture(scope="module")
def worker(postgres_admin_url: str, amqp_uri: str) -> Iterator[tuple[Platform, Database]]:
    with (
        own_vhost(amqp_uri) as vhost,
        throwaway_database("notifications_worker", admin_url=postgres_admin_url) as url,
    ):
        platform = Platform(platform_environment({"LIAISON_AMQP_URI": vhost}))
        db = Database(url, "notifications")
        try:
            platform.add_service("notifications", url)
            platform.run("notifications.migrate")
            platform.start_process("notifications", "worker")
            platform.wait_ready()
            yield platform, db
        finally:
            platform.close()
            db.dispose()


def body(source: str, message: ProtoMessage, event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": event_type_of(message),
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": source,
        "correlation_id": "",
        "schema_version": 1,
        "payload_type": message.DESCRIPTOR.full_name,
        "payload": json_format.MessageToDict(message, preserving_proto_field_name=True),
    }


def publish(uri: str, source: str, bodies: list[dict[str, Any]]) -> None:
    with kombu.Connection(uri) as conn:
        producer = conn.Producer()
        for item in bodies:
            producer.publish(
                json.dumps(item, ensure_ascii=False),
                exchange=kombu.Exchange(f"{source}.events", type="topic", durable=True),
                routing_key=item["type"],
                content_type="application/json",
                content_encoding="utf-8",
            )


def wait_for(what: str, check: Any, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.2)


def count(db: Database, table: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_redelivered_events_make_one_message_per_recipient_and_channel(
    worker: tuple[Platform, Database],
) -> None:
    platform, db = worker
    bookings = [
        body(
            "reception",
            rev.BookingConfirmed(booking_id=n, session_id=1, slot_id=1, owner_sub=f"test:{n}"),
            str(uuid.uuid4()),
        )
        for n in range(1, 6)
    ]
    rota = body(
        "reception",
        rev.RotaPublished(
            rota=rota_pb2.SessionRota(
                session_id=1,
                date="2026-12-15",
                deputies=[rota_pb2.RotaDeputy(deputy_id=d, name=f"代表{d}") for d in (1, 2, 3)],
            )
        ),
        str(uuid.uuid4()),
    )
    # Each event twice (a relay that sent again after a lost confirm).
    publish(platform.amqp_uri, "reception", [*bookings, rota, *bookings, rota])
    events = len(bookings) + 1
    wait_for("every event handled", lambda: count(db, processed_events) >= events)
    wait_for("every message written", lambda: count(db, Message) == len(bookings) + 3)
    time.sleep(1)  # anything more would have come by now
    assert count(db, Message) == len(bookings) + 3
    assert count(db, Delivery) == (len(bookings) + 3) * 4
    with db.read() as session:
        recipients = set(session.scalars(select(Message.recipient)))
        outcomes = set(session.scalars(select(processed_events.c.outcome).distinct()))
        inbox = session.scalars(select(Delivery.state).where(Delivery.channel == "inbox")).all()
    assert recipients == {f"user:test:{n}" for n in range(1, 6)} | {
        "deputy:1",
        "deputy:2",
        "deputy:3",
    }
    assert outcomes == {"handled"} and set(inbox) == {"delivered"}
    broker = Broker(platform.amqp_uri)
    try:
        dead = [q for q in queue_names() if (broker.depth(f"{q}.dead-letter") or 0) > 0]
    finally:
        broker.close()
    assert dead == []


def queue_names() -> list[str]:
    from kit.queues import consumer_queues
    from notifications.consumers import NotificationsWorker

    return [q.name for q in consumer_queues(NotificationsWorker)]

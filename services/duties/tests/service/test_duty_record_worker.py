"""The duties worker builds the public duty record from other services'
events on real RabbitMQ and PostgreSQL.

The worker runs as a process (migrated first, which declares its queues,
on a virtual host of the test's own). A year of a street's events of
reception, referral and the duties service itself is published on their
exchanges (`reception.events`, `referral.events`, `duties.events`) as their
relays would, then the same events again, all
shuffled, some under other event ids: the worker's projection must become
what the events give in the order published, with nothing dead-lettered.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import kombu
import pytest
from sqlalchemy import func, select

from duties.record_models import DutyRecordEntry
from duties.record_testing import (
    START,
    Published,
    Publisher,
    expected_record,
    stored,
    year_of_a_street,
)
from duties.testing import fake_registry
from kit.db import Database
from kit.tables import processed_events
from kit.testrun import Broker, Platform, own_vhost, platform_environment, throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

SEED = 11272026
DEPUTIES = [1, 2, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def worker(postgres_admin_url: str, amqp_uri: str) -> Iterator[tuple[Platform, Database]]:
    with (
        own_vhost(amqp_uri) as vhost,
        throwaway_database("duties_worker", admin_url=postgres_admin_url) as url,
        fake_registry() as (_registry, registry_target),
    ):
        platform = Platform(
            platform_environment(
                {"LIAISON_AMQP_URI": vhost, "LIAISON_REGISTRY_GRPC_TARGET": registry_target}
            )
        )
        db = Database(url, "duties")
        try:
            platform.add_service("duties", url)
            platform.run("duties.migrate")
            platform.start_process("duties", "worker")
            platform.wait_ready()
            yield platform, db
        finally:
            platform.close()
            db.dispose()


def publish(uri: str, events: list[Published]) -> None:
    """On each source's exchange, as its relay publishes them."""
    with kombu.Connection(uri) as conn:
        producer = conn.Producer()
        for event in events:
            producer.publish(
                json.dumps(event.body, ensure_ascii=False),
                exchange=kombu.Exchange(f"{event.source}.events", type="topic", durable=True),
                routing_key=event.type,
                content_type="application/json",
                content_encoding="utf-8",
            )


def handled(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(processed_events)) or 0)


def wait_for(what: str, check: Any, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.2)


def test_the_worker_converges_from_redelivered_and_shuffled_events(
    worker: tuple[Platform, Database],
) -> None:
    platform, db = worker
    publisher = Publisher(START)
    year_of_a_street(publisher, DEPUTIES[:4])
    year_of_a_street(publisher, DEPUTIES[4:], session_base=1000, record_base=100_000)
    story = publisher.events
    rng = random.Random(SEED)
    # some published again under another event id (a relay that sent twice)
    renamed = [
        Published(e.source, e.type, {**e.body, "event_id": e.body["event_id"] + "-again"})
        for e in rng.sample(story, len(story) // 5)
    ]
    everything = story + story + renamed
    rng.shuffle(everything)
    publish(platform.amqp_uri, everything)
    expected = expected_record(story)
    wait_for(
        "every event handled once per event id",
        lambda: handled(db) == len(story) + len(renamed),
    )
    assert stored(db) == expected
    assert {e.source for e in story} == {"reception", "referral", "duties"}
    with db.read() as session:
        outcomes = set(session.scalars(select(processed_events.c.outcome).distinct()))
        entries = session.scalar(select(func.count()).select_from(DutyRecordEntry))
    assert outcomes == {"handled"}
    assert entries and entries >= sum(len(v) for v in expected.values())
    broker = Broker(platform.amqp_uri)
    try:
        dead = [q for q in queue_names(platform) if (broker.depth(f"{q}.dead-letter") or 0) > 0]
    finally:
        broker.close()
    assert dead == []


def queue_names(platform: Platform) -> list[str]:
    from duties.consumers import DutiesWorker
    from kit.queues import consumer_queues

    return [q.name for q in consumer_queues(DutiesWorker)]

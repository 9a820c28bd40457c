"""The idempotent consumer, on real PostgreSQL, dead letters on real RabbitMQ."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from kit.events import Envelope, new_envelope
from kit.inbox import (
    DEAD_LETTERED,
    DUPLICATE,
    HANDLED,
    DeadLetterPublisher,
    Inbox,
    RetryLater,
    dead_letter_queue_name,
)
from kit.tables import event_failures, processed_events
from liaison.registry.v1 import events_pb2, registry_pb2

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

HANDLER = "notes.on_street_changed"


def street_changed_body(code: str = "linhe", source: str = "registry") -> dict[str, Any]:
    message = events_pb2.StreetChanged(
        street=registry_pb2.Street(id=3, code=code, name=f"{code} street"), change="created"
    )
    return new_envelope(source, message, correlation_id="corr-inbox").to_body()


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Effects:
    """Effects that write a note per event, optionally failing; counts its calls."""

    def __init__(self, notes_table: Any) -> None:
        self.notes = notes_table
        self.calls = 0
        self.fail_times = 0

    def __call__(self, uow: Any, envelope: Envelope) -> None:
        self.calls += 1
        uow.session.execute(self.notes.insert().values(text=envelope.event_id))
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("the effect failed")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def inbox(db, amqp_uri, sleeps) -> Inbox:
    return Inbox(db, max_retries=3, dead_letters=DeadLetterPublisher(amqp_uri), sleep=sleeps.append)


@pytest.fixture
def queue(broker, service_name) -> str:
    """The consumer's queue name; its dead-letter queue is deleted after the test."""
    name = f"evt-registry-street_changed--{service_name}.{HANDLER}"
    broker.forget_later(queues=(dead_letter_queue_name(name),))
    return name


def failures(db, event_id: str) -> int | None:
    with db.read() as session:
        return session.execute(
            select(event_failures.c.attempts).where(
                event_failures.c.event_id == event_id, event_failures.c.handler == HANDLER
            )
        ).scalar_one_or_none()


def outcome(db, event_id: str, handler: str = HANDLER) -> str | None:
    with db.read() as session:
        return session.execute(
            select(processed_events.c.outcome).where(
                processed_events.c.event_id == event_id, processed_events.c.handler == handler
            )
        ).scalar_one_or_none()


def test_effect_runs_once_and_a_redelivery_is_a_duplicate(
    db, inbox, queue, notes_table, count_rows
):
    effect = Effects(notes_table)
    body = street_changed_body()
    labels = {"service": db.service, "type": "street_changed", "handler": HANDLER}
    consumed = counter("liaison_events_consumed_total", **labels)
    duplicates = counter("liaison_events_duplicate_total", **labels)
    latency = counter(
        "liaison_event_latency_seconds_count", service=db.service, type="street_changed"
    )

    assert inbox.handle(body, handler=HANDLER, queue=queue, effect=effect) == HANDLED
    assert effect.calls == 1
    assert count_rows(db, notes_table, notes_table.c.text == body["event_id"]) == 1
    assert outcome(db, body["event_id"]) == HANDLED

    # Redelivered, as a dict or as the raw JSON the broker carried.
    assert inbox.handle(body, handler=HANDLER, queue=queue, effect=effect) == DUPLICATE
    assert inbox.handle(json.dumps(body), handler=HANDLER, queue=queue, effect=effect) == DUPLICATE
    assert effect.calls == 1
    assert count_rows(db, notes_table) == 1

    assert counter("liaison_events_consumed_total", **labels) - consumed == 1
    assert counter("liaison_events_duplicate_total", **labels) - duplicates == 2
    assert (
        counter("liaison_event_latency_seconds_count", service=db.service, type="street_changed")
        - latency
        == 1
    )


def test_each_handler_processes_an_event_once_on_its_own(db, inbox, queue, notes_table, count_rows):
    effect = Effects(notes_table)
    body = street_changed_body()
    other = "notes.on_street_changed_too"
    assert inbox.handle(body, handler=HANDLER, queue=queue, effect=effect) == HANDLED
    assert inbox.handle(body, handler=other, queue=queue, effect=effect) == HANDLED
    assert inbox.handle(body, handler=other, queue=queue, effect=effect) == DUPLICATE
    assert effect.calls == 2
    assert count_rows(db, notes_table) == 2
    assert outcome(db, body["event_id"], other) == HANDLED


def test_failing_effect_is_retried_then_dead_lettered_and_never_stored(
    db, inbox, queue, broker, sleeps, notes_table, count_rows
):
    effect = Effects(notes_table)
    effect.fail_times = 1000
    body = street_changed_body(code="poison")
    event_id = body["event_id"]
    labels = {"service": db.service, "type": "street_changed", "handler": HANDLER}
    failed = counter("liaison_events_failed_total", **labels)
    dead = counter("liaison_events_dead_lettered_total", **labels)
    consumed = counter("liaison_events_consumed_total", **labels)

    for attempt in (1, 2):
        with pytest.raises(RetryLater):
            inbox.handle(body, handler=HANDLER, queue=queue, effect=effect)
        assert failures(db, event_id) == attempt
        assert count_rows(db, notes_table) == 0
        assert outcome(db, event_id) is None
    assert sleeps == [0.2, 0.4]  # exponential backoff between attempts

    assert inbox.handle(body, handler=HANDLER, queue=queue, effect=effect) == DEAD_LETTERED
    assert failures(db, event_id) == 3
    assert outcome(db, event_id) == DEAD_LETTERED
    assert count_rows(db, notes_table) == 0
    assert effect.calls == 3

    letters = broker.take(dead_letter_queue_name(queue), 1)
    assert len(letters) == 1
    assert json.loads(letters[0].body) == body
    assert letters[0].routing_key == queue
    reason = letters[0].headers["x-liaison-dead-letter-reason"]
    assert HANDLER in reason
    assert "3 times" in reason
    assert letters[0].properties["delivery_mode"] == 2

    # A later redelivery of the poison message does nothing.
    assert inbox.handle(body, handler=HANDLER, queue=queue, effect=effect) == DUPLICATE
    assert effect.calls == 3
    assert broker.drain(dead_letter_queue_name(queue)) == []

    assert counter("liaison_events_failed_total", **labels) - failed == 3
    assert counter("liaison_events_dead_lettered_total", **labels) - dead == 1
    assert counter("liaison_events_consumed_total", **labels) - consumed == 0


def test_effect_that_recovers_on_a_retry_is_handled_once(
    db, inbox, queue, broker, notes_table, count_rows
):
    effect = Effects(notes_table)
    effect.fail_times = 1
    body = street_changed_body()
    with pytest.raises(RetryLater):
        inbox.handle(body, handler=HANDLER, queue=queue, effect=effect)
    assert count_rows(db, notes_table) == 0

    assert inbox.handle(body, handler=HANDLER, queue=queue, effect=effect) == HANDLED
    assert count_rows(db, notes_table) == 1
    assert failures(db, body["event_id"]) == 1
    assert broker.depth(dead_letter_queue_name(queue)) in (None, 0)


def test_an_unprocessable_event_is_dead_lettered_at_once_and_stores_nothing(
    db, inbox, queue, broker, sleeps, notes_table, count_rows
):
    body = street_changed_body(code="half-written")
    body["payload"]["street"]["id"] = "not a number"
    calls: list[str] = []

    def effect(uow: Any, envelope: Envelope) -> None:
        uow.session.execute(notes_table.insert().values(text=envelope.event_id))
        calls.append(envelope.event_id)
        envelope.payload_as(events_pb2.StreetChanged)  # raises UnprocessableEvent

    labels = {"service": db.service, "type": "street_changed", "handler": HANDLER}
    dead = counter("liaison_events_dead_lettered_total", **labels)
    failed = counter("liaison_events_failed_total", **labels)

    assert inbox.handle(body, handler=HANDLER, queue=queue, effect=effect) == DEAD_LETTERED
    assert calls == [body["event_id"]] and sleeps == []  # one try, no retry
    assert count_rows(db, notes_table) == 0  # the effect's writes rolled back
    assert outcome(db, body["event_id"]) == DEAD_LETTERED
    assert failures(db, body["event_id"]) is None
    (letter,) = broker.take(dead_letter_queue_name(queue), 1)
    assert json.loads(letter.body) == body
    assert (
        "not a valid liaison.registry.v1.StreetChanged"
        in (letter.headers["x-liaison-dead-letter-reason"])
    )
    assert counter("liaison_events_dead_lettered_total", **labels) - dead == 1
    assert counter("liaison_events_failed_total", **labels) - failed == 0

    # The same event again (the relay delivers at least once) is not handled
    # or dead-lettered twice.
    assert inbox.handle(body, handler=HANDLER, queue=queue, effect=effect) == DUPLICATE
    assert broker.drain(dead_letter_queue_name(queue)) == []


@pytest.mark.parametrize(
    "body",
    [
        "this is not json",
        [1, 2, 3],
        {"type": "street_changed", "source": "registry"},
        {"event_id": "e1", "type": "t", "source": "s", "occurred_at": "not a time"},
    ],
    ids=["not-json", "not-an-object", "missing-fields", "bad-time"],
)
def test_malformed_body_is_dead_lettered_at_once(db, inbox, queue, broker, body, notes_table):
    effect = Effects(notes_table)
    labels = {"service": db.service, "type": "unknown", "handler": HANDLER}
    dead = counter("liaison_events_dead_lettered_total", **labels)

    assert inbox.handle(body, handler=HANDLER, queue=queue, effect=effect) == DEAD_LETTERED
    assert effect.calls == 0
    letters = broker.take(dead_letter_queue_name(queue), 1)
    assert len(letters) == 1
    assert json.loads(letters[0].body) == body
    assert "malformed envelope" in letters[0].headers["x-liaison-dead-letter-reason"]
    assert counter("liaison_events_dead_lettered_total", **labels) - dead == 1


def test_two_consumers_racing_on_one_event_apply_it_once(
    db, database_url, amqp_uri, queue, notes_table, count_rows
):
    """Both pass the duplicate check; the second commit finds the first's record."""
    from kit.db import Database

    other_db = Database(database_url, db.service)
    inboxes = [
        Inbox(d, max_retries=3, dead_letters=DeadLetterPublisher(amqp_uri), sleep=lambda _: None)
        for d in (db, other_db)
    ]
    both_in_effect = threading.Barrier(2, timeout=10)
    body = street_changed_body()
    results: list[str] = []
    errors: list[BaseException] = []

    def effect(uow: Any, envelope: Envelope) -> None:
        uow.session.execute(notes_table.insert().values(text=envelope.event_id))
        both_in_effect.wait()

    def consume(inbox: Inbox) -> None:
        try:
            results.append(inbox.handle(body, handler=HANDLER, queue=queue, effect=effect))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=consume, args=(i,)) for i in inboxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other_db.dispose()
    assert errors == []
    assert sorted(results) == [DUPLICATE, HANDLED]
    assert count_rows(db, notes_table) == 1
    assert failures(db, body["event_id"]) is None

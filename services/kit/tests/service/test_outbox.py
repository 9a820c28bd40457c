"""The transactional outbox and its relay, on real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, text, update

from kit.db import Database
from kit.logging import correlation_scope
from kit.outbox import OutboxRelay
from kit.tables import outbox_events
from liaison.registry.v1 import events_pb2, registry_pb2

pytestmark = pytest.mark.postgres


def street_changed(code: str, change: str = "updated") -> events_pb2.StreetChanged:
    return events_pb2.StreetChanged(
        street=registry_pb2.Street(id=7, code=code, name=f"{code} street", active=True),
        change=change,
        changed_fields=["name"],
    )


def emit_events(db: Database, codes: list[str]) -> list[str]:
    """One unit of work emitting a street_changed event per code; their ids."""
    with db.unit_of_work() as uow:
        return [uow.emit(street_changed(code)) for code in codes]


def unsent(db: Database) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(outbox_events.c.event_id)
                .where(outbox_events.c.sent_at.is_(None))
                .order_by(outbox_events.c.sequence)
            )
        )


def published(service: str, event_type: str) -> float:
    value = REGISTRY.get_sample_value(
        "liaison_events_published_total", {"service": service, "type": event_type}
    )
    return value or 0.0


def relay_until_empty(relay: OutboxRelay, timeout: float = 30.0) -> int:
    """Relay passes until the outbox is empty, retrying failed passes as the worker does."""
    total = 0
    deadline = time.monotonic() + timeout
    while True:
        try:
            sent = relay.relay_once()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
            continue
        total += sent
        if sent == 0 and relay.measure_backlog()[0] == 0:
            return total
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox not empty after {timeout}s")


# ------------------------------------------------------------ unit of work


def test_unit_of_work_commits_change_and_event_together(db, notes_table, count_rows):
    with correlation_scope("corr-uow-1"), db.unit_of_work() as uow:
        uow.session.execute(notes_table.insert().values(text="street renamed"))
        event_id = uow.emit(street_changed("linhe"))

    assert count_rows(db, notes_table) == 1
    with db.read() as session:
        row = session.execute(select(outbox_events)).one()
    assert row.event_id == event_id
    assert row.type == "street_changed"
    assert row.source == db.service
    assert row.correlation_id == "corr-uow-1"
    assert row.sent_at is None
    assert row.attempts == 0
    body = json.loads(row.body)
    assert body["event_id"] == event_id
    assert body["payload"]["street"]["code"] == "linhe"
    assert body["payload_type"] == "liaison.registry.v1.StreetChanged"


def test_unit_of_work_that_raises_keeps_neither_change_nor_event(db, notes_table, count_rows):
    with pytest.raises(RuntimeError, match="domain rule broken"), db.unit_of_work() as uow:
        uow.session.execute(notes_table.insert().values(text="never kept"))
        uow.emit(street_changed("linhe"))
        raise RuntimeError("domain rule broken")

    assert count_rows(db, notes_table) == 0
    assert count_rows(db, outbox_events) == 0


def test_unit_of_work_the_database_refuses_keeps_no_event(db, notes_table, count_rows):
    """A change the database refuses takes the events emitted before it along."""
    with pytest.raises(Exception), db.unit_of_work() as uow:  # noqa: B017
        uow.emit(street_changed("linhe"))
        uow.session.execute(notes_table.insert().values(text=None))
    assert count_rows(db, outbox_events) == 0


# ------------------------------------------------------------ relay


@pytest.mark.rabbitmq
def test_relay_publishes_envelopes_in_order_and_marks_them_sent_after_confirm(
    db, broker, amqp_uri, count_rows
):
    queue = broker.bind_events(db.service, "street_changed")
    with correlation_scope("corr-relay-1"):
        ids = emit_events(db, [f"s{i}" for i in range(5)])
    relay = OutboxRelay(db, amqp_uri)
    before = published(db.service, "street_changed")

    seen: dict[str, int | None] = {}
    real_confirm = relay.publisher.confirm

    def confirm_and_look(sent):
        acked, nacked = real_confirm(sent)
        # The broker has confirmed; the rows must not be marked yet.
        seen["unsent"] = len(unsent(db))
        seen["queued"] = broker.depth(queue)
        return acked, nacked

    relay.publisher.confirm = confirm_and_look  # type: ignore[method-assign]
    try:
        assert relay.relay_once() == 5
    finally:
        relay.close()

    assert seen == {"unsent": 5, "queued": 5}
    assert unsent(db) == []
    assert count_rows(db, outbox_events, outbox_events.c.attempts == 1) == 5
    assert published(db.service, "street_changed") - before == 5

    messages = broker.take(queue, 5)
    assert [json.loads(m.body)["event_id"] for m in messages] == ids
    for message, event_id, i in zip(messages, ids, range(5), strict=True):
        body = json.loads(message.body)
        assert message.routing_key == "street_changed"
        assert message.properties["message_id"] == event_id
        assert message.properties["delivery_mode"] == 2
        assert message.properties["content_type"] == "application/json"
        assert body["type"] == "street_changed"
        assert body["source"] == db.service
        assert body["correlation_id"] == "corr-relay-1"
        assert body["schema_version"] == 1
        assert body["payload"]["street"]["code"] == f"s{i}"
        assert body["payload"]["change"] == "updated"
        assert body["sequence"] == i + 1
        assert datetime.fromisoformat(body["occurred_at"]).tzinfo is not None
    assert broker.drain(queue) == []


@pytest.mark.rabbitmq
def test_relay_keeps_order_across_batches(db, broker, amqp_uri):
    queue = broker.bind_events(db.service)
    ids: list[str] = []
    for i in range(7):  # one transaction each
        ids += emit_events(db, [f"b{i}"])
    relay = OutboxRelay(db, amqp_uri, batch_size=3)
    try:
        assert relay.relay_once() == 3
        # The next batch was sent before the first's confirms were awaited.
        assert relay.in_flight
        assert [relay.relay_once() for _ in range(3)] == [3, 1, 0]
        assert not relay.in_flight
    finally:
        relay.close()
    received = [json.loads(m.body)["event_id"] for m in broker.take(queue, 7)]
    assert received == ids


@pytest.mark.rabbitmq
def test_an_event_larger_than_a_frame_arrives_whole(db, broker, amqp_uri):
    """The publisher cuts a body into frames of the connection's frame_max."""
    queue = broker.bind_events(db.service)
    long_name = "林和" * 150_000  # 900 KB of UTF-8, several frames
    with db.unit_of_work() as uow:
        event_id = uow.emit(
            events_pb2.StreetChanged(
                street=registry_pb2.Street(id=7, code="long", name=long_name), change="updated"
            )
        )
        uow.emit(street_changed("after-the-long-one"))
    relay = OutboxRelay(db, amqp_uri)
    try:
        assert relay.relay_once() == 2
    finally:
        relay.close()
    first, second = broker.take(queue, 2)
    body = json.loads(first.body)
    assert body["event_id"] == event_id
    assert body["payload"]["street"]["name"] == long_name
    assert first.properties["message_id"] == event_id
    assert json.loads(second.body)["payload"]["street"]["code"] == "after-the-long-one"


@pytest.mark.rabbitmq
def test_refused_and_unconfirmed_events_stay_unsent_and_go_out_again(db, broker, amqp_uri):
    queue = broker.bind_events(db.service)
    ids = emit_events(db, ["a", "b", "c"])
    relay = OutboxRelay(db, amqp_uri)
    real_confirm = relay.publisher.confirm

    def lose_confirms(sent):
        real_confirm(sent)
        raise TimeoutError("broker confirmed 0 of 3 events in time")

    def refuse_last(sent):
        acked, nacked = real_confirm(sent)
        return acked[:-1], nacked + acked[-1:]

    try:
        relay.publisher.confirm = lose_confirms  # type: ignore[method-assign]
        with pytest.raises(TimeoutError):
            relay.relay_once()
        assert unsent(db) == ids

        relay.publisher.confirm = refuse_last  # type: ignore[method-assign]
        assert relay.relay_once() == 2
        assert unsent(db) == ids[2:]
        with db.read() as session:
            row = session.execute(
                select(outbox_events).where(outbox_events.c.event_id == ids[2])
            ).one()
        assert row.attempts == 1
        assert "nack" in row.last_error

        relay.publisher.confirm = real_confirm  # type: ignore[method-assign]
        assert relay.relay_once() == 1
        assert unsent(db) == []
    finally:
        relay.close()
    # At least once: what was not confirmed went out again, nothing was lost.
    received = [json.loads(m.body)["event_id"] for m in broker.drain(queue)]
    assert set(received) == set(ids)
    assert received[-1] == ids[2]


@pytest.mark.rabbitmq
def test_two_relays_share_the_outbox_and_publish_each_event_once(
    db, database_url, broker, amqp_uri
):
    queue = broker.bind_events(db.service)
    ids = emit_events(db, [f"c{i}" for i in range(500)])
    relays = [
        OutboxRelay(Database(database_url, db.service), amqp_uri, batch_size=50) for _ in range(2)
    ]
    first, second = relays
    a_holds_rows = threading.Event()
    b_went_past = threading.Event()
    real_send = first.publisher.send
    first_batches: dict[str, list[str]] = {}
    b_skipped: list[bool] = []

    def send_holding_rows(events):
        # The first batch of relay A waits, its rows locked, until B has relayed.
        if "a" not in first_batches:
            first_batches["a"] = [e.event_id for e in events]
            a_holds_rows.set()
            # False when B was blocked on A's rows instead of skipping them.
            b_skipped.append(b_went_past.wait(10))
        return real_send(events)

    def send_b(events, real=second.publisher.send):
        first_batches.setdefault("b", [e.event_id for e in events])
        return real(events)

    first.publisher.send = send_holding_rows  # type: ignore[method-assign]
    second.publisher.send = send_b  # type: ignore[method-assign]
    counts = [0, 0]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            counts[index] += relay_until_empty(relays[index])
        except BaseException as exc:
            errors.append(exc)

    thread_a = threading.Thread(target=run, args=(0,))
    thread_a.start()
    try:
        assert a_holds_rows.wait(15), "relay A never took a batch"
        # B does not wait for A's locked rows: it takes the next ones.
        counts[1] += second.relay_once()
        b_went_past.set()
        thread_b = threading.Thread(target=run, args=(1,))
        thread_b.start()
        thread_a.join(60)
        thread_b.join(60)
    finally:
        b_went_past.set()
        for relay in relays:
            relay.close()
            relay.db.dispose()
    assert errors == []
    assert b_skipped == [True]
    assert counts[1] >= 50
    assert first_batches["a"] == ids[:50]
    assert first_batches["b"] == ids[50:100]
    assert sum(counts) == 500

    received = [json.loads(m.body)["event_id"] for m in broker.take(queue, 500, timeout=30)]
    received += [json.loads(m.body)["event_id"] for m in broker.drain(queue)]
    assert len(received) == 500
    assert set(received) == set(ids)
    assert unsent(db) == []


@pytest.mark.rabbitmq
def test_relay_to_an_unreachable_broker_raises_and_loses_nothing(db, broker, amqp_uri, free_port):
    queue = broker.bind_events(db.service)
    ids = emit_events(db, ["d1", "d2", "d3"])
    relay = OutboxRelay(db, f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the transport raises
            relay.relay_once()
        assert unsent(db) == ids
        assert relay.measure_backlog()[0] == 3

        relay.publisher.amqp_uri = amqp_uri  # the broker is back
        assert relay.relay_once() == 3
    finally:
        relay.close()
    assert unsent(db) == []
    assert [json.loads(m.body)["event_id"] for m in broker.take(queue, 3)] == ids
    assert broker.drain(queue) == []


@pytest.mark.rabbitmq
def test_broker_restart_keeps_published_events_and_relays_those_written_meanwhile(
    db, broker, amqp_uri, stop_broker
):
    queue = broker.bind_events(db.service)
    before = emit_events(db, ["r1", "r2", "r3"])
    relay = OutboxRelay(db, amqp_uri)
    try:
        assert relay.relay_once() == 3
        assert broker.depth(queue) == 3
        broker.close()

        with stop_broker():
            during = emit_events(db, ["r4", "r5"])
            with pytest.raises(Exception):  # noqa: B017 - whatever the transport raises
                relay.relay_once()
            assert unsent(db) == during

        # Persistent messages in a durable queue survived the restart.
        assert broker.depth(queue) == 3
        # The relay's old connection died with the broker; it reconnects.
        assert relay_until_empty(relay) == 2
    finally:
        relay.close()
    received = [json.loads(m.body)["event_id"] for m in broker.take(queue, 5)]
    assert received == before + during
    assert broker.drain(queue) == []


# ------------------------------------------------------------ backlog and purge


def test_measure_backlog_counts_unsent_events_and_ages_the_oldest(db):
    relay = OutboxRelay(db, "amqp://guest:guest@127.0.0.1:1/")
    assert relay.measure_backlog() == (0, 0.0)

    ids = emit_events(db, ["m1", "m2", "m3", "m4"])
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(outbox_events)
            .where(outbox_events.c.event_id == ids[1])
            .values(occurred_at=text("now() - interval '1 hour'"))
        )
        uow.session.execute(
            update(outbox_events)
            .where(outbox_events.c.event_id == ids[0])
            .values(occurred_at=text("now() - interval '2 hours'"), sent_at=text("now()"))
        )

    count, age = relay.measure_backlog()
    assert count == 3
    assert 3590 < age < 3700  # the oldest unsent, not the older sent one
    labels = {"service": db.service}
    assert REGISTRY.get_sample_value("liaison_outbox_backlog", labels) == 3
    assert REGISTRY.get_sample_value("liaison_outbox_oldest_age_seconds", labels) == age

    with db.unit_of_work() as uow:
        uow.session.execute(update(outbox_events).values(sent_at=datetime.now(UTC)))
    assert relay.measure_backlog() == (0, 0.0)
    assert REGISTRY.get_sample_value("liaison_outbox_backlog", labels) == 0


def test_purge_sent_deletes_only_sent_events_older_than_the_retention(db, count_rows):
    relay = OutboxRelay(db, "amqp://guest:guest@127.0.0.1:1/", retention=timedelta(days=7))
    ids = emit_events(db, ["p1", "p2", "p3", "p4", "p5"])
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=30)
    marks = {
        ids[0]: {"sent_at": now - timedelta(days=8)},  # purged
        ids[1]: {"sent_at": now - timedelta(days=30)},  # purged
        ids[2]: {"sent_at": now - timedelta(days=6, hours=23)},  # within the retention
        ids[3]: {"occurred_at": long_ago},  # old but never sent: kept
        ids[4]: {"sent_at": now},
    }
    with db.unit_of_work() as uow:
        for event_id, values in marks.items():
            uow.session.execute(
                update(outbox_events).where(outbox_events.c.event_id == event_id).values(**values)
            )

    assert relay.purge_sent() == 2
    with db.read() as session:
        left = set(session.scalars(select(outbox_events.c.event_id)))
    assert left == set(ids[2:])
    assert relay.purge_sent() == 0
    assert count_rows(db, outbox_events) == 3


def test_committed_events_wake_the_relay_and_rolled_back_ones_do_not(db):
    from kit.outbox import OutboxWakeup

    wakeup = OutboxWakeup(db)
    try:
        assert wakeup.wait(0.05) is False  # listening now; nothing pending

        def commit_soon() -> None:
            time.sleep(0.3)
            emit_events(db, ["wake-1"])

        writer = threading.Thread(target=commit_soon)
        started = time.monotonic()
        writer.start()
        assert wakeup.wait(10) is True
        assert time.monotonic() - started < 5, "woken by the commit, not by the timeout"
        writer.join()
        assert wakeup.wait(0.05) is True, "an unsent event is waiting: no sleep"
        with db.unit_of_work() as uow:  # as the relay would
            uow.session.execute(update(outbox_events).values(sent_at=datetime.now(UTC)))

        with pytest.raises(RuntimeError), db.unit_of_work() as uow:
            uow.emit(street_changed("never"))
            uow.write_events()  # numbered (and a notification queued), then rolled back
            raise RuntimeError("rolled back")
        assert wakeup.wait(0.5) is False, "a rolled-back event sends no notification"
    finally:
        wakeup.close()


def test_writers_notify_only_a_sleeping_relay_and_once(db):
    """NOTIFY serialises the commits that send it: a writer sends it only for
    the first event after the relay went to sleep."""
    import psycopg

    from kit.outbox import OutboxWakeup
    from kit.tables import WAKEUP_CHANNEL

    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {WAKEUP_CHANNEL}")

        def notifications() -> int:
            return sum(1 for _ in listener.notifies(timeout=0.3))

        emit_events(db, ["before-any-relay"])  # a relay never slept: wake_after is 0
        assert notifications() == 1
        emit_events(db, ["busy-1"])
        emit_events(db, ["busy-2"])
        assert notifications() == 0, "no relay is asleep"

        wakeup = OutboxWakeup(db)
        try:
            assert wakeup.wait(0.05) is True, "three events are waiting"
            with db.unit_of_work() as uow:
                uow.session.execute(update(outbox_events).values(sent_at=datetime.now(UTC)))
            assert wakeup.wait(0.05) is False  # asleep now, nothing waiting
            assert notifications() == 0
            emit_events(db, ["wakes-it", "same-transaction"])
            emit_events(db, ["after-it"])
            assert notifications() == 1
            assert wakeup.wait(0.05) is True
        finally:
            wakeup.close()


@pytest.mark.rabbitmq
def test_events_another_relay_gave_back_go_out_within_the_rewind(
    db, database_url, broker, amqp_uri
):
    """A relay looks for events past the last it claimed; events another
    relay claimed and gave back (before them) it finds again once it rewinds."""
    queue = broker.bind_events(db.service)
    ids = emit_events(db, [f"g{i}" for i in range(6)])
    a = OutboxRelay(db, amqp_uri, batch_size=3)
    b = OutboxRelay(Database(database_url, db.service), amqp_uri, batch_size=3)
    a.REWIND_SECONDS = 0.5
    real_send = b.publisher.send

    def send_then_fail(events):
        real_send(events)
        assert a.relay_once() == 3  # a skips b's rows: it takes 4..6
        raise ConnectionError("b lost its broker")

    b.publisher.send = send_then_fail  # type: ignore[method-assign]
    try:
        with pytest.raises(ConnectionError):
            b.relay_once()
        assert unsent(db) == ids[:3]
        assert a.position == 6
        assert a.relay_once() == 0, "nothing past 6"
        time.sleep(0.6)
        assert a.relay_once() == 3
        assert unsent(db) == []
    finally:
        a.close()
        b.close()
        b.db.dispose()
    received = [json.loads(m.body)["event_id"] for m in broker.drain(queue)]
    assert set(received) == set(ids)

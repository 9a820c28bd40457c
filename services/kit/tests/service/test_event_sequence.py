"""The event sequence: every event of a service numbered 1, 2, 3, ... with no
hole, in the order the transactions committed, on real PostgreSQL (and on
SQLite, where the unit of work numbers them)."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kit.db import Database
from kit.events import Envelope, with_sequence
from kit.outbox import OutboxRelay, current_sequence
from kit.tables import outbox_events, platform_metadata
from liaison.registry.v1 import events_pb2, registry_pb2


def street_changed(code: str) -> events_pb2.StreetChanged:
    return events_pb2.StreetChanged(
        street=registry_pb2.Street(id=7, code=code, name=f"{code} street", active=True),
        change="updated",
    )


def numbered(db: Database) -> list[tuple[int, str]]:
    """(sequence, event_id) of every event, by sequence."""
    with db.read() as session:
        rows = session.execute(
            select(outbox_events.c.sequence, outbox_events.c.event_id).order_by(
                outbox_events.c.sequence
            )
        ).all()
    return [(r.sequence, r.event_id) for r in rows]


def write(db: Database, codes: list[str], *, fail: bool = False) -> list[str]:
    """One unit of work emitting an event per code (rolled back when `fail`)."""
    with db.unit_of_work() as uow:
        ids = [uow.emit(street_changed(code)) for code in codes]
        if fail:
            raise RuntimeError("rolled back")
    return ids


@pytest.mark.postgres
def test_events_are_numbered_in_emit_order_and_a_rollback_leaves_no_hole(db, notes_table):
    first = write(db, ["a", "b"])
    with pytest.raises(RuntimeError):
        write(db, ["lost-1", "lost-2"], fail=True)
    with pytest.raises(Exception), db.unit_of_work() as uow:  # noqa: B017 - refused by the database
        uow.emit(street_changed("lost-3"))
        uow.session.execute(notes_table.insert().values(text=None))
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        uow.emit(street_changed("lost-4"))
        uow.write_events()  # numbered now, then rolled back
        raise RuntimeError("rolled back after numbering")
    second = write(db, ["c"])
    assert numbered(db) == list(enumerate(first + second, start=1))
    with db.read() as session:
        assert current_sequence(session) == 3


@pytest.mark.postgres
def test_the_events_are_the_last_statement_before_commit(db, notes_table):
    """The counter is locked from the events' insert to the commit only: a
    statement after `emit` in the unit of work still runs before it."""
    with db.unit_of_work() as uow:
        uow.emit(street_changed("a"))
        uow.session.execute(notes_table.insert().values(text="after the emit"))
        # Nothing numbered yet: this transaction does not hold the counter.
        assert current_sequence(uow.session) == 0
        assert uow.session.scalar(select(outbox_events.c.sequence)) is None
    assert [s for s, _ in numbered(db)] == [1]


@pytest.mark.postgres
def test_concurrent_writers_get_a_dense_sequence_in_commit_order(db, database_url):
    """Writers in threads, some rolling back, while readers take snapshots: a
    snapshot always sees exactly the events 1..current_sequence, so no number
    is ever seen before a smaller one (commit order), and none is lost."""
    writers, rounds = 6, 40
    committed: list[list[str]] = []
    lock = threading.Lock()
    done = threading.Event()
    errors: list[BaseException] = []
    snapshots: list[tuple[int, int]] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        local = Database(database_url, db.service)
        try:
            for i in range(rounds):
                codes = [f"w{seed}-{i}-{k}" for k in range(rng.randint(1, 3))]
                fail = rng.random() < 0.2
                try:
                    with local.unit_of_work() as uow:
                        ids = [uow.emit(street_changed(code)) for code in codes]
                        # Hold the transaction open a little, as a real one would.
                        uow.session.execute(text("SELECT pg_sleep(:s)"), {"s": rng.random() / 200})
                        if fail:
                            raise RuntimeError("rolled back")
                except RuntimeError:
                    continue
                with lock:
                    committed.append(ids)
        except BaseException as exc:
            errors.append(exc)
        finally:
            local.dispose()

    def reader() -> None:
        local = Database(database_url, db.service)
        try:
            while not done.is_set():
                with local.read(consistent=True) as session:
                    version = current_sequence(session)
                    seen = list(
                        session.scalars(
                            select(outbox_events.c.sequence).order_by(outbox_events.c.sequence)
                        )
                    )
                assert seen == list(range(1, version + 1)), f"hole or late number in {seen}"
                snapshots.append((version, len(seen)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            local.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads + readers:
        t.start()
    for t in threads:
        t.join(120)
    done.set()
    for t in readers:
        t.join(30)
    assert errors == []
    assert len({v for v, _ in snapshots}) > 10, "the readers saw the writes go on"

    rows = numbered(db)
    total = sum(len(ids) for ids in committed)
    assert [s for s, _ in rows] == list(range(1, total + 1))
    # Each transaction's events are consecutive and in the order emitted.
    position = {event_id: sequence for sequence, event_id in rows}
    for ids in committed:
        numbers = [position[i] for i in ids]
        assert numbers == list(range(numbers[0], numbers[0] + len(ids)))
    assert set(position) == {i for ids in committed for i in ids}


@pytest.mark.postgres
def test_a_later_writer_waits_for_the_earlier_commit(db, database_url):
    """Numbers are given in commit order: the second writer's events, written
    while the first holds the counter, are numbered after the first's."""
    other = Database(database_url, db.service)
    first_numbered = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with db.unit_of_work() as uow:
            uow.emit(street_changed("first"))
            uow.write_events()  # numbered; the commit waits for `release`
            first_numbered.set()
            release.wait(10)
            order.append("first")

    t = threading.Thread(target=first)
    t.start()
    try:
        assert first_numbered.wait(10)
        second = threading.Thread(target=lambda: (write(other, ["second"]), order.append("second")))
        second.start()
        time.sleep(0.3)
        assert order == [], "the second writer waits while the first holds the counter"
        release.set()
        t.join(10)
        second.join(10)
    finally:
        release.set()
        other.dispose()
    assert order == ["first", "second"]
    codes = []
    with db.read() as session:
        for body in session.scalars(
            select(outbox_events.c.body).order_by(outbox_events.c.sequence)
        ):
            codes.append(json.loads(body)["payload"]["street"]["code"])
    assert codes == ["first", "second"]


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_the_published_envelope_carries_the_sequence(db, broker, amqp_uri):
    queue = broker.bind_events(db.service)
    with pytest.raises(RuntimeError):
        write(db, ["lost"], fail=True)
    ids = write(db, ["a", "b"]) + write(db, ["c"])
    relay = OutboxRelay(db, amqp_uri)
    try:
        assert relay.relay_once() == 3
    finally:
        relay.close()
    envelopes = [Envelope.from_body(m.body) for m in broker.take(queue, 3)]
    assert [(e.sequence, e.event_id) for e in envelopes] == list(enumerate(ids, start=1))
    assert envelopes[0].payload["street"]["code"] == "a"


def test_a_body_gets_its_sequence_first_and_keeps_the_rest():
    envelope = Envelope.from_body(
        {"event_id": "e1", "type": "t", "occurred_at": "2026-01-01T00:00:00+00:00", "source": "s"}
    )
    assert envelope.sequence == 0  # events published before numbering
    assert "sequence" not in envelope.to_body()
    body = with_sequence(envelope.to_json(), 42)
    assert body.startswith('{"sequence":42,"event_id":"e1"')
    parsed = Envelope.from_body(body)
    assert parsed.sequence == 42
    assert parsed.to_json() == body
    assert with_sequence("{}", 1) == '{"sequence":1}'
    with pytest.raises(ValueError):
        with_sequence("[1]", 1)


def test_sqlite_numbers_events_in_the_unit_of_work(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path}/kit.db", "ktlocal")
    try:
        platform_metadata.create_all(db.engine)
        first = write(db, ["a", "b"])
        with pytest.raises(RuntimeError):
            write(db, ["lost"], fail=True)
        second = write(db, ["c"])
        assert numbered(db) == list(enumerate(first + second, start=1))
        with db.read() as session:
            assert current_sequence(session) == 3
    finally:
        db.dispose()


@pytest.mark.rabbitmq
def test_the_relay_on_sqlite_publishes_in_order_one_batch_at_a_time(
    tmp_path: Path, broker, amqp_uri, service_name
):
    """SQLite has one writer: the relay does not take a batch while another
    is in flight (it would wait for its own lock)."""
    db = Database(f"sqlite:///{tmp_path}/kit.db", service_name)
    relay = OutboxRelay(db, amqp_uri, batch_size=2)
    try:
        platform_metadata.create_all(db.engine)
        queue = broker.bind_events(service_name)
        ids = write(db, ["a", "b", "c"]) + write(db, ["d", "e"])
        sent = []
        for _ in range(4):
            sent.append(relay.relay_once())
            assert not relay.in_flight
        assert sent == [2, 2, 1, 0]
        envelopes = [Envelope.from_body(m.body) for m in broker.take(queue, 5)]
        assert [(e.sequence, e.event_id) for e in envelopes] == list(enumerate(ids, start=1))
    finally:
        relay.close()
        db.dispose()

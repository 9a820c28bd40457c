"""The nameko worker as a real process, on real PostgreSQL and RabbitMQ.

`sample_worker.py` is a worker built on kit.worker, consuming the
`street_changed` events of a source service of the test's own. The test
process plays the source: it writes events to the source's outbox and runs a
relay, or publishes by hand.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import kombu
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text

from kit.db import Database
from kit.events import new_envelope
from kit.inbox import dead_letter_queue_name
from kit.migrations import upgrade
from kit.outbox import OutboxRelay
from kit.queues import consumer_queues, declare_consumer_queues
from kit.tables import event_failures, platform_metadata, processed_events
from kit.worker import PlatformWorker, consumes
from liaison.registry.v1 import events_pb2, registry_pb2

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

HERE = Path(__file__).resolve().parent
SAMPLE_WORKER = HERE / "sample_worker.py"
MIGRATIONS = HERE / "sample_migrations"


def wait_for(what: str, check: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def sample(metrics_text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(metrics_text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


@dataclass
class Setup:
    """A worker service and the source service whose events it consumes."""

    service: str
    source: str
    worker_db: Database
    source_db: Database
    amqp_uri: str
    log_dir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def handler(self) -> str:
        return f"{self.service}.on_street_changed"

    @property
    def queue(self) -> str:
        return f"evt-{self.source}-street_changed--{self.handler}"

    def start(self, **extra_env: str) -> tuple[subprocess.Popen, int]:
        port = int(extra_env.pop("LIAISON_METRICS_PORT"))
        env = {**self.env, **extra_env, "LIAISON_METRICS_PORT": str(port)}
        log = (self.log_dir / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, str(SAMPLE_WORKER)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process, port

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.log_dir.glob("worker-*.log"))
        )

    def emit(self, codes: list[str]) -> list[str]:
        with self.source_db.unit_of_work() as uow:
            return [
                uow.emit(
                    events_pb2.StreetChanged(
                        street=registry_pb2.Street(id=i + 1, code=code, name=code),
                        change="updated",
                    )
                )
                for i, code in enumerate(codes)
            ]

    def relay_all(self) -> int:
        relay = OutboxRelay(self.source_db, self.amqp_uri, batch_size=100)
        try:
            total = 0
            while sent := relay.relay_once():
                total += sent
            return total
        finally:
            relay.close()

    def handled(self) -> tuple[int, int]:
        """(rows of handled_events, distinct event ids among them)."""
        with self.worker_db.read() as session:
            rows, distinct = session.execute(
                text("SELECT count(*), count(DISTINCT event_id) FROM handled_events")
            ).one()
        return int(rows), int(distinct)


@pytest.fixture
def setup(
    make_database, amqp_uri, broker, tmp_path, free_port
) -> Iterator[tuple[Setup, Callable[..., tuple[subprocess.Popen, int]]]]:
    suffix = os.urandom(6).hex()
    service, source = f"kw{suffix}", f"ks{suffix}"
    worker_db = Database(make_database(), service)
    source_db = Database(make_database(), source)
    upgrade(worker_db, MIGRATIONS)
    platform_metadata.create_all(source_db.engine)
    env = {
        **os.environ,
        "KIT_SAMPLE_SERVICE": service,
        "KIT_SAMPLE_SOURCE": source,
        f"LIAISON_{service.upper()}_DATABASE_URL": worker_db.url,
        "LIAISON_AMQP_URI": amqp_uri,
        "LIAISON_VAR_DIR": str(tmp_path / "var"),
        "LIAISON_LOG_FORMAT": "text",
        "LIAISON_OUTBOX_POLL_SECONDS": "0.2",
    }
    s = Setup(service, source, worker_db, source_db, amqp_uri, tmp_path, env)
    queue = s.queue
    broker.forget_later(
        queues=(queue, dead_letter_queue_name(queue)),
        exchanges=(f"{source}.events", f"{service}.events"),
    )

    def start(**extra_env: str) -> tuple[subprocess.Popen, int]:
        extra_env.setdefault("LIAISON_METRICS_PORT", str(free_port()))
        process, port = s.start(**extra_env)
        try:
            # Imports under eventlet take seconds; on a busy CI runner, many.
            wait_for("the worker's queue", lambda: broker.depth(queue) is not None, 60)
            wait_for("the worker's /healthz", lambda: http_get(port, "/healthz")[0] == 200)
        except AssertionError:
            raise AssertionError(f"the worker did not start:\n{s.logs()}") from None
        return process, port

    try:
        yield s, start
    finally:
        for process in s.processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        worker_db.dispose()
        source_db.dispose()


def stop(process: subprocess.Popen, timeout: float = 10.0) -> float:
    """SIGTERM the worker; seconds it took to exit (fails when it does not)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the worker did not stop within {timeout}s of SIGTERM") from None
    return time.monotonic() - started


def test_worker_handles_relayed_events_once_and_ignores_redeliveries(setup, amqp_uri):
    s, start = setup
    process, port = start()

    ids = s.emit([f"street-{i}" for i in range(20)])
    assert s.relay_all() == 20
    wait_for("20 events handled", lambda: s.handled() == (20, 20))

    # The same envelope published twice by hand, as a redelivery would bring it.
    with s.source_db.read() as session:
        body = session.execute(text("SELECT body FROM outbox_events LIMIT 1")).scalar_one()
    with kombu.Connection(amqp_uri) as conn:
        producer = conn.Producer()
        for _ in range(2):
            producer.publish(
                body,
                exchange=kombu.Exchange(f"{s.source}.events", type="topic", durable=True),
                routing_key="street_changed",
                content_type="application/json",
                content_encoding="utf-8",
            )

    labels = {"service": s.service, "type": "street_changed", "handler": s.handler}

    def duplicates_seen() -> bool:
        status, metrics_text = http_get(port, "/metrics")
        seen = sample(metrics_text, "liaison_events_duplicate_total", **labels)
        return status == 200 and seen == 2.0

    wait_for("two duplicates counted", duplicates_seen)
    assert s.handled() == (20, 20)
    with s.worker_db.read() as session:
        processed = set(
            session.scalars(
                select(processed_events.c.event_id).where(
                    processed_events.c.handler == s.handler,
                    processed_events.c.outcome == "handled",
                )
            )
        )
    assert processed == set(ids)

    status, metrics_text = http_get(port, "/metrics")
    assert status == 200
    assert sample(metrics_text, "liaison_events_consumed_total", **labels) == 20.0
    # The worker's own relay loop runs: its (empty) outbox is measured.
    assert sample(metrics_text, "liaison_outbox_backlog", service=s.service) == 0.0
    assert http_get(port, "/healthz")[0] == 200
    assert http_get(port, "/readyz")[0] == 200  # migrated to the sample's head

    assert stop(process) < 10
    assert process.returncode == 0, s.logs()


def test_queues_declared_before_the_worker_first_starts_keep_what_was_published(setup, broker):
    """What the migrate process does (`kit.queues.declare_consumer_queues`):
    events published before the worker ever ran wait in its queue, and the
    worker starts on that queue as it would have declared it."""
    s, start = setup

    class Declared(PlatformWorker):  # the sample worker's shape, unpatched
        name = s.service

        @consumes(s.source, events_pb2.StreetChanged)
        def on_street_changed(self, uow, event, envelope):  # pragma: no cover
            raise AssertionError("never run here")

    assert [q.name for q in consumer_queues(Declared)] == [s.queue]
    assert declare_consumer_queues(Declared, s.amqp_uri) == [s.queue]
    assert declare_consumer_queues(Declared, s.amqp_uri) == [s.queue]  # again: no change
    s.emit([f"early-{i}" for i in range(5)])
    assert s.relay_all() == 5
    assert broker.depth(s.queue) == 5
    process, _ = start()
    wait_for("the 5 early events handled", lambda: s.handled() == (5, 5))
    assert stop(process) < 10
    assert process.returncode == 0, s.logs()


def test_poison_event_is_dead_lettered_after_the_retries(setup, broker):
    s, start = setup
    process, port = start(LIAISON_CONSUMER_MAX_RETRIES="2", KIT_SAMPLE_POISON_CODE="poison")

    good_before, poison, good_after = s.emit(["good-1", "poison", "good-2"])
    assert s.relay_all() == 3

    dlq = dead_letter_queue_name(s.queue)
    wait_for("the dead letter", lambda: broker.depth(dlq))
    letters = broker.take(dlq, 1)
    assert len(letters) == 1
    body = json.loads(letters[0].body)
    assert body["event_id"] == poison
    assert body["payload"]["street"]["code"] == "poison"
    assert "2 times" in letters[0].headers["x-liaison-dead-letter-reason"]

    wait_for("the good events", lambda: s.handled() == (2, 2))
    with s.worker_db.read() as session:
        outcomes = dict(
            session.execute(select(processed_events.c.event_id, processed_events.c.outcome)).all()
        )
        attempts = session.execute(
            select(event_failures.c.attempts).where(event_failures.c.event_id == poison)
        ).scalar_one()
    assert outcomes == {good_before: "handled", poison: "dead_lettered", good_after: "handled"}
    assert attempts == 2

    labels = {"service": s.service, "type": "street_changed", "handler": s.handler}
    _, metrics_text = http_get(port, "/metrics")
    assert sample(metrics_text, "liaison_events_failed_total", **labels) == 2.0
    assert sample(metrics_text, "liaison_events_dead_lettered_total", **labels) == 1.0
    assert sample(metrics_text, "liaison_events_consumed_total", **labels) == 2.0
    assert broker.depth(s.queue) == 0
    assert broker.drain(dlq) == []

    assert stop(process) < 10


def test_worker_killed_mid_stream_handles_every_event_exactly_once(setup):
    s, start = setup
    process, _ = start(KIT_SAMPLE_HANDLER_DELAY="0.05")

    ids = s.emit([f"stream-{i}" for i in range(200)])
    assert s.relay_all() == 200
    wait_for("the worker to be mid-stream", lambda: s.handled()[0] >= 30)
    process.kill()
    process.wait(10)
    rows, _ = s.handled()
    assert rows < 200, "the worker finished before it was killed; the test proves nothing"

    restarted, _ = start(KIT_SAMPLE_HANDLER_DELAY="0.05")
    wait_for("all 200 events", lambda: s.handled()[1] == 200, timeout=60)
    assert stop(restarted) < 10
    assert s.handled() == (200, 200)
    with s.worker_db.read() as session:
        processed = set(
            session.scalars(
                select(processed_events.c.event_id).where(processed_events.c.outcome == "handled")
            )
        )
    assert processed == set(ids)


def test_undecodable_message_is_dead_lettered_not_dropped(setup, broker, amqp_uri):
    s, start = setup
    process, port = start()
    garbage = b'{"event_id": "half a json'
    with kombu.Connection(amqp_uri) as conn:
        producer = conn.Producer()
        for content_type in ("application/json", "application/x-unknown"):
            producer.publish(
                garbage,
                exchange=f"{s.source}.events",
                routing_key="street_changed",
                content_type=content_type,
                content_encoding="binary",
                delivery_mode=2,
            )

    dlq = dead_letter_queue_name(s.queue)
    try:
        wait_for("the dead letters", lambda: (broker.depth(dlq) or 0) >= 2)
    except AssertionError:
        raise AssertionError(s.logs()) from None
    letters = broker.take(dlq, 2)
    assert len(letters) == 2
    assert all(letter.body == garbage for letter in letters)
    assert all(
        "undecodable" in letter.headers["x-liaison-dead-letter-reason"] for letter in letters
    )

    # The worker goes on handling good events after the bad ones.
    s.emit(["after-garbage"])
    assert s.relay_all() == 1
    wait_for("the good event", lambda: s.handled() == (1, 1))
    _, metrics_text = http_get(port, "/metrics")
    assert (
        sample(
            metrics_text,
            "liaison_events_dead_lettered_total",
            service=s.service,
            type="street_changed",
            handler=s.queue,
        )
        == 2.0
    )
    assert broker.depth(s.queue) == 0
    assert stop(process) < 10


def test_a_lost_database_makes_the_worker_unready_but_not_dead(setup, free_port):
    # Liveness restarts the pod; a database outage must only take it out of
    # rotation (readiness), or every worker restarts at once.
    s, start = setup
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone"
    process, port = start(**{f"LIAISON_{s.service.upper()}_DATABASE_URL": unreachable})
    try:
        wait_for("the failed readiness check", lambda: "readiness check fails" in s.logs())
    except AssertionError:
        raise AssertionError(s.logs()) from None
    assert http_get(port, "/readyz")[0] == 503
    assert http_get(port, "/healthz")[0] == 200
    assert stop(process) < 10


def test_the_handler_gets_the_typed_message_and_a_payload_that_is_not_one_is_dead_lettered(
    setup, broker, amqp_uri
):
    s, start = setup
    process, port = start()

    def body(code: str) -> dict:
        message = events_pb2.StreetChanged(
            street=registry_pb2.Street(id=7, code=code, name=code), change="updated"
        )
        return new_envelope(s.source, message).to_body()

    newer = body("newer-producer")  # a field this consumer's message does not have yet
    newer["payload"]["street"]["district"] = "天河区"
    newer["payload"]["reviewed_by"] = {"office": "standing committee"}
    broken = body("broken")
    broken["payload"]["street"]["id"] = "seven"
    with kombu.Connection(amqp_uri) as conn:
        producer = conn.Producer(serializer="json")
        for event in (newer, broken):
            producer.publish(
                event,
                exchange=kombu.Exchange(f"{s.source}.events", type="topic", durable=True),
                routing_key="street_changed",
                delivery_mode=2,
            )
    s.emit(["after-the-broken-one"])
    assert s.relay_all() == 1

    def outcomes() -> dict[str, str]:
        with s.worker_db.read() as session:
            rows = session.execute(select(processed_events.c.event_id, processed_events.c.outcome))
            return dict(rows.all())

    dlq = dead_letter_queue_name(s.queue)
    try:
        wait_for("the dead letter", lambda: broker.depth(dlq))
        wait_for("the two good events", lambda: s.handled() == (2, 2))
        # The letter is published first, then recorded and counted.
        wait_for("the dead letter's record", lambda: broken["event_id"] in outcomes())
    except AssertionError:
        raise AssertionError(s.logs()) from None
    (letter,) = broker.take(dlq, 1)
    assert json.loads(letter.body)["event_id"] == broken["event_id"]
    reason = letter.headers["x-liaison-dead-letter-reason"]
    assert "not a valid liaison.registry.v1.StreetChanged" in reason
    with s.worker_db.read() as session:
        codes = set(session.scalars(text("SELECT code FROM handled_events")))
    assert codes == {"newer-producer", "after-the-broken-one"}
    assert outcomes()[newer["event_id"]] == "handled"
    assert outcomes()[broken["event_id"]] == "dead_lettered"
    labels = {"service": s.service, "type": "street_changed", "handler": s.handler}

    def dead_lettered() -> float | None:
        return sample(http_get(port, "/metrics")[1], "liaison_events_dead_lettered_total", **labels)

    wait_for("the dead letter counted", lambda: dead_lettered() == 1.0)
    _, metrics_text = http_get(port, "/metrics")
    assert sample(metrics_text, "liaison_events_failed_total", **labels) is None
    assert stop(process) < 10

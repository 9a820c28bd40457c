"""`make bench`, writes: the event write path and the outbox relay, each figure
beside its reference measured in the same run, on kit's own code with the
local PostgreSQL and RabbitMQ.

1. Writes, one thread: a unit of work inserting one row (plain) against the
   same with one event emitted (write+event), in alternating rounds on the
   same table: commits/s (median of the rounds), p50 and p99, their ratio,
   and the CPU each commit costs the client process and its PostgreSQL
   backend (steadier than wall time when the machine is shared).
2. The relay: events/s of `OutboxRelay.relay_once` (batch 200, publisher
   confirms, persistent messages, a durable queue bound) emptying a filled
   outbox, against kit's `ConfirmingPublisher` alone on the same events
   (no database), kombu waiting for a confirm per message, and kombu
   without confirms (a ceiling).
3. The outbox's oldest pending age at a steady rate of writes (one event
   each, from four threads sharing the rate), with the relay in its own
   process looping as the worker does (LISTEN wakeup, poll fallback): the
   age of the oldest unsent event sampled every 10 ms, p50 and p99, and
   each event's time from its write to being taken by the relay.

A scratch database (`bench_writes_<hex>`) and exchange and queue of its own
are made and removed. Longer runs: BENCH_WRITES_SECONDS (per round, 2),
BENCH_WRITES_ROUNDS (4), BENCH_RELAY_EVENTS (20000), BENCH_RELAY_ROUNDS (3),
BENCH_AGE_SECONDS (6), BENCH_AGE_RATE (500).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform as host
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import kombu
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select, text

from kit.db import Database
from kit.events import new_envelope
from kit.outbox import ConfirmingPublisher, OutboxRelay, OutboxWakeup, PendingEvent
from kit.tables import outbox_events, platform_metadata
from kit.testrun import amqp_uri, throwaway_database, unique_suffix
from liaison.registry.v1 import events_pb2, registry_pb2

WRITE_SECONDS = float(os.environ.get("BENCH_WRITES_SECONDS", "2"))
WRITE_ROUNDS = int(os.environ.get("BENCH_WRITES_ROUNDS", "4"))
RELAY_EVENTS = int(os.environ.get("BENCH_RELAY_EVENTS", "20000"))
RELAY_ROUNDS = int(os.environ.get("BENCH_RELAY_ROUNDS", "3"))
AGE_SECONDS = float(os.environ.get("BENCH_AGE_SECONDS", "6"))
AGE_RATE = float(os.environ.get("BENCH_AGE_RATE", "500"))
AGE_WRITERS = 4
BATCH = 200

# The same table shape for both kinds of write: the "domain change".
bench_metadata = MetaData()
rows = Table(
    "bench_rows",
    bench_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
)


def street_changed(i: int) -> events_pb2.StreetChanged:
    """An event as the registry writes them."""
    return events_pb2.StreetChanged(
        street=registry_pb2.Street(id=i, code=f"street-{i}", name="林和街道", active=True),
        change="updated",
        changed_fields=["name"],
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                model,
            )
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, {host.machine()}, Python {host.python_version()}"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------- writes


def backend_cpu_seconds(db: Database) -> float | None:
    """CPU time of the database's backends (PostgreSQL on this machine), or None."""
    with db.engine.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        total = 0.0
        try:
            for pid in pids:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return None
    return total


def write_round(db: Database, with_event: bool, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    server_before = backend_cpu_seconds(db)
    cpu_before = time.process_time()
    started = time.perf_counter()
    stop_at = started + seconds
    i = 0
    while (now := time.perf_counter()) < stop_at:
        with db.unit_of_work() as uow:
            uow.session.execute(rows.insert().values(code=f"row-{i}", written_at=datetime.now(UTC)))
            if with_event:
                uow.emit(street_changed(i))
        latencies.append(time.perf_counter() - now)
        i += 1
    wall = time.perf_counter() - started
    client = (time.process_time() - cpu_before) / i
    server_after = backend_cpu_seconds(db)
    server = (
        (server_after - server_before) / i
        if server_after is not None and server_before is not None
        else None
    )
    return {"rate": i / wall, "latencies": latencies, "client_cpu": client, "server_cpu": server}


def writes(db: Database) -> dict[str, Any]:
    for with_event in (False, True):  # warm: pool, prepared statements, caches
        write_round(db, with_event, 0.5)
    rounds: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for r in range(WRITE_ROUNDS):
        order = (False, True) if r % 2 == 0 else (True, False)
        for with_event in order:
            rounds[with_event].append(write_round(db, with_event, WRITE_SECONDS))
    out: dict[str, Any] = {}
    for with_event, name in ((False, "plain"), (True, "event")):
        runs = rounds[with_event]
        latencies = [x for run in runs for x in run["latencies"]]
        servers = [run["server_cpu"] for run in runs if run["server_cpu"] is not None]
        out[name] = {
            "commits_per_s": statistics.median(run["rate"] for run in runs),
            "rounds": [round(run["rate"]) for run in runs],
            "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000,
            "client_cpu_us": statistics.median(run["client_cpu"] for run in runs) * 1e6,
            "server_cpu_us": statistics.median(servers) * 1e6 if servers else None,
        }
    out["ratio"] = out["event"]["commits_per_s"] / out["plain"]["commits_per_s"]
    return out


# ---------------------------------------------------------------- relay


class Queue:
    """A durable queue bound to the bench exchange, for every event type.

    Reconnects when the broker dropped the connection (other work on this
    machine may restart it between two figures)."""

    def __init__(self, uri: str, exchange: str) -> None:
        self.uri, self.exchange = uri, exchange
        self.name = f"{exchange}.all"
        self.conn: kombu.Connection | None = None
        self._call(lambda channel: None)

    def _call(self, operation: Callable[[Any], Any]) -> Any:
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = kombu.Connection(self.uri)
                    channel = self.conn.channel()
                    channel.exchange_declare(
                        self.exchange, "topic", durable=True, auto_delete=False
                    )
                    channel.queue_declare(self.name, durable=True, auto_delete=False)
                    channel.queue_bind(self.name, self.exchange, "#")
                    self.channel = channel
                return operation(self.channel)
            except OSError:
                if self.conn is not None:
                    self.conn.release()
                self.conn = None
                if attempt == 2:
                    raise
        return None

    def depth(self) -> int:
        declared = self._call(lambda c: c.queue_declare(self.name, passive=True))
        return int(declared.message_count)

    def wait_for(self, count: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.depth() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} holds {self.depth()} of {count} messages")
            time.sleep(0.01)

    def first(self) -> dict[str, Any]:
        message = self._call(lambda c: c.basic_get(self.name, no_ack=True))
        return dict(json.loads(message.body))

    def purge(self) -> None:
        self._call(lambda c: c.queue_purge(self.name))

    def delete(self) -> None:
        self._call(lambda c: (c.queue_delete(self.name), c.exchange_delete(self.exchange)))
        if self.conn is not None:
            self.conn.release()


def fill_outbox(db: Database, count: int) -> None:
    """Exactly `count` unsent events, written 500 to a unit of work."""
    with db.unit_of_work() as uow:
        uow.session.execute(
            outbox_events.update()
            .where(outbox_events.c.sent_at.is_(None))
            .values(sent_at=datetime.now(UTC))
        )
    done = 0
    while done < count:
        with db.unit_of_work() as uow:
            for i in range(done, min(count, done + 500)):
                uow.emit(street_changed(i))
        done = min(count, done + 500)


def timed(run: Callable[[], int], queue: Queue, count: int) -> float:
    """Messages per second of `run`, counted once the queue holds them all."""
    queue.purge()
    started = time.perf_counter()
    sent = run()
    queue.wait_for(count)
    rate = count / (time.perf_counter() - started)
    assert sent == count, f"{sent} of {count} were confirmed"
    return rate


def relay_rates(db: Database, uri: str, queue: Queue) -> dict[str, Any]:
    events = []
    for i in range(RELAY_EVENTS):
        envelope = new_envelope(db.service, street_changed(i))
        events.append(PendingEvent(i + 1, envelope.event_id, envelope.type, envelope.to_json()))

    def publisher_alone() -> int:
        publisher = ConfirmingPublisher(uri, queue.exchange)
        try:
            return sum(
                len(publisher.publish(events[s : s + BATCH])[0])
                for s in range(0, len(events), BATCH)
            )
        finally:
            publisher.close()

    def relay() -> int:
        relay = OutboxRelay(db, uri, batch_size=BATCH)
        total = 0
        try:
            while (sent := relay.relay_once()) or relay.in_flight:
                total += sent
        finally:
            relay.close()
        return total

    def kombu_publish(confirm: bool, subset: list[PendingEvent]) -> Callable[[], int]:
        def run() -> int:
            options = {"confirm_publish": True} if confirm else {}
            with kombu.Connection(uri, transport_options=options) as conn:
                producer = conn.Producer(exchange=kombu.Exchange(queue.exchange, "topic"))
                for e in subset:
                    producer.publish(
                        e.body,
                        routing_key=e.type,
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=2,
                        message_id=e.event_id,
                        type=e.type,
                    )
            return len(subset)

        return run

    few = events[: max(BATCH, RELAY_EVENTS // 8)]  # a confirm per message is slow
    results: dict[str, list[float]] = {
        "relay": [],
        "publisher": [],
        "kombu_confirm_each": [],
        "kombu_no_confirm": [],
    }
    firsts = []
    for _ in range(RELAY_ROUNDS):
        fill_outbox(db, RELAY_EVENTS)
        results["relay"].append(timed(relay, queue, RELAY_EVENTS))
        firsts.append(queue.first().get("sequence"))
        results["publisher"].append(timed(publisher_alone, queue, RELAY_EVENTS))
        results["kombu_confirm_each"].append(timed(kombu_publish(True, few), queue, len(few)))
        results["kombu_no_confirm"].append(timed(kombu_publish(False, events), queue, RELAY_EVENTS))
    queue.purge()
    out: dict[str, Any] = {k: statistics.median(v) for k, v in results.items()}
    out["rounds"] = {k: [round(x) for x in v] for k, v in results.items()}
    # Each round's first message carries the next number of the sequence.
    out["first_sequences"] = firsts
    return out


# ---------------------------------------------------------------- oldest age


def relay_process(url: str, service: str, uri: str, ready: Any, stop: Any) -> None:
    """The worker's relay loop, alone in a process."""
    db = Database(url, service)
    relay = OutboxRelay(db, uri, batch_size=BATCH)
    wakeup = OutboxWakeup(db)
    try:
        relay.publisher.publish([])  # connected to the broker
        relay.relay_once()
        wakeup.wait(0.01)  # listening
        ready.set()
        while not stop.is_set():
            sent = relay.relay_once()
            if sent < relay.batch_size and not relay.in_flight:
                wakeup.wait(0.2, after=relay.position)
    finally:
        relay.close()
        wakeup.close()
        db.dispose()


@contextmanager
def relay_running(db: Database, uri: str) -> Iterator[None]:
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    process = context.Process(
        target=relay_process, args=(db.url, db.service, uri, ready, stop), daemon=True
    )
    process.start()
    try:
        if not ready.wait(60):
            raise TimeoutError("the relay process did not start")
        yield
    finally:
        stop.set()
        process.join(15)
        if process.is_alive():
            process.kill()


def oldest_age(db: Database, uri: str, queue: Queue) -> dict[str, Any]:
    fill_outbox(db, 0)  # start from an empty outbox
    queue.purge()
    ages: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        query = select(func.min(outbox_events.c.occurred_at)).where(
            outbox_events.c.sent_at.is_(None)
        )
        while not stop.is_set():
            with db.read() as session:
                oldest = session.scalar(query)
            now = datetime.now(UTC)
            ages.append((now - oldest).total_seconds() if oldest is not None else 0.0)
            stop.wait(0.01)

    with relay_running(db, uri):
        for i in range(200):  # warm: both processes' connections, caches
            with db.unit_of_work() as uow:
                uow.emit(street_changed(i))
            time.sleep(1 / AGE_RATE)
        time.sleep(0.5)
        mark = datetime.now(UTC)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        count = int(AGE_RATE * AGE_SECONDS)
        # Several writers, each at its share of the rate, so that one slow
        # commit does not hold the others back: the rate stays steady.
        writers = AGE_WRITERS
        interval = writers / AGE_RATE
        started = time.perf_counter()

        def write(first: int) -> None:
            next_at = started + first / AGE_RATE
            for i in range(first, count, writers):
                pause = next_at - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                with db.unit_of_work() as uow:
                    uow.session.execute(
                        rows.insert().values(code=f"age-{i}", written_at=datetime.now(UTC))
                    )
                    uow.emit(street_changed(i))
                next_at += interval

        threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        achieved = count / (time.perf_counter() - started)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db.read() as session:
                if not session.scalar(
                    select(func.count()).where(outbox_events.c.sent_at.is_(None))
                ):
                    break
            time.sleep(0.05)
        stop.set()
        sampler.join(5)
    with db.read() as session:
        pending_times = [
            (sent - occurred).total_seconds()
            for occurred, sent in session.execute(
                select(outbox_events.c.occurred_at, outbox_events.c.sent_at).where(
                    outbox_events.c.occurred_at >= mark
                )
            )
            if sent is not None
        ]
    return {
        "rate": achieved,
        "writes": count,
        "relayed": len(pending_times),
        "samples": len(ages),
        "age_p50_ms": percentile(ages, 50) * 1000,
        "age_p99_ms": percentile(ages, 99) * 1000,
        "age_max_ms": max(ages, default=float("nan")) * 1000,
        "to_sent_p50_ms": percentile(pending_times, 50) * 1000,
        "to_sent_p99_ms": percentile(pending_times, 99) * 1000,
    }


# ---------------------------------------------------------------- main


def main() -> None:
    print(f"machine: {machine()}; PostgreSQL, RabbitMQ and this script share it; {load()}")
    uri = amqp_uri()
    service = f"bench_writes_{unique_suffix()}"
    with throwaway_database("bench_writes") as url:
        db = Database(url, service)
        platform_metadata.create_all(db.engine)
        bench_metadata.create_all(db.engine)
        queue = Queue(uri, f"{service}.events")
        try:
            w = writes(db)
            print(
                f"\nwrites, one thread, one unit of work each, {WRITE_ROUNDS} rounds of "
                f"{WRITE_SECONDS:.0f} s each kind (median of rounds)"
            )
            print(
                f"{'':14} {'commits/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'client CPU us':>13} {'server CPU us':>13}  rounds"
            )
            for name, label in (("plain", "one row"), ("event", "row + event")):
                r = w[name]
                server = f"{r['server_cpu_us']:.0f}" if r["server_cpu_us"] is not None else "n/a"
                print(
                    f"{label:14} {r['commits_per_s']:>9.0f} {r['p50_ms']:>7.2f} "
                    f"{r['p99_ms']:>7.2f} {r['client_cpu_us']:>13.0f} {server:>13}  {r['rounds']}"
                )
            print(f"write+event / plain: {w['ratio']:.2f} (goal at least 0.80)")

            r = relay_rates(db, uri, queue)
            print(
                f"\nrelay, {RELAY_EVENTS} events, batch {BATCH}, publisher confirms, persistent "
                f"messages, durable queue bound (median of {RELAY_ROUNDS} rounds, msg/s)"
            )
            print(
                f"  OutboxRelay (database + broker)    {r['relay']:>8.0f}  {r['rounds']['relay']}"
            )
            print(
                f"  ConfirmingPublisher alone          {r['publisher']:>8.0f}  "
                f"{r['rounds']['publisher']}"
            )
            print(
                f"  kombu, a confirm per message       {r['kombu_confirm_each']:>8.0f}  "
                f"{r['rounds']['kombu_confirm_each']}"
            )
            print(
                f"  kombu, no confirms (ceiling)       {r['kombu_no_confirm']:>8.0f}  "
                f"{r['rounds']['kombu_no_confirm']}"
            )
            print(
                f"  relay / publisher alone: {r['relay'] / r['publisher']:.2f} (goal: relay at "
                f"least 12000/s); each round's first sequence {r['first_sequences']}"
            )

            a = oldest_age(db, uri, queue)
            print(
                f"\noutbox oldest pending age at {a['rate']:.0f} writes/s (asked "
                f"{AGE_RATE:.0f}) for {AGE_SECONDS:.0f} s, relay in its own process: "
                f"p50 {a['age_p50_ms']:.1f} ms, p99 {a['age_p99_ms']:.1f} ms, max "
                f"{a['age_max_ms']:.1f} ms ({a['samples']} samples; goal p99 under 50 ms)"
            )
            print(
                f"  write to taken by the relay (sent_at): p50 {a['to_sent_p50_ms']:.1f} ms, "
                f"p99 {a['to_sent_p99_ms']:.1f} ms ({a['relayed']}/{a['writes']} relayed)"
            )
            print(f"{load()}")
            print(
                json.dumps(
                    {
                        "writes": {k: v for k, v in w.items()},
                        "relay": r,
                        "oldest_age": a,
                    },
                    default=float,
                )
            )
        finally:
            queue.delete()
            db.dispose()


if __name__ == "__main__":
    main()

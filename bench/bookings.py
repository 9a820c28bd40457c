"""`make bench`, bookings: booking writes through the reception service's gRPC
API at concurrency 16, each one's `booking_confirmed` event relayed to
RabbitMQ and consumed, against a baseline in the same run: a plain INSERT of
the same row into the same table, at the same concurrency, straight to
PostgreSQL (no capacity check, no lock, no event, no audit, no gRPC).

- the api: `reception.api`'s servicer on a gRPC server in its own process
  (as `python -m reception.api` serves it), over a scratch database
  (`bench_bookings_<hex>`) migrated and holding the test district's read
  model (`reception.testing`);
- the relay: kit's `OutboxRelay` looping in its own process as the worker's
  does (LISTEN wakeup, poll fallback), publishing to the scratch service's
  exchange;
- the consumer: a queue bound to `booking_confirmed` on that exchange, read
  by a thread of this process, which notes when each booking's event came.

Sixteen client threads book places (anonymous callers, a phone each, in
slots whose capacity is large enough that every booking gets a place, so
every one takes its slot's row lock and the capacity check), two ways:
`spread`, each client at a session of its own (the district's stations
booking at once), and `hot`, every client at the same session's two slots
(one popular session: the slots' locks are contended). A round lasts
BENCH_BOOKINGS_SECONDS (5); the kinds take turns, BENCH_BOOKINGS_ROUNDS (3)
rounds of each. Figures: writes/s counted until the last event of the round
was consumed, p50 and p99 of the call and of the time from a call's start to
its event's consumption; for the baseline, inserts/s and p50, p99 of a
commit; and the CPU each write cost the api, the relay and this process
(steadier than rates on a shared machine).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from itertools import count
from typing import Any

import grpc
import kombu
from writes import load, machine, percentile, relay_process

from kit.db import Database
from kit.migrations import upgrade
from kit.outbox import event_exchange_name
from kit.testrun import amqp_uri, throwaway_database, unique_suffix
from liaison.reception.v1 import bookings_pb2 as bpb
from liaison.reception.v1 import reception_pb2 as pb
from liaison.reception.v1 import reception_pb2_grpc as pb_grpc
from reception import models
from reception.bookings import code_hash
from reception.bootstrap import MIGRATIONS
from reception.readmodel import apply_snapshot
from reception.testing import seed_session, small_district

SECONDS = float(os.environ.get("BENCH_BOOKINGS_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_BOOKINGS_ROUNDS", "3"))
CONCURRENCY = 16
COMMUNITY = 501  # served by the test district's station A1
TOPIC = "小区加装电梯"
NAME = "测试选民"
_phones = count(10_000_000)


def a_phone() -> str:
    """A fictional mobile number of its own (139 + eight digits)."""
    return f"139{next(_phones):08d}"


# ---------------------------------------------------------------- the api, in its own process


def serve_api(url: str, service: str, ready: Any, port: Any, stop: Any) -> None:
    from kit.auth import AuthSettings
    from kit.grpc_server import build_server
    from reception.api import ReceptionServicer
    from reception.service import Reception
    from reception.settings import ReceptionSettings

    db = Database(url, service)  # as the api's bootstrap makes it
    reception = Reception(db)
    settings = dataclasses.replace(
        ReceptionSettings.load("reception", "api"),
        database_url=db.url,
        grpc_port=0,
        auth=AuthSettings(env="test", dev_issuer=True).with_secret(),
    )
    server, health = build_server(
        settings,
        register=lambda s: pb_grpc.add_ReceptionServiceServicer_to_server(
            ReceptionServicer(reception), s
        ),
        service_names=[pb.DESCRIPTOR.services_by_name["ReceptionService"].full_name],
        readiness=db.ping,
    )
    port.value = server.add_insecure_port("127.0.0.1:0")
    server.start()
    ready.set()
    stop.wait()
    health.stop()
    server.stop(0).wait()
    db.dispose()


@contextmanager
def process(target: Callable[..., None], *args: Any) -> Iterator[tuple[int, int]]:
    """`target(*args, ready, port, stop)` in a spawned process; its port and pid."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    port = context.Value("i", 0)
    child = context.Process(target=target, args=(*args, ready, port, stop), daemon=True)
    child.start()
    try:
        if not ready.wait(90):
            raise TimeoutError(f"{target.__name__} did not start")
        yield port.value, int(child.pid or 0)
    finally:
        stop.set()
        child.join(15)
        if child.is_alive():
            child.kill()


def run_relay(url: str, service: str, uri: str, ready: Any, port: Any, stop: Any) -> None:
    relay_process(url, service, uri, ready, stop)


# ---------------------------------------------------------------- the consumer


class Consumer:
    """Notes when each booking's `booking_confirmed` event arrives."""

    def __init__(self, uri: str, exchange: str, queue: str) -> None:
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.conn = kombu.Connection(uri)
        self.exchange = kombu.Exchange(exchange, "topic", durable=True)
        self.queue = kombu.Queue(
            queue, self.exchange, routing_key="booking_confirmed", durable=False, auto_delete=True
        )
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="consumer", daemon=True)
        self.thread.start()
        if not self.ready.wait(30):
            raise TimeoutError("the consumer did not start")

    def _on_message(self, body: Any, message: Any) -> None:
        payload = (json.loads(body) if isinstance(body, str | bytes) else body)["payload"]
        now = time.perf_counter()
        with self.lock:
            self.arrived.setdefault(int(payload["booking_id"]), now)
        message.ack()

    def _run(self) -> None:
        with self.conn.Consumer(
            self.queue, callbacks=[self._on_message], accept=["json"], prefetch_count=500
        ):
            self.ready.set()
            while not self.stop.is_set():
                with suppress(TimeoutError):
                    self.conn.drain_events(timeout=0.2)

    def wait_for(self, ids: list[int], timeout: float = 120.0) -> float:
        """When the last of `ids` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                missing = [i for i in ids if i not in self.arrived]
                if not missing:
                    return max(self.arrived[i] for i in ids)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(missing)} of {len(ids)} events never arrived")
            time.sleep(0.01)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.conn.release()


# ---------------------------------------------------------------- rounds


def run_threads(work: Callable[[int, float], list[Any]], seconds: float) -> list[Any]:
    stop_at = time.perf_counter() + seconds
    results: list[list[Any]] = [[] for _ in range(CONCURRENCY)]
    barrier = threading.Barrier(CONCURRENCY)

    def worker(k: int) -> None:
        barrier.wait()
        results[k] = work(k, stop_at)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [x for part in results for x in part]


Targets = list[list[tuple[int, int]]]  # per client thread: the (session, slot)s it books


def booking_round(
    stubs: list[Any], targets: Targets, consumer: Consumer, seconds: float
) -> dict[str, Any]:
    def work(k: int, stop_at: float) -> list[tuple[int, float, float]]:
        done = []
        stub = stubs[k]
        mine = targets[k]
        while (started := time.perf_counter()) < stop_at:
            session_id, slot_id = mine[len(done) % len(mine)]
            reply = stub.BookSlot(
                bpb.BookSlotRequest(
                    session_id=session_id,
                    slot_id=slot_id,
                    name=NAME,
                    phone=a_phone(),
                    community_id=COMMUNITY,
                    topic=TOPIC,
                ),
                timeout=30,
            )
            assert reply.booking.status == bpb.BOOKING_STATUS_BOOKED
            done.append((reply.booking.id, started, time.perf_counter()))
        return done

    began = time.perf_counter()
    done = run_threads(work, seconds)
    last = consumer.wait_for([i for i, _, _ in done])
    with consumer.lock:
        to_consumed = [consumer.arrived[i] - started for i, started, _ in done]
    calls = [ended - started for _, started, ended in done]
    return {
        "count": len(done),
        "rate": len(done) / (last - began),
        "call": calls,
        "to_consumed": to_consumed,
    }


def baseline_round(db: Database, session_id: int, slot_id: int, seconds: float) -> dict[str, Any]:
    table = models.Booking.__table__
    digest = code_hash("baseline")

    def work(k: int, stop_at: float) -> list[float]:
        latencies = []
        while (started := time.perf_counter()) < stop_at:
            now = datetime.now(UTC)
            with db.engine.begin() as conn:
                conn.execute(
                    table.insert().values(
                        session_id=session_id,
                        slot_id=slot_id,
                        status="booked",
                        waitlist_position=0,
                        name=NAME,
                        phone="+86" + a_phone(),
                        community_id=COMMUNITY,
                        topic=TOPIC,
                        owner_sub=None,
                        cancel_code_hash=digest,
                        created_at=now,
                        updated_at=now,
                    )
                )
            latencies.append(time.perf_counter() - started)
        return latencies

    began = time.perf_counter()
    latencies = run_threads(work, seconds)
    return {
        "count": len(latencies),
        "rate": len(latencies) / (time.perf_counter() - began),
        "call": latencies,
    }


def process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(api_pid: int, relay_pid: int) -> dict[str, float]:
    """CPU time so far of each part: the api, the relay, and this process (the
    clients, the consumer, the baseline's inserts). PostgreSQL's is left out:
    its backends come and go with the api's pool (connections past its size
    are closed when returned), taking their CPU time with them."""
    return {
        "api": process_cpu(api_pid),
        "relay": process_cpu(relay_pid),
        "bench": time.process_time(),
    }


def summary(runs: list[dict[str, Any]], *keys: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "cpu_us": {k: statistics.median(r["cpu_us"][k] for r in runs) for k in runs[0]["cpu_us"]},
        "per_s": statistics.median(r["rate"] for r in runs),
        "rounds": [round(r["rate"]) for r in runs],
        "count": sum(r["count"] for r in runs),
    }
    for key in keys:
        values = [x for r in runs for x in r[key]]
        out[f"{key}_p50_ms"] = percentile(values, 50) * 1000
        out[f"{key}_p99_ms"] = percentile(values, 99) * 1000
    return out


# ---------------------------------------------------------------- main


def main() -> None:
    print(f"machine: {machine()}; PostgreSQL, RabbitMQ and this script share it; {load()}")
    uri = amqp_uri()
    service = f"bench_bookings_{unique_suffix()}"
    with throwaway_database("bench_bookings") as url:
        db = Database(url, service, pool_size=CONCURRENCY, max_overflow=4)
        upgrade(db, MIGRATIONS)
        with db.unit_of_work() as uow:
            apply_snapshot(uow.session, small_district())
        big = 10_000_000
        # One popular session: every client books its two slots.
        hot_session, hot_slots = seed_session(db, days_ahead=1, capacity=big)
        hot: Targets = [[(hot_session, slot) for slot in hot_slots]] * CONCURRENCY
        # The district booking at once: each client at a session of its own.
        spread: Targets = []
        for _ in range(CONCURRENCY):
            session_id, slots = seed_session(db, days_ahead=1, capacity=big)
            spread.append([(session_id, slot) for slot in slots])
        baseline_session, baseline_slots = seed_session(db, days_ahead=2, capacity=big)
        consumer = Consumer(uri, event_exchange_name(service), f"{service}.bench")
        runs: dict[str, list[dict[str, Any]]] = {"hot": [], "spread": [], "baseline": []}
        try:
            with (
                process(run_relay, url, service, uri) as (_, relay_pid),
                process(serve_api, url, service) as (port, api_pid),
            ):
                channels = [grpc.insecure_channel(f"127.0.0.1:{port}") for _ in range(4)]
                stubs = [
                    pb_grpc.ReceptionServiceStub(channels[k % len(channels)])
                    for k in range(CONCURRENCY)
                ]
                kinds: dict[str, Callable[[float], dict[str, Any]]] = {
                    "hot": lambda t: booking_round(stubs, hot, consumer, t),
                    "spread": lambda t: booking_round(stubs, spread, consumer, t),
                    "baseline": lambda t: baseline_round(
                        db, baseline_session, baseline_slots[0], t
                    ),
                }
                for kind in kinds.values():  # warm: connections, prepared statements, caches
                    kind(1.0)
                order = list(kinds)
                for r in range(ROUNDS):
                    for name in order[r % 3 :] + order[: r % 3]:
                        before = cpu_seconds(api_pid, relay_pid)
                        run = kinds[name](SECONDS)
                        after = cpu_seconds(api_pid, relay_pid)
                        run["cpu_us"] = {
                            k: (after[k] - before[k]) / run["count"] * 1e6 for k in before
                        }
                        runs[name].append(run)
                for channel in channels:
                    channel.close()
        finally:
            consumer.close()
            db.dispose()
    p = summary(runs["baseline"], "call")
    print(
        f"\nbookings at concurrency {CONCURRENCY}, {ROUNDS} rounds of {SECONDS:.0f} s each kind, "
        "in turn (median of rounds); writes/s counted until the round's last event was consumed"
    )
    figures: dict[str, Any] = {"baseline": p}
    for name, label in (
        ("spread", "BookSlot, each client its own session"),
        ("hot", "BookSlot, all clients one session (2 slots)"),
    ):
        b = figures[name] = summary(runs[name], "call", "to_consumed")
        print(
            f"  {label:45} {b['per_s']:>6.0f} writes/s  call p50 {b['call_p50_ms']:.1f} ms, "
            f"p99 {b['call_p99_ms']:.1f} ms; to its event consumed p50 "
            f"{b['to_consumed_p50_ms']:.1f} ms, p99 {b['to_consumed_p99_ms']:.1f} ms  "
            f"{b['rounds']}; / baseline {b['per_s'] / p['per_s']:.2f}"
        )
    print(
        f"  {'baseline: a plain INSERT of the same row':45} {p['per_s']:>6.0f} inserts/s "
        f"commit p50 {p['call_p50_ms']:.1f} ms, p99 {p['call_p99_ms']:.1f} ms  {p['rounds']}"
    )
    print("  CPU per write, microseconds (median of rounds):")
    for name in ("spread", "hot", "baseline"):
        cpu = figures[name]["cpu_us"]
        print(f"    {name:9} " + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items()))
    print(load())
    print(json.dumps(figures, default=float))


if __name__ == "__main__":
    main()

"""`make bench`, notifications (not named `notifications.py`, which would
shadow the service's package on the path): the fan-out of a burst of events
into inbox messages, the sending of their emails, and one event's way to the
inbox at a steady rate, each beside a baseline measured in the same run, on
the local PostgreSQL and RabbitMQ with the service's real processes.

The run: a scratch database (`bench_notify_<hex>`, made and dropped) and a
RabbitMQ virtual host of its own (kit.testrun.own_vhost: nothing else hears
its events, its queues go with it); `notifications.migrate` (its queues
declared, the default rules loaded); the service's companions (the SMTP
relay `notifications.mail_server` recording what it receives, the SMS and
WeChat provider); and `python -m notifications.worker` processes with that
environment, as the tests' platform starts them (kit.testrun.Platform).
Every event is a `reception.booking_confirmed` of its own booker
(`owner_sub` "bench:<run>-<n>", a pseudonymous subject), which the default
rule `booking_confirmed.booker` turns into one message to
`user:bench:<run>-<n>`: its inbox delivery written "delivered" at once, its
email queued for the worker's sending timer (every second here), its SMS and
WeChat suppressed (no phone or openid given). The bookers' email addresses
(`<run>-<n>@bench.invalid`) are written into their preferences before the
burst, as a constituent gives one.

1. The burst: BENCH_NOTIFY_EVENTS (10000) events published at once (one
   connection, persistent messages, no confirms) on reception's exchange
   while BENCH_NOTIFY_WORKERS (1,2) worker processes run: the time from the
   first publish until every message and its inbox delivery is written
   (events/s fanned out into the inbox = events / that time) and the
   fan-out's own pace (the first to the last message's created_at); the
   time until every email was sent to the SMTP companion (emails/s = events
   / that time; the companion's record counted) and the sending's own pace
   (the first to the last sent_at). The email rate limit of each worker
   (LIAISON_NOTIFICATIONS_EMAIL_RATE, 10/s by default: the provider's
   limit, not the service's capacity) is lifted to BENCH_NOTIFY_EMAIL_RATE
   (1000) so that the figure is the worker's own. Baselines: a bare kombu
   consumer in a process of its own that only acks each event, from the
   first publish to the last ack (the floor: what any consumer of that
   broker pays before doing anything with an event); the same rows (one
   message, its four deliveries) written by plain INSERTs, one commit per
   event as the fan-out commits (the database's part of the work, without
   the broker, rules, preferences, rendering or kit's inbox); and
   BENCH_NOTIFY_EMAILS (1000) of the same emails sent by the service's
   `EmailChannel` alone to the same relay, one after another, no database
   (what the sender adds: claims, leases, outcomes).
2. Latency: events published one at a time at BENCH_NOTIFY_RATE (50) per
   second for BENCH_NOTIFY_SECONDS (20), one worker running; latency = the
   message row's created_at (the worker's clock as it inserts, in the unit
   of work that commits right after) minus the publish time (this
   process's clock, the same machine's): p50, p99, max. Baseline: a bare
   kombu consumer's publish-to-receive time on the same broker, at the same
   rate.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kombu
from sqlalchemy import func, select
from writes import load, machine, percentile

from kit.db import Database
from kit.events import new_envelope
from kit.testrun import (
    Platform,
    free_port,
    own_vhost,
    platform_environment,
    throwaway_database,
    unique_suffix,
)
from kit.testrun import amqp_uri as broker_uri
from liaison.reception.v1 import bookings_pb2
from liaison.reception.v1 import events_pb2 as rev
from notifications.channels import EmailChannel, Outgoing
from notifications.message_models import Delivery, Message
from notifications.preference_models import AddressPreferences
from notifications.settings import ChannelSettings

EVENTS = int(os.environ.get("BENCH_NOTIFY_EVENTS", "10000"))
WORKERS = tuple(int(n) for n in os.environ.get("BENCH_NOTIFY_WORKERS", "1,2").split(","))
EMAILS = int(os.environ.get("BENCH_NOTIFY_EMAILS", "1000"))
EMAIL_RATE = os.environ.get("BENCH_NOTIFY_EMAIL_RATE", "1000")
RATE = float(os.environ.get("BENCH_NOTIFY_RATE", "50"))
SECONDS = float(os.environ.get("BENCH_NOTIFY_SECONDS", "20"))
EXCHANGE = "reception.events"
ROUTING_KEY = "booking_confirmed"
PENDING = ("queued", "sending", "failed")
# The deliveries the fan-out writes for each bench message (for the INSERT baseline).
ROWS = (
    ("inbox", "delivered", ""),
    ("email", "queued", ""),
    ("sms", "suppressed", "no contact: the recipient has given no mobile phone"),
    ("wechat", "suppressed", "no contact: the recipient has given no WeChat openid"),
)


# ---------------------------------------------------------------- events


def booking_body(n: int, run: str) -> str:
    """A `booking_confirmed` of booker `bench:<run>-<n>`, as reception's relay publishes it."""
    event = rev.BookingConfirmed(
        booking_id=n,
        session_id=1 + n % 40,
        slot_id=1 + n % 6,
        status=bookings_pb2.BOOKING_STATUS_BOOKED,
        owner_sub=f"bench:{run}-{n}",
    )
    return new_envelope("reception", event, correlation_id="bench").to_json()


def publish_all(uri: str, bodies: list[str], exchange: str, routing_key: str) -> float:
    """Publish every body at once on one connection; the seconds it took."""
    began = time.perf_counter()
    with kombu.Connection(uri) as conn:
        producer = conn.Producer(exchange=kombu.Exchange(exchange, "topic", durable=True))
        for body in bodies:
            producer.publish(
                body,
                routing_key=routing_key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )
    return time.perf_counter() - began


# ---------------------------------------------------------------- the service's processes


class Service:
    """The notifications service on the bench's database and virtual host:
    migrated, its companions running, workers started and stopped."""

    def __init__(self, url: str, vhost: str, logs: Path) -> None:
        env = platform_environment(
            {
                "LIAISON_AMQP_URI": vhost,
                "LIAISON_NOTIFICATIONS_SEND_SECONDS": "1",
                "LIAISON_NOTIFICATIONS_EMAIL_RATE": EMAIL_RATE,
                "LIAISON_LOG_LEVEL": "WARNING",
            }
        )
        self.platform = Platform(env, log_dir=logs)
        self.platform.add_service("notifications", url)
        self.platform.start_companions("notifications")
        self.platform.run("notifications.migrate")
        self.workers: list[str] = []

    @property
    def mail_port(self) -> int:
        return self.platform.companions["notifications-mail"].port

    def start_workers(self, count: int) -> None:
        """`count` worker processes (`python -m notifications.worker`), ready."""
        for k in range(count):
            name = f"notifications-worker-{k}"
            metrics = free_port()
            # Platform.start_process names one worker per service; these are several.
            self.platform._start(
                name,
                "notifications.worker",
                {"LIAISON_METRICS_PORT": str(metrics)},
                f"http://127.0.0.1:{metrics}/readyz",
            )
            self.workers.append(name)
        self.platform.wait_ready(120)

    def stop_workers(self) -> None:
        while self.workers:
            self.platform.stop(self.workers.pop())

    def check_alive(self) -> None:
        for name in self.workers:
            popen = self.platform.processes[name].popen
            if popen.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.platform.log_tail(name)}")

    def close(self) -> None:
        self.platform.close()


def counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        messages = session.scalar(select(func.count()).select_from(Message))
        by = dict(
            session.execute(
                select(Delivery.channel + ":" + Delivery.state, func.count()).group_by(
                    Delivery.channel, Delivery.state
                )
            ).all()
        )
    return {
        "messages": int(messages or 0),
        "inbox": int(by.get("inbox:delivered", 0)),
        "email_sent": int(by.get("email:sent", 0)),
        # Still to send or to try again: neither sent nor settled otherwise.
        "email_pending": sum(int(by.get(f"email:{state}", 0)) for state in PENDING),
    }


def wait_until(
    service: Service, db: Database, done: Any, seconds: float, what: str
) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    while True:
        now = counts(db)
        if done(now):
            return now
        service.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {seconds:.0f} s: {what} ({now})")
        time.sleep(0.05)


# ---------------------------------------------------------------- 1. the burst


def give_emails(db: Database, run: str) -> None:
    """Each booker of `run` an email address in their preferences (one commit)."""
    table = AddressPreferences.__table__
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {
                    "address": f"user:bench:{run}-{n}",
                    "email": f"{run}-{n}@bench.invalid",
                    "phone": "",
                    "wechat_openid": "",
                    "locale": "zh-CN",
                    "quiet_enabled": False,
                    "quiet_start": "22:00",
                    "quiet_end": "08:00",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(EVENTS)
            ],
        )


def burst(service: Service, db: Database, uri: str, workers: int) -> dict[str, Any]:
    run = unique_suffix()
    bodies = [booking_body(n, run) for n in range(EVENTS)]
    give_emails(db, run)
    record = service.platform.companions["notifications-mail"].record
    recorded_before = _lines(record)
    before = counts(db)
    service.start_workers(workers)
    try:
        started_at = datetime.now(UTC)
        began = time.perf_counter()
        published = publish_all(uri, bodies, EXCHANGE, ROUTING_KEY)
        timeout = max(300.0, EVENTS / 10)
        wait_until(
            service,
            db,
            lambda c: (
                c["messages"] >= before["messages"] + EVENTS
                and c["inbox"] >= before["inbox"] + EVENTS
            ),
            timeout,
            "every message and inbox delivery",
        )
        to_inbox = time.perf_counter() - began
        wait_until(
            service,
            db,
            lambda c: c["email_pending"] == 0,
            timeout,
            "every email sent",
        )
        to_email = time.perf_counter() - began
    finally:
        service.stop_workers()
    with db.read() as session:
        first, last, made = session.execute(
            select(func.min(Message.created_at), func.max(Message.created_at), func.count()).where(
                Message.created_at >= started_at
            )
        ).one()
        ours = Delivery.message_id.in_(select(Message.id).where(Message.created_at >= started_at))
        first_sent, last_sent = session.execute(
            select(func.min(Delivery.sent_at), func.max(Delivery.sent_at)).where(
                ours, Delivery.channel == "email"
            )
        ).one()
        states = {
            f"{channel} {state}": n
            for channel, state, n in session.execute(
                select(Delivery.channel, Delivery.state, func.count())
                .where(ours)
                .group_by(Delivery.channel, Delivery.state)
            ).all()
        }
    sent = states.get("email sent", 0)
    span = (last - first).total_seconds() if made > 1 else float("nan")
    sending = (last_sent - first_sent).total_seconds() if first_sent and sent > 1 else float("nan")
    return {
        "workers": workers,
        "messages": made,
        "publish_s": published,
        "to_inbox_s": to_inbox,
        "per_s": EVENTS / to_inbox,
        "fanout_per_s": (made - 1) / span if span > 0 else float("nan"),
        "emails_sent": sent,
        "emails_recorded": _lines(record) - recorded_before,
        "to_email_s": to_email,
        "emails_per_s": sent / to_email,
        "sending_per_s": (sent - 1) / sending if sending > 0 else float("nan"),
        "states": states,
    }


def ack_consumer(uri: str, queue: str, count: int, ready: Any, out: Any) -> None:
    """A bare kombu consumer: each message acked, nothing else; the time of the last ack."""
    received = 0
    last = 0.0
    with kombu.Connection(uri) as conn:
        channel = conn.channel()
        channel.basic_qos(0, 100, False)

        def on_message(body: Any, message: Any) -> None:
            nonlocal received, last
            message.ack()
            received += 1
            last = time.time()

        consumer = kombu.Consumer(channel, queues=[kombu.Queue(queue, no_declare=True)])
        consumer.register_callback(on_message)
        with consumer:
            ready.set()
            deadline = time.monotonic() + max(120.0, count / 100)
            while received < count and time.monotonic() < deadline:
                with suppress(TimeoutError):
                    conn.drain_events(timeout=1)
    out.put({"received": received, "last": last})


@contextmanager
def bare_queue(uri: str) -> Iterator[tuple[str, str]]:
    """An exchange and durable queue of the baseline's own on the bench's vhost."""
    name = f"bench-notify-{unique_suffix()}"
    with kombu.Connection(uri) as conn:
        channel = conn.channel()
        channel.exchange_declare(name, "topic", durable=True, auto_delete=False)
        channel.queue_declare(name, durable=True, auto_delete=False)
        channel.queue_bind(name, name, "#")
        try:
            yield name, name
        finally:
            channel.queue_delete(name)
            channel.exchange_delete(name)


@contextmanager
def in_process(target: Any, *args: Any) -> Iterator[Any]:
    context = multiprocessing.get_context("spawn")
    ready, out = context.Event(), context.Queue()
    process = context.Process(target=target, args=(*args, ready, out), daemon=True)
    process.start()
    try:
        if not ready.wait(60):
            raise TimeoutError("the baseline's consumer did not start")
        yield out
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()


def kombu_floor(uri: str) -> dict[str, Any]:
    run = unique_suffix()
    bodies = [booking_body(n, run) for n in range(EVENTS)]
    with bare_queue(uri) as (exchange, queue), in_process(ack_consumer, uri, queue, EVENTS) as out:
        began = time.time()
        publish_all(uri, bodies, exchange, ROUTING_KEY)
        got = out.get(timeout=max(180.0, EVENTS / 50))
    seconds = got["last"] - began
    return {"received": got["received"], "seconds": seconds, "per_s": got["received"] / seconds}


def insert_floor(db: Database, sample: dict[str, Any]) -> dict[str, Any]:
    """The burst's rows by plain INSERTs: a message and its four deliveries, one commit each."""
    messages, deliveries = Message.__table__, Delivery.__table__
    run = unique_suffix()
    began = time.perf_counter()
    for n in range(EVENTS):
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            message_id = conn.execute(
                messages.insert()
                .values(
                    **sample,
                    event_id=str(uuid.uuid4()),
                    recipient=f"user:bench:{run}-{n}",
                    created_at=now,
                )
                .returning(messages.c.id)
            ).scalar_one()
            conn.execute(
                deliveries.insert(),
                [
                    {
                        "message_id": message_id,
                        "channel": channel,
                        "state": state,
                        "attempts": 0,
                        "provider": "inbox" if channel == "inbox" else "",
                        "provider_message_id": "",
                        "provider_answer": "",
                        "last_error": why,
                        "delivered_at": now if channel == "inbox" else None,
                        "sent_at": now if channel == "inbox" else None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for channel, state, why in ROWS
                ],
            )
    seconds = time.perf_counter() - began
    with db.engine.begin() as conn:  # not the sender's to settle: take them away again
        recipients = messages.c.recipient.like(f"user:bench:{run}-%")
        ids = select(messages.c.id).where(recipients)
        conn.execute(deliveries.delete().where(deliveries.c.message_id.in_(ids)))
        conn.execute(messages.delete().where(recipients))
    return {"seconds": seconds, "per_s": EVENTS / seconds}


def message_sample(db: Database) -> dict[str, Any]:
    """A fanned-out message's columns (its rendered text), for the INSERT baseline."""
    with db.read() as session:
        m = session.scalars(select(Message).order_by(Message.id).limit(1)).one()
        return {
            "event_type": m.event_type,
            "rule_key": m.rule_key,
            "rule_id": m.rule_id,
            "kind": m.kind,
            "urgent": m.urgent,
            "locale": m.locale,
            "subject": m.subject,
            "body_text": m.body_text,
            "body_html": m.body_html,
            "link": m.link,
        }


def plain_emails(db: Database, mail_port: int) -> dict[str, Any]:
    """`EMAILS` of the burst's emails sent again by `EmailChannel` alone, one
    after another, to the same relay: no claim, lease or outcome recorded."""
    settings = ChannelSettings(smtp_port=mail_port)
    with db.read() as session:
        outgoing = [
            Outgoing(
                delivery_id=10_000_000 + n,
                channel="email",
                to=f"plain-{n}@bench.invalid",
                subject=m.subject,
                text=m.body_text,
                html=m.body_html,
                link=m.link,
                event_type=m.event_type,
                kind=m.kind,
                locale=m.locale,
            )
            for n, m in enumerate(
                session.scalars(select(Message).order_by(Message.id).limit(EMAILS))
            )
        ]
    channel = EmailChannel(settings)
    began = time.perf_counter()
    for message in outgoing:
        channel.send(message)
    seconds = time.perf_counter() - began
    return {"emails": len(outgoing), "seconds": seconds, "per_s": len(outgoing) / seconds}


def _lines(record: Path | None) -> int:
    if record is None or not record.exists():
        return 0
    with record.open("rb") as f:
        return sum(1 for _ in f)


# ---------------------------------------------------------------- 2. latency


def steady(uri: str, exchange: str, make: Any) -> dict[str, float]:
    """Publish `RATE` per second for `SECONDS`, one at a time: each event's publish time."""
    count = int(RATE * SECONDS)
    published: dict[str, float] = {}
    with kombu.Connection(uri) as conn:
        producer = conn.Producer(exchange=kombu.Exchange(exchange, "topic", durable=True))
        started = time.perf_counter()
        for n in range(count):
            pause = started + n / RATE - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            key, body = make(n)
            published[key] = time.time()
            producer.publish(
                body,
                routing_key=ROUTING_KEY,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )
    return published


def latency(service: Service, db: Database, uri: str) -> dict[str, Any]:
    run = unique_suffix()
    service.start_workers(1)
    try:
        warm = [booking_body(n, f"{run}w") for n in range(50)]
        before = counts(db)["messages"]
        publish_all(uri, warm, EXCHANGE, ROUTING_KEY)
        wait_until(service, db, lambda c: c["messages"] >= before + len(warm), 120, "warm-up")

        def make(n: int) -> tuple[str, str]:
            body = booking_body(n, run)
            return json.loads(body)["event_id"], body

        before = counts(db)["messages"]
        began = time.perf_counter()
        published = steady(uri, EXCHANGE, make)
        achieved = len(published) / (time.perf_counter() - began)
        wait_until(
            service, db, lambda c: c["messages"] >= before + len(published), 120, "every message"
        )
    finally:
        service.stop_workers()
    with db.read() as session:
        made = dict(
            session.execute(
                select(Message.event_id, Message.created_at).where(
                    Message.event_id.in_(list(published))
                )
            ).all()
        )
    values = [made[key].timestamp() - at for key, at in published.items() if key in made]
    return {"rate": achieved, **_spread(values), "count": len(values)}


def receive_times(uri: str, queue: str, count: int, ready: Any, out: Any) -> None:
    """A bare kombu consumer: each message's receive time minus its publish time."""
    delays: list[float] = []
    with kombu.Connection(uri) as conn:
        channel = conn.channel()

        def on_message(body: Any, message: Any) -> None:
            delays.append(time.time() - float(json.loads(message.body)["published"]))
            message.ack()

        consumer = kombu.Consumer(channel, queues=[kombu.Queue(queue, no_declare=True)])
        consumer.register_callback(on_message)
        with consumer:
            ready.set()
            deadline = time.monotonic() + SECONDS + 60
            while len(delays) < count and time.monotonic() < deadline:
                with suppress(TimeoutError):
                    conn.drain_events(timeout=1)
    out.put(delays)


def kombu_latency(uri: str) -> dict[str, Any]:
    count = int(RATE * SECONDS)
    run = unique_suffix()
    with bare_queue(uri) as (exchange, queue), in_process(receive_times, uri, queue, count) as out:

        def make(n: int) -> tuple[str, str]:
            body = json.loads(booking_body(n, run))
            body["published"] = time.time()
            return body["event_id"], json.dumps(body, ensure_ascii=False)

        steady(uri, exchange, make)
        delays: list[float] = out.get(timeout=SECONDS + 90)
    return {**_spread(delays), "count": len(delays)}


def _spread(seconds: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(seconds, 50) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "max_ms": max(seconds, default=float("nan")) * 1000,
    }


# ---------------------------------------------------------------- main


def main() -> None:
    print(
        f"machine: {machine()}; PostgreSQL, RabbitMQ, the workers, the mail relay and this "
        f"script share it; {load()}"
    )
    uri = broker_uri()
    with (
        own_vhost(uri) as vhost,
        throwaway_database("bench_notify") as url,
        tempfile.TemporaryDirectory(prefix="bench-notify-") as logs,
    ):
        service = Service(url, vhost, Path(logs))
        db = Database(url, f"bench_notify_{unique_suffix()}")
        try:
            results: dict[str, Any] = {"bursts": []}
            print(
                f"\nburst: {EVENTS} booking_confirmed events published at once, each its own "
                f"booker (an email address given) -> one message: its inbox delivery, its "
                f"email sent by the worker (rate limit {EMAIL_RATE}/s per worker), SMS and "
                f"WeChat suppressed (no contact)"
            )
            for workers in WORKERS:
                b = burst(service, db, vhost, workers)
                results["bursts"].append(b)
                print(
                    f"  {workers} worker{'s' if workers > 1 else ' '}: into the inbox "
                    f"{b['per_s']:>6.0f} events/s ({b['to_inbox_s']:.1f} s to drain, published "
                    f"in {b['publish_s']:.1f} s; the fan-out's own pace {b['fanout_per_s']:.0f}/s "
                    f"by created_at)"
                )
                print(
                    f"             emails sent {b['emails_per_s']:>6.0f}/s ({b['emails_sent']} "
                    f"sent {b['to_email_s']:.1f} s after the first publish, "
                    f"{b['emails_recorded']} recorded by the relay; the sending's own pace "
                    f"{b['sending_per_s']:.0f}/s by sent_at)"
                )
            floor = kombu_floor(vhost)
            results["kombu_ack"] = floor
            print(
                f"  baseline: a bare kombu consumer that only acks  {floor['per_s']:>6.0f} "
                f"events/s ({floor['seconds']:.1f} s from the first publish to the last ack, "
                f"{floor['received']} received)"
            )
            rows = insert_floor(db, message_sample(db))
            results["plain_insert"] = rows
            print(
                f"  baseline: the same rows by plain INSERTs (a message + 4 deliveries, one "
                f"commit per event, one thread)  {rows['per_s']:>6.0f} events/s "
                f"({rows['seconds']:.1f} s)"
            )
            plain = plain_emails(db, service.mail_port)
            results["plain_emails"] = plain
            print(
                f"  baseline: {plain['emails']} of the emails by EmailChannel.send alone (no "
                f"database), one after another  {plain['per_s']:>6.0f} emails/s"
            )

            lat = latency(service, db, vhost)
            base = kombu_latency(vhost)
            results["latency"] = {"worker": lat, "kombu": base}
            print(
                f"\nevent to inbox at {lat['rate']:.0f} events/s (asked {RATE:.0f}) for "
                f"{SECONDS:.0f} s, one worker: message created_at - publish time"
            )
            print(
                f"  notifications worker       p50 {lat['p50_ms']:7.1f} ms  p99 "
                f"{lat['p99_ms']:7.1f} ms  max {lat['max_ms']:7.1f} ms  ({lat['count']} events)"
            )
            print(
                f"  baseline: bare kombu receive  p50 {base['p50_ms']:7.1f} ms  p99 "
                f"{base['p99_ms']:7.1f} ms  max {base['max_ms']:7.1f} ms  ({base['count']} events)"
            )
            print(load())
            print(json.dumps(results, default=str))
        except Exception:
            for name in list(service.platform.processes):
                print(service.platform.log_tail(name))
            raise
        finally:
            service.close()
            db.dispose()


if __name__ == "__main__":
    main()

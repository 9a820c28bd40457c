"""The transactional outbox and its relay.

A unit of work writes each event as a row of `outbox_events` in the same
transaction as the change it describes, so a change is never committed
without its events, nor an event published for a change rolled back. The
worker's relay takes unsent rows in order (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so replicas share the work without taking the same rows),
publishes them with publisher confirms, and marks a row sent only after the
broker confirmed it. A crash between publish and mark republishes the row:
delivery is at least once, and consumers are idempotent (kit.inbox).

The sequence. Every event of a service gets a number, `sequence`, from one
counter per service database (the row of `outbox_sequence`): 1, 2, 3, ...
with no hole, in the order the transactions committed. On PostgreSQL a
BEFORE INSERT trigger on `outbox_events` takes the next number with
`UPDATE outbox_sequence SET value = value + 1 RETURNING value`; the row lock
that update takes is held until the transaction ends, so a second writer
waits for the first to commit (or roll back, giving its numbers back) before
it numbers its own events. The unit of work (kit.db) inserts its events as
its last statement, so writers of events queue only for that statement and
the commit. On SQLite (one writer at a time) the unit of work numbers them
itself. A snapshot's `current_sequence` is therefore exactly the number of
the last event whose transaction it sees.

The relay publishes in sequence order and puts the number first in the
published body (`kit.events.with_sequence`); consumers read it as
`Envelope.sequence`. With several relays (or a republished batch) the broker
may deliver out of order or twice: a consumer that needs order keeps the
last sequence it applied and reloads on a gap.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import amqp
import kombu
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kit import metrics
from kit.db import WRITE_OPTION, Database, wakeup_channel
from kit.events import Envelope, with_sequence
from kit.tables import outbox_events, outbox_sequence

log = logging.getLogger(__name__)


def event_exchange_name(service: str) -> str:
    """nameko's name for a service's event exchange."""
    return f"{service}.events"


def current_sequence(session: Session) -> int:
    """The sequence of the last event committed in what `session` sees: read
    in a consistent snapshot with other data, the version of that data."""
    return int(session.scalar(select(outbox_sequence.c.value)) or 0)


def events_between(session: Session, after: int, upto: int) -> list[Envelope]:
    """The events numbered after `after` up to `upto`, in order, as kept in
    the outbox (sent or not; those purged are missing: compare the count)."""
    rows = session.execute(
        select(outbox_events.c.sequence, outbox_events.c.body)
        .where(outbox_events.c.sequence > after, outbox_events.c.sequence <= upto)
        .order_by(outbox_events.c.sequence)
    ).all()
    return [replace(Envelope.from_body(body), sequence=sequence) for sequence, body in rows]


@dataclass
class PendingEvent:
    row_id: int
    event_id: str
    type: str
    body: str  # as kept in the outbox: without the sequence
    sequence: int = 0


class ConfirmingPublisher:
    """Publishes to a topic exchange with publisher confirms, pipelined.

    A batch is published without waiting message by message; the broker's
    acks (often `multiple`) are then collected. Only acked messages count as
    published. This keeps the guarantee of a confirm per message at a
    fraction of its round trips.
    """

    def __init__(self, amqp_uri: str, exchange: str, confirm_timeout: float = 10.0) -> None:
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.confirm_timeout = confirm_timeout
        self._conn: kombu.Connection | None = None
        self._channel: Any = None
        self._next_tag = 1
        self._acked: set[int] = set()
        self._nacked: set[int] = set()
        self._outstanding: set[int] = set()

    def _ensure(self) -> Any:
        if self._channel is not None and self._conn is not None and self._conn.connected:
            return self._channel
        self.close()
        conn = kombu.Connection(self.amqp_uri, connect_timeout=5, heartbeat=0)
        conn.connect()
        channel = conn.channel()
        channel.exchange_declare(
            exchange=self.exchange, type="topic", durable=True, auto_delete=False
        )
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._conn, self._channel, self._next_tag = conn, channel, 1
        return channel

    def _settle(self, tag: int, multiple: bool, into: set[int]) -> None:
        tags = {t for t in self._outstanding if t <= tag} if multiple else {tag}
        tags &= self._outstanding
        self._outstanding -= tags
        into |= tags

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, self._acked)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, self._nacked)

    def publish(self, events: Sequence[PendingEvent]) -> tuple[list[int], list[int]]:
        """Publish; (row ids the broker confirmed, row ids it refused).

        Raises on a connection failure: nothing of the batch counts as sent.
        """
        channel = self._ensure()
        assert self._conn is not None
        tag_to_row: dict[int, int] = {}
        self._acked, self._nacked, self._outstanding = set(), set(), set()
        try:
            for event in events:
                body = with_sequence(event.body, event.sequence) if event.sequence else event.body
                message = amqp.Message(
                    body,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=event.event_id,
                    type=event.type,
                )
                channel.basic_publish(message, exchange=self.exchange, routing_key=event.type)
                tag_to_row[self._next_tag] = event.row_id
                self._outstanding.add(self._next_tag)
                self._next_tag += 1
            deadline = time.monotonic() + self.confirm_timeout
            while self._outstanding:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"broker confirmed {len(self._acked)} of {len(events)} events in time"
                    )
                self._conn.drain_events(timeout=remaining)
        except Exception:
            self.close()
            raise
        acked = [tag_to_row[t] for t in sorted(self._acked)]
        nacked = [tag_to_row[t] for t in sorted(self._nacked)]
        return acked, nacked

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the connection may already be gone
                self._conn.release()
        self._conn, self._channel = None, None


class OutboxWakeup:
    """Lets the relay sleep until events are committed, instead of polling.

    On PostgreSQL a unit of work that wrote events sends NOTIFY on the
    service's channel (delivered at commit); the relay LISTENs and wakes at
    once. Polling stays as the fallback, so a lost notification or a dropped
    listener costs at most one poll interval. Elsewhere (SQLite) it only
    sleeps.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Any = None

    def _listener(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg

            url = self.db.engine.url.set(drivername="postgresql")
            self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._conn.execute(f'LISTEN "{wakeup_channel(self.db.service)}"')
        return self._conn

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True when woken by a notification."""
        if not self.db.is_postgres:
            time.sleep(timeout)
            return False
        try:
            for _ in self._listener().notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except Exception as exc:
            log.warning("outbox listener lost (%s); polling meanwhile", exc)
            self.close()
            time.sleep(timeout)
            return False

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None


class OutboxRelay:
    """Moves committed events from the outbox to the broker."""

    def __init__(
        self,
        db: Database,
        amqp_uri: str,
        *,
        batch_size: int = 200,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.db = db
        self.service = db.service
        self.batch_size = batch_size
        self.retention = retention
        self.publisher = ConfirmingPublisher(amqp_uri, event_exchange_name(db.service))

    def relay_once(self) -> int:
        """Publish one batch of unsent events; how many the broker confirmed."""
        with self.db.sessions() as session, session.begin():
            session.connection(execution_options={WRITE_OPTION: True})
            rows = session.execute(
                select(
                    outbox_events.c.id,
                    outbox_events.c.event_id,
                    outbox_events.c.type,
                    outbox_events.c.body,
                    outbox_events.c.sequence,
                )
                .where(outbox_events.c.sent_at.is_(None))
                .order_by(outbox_events.c.sequence)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            pending = [PendingEvent(r.id, r.event_id, r.type, r.body, r.sequence) for r in rows]
            try:
                acked, nacked = self.publisher.publish(pending)
            except Exception as exc:
                log.warning(
                    "outbox relay could not publish: %s", exc, extra={"service": self.service}
                )
                session.rollback()
                raise
            now = datetime.now(UTC)
            if acked:
                session.execute(
                    update(outbox_events)
                    .where(outbox_events.c.id.in_(acked))
                    .values(sent_at=now, attempts=outbox_events.c.attempts + 1)
                )
            if nacked:
                session.execute(
                    update(outbox_events)
                    .where(outbox_events.c.id.in_(nacked))
                    .values(
                        attempts=outbox_events.c.attempts + 1,
                        last_error="broker refused (basic.nack)",
                    )
                )
        types = {r.id: r.type for r in rows}
        for row_id in acked:
            metrics.liaison_events_published_total.labels(
                service=self.service, type=types[row_id]
            ).inc()
        return len(acked)

    def measure_backlog(self) -> tuple[int, float]:
        """(unsent events, age in seconds of the oldest), also set as gauges."""
        with self.db.read() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(outbox_events.c.occurred_at)).where(
                    outbox_events.c.sent_at.is_(None)
                )
            ).one()
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:  # SQLite returns naive UTC
                oldest = oldest.replace(tzinfo=UTC)
            age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        metrics.liaison_outbox_backlog.labels(service=self.service).set(count)
        metrics.liaison_outbox_oldest_age_seconds.labels(service=self.service).set(age)
        return int(count), age

    def purge_sent(self) -> int:
        """Delete sent rows older than the retention; they are history only."""
        cutoff = datetime.now(UTC) - self.retention
        with self.db.unit_of_work() as uow:
            result = uow.session.execute(
                outbox_events.delete().where(
                    outbox_events.c.sent_at.is_not(None), outbox_events.c.sent_at < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    def close(self) -> None:
        self.publisher.close()

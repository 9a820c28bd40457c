"""The transactional outbox and its relay.

A unit of work writes each event as a row of `outbox_events` in the same
transaction as the change it describes, so a change is never committed
without its events, nor an event published for a change rolled back. The
worker's relay takes unsent rows in order (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so replicas share the work without taking the same rows),
publishes them with publisher confirms, and commits them as sent only after
the broker confirmed them. A crash between publish and that commit
republishes the rows: delivery is at least once, and consumers are
idempotent (kit.inbox).

The sequence. Every event of a service gets a number, `sequence`, from one
counter per service database (the row of `outbox_sequence`): 1, 2, 3, ...
with no hole, in the order the transactions committed. On PostgreSQL a
BEFORE INSERT trigger on `outbox_events` takes the next number with
`UPDATE outbox_sequence SET value = value + 1 RETURNING value`; the row lock
that update takes is held until the transaction ends, so a second writer
waits for the first to commit (or roll back, giving its numbers back) before
it numbers its own events. The unit of work (kit.db) inserts its events as
its last statement before COMMIT, so writers of events queue only for
that statement and the commit. On SQLite (one writer at a
time) the unit of work numbers them itself. A snapshot's `current_sequence`
is therefore exactly the number of the last event whose transaction it sees.

The relay publishes in sequence order and puts the number first in the
published body (`kit.events.with_sequence`); consumers read it as
`Envelope.sequence`. With several relays (or a republished batch) the broker
may deliver out of order or twice: a consumer that needs order keeps the
last sequence it applied and reloads on a gap.

Throughput. The relay claims a batch with one statement (select, lock and
mark sent, in a transaction that commits after the confirms), sends the
next batch before waiting for the confirms of the one before, and builds
the AMQP frames of a batch itself, written in one go (`ConfirmingPublisher`).
Its commits do not wait for the disk (`synchronous_commit = off`): a lost
mark only sends an event again. A sleeping relay is woken by NOTIFY, which
writers send only when it sleeps (`OutboxWakeup`).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import struct
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import kombu
from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from kit import metrics
from kit.db import WRITE_OPTION, Database, make_engine
from kit.events import Envelope, with_sequence
from kit.tables import WAKEUP_CHANNEL, outbox_events, outbox_sequence

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


class PendingEvent(NamedTuple):
    sequence: int
    event_id: str
    type: str
    body: str  # as kept in the outbox: without the sequence (added when published)


@dataclass(frozen=True)
class Sent:
    """Events written to the broker, awaiting its confirms: delivery tags
    `first`..`first + len(sequences) - 1` on the publisher's channel."""

    first: int
    sequences: tuple[int, ...]
    connection: int  # which of the publisher's connections


# AMQP 0-9-1 framing of basic.publish (class 60, method 40): a method frame,
# a content header and the body in frames of at most frame_max - 8 bytes.
_PROPERTY_FLAGS = 0x8000 | 0x4000 | 0x1000 | 0x0080 | 0x0020  # type, encoding, mode, id, type
_FRAME_END = b"\xce"
_PROPERTIES_HEAD = b"\x10application/json\x05utf-8\x02"  # content type, encoding, persistent
_HEADER_FIXED = 14 + len(_PROPERTIES_HEAD) + 1  # class, weight, size, flags; ...; id length


def _shortstr(value: str) -> bytes:
    data = value.encode()
    if len(data) > 255:
        raise ValueError(f"an AMQP short string is at most 255 bytes: {value[:40]!r}...")
    return bytes((len(data),)) + data


class ConfirmingPublisher:
    """Publishes to a topic exchange with publisher confirms, pipelined.

    `send` writes a batch to the broker in one socket write, without waiting;
    `confirm` then collects the broker's acks (often `multiple`) for it. Only
    acked messages count as published, and a batch can be sent before the
    previous one is confirmed. Messages are persistent, with content type,
    encoding, message id and type as properties, the event type as routing
    key.

    The frames of basic.publish are built here, the constant parts once per
    event type, and a batch goes out in one write: py-amqp's own publish
    costs several times more per message, which would bound the relay.
    Confirms, channel and connection are py-amqp's (through kombu).
    """

    def __init__(self, amqp_uri: str, exchange: str, confirm_timeout: float = 10.0) -> None:
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.confirm_timeout = confirm_timeout
        self._conn: kombu.Connection | None = None
        self._channel: Any = None
        self._next_tag = 1
        self._unsettled: dict[int, None] = {}  # delivery tags in order
        self._outcome: dict[int, bool] = {}  # tag -> acked (False: nacked)
        self._method_frames: dict[str, tuple[bytes, bytes]] = {}
        self._connections = 0

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
        self._unsettled, self._outcome, self._method_frames = {}, {}, {}
        self._connections += 1
        return channel

    def _settle(self, tag: int, multiple: bool, acked: bool) -> None:
        if multiple:
            done = list(itertools.takewhile(lambda t: t <= tag, self._unsettled))
        else:
            done = [tag] if tag in self._unsettled else []
        for t in done:
            del self._unsettled[t]
            self._outcome[t] = acked

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, True)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, False)

    def _type_frames(self, channel_id: int, event_type: str) -> tuple[bytes, bytes]:
        """For one event type: the whole method frame, and the end of the
        content header's properties (the type, after the message id)."""
        parts = self._method_frames.get(event_type)
        if parts is None:
            payload = (
                struct.pack(">HHH", 60, 40, 0)
                + _shortstr(self.exchange)
                + _shortstr(event_type)  # the routing key
                + b"\x00"  # neither mandatory nor immediate
            )
            method = struct.pack(">BHI", 1, channel_id, len(payload)) + payload + _FRAME_END
            parts = self._method_frames[event_type] = (method, _shortstr(event_type))
        return parts

    def _frames(self, channel_id: int, frame_max: int, events: Sequence[PendingEvent]) -> bytes:
        pack = struct.pack
        chunk = frame_max - 8
        parts: list[bytes] = []
        append = parts.append
        for event in events:
            body = with_sequence(event.body, event.sequence).encode()
            method, type_tail = self._type_frames(channel_id, event.type)
            message_id = event.event_id.encode()
            if len(message_id) > 255:
                raise ValueError("an event id is at most 255 bytes")
            size = len(body)
            append(method)
            # Content header: class, weight, body size, property flags, then
            # content type, encoding, delivery mode 2 (persistent), id, type.
            append(
                pack(
                    ">BHIHHQH",
                    2,
                    channel_id,
                    _HEADER_FIXED + len(message_id) + len(type_tail),
                    60,
                    0,
                    size,
                    _PROPERTY_FLAGS,
                )
            )
            append(_PROPERTIES_HEAD)
            append(bytes((len(message_id),)))
            append(message_id)
            append(type_tail)
            append(_FRAME_END)
            if size <= chunk:
                append(pack(">BHI", 3, channel_id, size))
                append(body)
                append(_FRAME_END)
            else:
                for start in range(0, size, chunk):
                    part = body[start : start + chunk]
                    append(pack(">BHI", 3, channel_id, len(part)))
                    append(part)
                    append(_FRAME_END)
        return b"".join(parts)

    def send(self, events: Sequence[PendingEvent]) -> Sent:
        """Write `events` to the broker; confirm them with `confirm`.

        Raises on a connection failure: nothing sent on this connection and
        not yet confirmed counts as published."""
        channel = self._ensure()
        assert self._conn is not None
        try:
            frames = self._frames(channel.channel_id, self._conn.connection.frame_max, events)
            self._conn.connection.transport.write(frames)
        except Exception:
            self.close()
            raise
        first = self._next_tag
        self._next_tag += len(events)
        self._unsettled.update(dict.fromkeys(range(first, self._next_tag)))
        return Sent(first, tuple(e.sequence for e in events), self._connections)

    def confirm(self, sent: Sent) -> tuple[list[int], list[int]]:
        """Wait for the broker's confirms of `sent`: (sequences it confirmed,
        sequences it refused). Raises when they do not all come within the
        confirm timeout or the connection fails (then nothing unconfirmed
        counts as published, on this connection)."""
        last = sent.first + len(sent.sequences) - 1
        if sent.connection != self._connections or self._conn is None:
            raise ConnectionError("the connection the events were sent on is gone")
        try:
            deadline = time.monotonic() + self.confirm_timeout
            while self._unsettled and next(iter(self._unsettled)) <= last:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    waiting = sum(1 for t in self._unsettled if t <= last)
                    raise TimeoutError(
                        f"the broker left {waiting} of {len(sent.sequences)} events"
                        " unconfirmed in time"
                    )
                assert self._conn is not None, "the connection was closed"
                self._conn.drain_events(timeout=remaining)
        except Exception:
            self.close()
            raise
        acked: list[int] = []
        nacked: list[int] = []
        outcome = self._outcome
        for tag, sequence in enumerate(sent.sequences, start=sent.first):
            (acked if outcome.pop(tag) else nacked).append(sequence)
        return acked, nacked

    def publish(self, events: Sequence[PendingEvent]) -> tuple[list[int], list[int]]:
        """Send and confirm: (sequences the broker confirmed, those it refused)."""
        return self.confirm(self.send(events))

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the connection may already be gone
                self._conn.release()
        self._conn, self._channel = None, None
        self._unsettled, self._outcome = {}, {}


class OutboxWakeup:
    """Lets the relay sleep until events are committed, instead of polling.

    On PostgreSQL the relay LISTENs on `liaison_outbox` and, before it
    sleeps, asks to be woken: it sets `outbox_sequence.wake_after` to the
    last number given. The insert trigger sends NOTIFY (delivered at commit)
    for the first event numbered after that, and for no other: while the
    relay is busy, writers send no notification at all (NOTIFY takes a lock
    that serialises every notifying commit of the server). Setting
    `wake_after` takes the counter's row lock, so it waits for writers that
    hold a number; the relay then looks for unsent events once more before
    sleeping, so none is missed between its last pass and the notification.
    Polling stays as the fallback, so a lost notification or a dropped
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
            # A hint, not data: waiting for its flush would hold the counter longer.
            self._conn.execute("SET synchronous_commit = off")
            self._conn.execute(f"LISTEN {WAKEUP_CHANNEL}")
        return self._conn

    def wait(self, timeout: float, after: int = 0) -> bool:
        """Block up to `timeout` seconds; True when woken by a notification,
        or at once when unsent events numbered after `after` (that no relay
        holds) are waiting."""
        if not self.db.is_postgres:
            time.sleep(timeout)
            return False
        try:
            conn = self._listener()
            conn.execute(_ASK_TO_BE_WOKEN)
            if conn.execute(_ANY_TO_RELAY, (after,)).fetchone() is not None:
                return True
            for _ in conn.notifies(timeout=timeout, stop_after=1):
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


_ASK_TO_BE_WOKEN = "UPDATE outbox_sequence SET wake_after = value WHERE id = 1"
_ANY_TO_RELAY = (
    "SELECT 1 FROM outbox_events WHERE sent_at IS NULL AND sequence > %s"
    " ORDER BY sequence LIMIT 1 FOR UPDATE SKIP LOCKED"
)


@dataclass
class _Batch:
    """Events taken from the outbox (their rows locked by the batch's own
    transaction) and sent to the broker, awaiting its confirms."""

    session: Session
    events: list[PendingEvent]
    sent: Sent | None = None


class OutboxRelay:
    """Moves committed events from the outbox to the broker.

    Each pass takes a batch (`FOR UPDATE SKIP LOCKED`, in sequence order),
    sends it, and marks sent what the broker confirmed, in the batch's own
    transaction. On PostgreSQL the next batch (whatever is unsent by then)
    is taken and sent before waiting for the confirms of the first: the
    database work of one batch overlaps the broker's work on the other, at
    most two batches are in flight, and order on the channel is kept.
    Whatever goes wrong rolls back every batch in flight: their rows stay
    unsent and go out again.
    """

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
        self._in_flight: _Batch | None = None
        self._engine: Engine | None = None
        self._sessions = db.sessions
        if db.is_postgres:
            # The relay's commits do not wait for their flush to disk: a crash
            # that loses a "sent" mark only sends that event again, as any
            # crash between publish and mark does (at least once either way).
            self._engine = make_engine(
                db.url,
                pool_size=2,
                max_overflow=2,
                connect_args={"options": "-c synchronous_commit=off"},
            )
            self._sessions = sessionmaker(self._engine)
        # Where the next claim starts: past the last event claimed, so that it
        # does not walk the index entries of the events sent just before
        # (dead, but not removable while a batch's transaction is open).
        # Back to 0 after a failure or a refusal, and at most every
        # REWIND_SECONDS when nothing is in flight, for events another relay
        # gave back.
        self._after = 0
        self._rewind_at = 0.0
        unsent = (
            select(outbox_events.c.sequence)
            .where(
                outbox_events.c.sent_at.is_(None),
                outbox_events.c.sequence > bindparam("after"),
            )
            .order_by(outbox_events.c.sequence)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        self._claim = (
            update(outbox_events)
            .where(outbox_events.c.sequence.in_(unsent.scalar_subquery()))
            .values(
                sent_at=bindparam("taken_at", type_=outbox_events.c.sent_at.type),
                attempts=outbox_events.c.attempts + 1,
            )
            .returning(
                outbox_events.c.sequence,
                outbox_events.c.event_id,
                outbox_events.c.type,
                outbox_events.c.body,
            )
        )

    REWIND_SECONDS = 5.0

    @property
    def position(self) -> int:
        """The sequence after which the next batch is looked for."""
        return self._after

    @property
    def in_flight(self) -> bool:
        """A batch is sent and awaits its confirms: call `relay_once` again."""
        return self._in_flight is not None

    def _take(self) -> _Batch | None:
        """The next unsent events, claimed and sent; None when there are none.

        One statement takes them in order, skipping rows another relay holds,
        and marks them sent in the batch's transaction, which commits only
        once the broker confirmed them (and un-marks what it refused): until
        then the rows stay locked and, to everyone else, unsent."""
        session = self._sessions()
        try:
            session.begin()
            session.connection(execution_options={WRITE_OPTION: True})
            rows = list(
                session.execute(self._claim, {"taken_at": datetime.now(UTC), "after": self._after})
            )
        except Exception:
            _end(session)
            raise
        if not rows:
            _end(session)
            return None
        rows.sort(key=lambda row: row[0])  # RETURNING keeps no order
        self._after = max(self._after, rows[-1][0])
        batch = _Batch(session, [PendingEvent._make(row) for row in rows])
        try:
            batch.sent = self.publisher.send(batch.events)
        except Exception:
            _end(session)
            raise
        return batch

    def _finish(self, batch: _Batch) -> int:
        """Wait for the broker's confirms of `batch`; commit what it confirmed."""
        assert batch.sent is not None
        acked, nacked = self.publisher.confirm(batch.sent)
        session = batch.session
        if nacked:
            self._after = 0
            session.execute(
                update(outbox_events)
                .where(outbox_events.c.sequence.in_(nacked))
                .values(sent_at=None, last_error="broker refused (basic.nack)")
            )
        session.commit()
        session.close()
        if acked:
            published = set(acked)
            by_type = Counter(e.type for e in batch.events if e.sequence in published)
            for event_type, count in by_type.items():
                metrics.liaison_events_published_total.labels(
                    service=self.service, type=event_type
                ).inc(count)
        return len(acked)

    def relay_once(self) -> int:
        """Publish one batch of unsent events; how many the broker confirmed.

        On PostgreSQL the next batch, when there are more unsent events, is
        already sent when this returns (`in_flight`): call again soon."""
        if self._in_flight is None and time.monotonic() >= self._rewind_at:
            # Not while a batch's transaction is open: then the dead entries
            # this walks cannot be marked as such, and every rewind would
            # walk them all again.
            self._after, self._rewind_at = 0, time.monotonic() + self.REWIND_SECONDS
        batch = None
        try:
            batch, self._in_flight = self._in_flight or self._take(), None
            if batch is None:
                return 0
            # Events committed meanwhile go out before this batch's confirms
            # are awaited. (SQLite has one writer: a second batch would wait
            # for the first.)
            if self.db.is_postgres:
                self._in_flight = self._take()
            return self._finish(batch)
        except Exception as exc:
            log.warning("outbox relay could not publish: %s", exc, extra={"service": self.service})
            if batch is not None:
                _end(batch.session)
            self._abandon()
            raise

    def _abandon(self) -> None:
        """Roll back what is in flight: its rows go out again."""
        self._after = 0
        if self._in_flight is not None:
            _end(self._in_flight.session)
            self._in_flight = None
        self.publisher.close()

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
        self._abandon()
        if self._engine is not None:
            self._engine.dispose()


def _end(session: Session) -> None:
    """Roll back and close, whatever state the session's connection is in."""
    with contextlib.suppress(Exception):
        session.rollback()
    session.close()

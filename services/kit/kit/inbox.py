"""The idempotent consumer.

Each handler records `(event_id, handler)` in its own database in the same
transaction as its effect, and the message is acked only after that commit.
A redelivered event finds its row and has no second effect. A handler that
fails is retried a bounded number of times (the failure count is kept in the
database, so it survives restarts); then the event goes to the dead-letter
queue, is recorded as dead-lettered, and counted in metrics. An effect that
raises UnprocessableEvent (a payload that is not the message it takes) is
dead-lettered at once: no retry can mend it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import kombu
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kit import metrics
from kit.db import Database, UnitOfWork
from kit.events import Envelope, UnprocessableEvent
from kit.logging import correlation_scope
from kit.tables import event_failures, processed_events

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = "liaison.dead-letter"

HANDLED = "handled"
DUPLICATE = "duplicate"
DEAD_LETTERED = "dead_lettered"


class RetryLater(Exception):
    """The handler failed and has retries left: requeue the message."""


def dead_letter_queue_name(queue: str) -> str:
    return f"{queue}.dead-letter"


class DeadLetterPublisher:
    """Puts poison messages on `<queue>.dead-letter`, with a confirm."""

    def __init__(self, amqp_uri: str) -> None:
        self.amqp_uri = amqp_uri

    def publish(
        self, queue: str, body: Any, reason: str, *, content_type: str | None = None
    ) -> None:
        """Dead-letter `body`: a decoded JSON value, or raw bytes kept as they came."""
        exchange = kombu.Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)
        dlq = kombu.Queue(
            dead_letter_queue_name(queue), exchange=exchange, routing_key=queue, durable=True
        )
        raw: dict[str, Any] = {}
        if isinstance(body, bytes | bytearray):
            body = bytes(body)
            raw = {
                "content_type": content_type or "application/octet-stream",
                "content_encoding": "binary",
            }
        with kombu.Connection(self.amqp_uri, transport_options={"confirm_publish": True}) as conn:
            producer = conn.Producer(serializer="json")
            producer.publish(
                body,
                exchange=exchange,
                routing_key=queue,
                declare=[dlq],
                delivery_mode=2,
                headers={"x-liaison-dead-letter-reason": reason[:1000]},
                retry=True,
                retry_policy={"max_retries": 3},
                **raw,
            )


def _record(uow: UnitOfWork, envelope: Envelope, handler: str, outcome: str) -> None:
    """Note that `handler` is done with this event, in the unit of work's transaction."""
    uow.session.execute(
        processed_events.insert().values(
            event_id=envelope.event_id,
            handler=handler,
            event_type=envelope.type,
            outcome=outcome,
            processed_at=datetime.now(UTC),
        )
    )


class Inbox:
    """Runs event handlers at most once per event, with bounded retries."""

    def __init__(
        self,
        db: Database,
        *,
        max_retries: int,
        dead_letters: DeadLetterPublisher,
        backoff_base: float = 0.2,
        backoff_max: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.service = db.service
        self.max_retries = max_retries
        self.dead_letters = dead_letters
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.sleep = sleep

    def handle(
        self,
        body: Any,
        *,
        handler: str,
        queue: str,
        effect: Callable[[UnitOfWork, Envelope], None],
    ) -> str:
        """Apply `effect` once for this event; HANDLED, DUPLICATE or DEAD_LETTERED.

        Raises RetryLater when the effect failed and may be retried.
        """
        try:
            envelope = Envelope.from_body(body)
        except (ValueError, TypeError) as exc:
            # Not an envelope: no retry can mend it.
            self.dead_letters.publish(queue, body, f"malformed envelope: {exc}")
            metrics.liaison_events_dead_lettered_total.labels(
                service=self.service, type="unknown", handler=handler
            ).inc()
            log.error("dead-lettered a malformed event on %s: %s", queue, exc)
            return DEAD_LETTERED

        labels = {"service": self.service, "type": envelope.type, "handler": handler}
        with correlation_scope(envelope.correlation_id or None):
            if self._already_processed(envelope.event_id, handler):
                metrics.liaison_events_duplicate_total.labels(**labels).inc()
                log.info("skipped a redelivered event %s", envelope.event_id)
                return DUPLICATE
            try:
                with self.db.unit_of_work() as uow:
                    effect(uow, envelope)
                    _record(uow, envelope, handler, HANDLED)
            except UnprocessableEvent as exc:
                log.error("event %s cannot be handled by %s: %s", envelope.event_id, handler, exc)
                return self._dead_letter(envelope, body, handler, queue, labels, str(exc))
            except IntegrityError:
                # Another consumer committed the same event meanwhile.
                if self._already_processed(envelope.event_id, handler):
                    metrics.liaison_events_duplicate_total.labels(**labels).inc()
                    return DUPLICATE
                return self._failed(envelope, body, handler, queue, labels)
            except Exception:
                return self._failed(envelope, body, handler, queue, labels)
            metrics.liaison_events_consumed_total.labels(**labels).inc()
            latency = (datetime.now(UTC) - envelope.occurred_at).total_seconds()
            metrics.liaison_event_latency_seconds.labels(
                service=self.service, type=envelope.type
            ).observe(max(0.0, latency))
            return HANDLED

    def _already_processed(self, event_id: str, handler: str) -> bool:
        with self.db.read() as session:
            found = session.execute(
                select(processed_events.c.outcome).where(
                    processed_events.c.event_id == event_id,
                    processed_events.c.handler == handler,
                )
            ).first()
        return found is not None

    def _failed(
        self, envelope: Envelope, body: Any, handler: str, queue: str, labels: dict[str, str]
    ) -> str:
        log.exception("handler %s failed on event %s", handler, envelope.event_id)
        metrics.liaison_events_failed_total.labels(**labels).inc()
        attempts = self._count_failure(envelope.event_id, handler)
        if attempts >= self.max_retries:
            log.error("dead-lettering event %s after %d attempts", envelope.event_id, attempts)
            reason = f"{handler} failed {attempts} times; see the worker's log"
            return self._dead_letter(envelope, body, handler, queue, labels, reason)
        self.sleep(min(self.backoff_max, self.backoff_base * 2 ** (attempts - 1)))
        raise RetryLater(f"{handler} failed on {envelope.event_id} (attempt {attempts})")

    def _dead_letter(
        self,
        envelope: Envelope,
        body: Any,
        handler: str,
        queue: str,
        labels: dict[str, str],
        reason: str,
    ) -> str:
        """Put the event on the dead-letter queue and record it as dead-lettered,
        so a republished copy is not handled (or dead-lettered) again."""
        self.dead_letters.publish(queue, body, reason)
        with self.db.unit_of_work() as uow:
            _record(uow, envelope, handler, DEAD_LETTERED)
        metrics.liaison_events_dead_lettered_total.labels(**labels).inc()
        return DEAD_LETTERED

    def _count_failure(self, event_id: str, handler: str) -> int:
        import traceback

        error = traceback.format_exc(limit=5)[-4000:]
        now = datetime.now(UTC)
        with self.db.unit_of_work() as uow:
            row = uow.session.execute(
                select(event_failures.c.attempts).where(
                    event_failures.c.event_id == event_id, event_failures.c.handler == handler
                )
            ).first()
            if row is None:
                uow.session.execute(
                    event_failures.insert().values(
                        event_id=event_id,
                        handler=handler,
                        attempts=1,
                        last_error=error,
                        updated_at=now,
                    )
                )
                return 1
            attempts = int(row.attempts) + 1
            uow.session.execute(
                update(event_failures)
                .where(event_failures.c.event_id == event_id, event_failures.c.handler == handler)
                .values(attempts=attempts, last_error=error, updated_at=now)
            )
            return attempts

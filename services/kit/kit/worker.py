"""The worker process of every service: a nameko 2 service.

It runs the outbox relay, the service's `@consumes` event handlers and its
timers. It never hosts gRPC (a grpcio server inside an eventlet process
deadlocks). The entry module calls `kit.green.patch()` before importing this,
then `run(WorkerClass, <Service>Bootstrap.for_process("worker"))`: the
process's one bootstrap (settings, database, what the service builds on
them) reaches every dependency provider through the container's config, so
nothing is read or built again per handler call or timer tick.
"""

from __future__ import annotations

import functools
import logging
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar, overload

from google.protobuf.message import Message
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer

from kit import metrics
from kit.bootstrap import Bootstrap
from kit.db import UnitOfWork
from kit.events import Envelope, event_type_of
from kit.inbox import DeadLetterPublisher, Inbox
from kit.outbox import OutboxRelay, OutboxWakeup

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

# The nameko config key that carries the process's bootstrap to its extensions.
BOOTSTRAP_KEY = "LIAISON_BOOTSTRAP"


def bootstrap_of(container: Any) -> Bootstrap[Any]:
    """The bootstrap `run` handed to this worker process."""
    boot: Bootstrap[Any] = container.config[BOOTSTRAP_KEY]
    return boot


class Provide(DependencyProvider):
    """Gives handlers and timers something the process's bootstrap built once:

    registry = Provide("registry")   # self.registry is boot.registry
    """

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def setup(self) -> None:
        self.value = getattr(bootstrap_of(self.container), self.attribute)

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.value


class OutboxRelayLoop(DependencyProvider):
    """Runs the outbox relay in a managed thread of the worker's container."""

    BACKLOG_EVERY = 5.0
    LAG_EVERY = 15.0
    PURGE_EVERY = 3600.0

    def setup(self) -> None:
        boot = bootstrap_of(self.container)
        self.settings = boot.settings
        self.relay = OutboxRelay(
            boot.db,
            self.settings.amqp_uri,
            batch_size=self.settings.outbox_batch_size,
        )
        self.wakeup = OutboxWakeup(self.relay.db)
        self._running = False

    def start(self) -> None:
        from eventlet.event import Event

        self._running = True
        self._finished = Event()
        self.container.spawn_managed_thread(self._run)

    def stop(self) -> None:
        # Let a pass in flight finish (and mark what the broker confirmed)
        # rather than be killed halfway; what is not marked goes out again.
        import eventlet

        self._running = False
        with eventlet.Timeout(10, False):
            self._finished.wait()
        self.relay.close()
        self.wakeup.close()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> OutboxRelay:
        return self.relay

    def _run(self) -> None:

        try:
            self._loop()
        finally:
            self._finished.send(None)

    def _loop(self) -> None:
        import eventlet

        failures = 0
        next_backlog = next_lag = next_purge = 0.0
        while self._running:
            now = time.monotonic()
            try:
                if now >= next_backlog:
                    self.relay.measure_backlog()
                    next_backlog = now + self.BACKLOG_EVERY
                if now >= next_lag:
                    self._measure_lag()
                    next_lag = now + self.LAG_EVERY
                if now >= next_purge:
                    self.relay.purge_sent()
                    next_purge = now + self.PURGE_EVERY
                sent = self.relay.relay_once()
                failures = 0
            except Exception as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("outbox relay pass failed (%s); next try in %.1fs", exc, delay)
                eventlet.sleep(delay)
                continue
            if sent < self.relay.batch_size and not self.relay.in_flight:
                self.wakeup.wait(self.settings.outbox_poll_seconds, after=self.relay.position)
            else:
                eventlet.sleep(0)

    def _measure_lag(self) -> None:
        import kombu

        queues = [
            ext.queue.name
            for ext in self.container.entrypoints
            if isinstance(ext, EventHandler) and getattr(ext, "queue", None) is not None
        ]
        if not queues:
            return
        with kombu.Connection(self.settings.amqp_uri, connect_timeout=5) as conn:
            channel = conn.default_channel
            for name in queues:
                try:
                    _, depth, _ = channel.queue_declare(queue=name, passive=True)
                except Exception:  # not declared yet
                    channel = conn.channel()
                    continue
                metrics.liaison_consumer_lag_messages.labels(
                    service=self.settings.service, queue=name
                ).set(depth)


class InboxProvider(DependencyProvider):
    """Gives handlers the service's idempotent inbox."""

    def setup(self) -> None:
        import eventlet

        boot = bootstrap_of(self.container)
        settings = boot.settings
        self.inbox = Inbox(
            boot.db,
            max_retries=settings.consumer_max_retries,
            dead_letters=DeadLetterPublisher(settings.amqp_uri),
            sleep=eventlet.sleep,
        )

    def get_dependency(self, worker_ctx: Any) -> Inbox:
        return self.inbox


class DeadLetteringQueueConsumer(QueueConsumer):
    """nameko's queue consumer, except that a message it cannot decode (not
    JSON, or a content type it does not accept) is dead-lettered and counted
    instead of being logged and dropped."""

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        queue = self._queue_of(message.delivery_info.get("consumer_tag"))
        event_type = str(message.delivery_info.get("routing_key") or "unknown")
        settings = bootstrap_of(self.container).settings
        body = message.body
        try:
            DeadLetterPublisher(settings.amqp_uri).publish(
                queue,
                body if isinstance(body, bytes) else str(body).encode(),
                f"undecodable body ({message.content_type}): {exc}",
                content_type=message.content_type,
            )
        except Exception:
            # Not acked: the broker redelivers it once the dead-letter path works.
            log.exception("could not dead-letter an undecodable message from %s", queue)
            message.requeue()
            return
        metrics.liaison_events_dead_lettered_total.labels(
            service=settings.service, type=event_type, handler=queue
        ).inc()
        log.error("dead-lettered an undecodable message from %s: %s", queue, exc)
        message.ack()

    def _queue_of(self, consumer_tag: str | None) -> str:
        for provider, consumer in self._consumers.items():
            if consumer_tag in getattr(consumer, "_active_tags", {}).values():
                return str(provider.queue.name)
        return "unknown"


class ConsumingEventHandler(EventHandler):
    """An event handler on the dead-lettering queue consumer."""

    queue_consumer = DeadLetteringQueueConsumer()


class PlatformWorker:
    """Base of every service's nameko worker: relay and inbox come with it."""

    name = "platform"
    outbox_relay = OutboxRelayLoop()
    inbox = InboxProvider()


EnvelopeEffect = Callable[[Any, UnitOfWork, Envelope], None]
Handler = Callable[[Any, Any], str]


@overload
def consumes(source: str, event: str) -> Callable[[EnvelopeEffect], Handler]: ...


@overload
def consumes(
    source: str, event: type[M], *, event_type: str | None = None
) -> Callable[[Callable[[Any, UnitOfWork, M, Envelope], None]], Handler]: ...


def consumes(
    source: str, event: str | type[Message], *, event_type: str | None = None
) -> Callable[[Callable[..., None]], Handler]:
    """An idempotent, retried nameko event handler of `source`'s events.

    Given the event's protobuf message class, the handler receives the
    payload parsed into it, and the envelope:

        @consumes("registry", events_pb2.DeputyRegistered)
        def on_deputy_registered(self, uow, event, envelope): ...

    Given the event type only, it receives the envelope (payload as a dict):

        @consumes("registry", "deputy_registered")
        def on_deputy_registered(self, uow, envelope): ...

    The routing key is the message's event type (`deputy_registered`), or
    `event_type` when the producer emitted it under another. Fields the
    message does not have are ignored, so producers can add fields; a payload
    that does not parse into the message is dead-lettered at once, as an
    undecodable message is. The effect runs in a unit of work together with
    the (event_id, handler) record; the message is acked after the commit. On
    failure the message is requeued until the retries are spent, then
    dead-lettered.
    """
    message_type = None if isinstance(event, str) else event
    routing_key = event if isinstance(event, str) else event_type or event_type_of(event)

    def decorate(func: Callable[..., None]) -> Handler:
        def effect(worker: Any, uow: UnitOfWork, envelope: Envelope) -> None:
            if message_type is None:
                func(worker, uow, envelope)
            else:
                func(worker, uow, envelope.payload_as(message_type), envelope)

        @functools.wraps(func)
        def handle(self: Any, body: Any) -> str:
            handler = f"{self.name}.{func.__name__}"
            result: str = self.inbox.handle(
                body,
                handler=handler,
                queue=f"evt-{source}-{routing_key}--{handler}",
                effect=lambda uow, envelope: effect(self, uow, envelope),
            )
            return result

        return ConsumingEventHandler.decorator(source, routing_key, requeue_on_error=True)(handle)

    return decorate


def run(service_cls: type, boot: Bootstrap[Any]) -> None:
    """Run a worker until SIGTERM or SIGINT."""
    from nameko.runners import ServiceRunner

    from kit.logging import configure_logging
    from kit.metrics import start_metrics_server

    settings = boot.settings
    configure_logging(settings)
    start_metrics_server(settings.metrics_port, health=lambda: True, ready=boot.ready)
    config = {
        BOOTSTRAP_KEY: boot,
        "AMQP_URI": settings.amqp_uri,
        "max_workers": 10,
        "parent_calls_tracked": 10,
        "serializer": "json",
        "ACCEPT": ["json"],
        "HEARTBEAT": 30,
    }
    runner = ServiceRunner(config)
    runner.add_service(service_cls)

    stopping: list[int] = []

    def _stop(signum: int, _frame: Any) -> None:
        if stopping:  # a second signal while stopping changes nothing
            return
        stopping.append(signum)
        log.info("worker stopping on signal %d", signum)
        import eventlet

        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.start()
    log.info("worker started", extra={"service": settings.service})
    runner.wait()
    boot.close()

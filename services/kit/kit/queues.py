"""A worker's event queues, declared before the worker first runs.

A service's migrate process declares the queues of its worker's event
handlers (`Bootstrap.consumers()`), exactly as nameko's `EventHandler`
declares them for a service pool, so that events another service publishes
before this worker ever ran wait in its queues instead of finding no queue
bound to their exchange.
"""

from __future__ import annotations

from typing import Any

from nameko.events import EventHandler


def consumer_queues(service_cls: type) -> list[Any]:
    """The durable queues (kombu `Queue`s, bound to their source's event
    exchange) of a worker class's event handlers, named and declared exactly
    as nameko's `EventHandler` declares them for a service pool."""
    import kombu
    from nameko.constants import PERSISTENT
    from nameko.events import SERVICE_POOL

    queues = []
    for attribute in sorted(dir(service_cls)):
        method = getattr(service_cls, attribute)
        for entry in getattr(method, "nameko_entrypoints", ()):
            if not isinstance(entry, EventHandler) or entry.handler_type != SERVICE_POOL:
                continue
            exchange = kombu.Exchange(
                f"{entry.source_service}.events",
                type="topic",
                durable=True,
                delivery_mode=PERSISTENT,
                auto_delete=None,
            )
            queues.append(
                kombu.Queue(
                    f"evt-{entry.source_service}-{entry.event_type}--"
                    f"{service_cls.name}.{attribute}",  # type: ignore[attr-defined]
                    exchange=exchange,
                    routing_key=entry.event_type,
                    durable=True,
                    auto_delete=not entry.reliable_delivery,
                    exclusive=False,
                )
            )
    return queues


def declare_consumer_queues(service_cls: type, amqp_uri: str) -> list[str]:
    """Declare a worker's queues and their bindings before it first runs
    (its migrate process does), so that events published before the worker
    first starts wait in its queues instead of finding no queue bound; the
    names declared."""
    import kombu

    queues = consumer_queues(service_cls)
    with kombu.Connection(amqp_uri, connect_timeout=10) as conn:
        # A broker starting alongside (a first install) gets a minute or so.
        conn.ensure_connection(max_retries=15, interval_start=1, interval_step=1, interval_max=5)
        channel = conn.default_channel
        for queue in queues:
            queue(channel).declare()
    return [q.name for q in queues]

"""Keeps this process's public directory current.

At start it loads a snapshot from the registry (`StreamDirectory`, with its
data version) and retries until it has one; the gateway is not ready before.
Then it listens to `registry.events` on a queue of its own (exclusive,
deleted with its connection) and, on any event, loads a fresh snapshot:
events arriving while a snapshot loads are taken together by the next one.
A lost broker connection also makes it load a fresh snapshot once it is
back, since events may have been missed meanwhile. A whole snapshot, never
a patch, so the model is right by construction whatever was missed.

If the registry or the broker is down, the directory keeps serving what it
has; how old that is shows in `liaison_gateway_directory_age_seconds` and
in each answer's `X-Directory-Version` and `Age`.

Not built yet: applying each event to the model in place (instead of a
fresh snapshot per burst of events), and detecting a gap by the events'
sequence; both come with the benchmark of the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from typing import Any

import kombu
from prometheus_client import CollectorRegistry, Gauge

from gateway.upstream import CallContext, ServiceClient
from liaison.registry.v1 import registry_pb2 as pb
from registry.lookup import PublicDirectory as Directory

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
# A snapshot of a whole province streams in well under this.
LOAD_SECONDS = 60.0
# How long a lost broker connection waits before connecting again.
RECONNECT_SECONDS = 1.0


class DirectoryFeed:
    def __init__(
        self, registry: ServiceClient, amqp_uri: str | None, metrics: CollectorRegistry
    ) -> None:
        self.registry = registry
        self.amqp_uri = amqp_uri
        self.current: Directory | None = None
        self.loaded_at = 0.0  # time.time() of the snapshot being served
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: threading.Thread | None = None
        # With several workers (gateway.cli) the age is the oldest any live
        # worker serves, the version the lowest: the stalest data served.
        self.age = Gauge(
            "liaison_gateway_directory_age_seconds",
            "Seconds since the public directory this process serves was loaded.",
            registry=metrics,
            multiprocess_mode="livemax",
        )
        self.version = Gauge(
            "liaison_gateway_directory_version",
            "The registry data version of the public directory this process serves.",
            registry=metrics,
            multiprocess_mode="livemin",
        )
        self.refresh_age()

    def refresh_age(self) -> None:
        """Set the age gauge (-1 before the first snapshot); GatewayMetrics runs
        it before each scrape and, with workers, every second, since a
        `set_function` gauge is not seen across processes."""
        self.age.set(time.time() - self.loaded_at if self.loaded_at else -1)

    @property
    def ready(self) -> bool:
        return self.current is not None

    async def load(self) -> Directory:
        """A fresh snapshot, swapped in whole."""
        chunks = [
            chunk
            async for chunk in self.registry.stream(
                "StreamDirectory", pb.StreamDirectoryRequest(), CallContext(), deadline=LOAD_SECONDS
            )
        ]
        directory = Directory.from_chunks(chunks)
        if self.current is None or directory.version >= self.current.version:
            self.current = directory
            self.loaded_at = time.time()
            self.version.set(directory.version)
        return directory

    # -- running

    def start(self) -> None:
        """Start loading and listening, on the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._changed.set()  # the first snapshot
        self._tasks.append(self._loop.create_task(self._refresh()))
        if self.amqp_uri:
            self._listener = threading.Thread(
                target=self._listen, name="directory-events", daemon=True
            )
            self._listener.start()

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def _refresh(self) -> None:
        assert self._changed is not None
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                await self.load()
            except Exception as exc:  # the registry is down: keep what we have, retry
                log.warning("the public directory could not be loaded: %s", type(exc).__name__)
                self._changed.set()
                await asyncio.sleep(RETRY_SECONDS)

    def _signal(self) -> None:
        if self._loop is not None and self._changed is not None:
            self._loop.call_soon_threadsafe(self._changed.set)

    def _listen(self) -> None:
        """Any event of the registry means a fresh snapshot (in a thread: kombu blocks)."""
        exchange = kombu.Exchange("registry.events", type="topic", durable=True)
        while not self._stop.is_set():
            try:
                with kombu.Connection(self.amqp_uri, heartbeat=10) as conn:
                    queue = kombu.Queue(
                        f"gateway.directory.{uuid.uuid4().hex[:12]}",
                        exchange=exchange,
                        routing_key="#",
                        exclusive=True,
                        auto_delete=True,
                        durable=False,
                    )

                    def on_event(_body: Any, message: kombu.Message) -> None:
                        message.ack()
                        self._signal()

                    with conn.Consumer([queue], callbacks=[on_event], accept=["json"]):
                        # Connected (again): whatever happened meanwhile is in a snapshot.
                        self._signal()
                        while not self._stop.is_set():
                            try:
                                conn.drain_events(timeout=1.0)
                            except TimeoutError:
                                conn.heartbeat_check()
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.warning("directory events: %s; reconnecting", type(exc).__name__)
                self._stop.wait(RECONNECT_SECONDS)

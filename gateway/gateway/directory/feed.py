"""Keeps this process's public directory current.

At start it loads a snapshot from the registry (`StreamDirectory`, with its
data version: the sequence number of the newest registry event the snapshot
includes) and retries until it has one; the gateway is not ready before.
It listens to `registry.events` on a queue of its own (exclusive, deleted
with its connection) and applies each event to the directory in sequence
order (`PublicDirectory.applied`): a new version is built beside the one
being served and swapped in whole.

Every registry event carries its sequence number, dense and in commit order
(kit's outbox), so the feed knows exactly what it holds:
- an event at or below the directory's version is already in it (a
  redelivery, or a change the snapshot included) and is dropped;
- an event further ahead than the next one waits a moment (`GAP_SECONDS`)
  for those before it, which a second relay may still be sending; if they
  do not come, events were missed and it loads a fresh snapshot;
- an event it cannot apply (unknown, unreadable, without a sequence), a
  lost broker connection (events may have been missed meanwhile) and a
  queue of waiting events grown too long also make it load a snapshot.
A snapshot is requested only after the queue is bound, so every event after
the snapshot's version reaches the queue.

If the registry or the broker is down, the directory keeps serving what it
has. How far behind it may be shows in `liaison_gateway_directory_age_seconds`
and in each answer's `Age` header: 0 while it follows the registry's events,
otherwise the seconds since it stopped following them (a lost connection, a
gap, a snapshot that cannot be loaded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import kombu
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gateway.upstream import CallContext, ServiceClient
from kit.events import Envelope
from liaison.registry.v1 import registry_pb2 as pb
from registry.lookup import CannotApply
from registry.lookup import PublicDirectory as Directory

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
# A snapshot of a whole province streams in well under this.
LOAD_SECONDS = 60.0
# How long a lost broker connection waits before connecting again.
RECONNECT_SECONDS = 1.0
# How long an event waits for the events before it before a snapshot is loaded.
GAP_SECONDS = 2.0
# Events waiting beyond a gap, at most; more and a snapshot is cheaper.
MAX_WAITING = 10_000


class DirectoryFeed:
    def __init__(
        self,
        registry: ServiceClient,
        amqp_uri: str | None,
        metrics: CollectorRegistry,
        *,
        gap_seconds: float = GAP_SECONDS,
    ) -> None:
        self.registry = registry
        self.amqp_uri = amqp_uri
        self.gap_seconds = gap_seconds
        self.current: Directory | None = None
        self._waiting: dict[int, Envelope] = {}  # by sequence, beyond the current version
        self._snapshot_reason: str | None = "start"
        self._loading = False  # a snapshot is being loaded
        self._connected = False
        self._gap_since: float | None = None  # time.monotonic() the oldest gap was seen
        self._behind_since: float | None = None  # time.time() it stopped following events
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: threading.Thread | None = None
        # With several workers (gateway.cli) the age is the oldest any live
        # worker serves, the version the lowest: the stalest data served.
        self.age = Gauge(
            "liaison_gateway_directory_age_seconds",
            "How far behind the registry the public directory may be: 0 while it follows "
            "the registry's events, else seconds since it stopped (-1 before it is loaded).",
            registry=metrics,
            multiprocess_mode="livemax",
        )
        self.version = Gauge(
            "liaison_gateway_directory_version",
            "The registry data version of the public directory this process serves.",
            registry=metrics,
            multiprocess_mode="livemin",
        )
        self.snapshots = Counter(
            "liaison_gateway_directory_snapshots",
            "Snapshots of the public directory loaded, by why (start, reconnected, gap, "
            "unapplicable, overflow).",
            ["reason"],
            registry=metrics,
        )
        self.applied = Counter(
            "liaison_gateway_directory_events_applied",
            "Registry events applied to the public directory.",
            registry=metrics,
        )
        self.lag = Histogram(
            "liaison_gateway_directory_event_lag_seconds",
            "From a registry change's commit to its event applied to the public directory.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=metrics,
        )
        self.refresh_age()

    def refresh_age(self) -> None:
        """Set the age gauge (`age_seconds`); GatewayMetrics runs it before
        each scrape and, with workers, every second, since a `set_function`
        gauge is not seen across processes."""
        self.age.set(self.age_seconds())

    @property
    def ready(self) -> bool:
        return self.current is not None

    @property
    def following(self) -> bool:
        """Whether the directory holds every registry change its events told of."""
        return (
            self.current is not None
            and self._connected
            and self._snapshot_reason is None
            and not self._loading
            and self._gap_since is None
        )

    def age_seconds(self) -> float:
        if self.current is None:
            return -1.0
        if self.following or self._behind_since is None:
            return 0.0
        return max(0.0, time.time() - self._behind_since)

    def _fell_behind(self) -> None:
        if self._behind_since is None:
            self._behind_since = time.time()

    def _caught_up(self) -> None:
        if self.following:
            self._behind_since = None

    # -- loading and applying (on the event loop)

    async def load(self, reason: str = "start") -> Directory:
        """A fresh snapshot, swapped in whole; then the events that came after it."""
        chunks = [
            chunk
            async for chunk in self.registry.stream(
                "StreamDirectory", pb.StreamDirectoryRequest(), CallContext(), deadline=LOAD_SECONDS
            )
        ]
        # Built beside the event loop: a province's directory takes a while.
        directory = await asyncio.to_thread(Directory.from_chunks, chunks)
        if self.current is None or directory.version >= self.current.version:
            self._serve(directory)
        self.snapshots.labels(reason=reason).inc()
        self._apply_waiting()
        return directory

    def _serve(self, directory: Directory) -> None:
        self.current = directory
        self.version.set(directory.version)

    def _want_snapshot(self, reason: str) -> None:
        if self._snapshot_reason is None:
            self._snapshot_reason = reason
        self._fell_behind()
        self._waken()

    def _receive(self, envelope: Envelope) -> None:
        if envelope.sequence <= 0:
            self._want_snapshot("unapplicable")
            return
        if self.current is not None and envelope.sequence <= self.current.version:
            return  # in the directory already
        self._waiting[envelope.sequence] = envelope
        if len(self._waiting) > MAX_WAITING:
            self._waiting.clear()
            self._want_snapshot("overflow")
        self._waken()

    def _apply_waiting(self) -> None:
        current = self.current
        if current is None:
            return
        for sequence in [s for s in self._waiting if s <= current.version]:
            del self._waiting[sequence]
        run: list[Envelope] = []
        version = current.version
        while (event := self._waiting.pop(version + 1, None)) is not None:
            run.append(event)
            version += 1
        if run:
            try:
                self._serve(current.applied(run, version))
            except CannotApply as exc:
                log.warning("a registry event cannot be applied: %s", exc)
                self._want_snapshot("unapplicable")
                return
            now = datetime.now(UTC)
            self.applied.inc(len(run))
            for event in run:
                self.lag.observe(max(0.0, (now - event.occurred_at).total_seconds()))
        if not self._waiting:
            self._gap_since = None
        elif self._gap_since is None:
            self._gap_since = time.monotonic()
            assert self._loop is not None
            self._loop.call_later(self.gap_seconds, self._waken)
        elif time.monotonic() - self._gap_since >= self.gap_seconds - 0.01:
            self._gap_since = None
            self._want_snapshot("gap")
        if self._gap_since is not None:
            self._fell_behind()
        self._caught_up()

    # -- running

    def start(self) -> None:
        """Start loading and listening, on the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._wake.set()  # the first snapshot
        self._tasks.append(self._loop.create_task(self._run()))
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

    def _waken(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            reason = self._snapshot_reason
            if reason is None:
                self._apply_waiting()
                continue
            self._snapshot_reason = None
            self._loading = True
            try:
                await self.load(reason)
            except Exception as exc:  # the registry is down: keep what we have, retry
                log.warning("the public directory could not be loaded: %s", type(exc).__name__)
                self._want_snapshot(reason)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            finally:
                self._loading = False
            if not self.amqp_uri:  # no events to follow: as old as this snapshot
                self._behind_since = time.time()
            self._caught_up()

    # -- the broker (in a thread: kombu blocks)

    def _from_listener(self, callback: Any, *args: Any) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self._loop.call_soon_threadsafe(callback, *args)

    def _connected_now(self) -> None:
        self._connected = True
        # Whatever happened before the queue was bound is in a snapshot.
        self._want_snapshot("start" if self.current is None else "reconnected")

    def _disconnected(self) -> None:
        self._connected = False
        self._fell_behind()

    def _listen(self) -> None:
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

                    def on_event(body: Any, message: kombu.Message) -> None:
                        message.ack()
                        try:
                            envelope = Envelope.from_body(body)
                        except (ValueError, TypeError) as exc:
                            log.warning("an unreadable registry event: %s", type(exc).__name__)
                            self._from_listener(self._want_snapshot, "unapplicable")
                            return
                        self._from_listener(self._receive, envelope)

                    with conn.Consumer([queue], callbacks=[on_event], accept=["json"]):
                        self._from_listener(self._connected_now)
                        while not self._stop.is_set():
                            try:
                                conn.drain_events(timeout=1.0)
                            except TimeoutError:
                                conn.heartbeat_check()
            except Exception as exc:
                self._from_listener(self._disconnected)
                if self._stop.is_set():
                    return
                log.warning("directory events: %s; reconnecting", type(exc).__name__)
                self._stop.wait(RECONNECT_SECONDS)

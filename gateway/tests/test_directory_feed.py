"""The directory feed's bookkeeping of versions: events applied in sequence
order, redeliveries dropped, a late event waited for, a gap or an event it
cannot apply repaired by a snapshot, and how far behind it says it is.

The registry here is a small in-memory one that answers StreamDirectory and
numbers its events as the real one does; the broker is left out (events are
handed to the feed as its listener would). The same feed against the real
registry and RabbitMQ is in tests/e2e/test_directory_e2e.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry

from gateway.directory.feed import DirectoryFeed
from kit.events import Envelope, new_envelope
from liaison.registry.v1 import events_pb2 as ev
from liaison.registry.v1 import registry_pb2 as pb

GAP = 0.2


class Registry:
    """Stations and their events, numbered 1, 2, 3... as they happen."""

    def __init__(self) -> None:
        self.stations: dict[int, pb.Station] = {}
        self.events: list[Envelope] = []
        self.snapshots = 0

    def rename(self, station_id: int, name: str) -> Envelope:
        station = pb.Station(id=station_id, code=f"s{station_id}", name=name, active=True)
        self.stations[station_id] = station
        envelope = new_envelope("registry", ev.StationChanged(station=station, change="updated"))
        envelope = Envelope(**{**envelope.__dict__, "sequence": len(self.events) + 1})
        self.events.append(envelope)
        return envelope

    async def stream(self, method: str, *_: Any, **__: Any) -> AsyncIterator[pb.DirectoryChunk]:
        assert method == "StreamDirectory"
        self.snapshots += 1
        yield pb.DirectoryChunk(
            version=len(self.events), stations=list(self.stations.values()), last=True
        )


def run(test: Callable[[DirectoryFeed, Registry], Awaitable[None]]) -> None:
    async def main() -> None:
        registry = Registry()
        registry.rename(1, "first")
        feed = DirectoryFeed(registry, None, CollectorRegistry(), gap_seconds=GAP)  # type: ignore[arg-type]
        feed.start()
        try:
            await until(lambda: feed.ready)
            feed._connected_now()  # as the listener does once its queue is bound
            await until(lambda: feed.following)
            await test(feed, registry)
        finally:
            await feed.stop()

    asyncio.run(main())


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not reached in time")


def name_of(feed: DirectoryFeed, station_id: int) -> str:
    assert feed.current is not None
    return feed.current.stations[station_id].name


def test_events_are_applied_in_order_without_a_snapshot() -> None:
    async def check(feed: DirectoryFeed, registry: Registry) -> None:
        taken = registry.snapshots
        for n in range(2, 6):
            feed._receive(registry.rename(n, f"station {n}"))
        feed._receive(registry.rename(1, "renamed"))
        await until(lambda: feed.current is not None and feed.current.version == 6)
        assert name_of(feed, 1) == "renamed" and name_of(feed, 5) == "station 5"
        assert registry.snapshots == taken
        assert feed.age_seconds() == 0.0

    run(check)


def test_a_redelivered_or_older_event_changes_nothing() -> None:
    async def check(feed: DirectoryFeed, registry: Registry) -> None:
        first = registry.rename(1, "one")
        second = registry.rename(1, "two")
        feed._receive(first)
        feed._receive(second)
        await until(lambda: feed.current is not None and feed.current.version == 3)
        feed._receive(first)  # redelivered after the newer one
        await asyncio.sleep(GAP * 2)
        assert name_of(feed, 1) == "two"
        assert feed.current is not None and feed.current.version == 3

    run(check)


def test_an_event_ahead_waits_for_the_one_before_it() -> None:
    async def check(feed: DirectoryFeed, registry: Registry) -> None:
        taken = registry.snapshots
        early, late = registry.rename(1, "one"), registry.rename(1, "two")
        feed._receive(late)
        await asyncio.sleep(GAP / 4)
        assert name_of(feed, 1) == "first", "not applied past a gap"
        assert not feed.following and feed.age_seconds() > 0
        feed._receive(early)
        await until(lambda: feed.current is not None and feed.current.version == 3)
        assert name_of(feed, 1) == "two"
        assert registry.snapshots == taken
        assert feed.following and feed.age_seconds() == 0.0

    run(check)


def test_a_gap_that_stays_is_repaired_by_a_snapshot() -> None:
    async def check(feed: DirectoryFeed, registry: Registry) -> None:
        taken = registry.snapshots
        registry.rename(1, "missed")  # its event never arrives
        feed._receive(registry.rename(2, "second"))
        await until(lambda: registry.snapshots > taken, seconds=GAP * 10)
        await until(lambda: feed.following)
        assert name_of(feed, 1) == "missed" and name_of(feed, 2) == "second"
        assert feed.current is not None and feed.current.version == 3
        assert feed.snapshots.labels(reason="gap")._value.get() == 1

    run(check)


def test_an_event_it_cannot_apply_is_repaired_by_a_snapshot() -> None:
    async def check(feed: DirectoryFeed, registry: Registry) -> None:
        taken = registry.snapshots
        registry.rename(3, "third")
        strange = new_envelope("registry", ev.StationChanged())
        strange = Envelope(
            **{**strange.__dict__, "type": "station_teleported", "sequence": len(registry.events)}
        )
        feed._receive(strange)
        await until(lambda: registry.snapshots > taken)
        await until(lambda: feed.following)
        assert name_of(feed, 3) == "third"

    run(check)


def test_without_the_broker_it_says_how_long_it_has_not_followed() -> None:
    async def check(feed: DirectoryFeed, registry: Registry) -> None:
        feed._disconnected()
        await asyncio.sleep(0.3)
        assert not feed.following
        assert feed.age_seconds() >= 0.25
        assert name_of(feed, 1) == "first", "what it has is still served"
        registry.rename(1, "meanwhile")
        feed._connected_now()
        await until(lambda: feed.following)
        assert name_of(feed, 1) == "meanwhile"
        assert feed.age_seconds() == 0.0

    run(check)

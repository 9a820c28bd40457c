"""The public directory at the edge answers as the registry does.

For every community (by id, by code, by an address naming it) the gateway's
answer from memory equals the registry's own FindStation answer, errors
included; after writes (a deputy moved, a station's head changed, a
community handed to another station, a station retired) it is equal again
once their events have arrived. Answers carry the directory's version as an
ETag, and a client holding that version gets 304.

While the gateway serves, the broker restarts and the registry restarts: no
request fails, and the directory follows the registry's changes again once
they are back. A registry event lost on its way (dropped here between the
broker and a directory kept in this test's process) is found missing by its
sequence number and repaired by a snapshot.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from prometheus_client import CollectorRegistry

from gateway import schemas as s
from gateway.convert import message_to_dict
from gateway.directory.feed import DirectoryFeed
from gateway.upstream import Upstreams
from kit.events import Envelope
from kit.grpc_client import with_bearer
from kit.testrun import Platform
from liaison.registry.v1 import registry_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture(scope="module")
def platform(unlimited_platform: Platform) -> Platform:
    # Each test asks every question of the district, some of them twice.
    return unlimited_platform


@pytest.fixture(scope="module")
def http(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def registry(platform: Platform) -> Iterator[Any]:
    with grpc.insecure_channel(platform.grpc_target("registry")) as channel:
        yield pb_grpc.RegistryServiceStub(with_bearer(channel, platform.token("admin")))


def registry_answer(registry: Any, **by: Any) -> tuple[int, Any]:
    """The registry's own answer, as the gateway would render it."""
    try:
        reply = registry.FindStation(pb.FindStationRequest(**by), timeout=10)
    except grpc.RpcError as error:
        return {
            grpc.StatusCode.NOT_FOUND: 404,
            grpc.StatusCode.FAILED_PRECONDITION: 409,
            grpc.StatusCode.INVALID_ARGUMENT: 422,
        }[error.code()], error.details()  # type: ignore[attr-defined]
    return 200, s.FindStationResult.model_validate(message_to_dict(reply)).model_dump(mode="json")


def edge_answer(http: httpx.Client, **by: Any) -> tuple[int, Any]:
    reply = http.get("/api/v1/find-station", params=by)
    assert "x-directory-version" in reply.headers, "answered from the directory"
    if reply.status_code == 200:
        return 200, reply.json()
    return reply.status_code, reply.json()["detail"]


def questions(registry: Any) -> list[dict[str, Any]]:
    """Every community by id and by code, and an address naming each."""
    communities = registry.ListCommunities(
        pb.ListCommunitiesRequest(page={"page_size": 500}), timeout=10
    ).communities
    asked: list[dict[str, Any]] = []
    for c in communities:
        asked.append({"community_id": c.id})
        asked.append({"community_code": c.code})
        road = c.address_keywords[0] if c.address_keywords else c.name
        asked.append({"address": f"广州市天河区{road}18号"})
    asked.append({"address": "北京市朝阳区建国路"})  # names no community
    return asked


def differences(http: httpx.Client, registry: Any) -> list[str]:
    return [
        f"{by}: edge {edge} != registry {own}"
        for by in questions(registry)
        if (edge := edge_answer(http, **by)) != (own := registry_answer(registry, **by))
    ]


def eventually(check: Callable[[], list[str]], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    found = check()
    while found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = check()
    assert not found, "\n".join(found[:5])


def test_the_gateway_is_ready_with_its_directory_loaded(http: httpx.Client) -> None:
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["directory"] == "loaded"


def test_every_question_is_answered_as_the_registry_answers_it(
    http: httpx.Client, registry: Any
) -> None:
    assert differences(http, registry) == []


def test_after_changes_the_answers_are_equal_again(http: httpx.Client, registry: Any) -> None:
    stations = registry.ListStations(pb.ListStationsRequest(page={"page_size": 500})).stations
    first, second = stations[0], stations[1]
    deputies = registry.ListDeputies(pb.ListDeputiesRequest(station_id=first.id)).deputies
    # A deputy moves to the other station.
    registry.UpdateDeputy(
        pb.UpdateDeputyRequest(
            deputy=pb.Deputy(id=deputies[-1].id, station_id=second.id),
            update_mask=FieldMask(paths=["station_id"]),
        )
    )
    # The first station gets a new head.
    heads = registry.ListPositions(
        pb.ListPositionsRequest(station_id=first.id, role=pb.POSITION_ROLE_STATION_HEAD)
    ).positions
    for head in heads:
        registry.VacatePosition(pb.VacatePositionRequest(id=head.id, reason="换届"))
    registry.FillPosition(
        pb.FillPositionRequest(
            position=pb.Position(
                role=pb.POSITION_ROLE_STATION_HEAD,
                station_id=first.id,
                deputy_id=deputies[0].id,
                started_on="2026-01-05",
            )
        )
    )
    # A community is handed to the second station, and a new community appears.
    moved = first.community_ids[0]
    registry.UpdateStation(
        pb.UpdateStationRequest(
            station=pb.Station(id=first.id, community_ids=list(first.community_ids[1:])),
            update_mask=FieldMask(paths=["community_ids"]),
        )
    )
    registry.UpdateStation(
        pb.UpdateStationRequest(
            station=pb.Station(id=second.id, community_ids=[*second.community_ids, moved]),
            update_mask=FieldMask(paths=["community_ids"]),
        )
    )
    tag = uuid.uuid4().hex[:6]
    registry.CreateCommunity(
        pb.CreateCommunityRequest(
            community=pb.Community(
                code=f"new-{tag}",
                name=f"新建{tag}社区",
                street_id=first.street_id,
                address_keywords=[f"新路{tag}"],
            )
        )
    )
    eventually(lambda: differences(http, registry))
    assert edge_answer(http, community_id=moved)[1]["station"]["id"] == second.id


def test_a_client_holding_the_current_version_gets_304(http: httpx.Client) -> None:
    first = http.get("/api/v1/find-station", params={"community_id": 1})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")
    again = http.get(
        "/api/v1/find-station", params={"community_id": 1}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    profile = http.get("/api/v1/deputies/1/profile", headers={"If-None-Match": etag})
    assert profile.status_code == 304


# ---------------------------------------------------------------- outages


class Readers:
    """Threads asking the edge the public's questions without pause."""

    def __init__(self, base_url: str, threads: int = 4) -> None:
        self.base_url = base_url
        self.statuses: Counter[int | str] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._ask, args=(n,)) for n in range(threads)]

    def _ask(self, n: int) -> None:
        asked = [
            ("/api/v1/find-station", {"community_id": 1 + n}),
            ("/api/v1/find-station", {"address": "广州市天河区林和东路18号"}),
            (f"/api/v1/deputies/{1 + n}/profile", {}),
        ]
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            while not self._stop.is_set():
                for path, params in asked:
                    try:
                        status: int | str = client.get(path, params=params).status_code
                    except httpx.HTTPError as error:
                        status = type(error).__name__
                    with self._lock:
                        self.statuses[status] += 1

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def failures(self) -> dict[int | str, int]:
        return {status: n for status, n in self.statuses.items() if status not in (200, 404)}


def rename_a_station(registry: Any, nth: int = 0) -> tuple[int, str]:
    """A write the public sees: the `nth` serving station's new name;
    (a community it serves, the name)."""
    stations = registry.ListStations(pb.ListStationsRequest(page={"page_size": 500})).stations
    station = [s for s in stations if s.community_ids][nth]
    name = f"{station.name[:16]}{uuid.uuid4().hex[:4]}"
    registry.UpdateStation(
        pb.UpdateStationRequest(
            station=pb.Station(id=station.id, name=name), update_mask=FieldMask(paths=["name"])
        ),
        timeout=10,
    )
    return station.community_ids[0], name


def shows(http: httpx.Client, community_id: int, name: str) -> list[str]:
    found = http.get("/api/v1/find-station", params={"community_id": community_id})
    station = found.json().get("station", {}).get("name") if found.status_code == 200 else None
    return [] if station == name else [f"the edge shows {station!r}, not {name!r}"]


def metric(http: httpx.Client, name: str) -> float:
    """The sum of a gateway metric's samples (every label, every worker)."""
    total = 0.0
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_broker_restart_fails_no_request_and_the_edge_follows_again(
    http: httpx.Client, registry: Any, platform: Platform, stop_broker: Any
) -> None:
    snapshots = metric(http, "liaison_gateway_directory_snapshots_total")
    with Readers(platform.base_url) as readers:
        with stop_broker():
            time.sleep(2)
            assert http.get("/api/v1/find-station", params={"community_id": 1}).status_code == 200
            assert (
                int(http.get("/api/v1/find-station", params={"community_id": 1}).headers["age"])
                >= 1
            )
        community_id, name = rename_a_station(registry)
        eventually(lambda: shows(http, community_id, name), seconds=30)
        time.sleep(0.5)
    assert readers.failures() == {}, readers.statuses
    assert readers.statuses[200] > 100
    # Back on the broker, it loaded a snapshot for what it may have missed.
    assert metric(http, "liaison_gateway_directory_snapshots_total") > snapshots
    eventually(lambda: differences(http, registry))


def test_a_registry_restart_fails_no_request_and_the_edge_follows_again(
    http: httpx.Client, registry: Any, platform: Platform
) -> None:
    with Readers(platform.base_url) as readers:
        platform.stop("registry-api")
        time.sleep(2)
        platform.start_process("registry", "api")
        platform.wait_ready()
        community_id, name = rename_a_station(registry)
        eventually(lambda: shows(http, community_id, name), seconds=30)
    assert readers.failures() == {}, readers.statuses
    assert readers.statuses[200] > 100
    eventually(lambda: differences(http, registry))


def test_a_lost_event_is_found_by_its_sequence_and_repaired_by_a_snapshot(
    platform: Platform, registry: Any
) -> None:
    """A directory kept here, on the real registry and broker; the first
    event after `armed` is dropped as if the broker had lost it."""

    async def run() -> None:
        upstreams = Upstreams({"registry": platform.grpc_target("registry")}, 10)
        feed = DirectoryFeed(
            upstreams["registry"],
            platform.env["LIAISON_AMQP_URI"],
            CollectorRegistry(),
            gap_seconds=0.5,
        )
        received = feed._receive
        dropped: list[Envelope] = []

        def lossy(envelope: Envelope) -> None:
            # The first station rename after `armed`, newer than the directory.
            if (
                armed.is_set()
                and not dropped
                and envelope.type == "station_changed"
                and feed.current is not None
                and envelope.sequence > feed.current.version
            ):
                dropped.append(envelope)
                return
            received(envelope)

        armed = threading.Event()
        feed._receive = lossy  # type: ignore[method-assign]
        feed.start()
        try:

            def state() -> Any:
                return {
                    "version": feed.current.version if feed.current else None,
                    "waiting": sorted(feed._waiting),
                    "dropped": [e.sequence for e in dropped],
                    "snapshots": {
                        r: feed.snapshots.labels(reason=r)._value.get()
                        for r in ("start", "reconnected", "gap", "unapplicable")
                    },
                    "following": feed.following,
                }

            await until(lambda: feed.following, state=state)
            armed.set()
            first = await asyncio.to_thread(rename_a_station, registry)
            second = await asyncio.to_thread(rename_a_station, registry, 1)
            await until(lambda: bool(dropped), state=state)
            await until(
                lambda: feed.snapshots.labels(reason="gap")._value.get() == 1 and feed.following,
                state=state,
            )
            assert feed.current is not None
            assert feed.current.version >= dropped[0].sequence + 1
            for community_id, name in (first, second):
                station_id = feed.current.serving[community_id]  # type: ignore[index]
                assert feed.current.stations[station_id].name == name
        finally:
            await feed.stop()
            await upstreams.close()

    asyncio.run(run())


async def until(
    condition: Callable[[], bool], seconds: float = 20, state: Callable[[], Any] = lambda: None
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not reached in time: {state()}"
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- public lists


PUBLIC_READS = [
    ("/api/v1/stations", {"street_id": 1}),
    ("/api/v1/communities", {"page_size": 5}),
    ("/api/v1/deputies", {"page_size": 20}),
    ("/api/v1/streets", {}),
    ("/api/v1/deputies/3", {}),
    ("/api/v1/venues/1", {}),
]


def test_public_lists_asked_anonymously_are_the_registrys_answer_kept_per_version(
    http: httpx.Client, platform: Platform, registry: Any
) -> None:
    signed_in = {"Authorization": f"Bearer {platform.token('constituent')}"}
    for path, params in PUBLIC_READS:
        first = http.get(path, params=params)
        again = http.get(path, params=params)
        own = http.get(path, params=params, headers=signed_in)  # answered by the registry
        assert first.status_code == again.status_code == own.status_code == 200, path
        assert first.content == again.content, path
        assert first.json() == own.json(), path
        assert "x-directory-version" in first.headers and "x-directory-version" not in own.headers
        etag = first.headers["etag"]
        assert http.get(path, params=params, headers={"If-None-Match": etag}).status_code == 304
    community_id, name = rename_a_station(registry)

    def listed() -> list[str]:
        stations = http.get("/api/v1/stations", params={"page_size": 500}).json()["items"]
        return [] if name in {s["name"] for s in stations} else [f"{name} not listed yet"]

    eventually(listed)


def test_what_staff_see_is_never_kept_for_the_public(
    http: httpx.Client, platform: Platform
) -> None:
    admin = {"Authorization": f"Bearer {platform.token('admin')}"}
    deputies = http.get("/api/v1/deputies", params={"page_size": 7}, headers=admin).json()
    assert any(d.get("contact") for d in deputies["items"]), "staff see contact details"
    public = http.get("/api/v1/deputies", params={"page_size": 7}).json()
    assert [d["id"] for d in public["items"]] == [d["id"] for d in deputies["items"]]
    assert not any(d.get("contact") for d in public["items"])

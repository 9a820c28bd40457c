"""The public directory at the edge answers as the registry does.

For every community (by id, by code, by an address naming it) the gateway's
answer from memory equals the registry's own FindStation answer, errors
included; after writes (a deputy moved, a station's head changed, a
community handed to another station, a station retired) it is equal again
once their events have arrived. Answers carry the directory's version as an
ETag, and a client holding that version gets 304.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from gateway import schemas as s
from gateway.convert import message_to_dict
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

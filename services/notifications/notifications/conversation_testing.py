"""The registry and reception as conversations' tests meet them, over real
gRPC from fixed data, so the service's clients are exercised as deployed.

Registry: street 1 with stations 11 (deputies 1 and 2; deputy 3 no longer
serves) and 12 (deputy 4), street 2 with station 21 (deputy 5); station 13
is closed; station 11 serves communities 101 and 102. Stations and
deputies are listed a page or two at a time.
Reception: RecordOpinion and ListOpinions of online opinions, keeping every
request and the `authorization` it came with; `lose_next_answer` records
the next opinion and then answers UNAVAILABLE, as a crash between
reception's commit and the caller keeping its answer would look."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc

from liaison.common.v1 import envelope_pb2
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.reception.v1 import reception_pb2_grpc as recpb_grpc
from liaison.registry.v1 import registry_pb2 as rpb
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc

STATIONS = [
    rpb.Station(id=11, name="林和街第一联络站", street_id=1, active=True, community_ids=[101, 102]),
    rpb.Station(id=12, name="林和街第二联络站", street_id=1, active=True, community_ids=[103]),
    rpb.Station(id=13, name="林和街旧联络站", street_id=1, active=False),
    rpb.Station(id=21, name="石牌街第一联络站", street_id=2, active=True, community_ids=[201]),
]
DEPUTIES = [
    rpb.Deputy(id=1, name="陈代表", street_id=1, station_id=11, active=True),
    rpb.Deputy(id=2, name="李代表", street_id=1, station_id=11, active=True),
    rpb.Deputy(id=3, name="郑代表", street_id=1, station_id=11, active=False),
    rpb.Deputy(id=4, name="王代表", street_id=1, station_id=12, active=True),
    rpb.Deputy(id=5, name="周代表", street_id=2, station_id=21, active=True),
]
STREETS = [
    rpb.Street(id=1, name="林和街", active=True),
    rpb.Street(id=2, name="石牌街", active=True),
]


class FakeRegistry(rpb_grpc.RegistryServiceServicer):
    def GetStation(self, request: rpb.GetRequest, context: grpc.ServicerContext) -> rpb.Station:
        for station in STATIONS:
            if station.id == request.id:
                return station
        context.abort(grpc.StatusCode.NOT_FOUND, f"no station {request.id}")
        raise AssertionError  # abort raises

    def GetStreet(self, request: rpb.GetRequest, context: grpc.ServicerContext) -> rpb.Street:
        for street in STREETS:
            if street.id == request.id:
                return street
        context.abort(grpc.StatusCode.NOT_FOUND, f"no street {request.id}")
        raise AssertionError

    def GetDeputyProfile(
        self, request: rpb.GetRequest, context: grpc.ServicerContext
    ) -> rpb.DeputyProfile:
        for d in DEPUTIES:
            if d.id == request.id:
                return rpb.DeputyProfile(
                    id=d.id,
                    name=d.name,
                    street_id=d.street_id,
                    station_id=d.station_id,
                    active=d.active,
                )
        context.abort(grpc.StatusCode.NOT_FOUND, f"no deputy {request.id}")
        raise AssertionError

    def ListStations(
        self, request: rpb.ListStationsRequest, context: grpc.ServicerContext
    ) -> rpb.ListStationsResponse:
        found = [s for s in STATIONS if s.active or request.include_inactive]
        start = int(request.page.page_token or 0)  # pages of two: a client must follow them
        following = str(start + 2) if start + 2 < len(found) else ""
        return rpb.ListStationsResponse(
            stations=found[start : start + 2],
            page=envelope_pb2.PageInfo(next_page_token=following, total_size=len(found)),
        )

    def ListDeputies(
        self, request: rpb.ListDeputiesRequest, context: grpc.ServicerContext
    ) -> rpb.ListDeputiesResponse:
        found = [
            d
            for d in DEPUTIES
            if (not request.station_id or d.station_id == request.station_id)
            and (d.active or request.include_inactive)
        ]
        start = int(request.page.page_token or 0)  # pages of one: a client must follow them
        following = str(start + 1) if start + 1 < len(found) else ""
        return rpb.ListDeputiesResponse(
            deputies=found[start : start + 1],
            page=envelope_pb2.PageInfo(next_page_token=following, total_size=len(found)),
        )


class FakeReception(recpb_grpc.ReceptionServiceServicer):
    def __init__(self) -> None:
        self.recorded: list[tuple[opb.RecordOpinionRequest, str]] = []
        self.lose_next_answer = False

    def RecordOpinion(
        self, request: opb.RecordOpinionRequest, context: grpc.ServicerContext
    ) -> opb.Opinion:
        bearer = dict(context.invocation_metadata()).get("authorization", "")
        if not bearer:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "no token")
        if len(request.content) > 2000:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "content: is too long")
        self.recorded.append((request, str(bearer)))
        if self.lose_next_answer:
            self.lose_next_answer = False
            context.abort(grpc.StatusCode.UNAVAILABLE, "the answer was lost")
        return self._opinion(len(self.recorded))

    def _opinion(self, number: int) -> opb.Opinion:
        request = self.recorded[number - 1][0]
        return opb.Opinion(
            id=500 + number,
            tracking_code=f"TH-2026-{number:06d}",
            source=request.source,
            content=request.content,
            station_id=11,
        )

    def ListOpinions(
        self, request: opb.ListOpinionsRequest, context: grpc.ServicerContext
    ) -> opb.ListOpinionsResponse:
        if not dict(context.invocation_metadata()).get("authorization"):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "no token")
        return opb.ListOpinionsResponse(
            opinions=[self._opinion(n) for n in range(1, len(self.recorded) + 1)]
        )


@contextlib.contextmanager
def upstreams() -> Iterator[tuple[FakeReception, str, str]]:
    """The fake registry and reception served on free ports: the reception
    (to look at what it was asked), the registry's and reception's addresses."""
    reception = FakeReception()
    servers = []
    targets = []
    for add, servicer in (
        (rpb_grpc.add_RegistryServiceServicer_to_server, FakeRegistry()),
        (recpb_grpc.add_ReceptionServiceServicer_to_server, reception),
    ):
        server = grpc.server(ThreadPoolExecutor(max_workers=4))
        add(servicer, server)  # type: ignore[operator]
        targets.append(f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}")
        server.start()
        servers.append(server)
    try:
        yield reception, targets[0], targets[1]
    finally:
        for server in servers:
            server.stop(0).wait()

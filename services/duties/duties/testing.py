"""A registry for the duties service's tests: the registry's public deputy
reads (`GetDeputyProfile`, `ListDeputies`), served over real gRPC from a
fixed list, so the service's registry client is exercised as deployed.

Deputies 1-4 serve street 1 (deputy 1 the demo deputy's id), 5-6 street 2,
and 7 no longer serves."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc

from liaison.common.v1 import envelope_pb2
from liaison.registry.v1 import registry_pb2 as rpb
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc

DISTRICT = rpb.DEPUTY_LEVEL_DISTRICT
DEPUTIES = [
    rpb.DeputyProfile(id=1, name="陈代表", street_id=1, station_id=1, level=DISTRICT, active=True),
    rpb.DeputyProfile(id=2, name="李代表", street_id=1, station_id=1, level=DISTRICT, active=True),
    rpb.DeputyProfile(
        id=3, name="王代表", street_id=1, station_id=2, level=rpb.DEPUTY_LEVEL_CITY, active=True
    ),
    rpb.DeputyProfile(id=4, name="赵代表", street_id=1, station_id=2, level=DISTRICT, active=True),
    rpb.DeputyProfile(id=5, name="周代表", street_id=2, station_id=3, level=DISTRICT, active=True),
    rpb.DeputyProfile(id=6, name="吴代表", street_id=2, station_id=3, level=DISTRICT, active=True),
    rpb.DeputyProfile(id=7, name="郑代表", street_id=1, station_id=1, level=DISTRICT, active=False),
]


def district(streets: int, per_street: int) -> list[rpb.DeputyProfile]:
    """A district at the demo's scale: `per_street` serving deputies in each
    of `streets` streets, ids street * 100 + n, each street its station."""
    return [
        rpb.DeputyProfile(
            id=street * 100 + n,
            name=f"代表{street}-{n}",
            street_id=street,
            station_id=street,
            level=DISTRICT,
            active=True,
        )
        for street in range(1, streets + 1)
        for n in range(per_street)
    ]


class FakeRegistry(rpb_grpc.RegistryServiceServicer):
    """The registry's public deputy reads over `deputies`; pages of two, so
    a client that does not follow pages misses deputies."""

    def __init__(self, deputies: list[rpb.DeputyProfile]) -> None:
        self.deputies = {d.id: d for d in deputies}
        self.calls = 0

    def GetDeputyProfile(
        self, request: rpb.GetRequest, context: grpc.ServicerContext
    ) -> rpb.DeputyProfile:
        self.calls += 1
        if request.id not in self.deputies:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no deputy {request.id}")
        return self.deputies[request.id]

    def ListDeputies(
        self, request: rpb.ListDeputiesRequest, context: grpc.ServicerContext
    ) -> rpb.ListDeputiesResponse:
        self.calls += 1
        found = [
            d
            for d in sorted(self.deputies.values(), key=lambda d: d.id)
            if (not request.street_id or d.street_id == request.street_id)
            and (d.active or request.include_inactive)
        ]
        start = int(request.page.page_token or 0)
        page = found[start : start + 2]
        following = str(start + 2) if start + 2 < len(found) else ""
        return rpb.ListDeputiesResponse(
            deputies=[
                rpb.Deputy(
                    id=d.id,
                    name=d.name,
                    street_id=d.street_id,
                    station_id=d.station_id,
                    level=d.level,
                    active=d.active,
                )
                for d in page
            ],
            page=envelope_pb2.PageInfo(next_page_token=following, total_size=len(found)),
        )


@contextlib.contextmanager
def fake_registry(
    deputies: list[rpb.DeputyProfile] | None = None,
    *,
    registry: FakeRegistry | None = None,
) -> Iterator[tuple[FakeRegistry, str]]:
    """The fake registry served on a free port: it and its address; `registry`
    a test's own (one that serves more of the registry), else one over `deputies`."""
    if registry is None:
        registry = FakeRegistry(DEPUTIES if deputies is None else deputies)
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    rpb_grpc.add_RegistryServiceServicer_to_server(registry, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield registry, f"127.0.0.1:{port}"
    finally:
        server.stop(0).wait()

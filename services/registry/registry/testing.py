"""Helpers for tests that drive the registry through its gRPC API: a street
of a test's own, made through the API like any caller would."""

from __future__ import annotations

import uuid
from typing import Any

from liaison.registry.v1 import registry_pb2 as pb

Stub = Any  # pb_grpc.RegistryServiceStub

LEVEL = {
    "national": pb.DEPUTY_LEVEL_NATIONAL,
    "provincial": pb.DEPUTY_LEVEL_PROVINCIAL,
    "city": pb.DEPUTY_LEVEL_CITY,
    "district": pb.DEPUTY_LEVEL_DISTRICT,
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Town:
    """A street of its own for one test: committee, area, station, venue,
    communities and deputies, created through the API."""

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        tag = uuid.uuid4().hex[:6]
        self.tag = tag
        self.street = stub.CreateStreet(
            pb.CreateStreetRequest(street=pb.Street(code=f"t{tag}", name=f"测试{tag}街道"))
        )
        self.committee = stub.CreateUnit(
            pb.CreateUnitRequest(
                unit=pb.Unit(
                    code=f"t{tag}-committee",
                    name=f"测试{tag}街道人大工委",
                    kind=pb.UNIT_KIND_STREET_COMMITTEE,
                    street_id=self.street.id,
                )
            )
        )
        self.area = stub.CreateArea(
            pb.CreateAreaRequest(
                area=pb.Area(
                    code=f"t{tag}-area-1", name=f"测试{tag}第一片区", street_id=self.street.id
                )
            )
        )
        self.venue = stub.CreateVenue(
            pb.CreateVenueRequest(
                venue=pb.Venue(
                    code=f"venue-t{tag}-1",
                    name=f"测试{tag}活动室",
                    street_id=self.street.id,
                    address="广州市天河区测试路1号",
                    capacity=30,
                )
            )
        )
        self.station = self.add_station(1)

    def add_community(self, name: str, keywords: list[str]) -> pb.Community:
        return self.stub.CreateCommunity(
            pb.CreateCommunityRequest(
                community=pb.Community(
                    code=unique(f"t{self.tag}-c"),
                    name=name,
                    street_id=self.street.id,
                    area_id=self.area.id,
                    address_keywords=keywords,
                )
            )
        )

    def add_station(self, number: int, community_ids: list[int] | None = None) -> pb.Station:
        return self.stub.CreateStation(
            pb.CreateStationRequest(
                station=pb.Station(
                    code=f"t{self.tag}-{number}",
                    name=f"测试{self.tag}第{number}联络站",
                    area_id=self.area.id,
                    venue_id=self.venue.id if number == 1 else 0,
                    community_ids=community_ids or [],
                    opened_on="2013-08-01",
                )
            )
        )

    def add_deputy(
        self, level: str = "district", station: pb.Station | None = None, **extra: Any
    ) -> pb.Deputy:
        station = station or self.station
        deputy = pb.Deputy(
            code=unique("TD"),
            name=f"测试代表{uuid.uuid4().hex[:4]}",
            gender="女",
            level=LEVEL[level],
            term="第十届",
            term_start="2021-12-20",
            term_end="2026-12-19",
            street_id=self.street.id,
            station_id=station.id,
            profession="律师",
            expertise=["法律"],
            biography="测试代表",
        )
        for key, value in extra.items():
            if key == "contact":
                deputy.contact.CopyFrom(value)
            elif key == "expertise":
                del deputy.expertise[:]
                deputy.expertise.extend(value)
            else:
                setattr(deputy, key, value)
        return self.stub.CreateDeputy(pb.CreateDeputyRequest(deputy=deputy))

    def fill(self, role: int, **fields: Any) -> pb.Position:
        position = pb.Position(role=role, started_on="2024-01-02", **fields)
        return self.stub.FillPosition(pb.FillPositionRequest(position=position))

"""Helpers for tests that drive the registry through its gRPC API: a street
of a test's own, made through the API like any caller would; and roster
workbooks made to exhaust whoever parses them, for tests and benchmarks."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from typing import Any

from openpyxl import Workbook

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
            elif key in ("expertise", "contact_community_ids"):
                getattr(deputy, key)[:] = value
            else:
                setattr(deputy, key, value)
        return self.stub.CreateDeputy(pb.CreateDeputyRequest(deputy=deputy))

    def fill(self, role: int, **fields: Any) -> pb.Position:
        position = pb.Position(role=role, started_on="2024-01-02", **fields)
        return self.stub.FillPosition(pb.FillPositionRequest(position=position))


# ---------------------------------------------------------------- hostile rosters

SHEET_PART = "xl/worksheets/sheet1.xml"

# Nine levels of ten: &lol9; expands to 3 * 10**9 characters.
BILLION_LAUGHS_DTD = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)


class HostileRosters:
    """Workbooks made to exhaust whoever parses them."""

    sheet_part = SHEET_PART

    @staticmethod
    def xfd_bomb() -> bytes:
        """A 4.8 KB workbook whose only cell is the last a sheet can have."""
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet["XFD1048576"] = "x"
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    @staticmethod
    def part(content: bytes, name: str = SHEET_PART) -> str:
        return zipfile.ZipFile(io.BytesIO(content)).read(name).decode()

    @staticmethod
    def with_parts(content: bytes, parts: dict[str, bytes]) -> bytes:
        """The zip `content` with `parts` replaced or added."""
        source = zipfile.ZipFile(io.BytesIO(content))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for name in source.namelist():
                if name not in parts:
                    target.writestr(name, source.read(name))
            for name, data in parts.items():
                target.writestr(name, data)
        return buffer.getvalue()

    @staticmethod
    def with_large_part(content: bytes, name: str, size: int, pattern: bytes = b" ") -> bytes:
        """`content` plus a part that unzips to `size` bytes, written a slab
        at a time so that the test never holds them."""
        buffer = io.BytesIO(content)
        slab = pattern * (1024 * 1024 // len(pattern))
        with (
            zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
            archive.open(name, "w") as part,
        ):
            for _ in range(size // len(slab)):
                part.write(slab)
        return buffer.getvalue()

    @classmethod
    def billion_laughs(cls, content: bytes, name: str = SHEET_PART) -> bytes:
        """`content` with part `name` declaring the entities (and a sheet's
        first text cell using them)."""
        xml = re.sub(r"^<\?xml[^>]*\?>", "", cls.part(content, name))
        if name == SHEET_PART:
            xml = xml.replace("<t>", "<t>&lol9;", 1)
            assert "&lol9;" in xml, "the sheet has no text cell"
        return cls.with_parts(content, {name: (BILLION_LAUGHS_DTD + xml).encode()})

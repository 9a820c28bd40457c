"""Helpers for the reception service's tests: a small district as the
registry's snapshot would give it, to seed the read model without a
registry running."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from kit.db import Database
from liaison.registry.v1 import registry_pb2 as rpb
from reception import domain, models

# Two streets; street 1 has two stations, street 2 one.
STREET_A, STREET_B = 1, 2
STATION_A1, STATION_A2, STATION_B1 = 11, 12, 21
VENUE_A1, VENUE_B1 = 101, 201
DEPUTY_A1, DEPUTY_A2, DEPUTY_B1 = 1001, 1002, 2001
HOURS = "每月15日 9:00-12:00、14:30-17:30"


def small_district(version: int = 1) -> list[rpb.DirectoryChunk]:
    """The snapshot of a small district, as of `version`."""
    chunk = rpb.DirectoryChunk(version=version, last=True)
    chunk.venues.extend(
        [
            rpb.Venue(
                id=VENUE_A1,
                name="林和街人大代表活动室",
                address="广州市天河区林和中路1号",
                street_id=STREET_A,
                capacity=30,
                opening_hours=HOURS,
                active=True,
            ),
            rpb.Venue(
                id=VENUE_B1,
                name="石牌街人大代表活动室",
                address="广州市天河区石牌东路2号",
                street_id=STREET_B,
                capacity=20,
                opening_hours="每月15日",
                active=True,
            ),
        ]
    )
    chunk.communities.extend(
        rpb.Community(id=c, name=f"社区{c}", street_id=s, active=True)
        for c, s in ((501, STREET_A), (502, STREET_A), (503, STREET_B))
    )
    chunk.stations.extend(
        [
            rpb.Station(
                id=STATION_A1,
                code="linhe-1",
                name="林和街第一联络站",
                street_id=STREET_A,
                venue_id=VENUE_A1,
                community_ids=[501],
                active=True,
            ),
            rpb.Station(
                id=STATION_A2,
                code="linhe-2",
                name="林和街第二联络站",
                street_id=STREET_A,
                community_ids=[502],
                active=True,
            ),
            rpb.Station(
                id=STATION_B1,
                code="shipai-1",
                name="石牌街第一联络站",
                street_id=STREET_B,
                venue_id=VENUE_B1,
                community_ids=[503],
                active=True,
            ),
        ]
    )
    chunk.deputies.extend(
        rpb.DeputyProfile(
            id=d,
            name=f"代表{d}",
            street_id=street,
            station_id=station,
            level=rpb.DEPUTY_LEVEL_DISTRICT,
            expertise=["法律"],
            active=True,
        )
        for d, street, station in (
            (DEPUTY_A1, STREET_A, STATION_A1),
            (DEPUTY_A2, STREET_A, STATION_A2),
            (DEPUTY_B1, STREET_B, STATION_B1),
        )
    )
    chunk.station_heads.append(
        rpb.StationHead(
            station_id=STATION_A1,
            deputy_id=DEPUTY_A1,
            position_id=9001,
            role=rpb.POSITION_ROLE_STATION_HEAD,
        )
    )
    chunk.deputy_heads.append(
        rpb.StationHead(
            station_id=STATION_A1, position_id=9002, role=rpb.POSITION_ROLE_STATION_DEPUTY_HEAD
        )
    )
    return [chunk]


# Keys of sessions made by `seed_session`, far from any real day: a test may
# add many sessions on one day.
_seed_keys = itertools.count(1)


def seed_session(
    db: Database,
    *,
    station_id: int = STATION_A1,
    days_ahead: int = 0,
    capacity: int = 2,
    slots: int = 2,
    begun: bool = False,
    cancelled: bool = False,
) -> tuple[int, list[int]]:
    """A session of `station_id`, written straight to the database: on the
    day `days_ahead` from today, its slots beginning an hour from now on
    that day (an hour ago when `begun`), three hours apart, each with
    `capacity` places (0: the venue's is not known). Its id and its slots' ids."""
    start = datetime.now(UTC) + timedelta(days=days_ahead, hours=-1 if begun else 1)
    with db.unit_of_work() as uow:
        row = models.ReceptionSession(
            station_id=station_id,
            kind=domain.EXTRA,
            key_date=date(2200, 1, 1) + timedelta(days=next(_seed_keys)),
            session_date=domain.today() + timedelta(days=days_ahead),
            status=domain.CANCELLED if cancelled else domain.SCHEDULED,
            reason="测试",
            flags=[],
            slots=[
                models.SessionSlot(
                    label=f"第{i + 1}段",
                    starts_at=start + timedelta(hours=3 * i),
                    ends_at=start + timedelta(hours=3 * i + 2),
                    local_start=f"{9 + 3 * i:02d}:00",
                    local_end=f"{11 + 3 * i:02d}:00",
                    capacity=capacity,
                )
                for i in range(slots)
            ],
        )
        uow.session.add(row)
        uow.session.flush()
        return row.id, [slot.id for slot in row.slots]


def put_on_rota(db: Database, session_id: int, deputy_id: int) -> None:
    """A deputy on a session's rota (the rota's own use cases are not needed)."""
    with db.unit_of_work() as uow:
        uow.session.add(models.RotaAssignment(session_id=session_id, deputy_id=deputy_id))


EXPERTISE = ("物业管理", "交通", "教育", "医疗卫生", "法律", "社区治理", "环保", "养老服务")


def district_at_scale(version: int = 1) -> list[rpb.DirectoryChunk]:
    """A district the size of the seed's: 21 streets, 40 stations each
    serving two communities, seven deputies a station with expertise."""
    chunk = rpb.DirectoryChunk(version=version, last=True)
    for n in range(40):
        station_id, street_id = 100 + n, 1 + n % 21
        communities = [1000 + 2 * n, 1001 + 2 * n]
        chunk.communities.extend(
            rpb.Community(id=c, name=f"社区{c}", street_id=street_id, active=True)
            for c in communities
        )
        chunk.stations.append(
            rpb.Station(
                id=station_id,
                code=f"station-{n}",
                name=f"第{n + 1}联络站",
                street_id=street_id,
                community_ids=communities,
                active=True,
            )
        )
        chunk.deputies.extend(
            rpb.DeputyProfile(
                id=10_000 + 10 * n + k,
                name=f"代表{n}-{k}",
                street_id=street_id,
                station_id=station_id,
                level=rpb.DEPUTY_LEVEL_DISTRICT,
                expertise=[EXPERTISE[(n + k) % len(EXPERTISE)]],
                active=True,
            )
            for k in range(7)
        )
    return [chunk]

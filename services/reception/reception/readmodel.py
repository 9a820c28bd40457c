"""What the reception service knows of the registry: its read model.

Stations (with the communities each serves), venues, communities, deputies
and the stations' heads and deputy heads, kept in the service's own tables
(`reception.models`, `registry_*`) and never read from the registry's.

Fed two ways, both idempotent and safe in any order:
- the registry's events (`registry.events`, consumed by the worker with
  kit's idempotent consumer): every event carries its record whole and its
  `Envelope.sequence`; a row keeps the sequence it reflects, and an event
  whose sequence is not newer than the row's changes nothing. So events
  delivered twice or out of order converge to the registry's state.
- the registry's snapshot (`StreamDirectory`, public directory as of one
  version): loaded when the read model is empty (the api's first start, the
  demo loader) and when an operator asks (`reception load-registry`). A row
  newer than the snapshot is left alone; a row older than it is replaced,
  and one the snapshot lacks (deactivated, or a head whose post ended) is
  marked so.

Every change first locks the one row of `registry_feed`, so a snapshot and
events never interleave.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from kit.convert import EnumNames
from kit.db import Database
from liaison.registry.v1 import events_pb2 as ev
from liaison.registry.v1 import registry_pb2 as rpb
from reception import models
from reception.domain import today

log = logging.getLogger(__name__)

LEVEL = EnumNames(rpb.DeputyLevel, "DEPUTY_LEVEL")
ROLE = EnumNames(rpb.PositionRole, "POSITION_ROLE")
HEAD_ROLES = ("station_head", "station_deputy_head")

T = TypeVar("T")


# ---------------------------------------------------------------- rows from messages


def _newer(session: Session, model: type[T], record_id: int, sequence: int) -> T | None:
    """The row to change for a record at `sequence` (made when missing), or
    None when the row already reflects that sequence or a newer one. An
    event numbered 0 (published before events were numbered) only fills a
    row no numbered event has touched."""
    row: Any = session.get(model, record_id)
    if row is None:
        row = model(id=record_id)  # type: ignore[call-arg]
        session.add(row)
    elif row.sequence and sequence <= row.sequence:
        return None
    row.sequence = sequence
    return row  # type: ignore[no-any-return]


def put_station(session: Session, m: rpb.Station, sequence: int) -> None:
    row = _newer(session, models.RegistryStation, m.id, sequence)
    if row is None:
        return
    row.code, row.name, row.active = m.code, m.name, m.active
    row.street_id, row.area_id, row.venue_id = m.street_id, m.area_id, m.venue_id or None
    row.served = [
        models.RegistryStationCommunity(community_id=c) for c in dict.fromkeys(m.community_ids)
    ]


def put_venue(session: Session, m: rpb.Venue, sequence: int) -> None:
    row = _newer(session, models.RegistryVenue, m.id, sequence)
    if row is None:
        return
    row.name, row.address, row.street_id = m.name, m.address, m.street_id
    row.capacity, row.opening_hours, row.active = m.capacity, m.opening_hours, m.active


def put_community(session: Session, m: rpb.Community, sequence: int) -> None:
    row = _newer(session, models.RegistryCommunity, m.id, sequence)
    if row is None:
        return
    row.name, row.street_id, row.active = m.name, m.street_id, m.active


def put_deputy(session: Session, m: rpb.DeputyProfile, sequence: int, active: bool) -> None:
    row = _newer(session, models.RegistryDeputy, m.id, sequence)
    if row is None:
        return
    row.name, row.street_id, row.station_id = m.name, m.street_id, m.station_id or None
    row.level = LEVEL.to_name.get(m.level, "")
    row.expertise = list(m.expertise)
    row.active = active


def put_position(
    session: Session,
    position_id: int,
    role: int,
    station_id: int,
    deputy_id: int,
    ended_on: date | None,
    sequence: int,
) -> None:
    name = ROLE.to_name.get(role, "")
    if name not in HEAD_ROLES:
        return  # only the stations' heads matter here
    row = session.get(models.RegistryPosition, position_id)
    if row is None:
        row = models.RegistryPosition(id=position_id, sequence=0)
        session.add(row)
    elif row.sequence and sequence <= row.sequence:
        return
    row.sequence = sequence
    row.role, row.station_id, row.deputy_id = name, station_id, deputy_id or None
    row.ended_on = ended_on


# ---------------------------------------------------------------- events


def _position_event(session: Session, held: ev.PositionHeld, sequence: int) -> None:
    ended = date.fromisoformat(held.ended_on) if held.ended_on else None
    put_position(session, held.id, held.role, held.station_id, held.deputy_id, ended, sequence)


# The registry events the read model follows, and how each applies.
APPLY: dict[type[Message], Callable[[Session, Any, int], None]] = {
    ev.StationChanged: lambda s, e, n: put_station(s, e.station, n),
    ev.VenueChanged: lambda s, e, n: put_venue(s, e.venue, n),
    ev.CommunityChanged: lambda s, e, n: put_community(s, e.community, n),
    ev.DeputyRegistered: lambda s, e, n: put_deputy(s, e.deputy, n, e.deputy.active),
    ev.DeputyUpdated: lambda s, e, n: put_deputy(s, e.deputy, n, e.deputy.active),
    ev.DeputyReassigned: lambda s, e, n: put_deputy(s, e.deputy, n, e.deputy.active),
    ev.DeputyDeactivated: lambda s, e, n: put_deputy(s, e.deputy, n, False),
    ev.PositionFilled: lambda s, e, n: _position_event(s, e.position, n),
    ev.PositionVacated: lambda s, e, n: _position_event(s, e.position, n),
}


def lock_feed(session: Session) -> models.RegistryFeed:
    """The feed's one row, locked until the transaction ends."""
    feed = session.scalars(
        select(models.RegistryFeed).where(models.RegistryFeed.id == 1).with_for_update()
    ).first()
    if feed is None:  # made by the first migration; a test's create_all lacks it
        feed = models.RegistryFeed(id=1, newest_sequence=0)
        session.add(feed)
        session.flush()
    return feed


def apply_event(session: Session, event: Message, sequence: int) -> set[int]:
    """Apply one registry event in the caller's transaction. Returns the
    stations whose rotas may need a repair: for a deputy's event, the
    deputy's station before and after it (a deputy deactivated or moved
    leaves the old one's rotas, one who arrived may fill a gap of the new
    one's); for a head's position, its station."""
    feed = lock_feed(session)
    before = _rota_stations(session, event)
    APPLY[type(event)](session, event, sequence)
    feed.newest_sequence = max(feed.newest_sequence or 0, sequence)
    return before | _rota_stations(session, event)


def _rota_stations(session: Session, event: Message) -> set[int]:
    if isinstance(event, ev.PositionFilled | ev.PositionVacated):
        return {event.position.station_id} - {0}
    deputy = getattr(event, "deputy", None)
    if not isinstance(deputy, rpb.DeputyProfile):
        return set()
    row = session.get(models.RegistryDeputy, deputy.id)
    return {row.station_id} if row is not None and row.station_id else set()


# ---------------------------------------------------------------- the snapshot


def apply_snapshot(session: Session, chunks: Iterable[rpb.DirectoryChunk]) -> int:
    """Bring the read model to the registry's snapshot (every chunk of one
    StreamDirectory), in the caller's transaction; the snapshot's version."""
    feed = lock_feed(session)
    version = -1
    seen: dict[type[Any], set[int]] = {}

    def mark(model: type[Any], record_id: int) -> None:
        seen.setdefault(model, set()).add(record_id)

    for chunk in chunks:
        if version not in (-1, chunk.version):
            raise ValueError("the snapshot's chunks are of different versions")
        version = chunk.version
        for station in chunk.stations:
            put_station(session, station, version)
            mark(models.RegistryStation, station.id)
        for venue in chunk.venues:
            put_venue(session, venue, version)
            mark(models.RegistryVenue, venue.id)
        for community in chunk.communities:
            put_community(session, community, version)
            mark(models.RegistryCommunity, community.id)
        for deputy in chunk.deputies:
            put_deputy(session, deputy, version, active=True)
            mark(models.RegistryDeputy, deputy.id)
        for head in [*chunk.station_heads, *chunk.deputy_heads]:
            role = head.role or rpb.POSITION_ROLE_STATION_HEAD
            put_position(
                session, head.position_id, role, head.station_id, head.deputy_id, None, version
            )
            mark(models.RegistryPosition, head.position_id)
    if version < 0:
        raise ValueError("the snapshot has no chunk")
    # What the snapshot lacks is no longer current, unless an event newer
    # than the snapshot says otherwise.
    reflected: tuple[Any, ...] = (
        models.RegistryStation,
        models.RegistryVenue,
        models.RegistryCommunity,
        models.RegistryDeputy,
    )
    for model in reflected:
        for row in session.scalars(select(model).where(model.sequence < version)):
            if row.id not in seen.get(model, set()) and row.active:
                row.active, row.sequence = False, version
    for position in session.scalars(
        select(models.RegistryPosition).where(
            models.RegistryPosition.sequence < version, models.RegistryPosition.ended_on.is_(None)
        )
    ):
        if position.id not in seen.get(models.RegistryPosition, set()):
            position.ended_on, position.sequence = today(), version
    feed.snapshot_version = version
    feed.snapshot_loaded_at = datetime.now(UTC)
    feed.newest_sequence = max(feed.newest_sequence or 0, version)
    return version


def is_empty(db: Database) -> bool:
    """Whether no snapshot was ever loaded."""
    with db.read() as session:
        feed = session.get(models.RegistryFeed, 1)
        return feed is None or feed.snapshot_version is None


# ---------------------------------------------------------------- questions


def station_of_community(session: Session, community_id: int) -> models.RegistryStation | None:
    """The active station serving a community (the newest word, should two
    stations' events briefly disagree)."""
    return session.scalars(
        select(models.RegistryStation)
        .join(models.RegistryStationCommunity)
        .where(
            models.RegistryStationCommunity.community_id == community_id,
            models.RegistryStation.active.is_(True),
        )
        .order_by(models.RegistryStation.sequence.desc())
        .limit(1)
    ).first()


def heads_of(session: Session, station_id: int) -> list[models.RegistryPosition]:
    """A station's head and deputy heads now in post."""
    return list(
        session.scalars(
            select(models.RegistryPosition)
            .where(
                models.RegistryPosition.station_id == station_id,
                models.RegistryPosition.ended_on.is_(None),
            )
            .order_by(models.RegistryPosition.role, models.RegistryPosition.id)
        )
    )


def load_from_registry(db: Database, stub: Any, timeout: float = 120.0) -> int:
    """Load the registry's snapshot (`stub`: a RegistryService stub, called
    without a token: StreamDirectory is public); its version."""
    chunks = list(stub.StreamDirectory(rpb.StreamDirectoryRequest(), timeout=timeout))
    with db.unit_of_work() as uow:
        version = apply_snapshot(uow.session, chunks)
    log.info("loaded the registry's snapshot", extra={"version": version})
    return version

"""The public directory, read for a snapshot (`Registry.directory`).

A province's directory is tens of thousands of records: read as ORM objects
(with their relationships loaded one kind at a time) it took seconds of
object building alone. Here each table is read once as plain rows, its
child rows grouped by parent in one query each, and every record made with
the same converters the events use (`registry.records`), so a snapshot's
record and an event's record of the same data are equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from liaison.registry.v1 import registry_pb2 as pb
from registry import models
from registry.convert import ROLE
from registry.records import (
    area_pb,
    community_pb,
    deputy_profile_of,
    station_pb,
    street_pb,
    venue_pb,
)

HEAD_ROLES = ("station_head", "station_deputy_head")


def _active(session: Session, model: Any, **children: dict[int, list[Any]]) -> list[Any]:
    """The active rows of a model's table, each as an object with its
    columns as attributes, and each named list of children by its id."""
    table = model.__table__
    result = session.execute(select(table).where(table.c.active.is_(True)).order_by(table.c.id))
    columns = list(result.keys())
    found = []
    for row in result.all():
        record = SimpleNamespace(**dict(zip(columns, row, strict=True)))
        for name, by_parent in children.items():
            setattr(record, name, by_parent.get(record.id, []))
        found.append(record)
    return found


def _children(
    session: Session, parent: Any, attribute: str, value: Any, order: Any
) -> dict[int, list[Any]]:
    """Child rows' `value` by their `parent` id, in `order`, each as an object
    with `attribute` (the shape of the ORM relationship the converters read)."""
    grouped: dict[int, list[Any]] = {}
    for parent_id, child in session.execute(select(parent, value).order_by(parent, order)).all():
        grouped.setdefault(parent_id, []).append(SimpleNamespace(**{attribute: child}))
    return grouped


def _names(session: Session, model: Any) -> dict[int, str]:
    """Every record's name by id, active or not (a profile names its street
    and station whatever their state)."""
    table = model.__table__
    return {i: name for i, name in session.execute(select(table.c.id, table.c.name))}


def directory_parts(session: Session) -> list[tuple[str, list[Message]]]:
    """Each kind of record of the public directory, as `DirectoryChunk`
    fields, read in `session` (one consistent snapshot)."""
    keywords = _children(
        session,
        models.CommunityKeyword.community_id,
        "keyword",
        models.CommunityKeyword.keyword,
        models.CommunityKeyword.id,
    )
    served = _children(
        session,
        models.StationCommunity.station_id,
        "community_id",
        models.StationCommunity.community_id,
        models.StationCommunity.community_id,
    )
    expertise = _children(
        session,
        models.DeputyExpertise.deputy_id,
        "tag",
        models.DeputyExpertise.tag,
        models.DeputyExpertise.id,
    )
    contacts = _children(
        session,
        models.DeputyContactCommunity.deputy_id,
        "community_id",
        models.DeputyContactCommunity.community_id,
        models.DeputyContactCommunity.community_id,
    )
    streets, stations = _names(session, models.Street), _names(session, models.Station)
    deputies = [
        deputy_profile_of(d, streets.get(d.street_id, ""), stations.get(d.station_id or 0, ""))
        for d in _active(session, models.Deputy, expertise=expertise, contact_communities=contacts)
    ]
    heads = _heads(session)
    return [
        ("streets", _made(street_pb, _active(session, models.Street))),
        ("areas", _made(area_pb, _active(session, models.Area))),
        ("communities", _made(community_pb, _active(session, models.Community, keywords=keywords))),
        ("venues", _made(venue_pb, _active(session, models.Venue))),
        ("stations", _made(station_pb, _active(session, models.Station, served=served))),
        ("deputies", deputies),
        ("station_heads", heads["station_head"]),
        ("deputy_heads", heads["station_deputy_head"]),
    ]


def _made(convert: Any, records: Iterable[Any]) -> list[Message]:
    return [convert(r) for r in records]


def _heads(session: Session) -> dict[str, list[Message]]:
    """The stations' heads and deputy heads in post."""
    position = models.Position
    heads: dict[str, list[Message]] = {role: [] for role in HEAD_ROLES}
    for position_id, role, station_id, deputy_id in session.execute(
        select(position.id, position.role, position.station_id, position.deputy_id)
        .where(position.role.in_(HEAD_ROLES), position.ended_on.is_(None))
        .order_by(position.id)
    ):
        # A station head is always a deputy; a deputy head seldom is.
        if role == "station_head" and deputy_id is None:
            continue
        heads[role].append(
            pb.StationHead(
                station_id=station_id or 0,
                deputy_id=deputy_id or 0,
                position_id=position_id,
                role=ROLE.number(role),  # type: ignore[arg-type]
            )
        )
    return heads

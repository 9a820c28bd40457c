"""Each kind of registry record: how it reads from and writes to protobuf,
what it checks, which streets it belongs to, who may see which of its
fields, how it is listed, and which event tells others it changed.

The create / update / deactivate / list flow is kit's record engine
(`kit.records`); a `RecordKind` here holds only what is particular to a
kind, so the nine kinds share one implementation of the flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kit.auth import STAFF_ROLES, Principal, Role
from kit.db import UnitOfWork
from kit.errors import FailedPrecondition, Violations
from kit.records import Filter, KindHooks, RecordKind, RecordStore, search
from liaison.registry.v1 import events_pb2 as ev
from liaison.registry.v1 import registry_pb2 as pb
from registry import domain, models
from registry.convert import BUDGET_KIND, LEVEL, ROLE, UNIT_KIND, deactivation, iso, timestamp

# ---------------------------------------------------------------- to protobuf


def street_pb(m: models.Street) -> pb.Street:
    return pb.Street(
        id=m.id,
        code=m.code,
        name=m.name,
        active=m.active,
        deactivation=deactivation(m.deactivated_at, m.deactivation_reason),
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
    )


def area_pb(m: models.Area) -> pb.Area:
    return pb.Area(
        id=m.id,
        code=m.code,
        name=m.name,
        street_id=m.street_id,
        active=m.active,
        deactivation=deactivation(m.deactivated_at, m.deactivation_reason),
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
    )


def community_pb(m: models.Community) -> pb.Community:
    return pb.Community(
        id=m.id,
        code=m.code,
        name=m.name,
        street_id=m.street_id,
        area_id=m.area_id or 0,
        address_keywords=[k.keyword for k in m.keywords],
        active=m.active,
        deactivation=deactivation(m.deactivated_at, m.deactivation_reason),
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
    )


def venue_pb(m: models.Venue) -> pb.Venue:
    return pb.Venue(
        id=m.id,
        code=m.code,
        name=m.name,
        address=m.address,
        street_id=m.street_id,
        capacity=m.capacity,
        opening_hours=m.opening_hours,
        active=m.active,
        deactivation=deactivation(m.deactivated_at, m.deactivation_reason),
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
    )


def station_pb(m: models.Station) -> pb.Station:
    return pb.Station(
        id=m.id,
        code=m.code,
        name=m.name,
        area_id=m.area_id,
        street_id=m.street_id,
        venue_id=m.venue_id or 0,
        community_ids=sorted(s.community_id for s in m.served),
        opened_on=iso(m.opened_on),
        active=m.active,
        deactivation=deactivation(m.deactivated_at, m.deactivation_reason),
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
    )


def unit_pb(m: models.Unit) -> pb.Unit:
    return pb.Unit(
        id=m.id,
        code=m.code,
        name=m.name,
        kind=UNIT_KIND.number(m.kind),  # type: ignore[arg-type]
        parent_id=m.parent_id or 0,
        street_id=m.street_id or 0,
        responsibilities=m.responsibilities,
        active=m.active,
        deactivation=deactivation(m.deactivated_at, m.deactivation_reason),
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
    )


def deputy_pb(m: models.Deputy) -> pb.Deputy:
    contact = m.contact
    return pb.Deputy(
        id=m.id,
        code=m.code,
        name=m.name,
        gender=m.gender,
        level=LEVEL.number(m.level),  # type: ignore[arg-type]
        term=m.term,
        term_start=iso(m.term_start),
        term_end=iso(m.term_end),
        street_id=m.street_id,
        station_id=m.station_id or 0,
        profession=m.profession,
        expertise=[e.tag for e in m.expertise],
        contact_community_ids=sorted(c.community_id for c in m.contact_communities),
        biography=m.biography,
        contact=pb.DeputyContact(
            phone=contact.phone,
            email=contact.email,
            workplace=contact.workplace,
            workplace_address=contact.workplace_address,
        )
        if contact
        else None,
        active=m.active,
        deactivation=deactivation(m.deactivated_at, m.deactivation_reason),
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
    )


def deputy_profile_pb(m: models.Deputy, session: Session) -> pb.DeputyProfile:
    street = session.get(models.Street, m.street_id)
    station = session.get(models.Station, m.station_id) if m.station_id else None
    return deputy_profile_of(m, street.name if street else "", station.name if station else "")


def deputy_profile_of(m: Any, street_name: str, station_name: str) -> pb.DeputyProfile:
    """A deputy's public profile, naming their street and station."""
    return pb.DeputyProfile(
        id=m.id,
        code=m.code,
        name=m.name,
        gender=m.gender,
        level=LEVEL.number(m.level),  # type: ignore[arg-type]
        term=m.term,
        street_id=m.street_id,
        street_name=street_name,
        station_id=m.station_id or 0,
        station_name=station_name,
        profession=m.profession,
        expertise=[e.tag for e in m.expertise],
        contact_community_ids=sorted(c.community_id for c in m.contact_communities),
        biography=m.biography,
        active=m.active,
    )


def position_pb(m: models.Position) -> pb.Position:
    return pb.Position(
        id=m.id,
        role=ROLE.number(m.role),  # type: ignore[arg-type]
        unit_id=m.unit_id or 0,
        station_id=m.station_id or 0,
        deputy_id=m.deputy_id or 0,
        holder_name=m.holder_name,
        holder_title=m.holder_title,
        started_on=iso(m.started_on),
        ended_on=iso(m.ended_on),
        end_reason=m.end_reason or "",
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
    )


def budget_line_pb(m: models.BudgetLine) -> pb.BudgetLine:
    return pb.BudgetLine(
        id=m.id,
        unit_id=m.unit_id,
        year=m.year,
        kind=BUDGET_KIND.number(m.kind),  # type: ignore[arg-type]
        amount_yuan=m.amount_yuan,
        note=m.note,
        active=m.active,
        deactivation=deactivation(m.deactivated_at, m.deactivation_reason),
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
    )


# ---------------------------------------------------------------- references


def active_ref(
    session: Session, v: Violations, model: type[Any], ref_id: int, field_name: str
) -> Any | None:
    """The referenced active record, or a violation naming the field."""
    if not ref_id:
        v.add(field_name, "is required")
        return None
    found = session.get(model, ref_id)
    if found is None:
        v.add(field_name, f"no {model.__tablename__[:-1]} has id {ref_id}")
        return None
    if getattr(found, "active", True) is False:
        v.add(field_name, f"{model.__tablename__[:-1]} {ref_id} is deactivated")
        return None
    return found


# ---------------------------------------------------------------- apply


def apply_street(s: Session, m: models.Street, msg: pb.Street, f: set[str], v: Violations) -> None:
    _apply_code_name(m, msg, f, v)


def apply_area(s: Session, m: models.Area, msg: pb.Area, f: set[str], v: Violations) -> None:
    _apply_code_name(m, msg, f, v)
    if "street_id" in f and active_ref(s, v, models.Street, msg.street_id, "street_id"):
        m.street_id = msg.street_id


def apply_community(
    s: Session, m: models.Community, msg: pb.Community, f: set[str], v: Violations
) -> None:
    _apply_code_name(m, msg, f, v)
    if "street_id" in f and active_ref(s, v, models.Street, msg.street_id, "street_id"):
        m.street_id = msg.street_id
    if "area_id" in f:
        if msg.area_id == 0:
            m.area_id = None
        elif area := active_ref(s, v, models.Area, msg.area_id, "area_id"):
            m.area_id = area.id
    if m.area_id and m.street_id:
        area = s.get(models.Area, m.area_id)
        if area and area.street_id != m.street_id:
            v.add("area_id", f"area {area.id} belongs to another street")
    if "address_keywords" in f:
        m.keywords = [
            models.CommunityKeyword(keyword=k) for k in domain.normalise_tags(msg.address_keywords)
        ]


def apply_venue(s: Session, m: models.Venue, msg: pb.Venue, f: set[str], v: Violations) -> None:
    _apply_code_name(m, msg, f, v)
    if "street_id" in f and active_ref(s, v, models.Street, msg.street_id, "street_id"):
        m.street_id = msg.street_id
    if "address" in f:
        m.address = msg.address.strip()
    if "capacity" in f:
        if msg.capacity < 0:
            v.add("capacity", "must not be negative")
        m.capacity = msg.capacity
    if "opening_hours" in f:
        m.opening_hours = msg.opening_hours.strip()


def apply_station(
    s: Session, m: models.Station, msg: pb.Station, f: set[str], v: Violations
) -> None:
    _apply_code_name(m, msg, f, v)
    if "area_id" in f and (area := active_ref(s, v, models.Area, msg.area_id, "area_id")):
        if area.id != m.area_id:
            others = s.scalar(
                select(func.count())
                .select_from(models.Station)
                .where(models.Station.area_id == area.id, models.Station.active.is_(True))
            )
            if (others or 0) >= domain.MAX_STATIONS_PER_AREA:
                v.add(
                    "area_id",
                    f"area {area.id} already has {domain.MAX_STATIONS_PER_AREA} stations",
                )
        m.area_id = area.id
        m.street_id = area.street_id  # derived: a station is in its area's street
    if "venue_id" in f:
        if msg.venue_id == 0:
            m.venue_id = None
        elif venue := active_ref(s, v, models.Venue, msg.venue_id, "venue_id"):
            m.venue_id = venue.id
    if "opened_on" in f:
        m.opened_on = v.iso_date("opened_on", msg.opened_on)
    if "community_ids" in f:
        wanted = list(dict.fromkeys(msg.community_ids))
        for cid in wanted:
            community = active_ref(s, v, models.Community, cid, "community_ids")
            if community is None:
                continue
            served_by = s.scalars(
                select(models.Station)
                .join(models.StationCommunity)
                .where(
                    models.StationCommunity.community_id == cid,
                    models.Station.active.is_(True),
                    models.Station.id != (m.id or 0),
                )
            ).first()
            if served_by is not None:
                v.add(
                    "community_ids",
                    f"community {cid} is already served by station {served_by.code}",
                )
        m.served = [models.StationCommunity(community_id=cid) for cid in wanted]


def apply_unit(s: Session, m: models.Unit, msg: pb.Unit, f: set[str], v: Violations) -> None:
    _apply_code_name(m, msg, f, v)
    if "kind" in f:
        if msg.kind not in UNIT_KIND.to_name:
            v.add("kind", f"must be one of: {', '.join(UNIT_KIND.names)}")
        else:
            m.kind = UNIT_KIND.to_name[msg.kind]
    if "parent_id" in f:
        if msg.parent_id == 0:
            m.parent_id = None
        elif msg.parent_id == m.id:
            v.add("parent_id", "a unit cannot be its own parent")
        elif parent := active_ref(s, v, models.Unit, msg.parent_id, "parent_id"):
            m.parent_id = parent.id
    if "street_id" in f:
        if msg.street_id == 0:
            m.street_id = None
        elif active_ref(s, v, models.Street, msg.street_id, "street_id"):
            m.street_id = msg.street_id
    if "responsibilities" in f:
        m.responsibilities = msg.responsibilities.strip()
    if m.kind in domain.STREET_UNIT_KINDS and not m.street_id:
        v.add("street_id", f"is required for a {m.kind}")
    if m.kind in domain.STREET_UNIT_KINDS and m.street_id and m.active:
        twin = s.scalars(
            select(models.Unit).where(
                models.Unit.kind == m.kind,
                models.Unit.street_id == m.street_id,
                models.Unit.active.is_(True),
                models.Unit.id != (m.id or 0),
            )
        ).first()
        if twin is not None:
            v.add("street_id", f"street {m.street_id} already has a {m.kind} ({twin.code})")


def apply_deputy(s: Session, m: models.Deputy, msg: pb.Deputy, f: set[str], v: Violations) -> None:
    _apply_code_name(m, msg, f, v)
    if "gender" in f:
        if msg.gender and msg.gender not in domain.GENDERS:
            v.add("gender", f"{msg.gender!r} is not one of: {', '.join(domain.GENDERS)}")
        m.gender = msg.gender
    if "level" in f:
        if msg.level not in LEVEL.to_name:
            v.add("level", f"must be one of: {', '.join(LEVEL.names)}")
        else:
            m.level = LEVEL.to_name[msg.level]
    if "term" in f:
        m.term = msg.term.strip()
    if "term_start" in f:
        m.term_start = v.iso_date("term_start", msg.term_start)
    if "term_end" in f:
        m.term_end = v.iso_date("term_end", msg.term_end)
    domain.check_term(v, m.term_start, m.term_end)
    # Without a street, the deputy group is the given station's (set below).
    station_gives_street = "station_id" in f and msg.station_id and not msg.street_id
    if (
        "street_id" in f
        and not station_gives_street
        and active_ref(s, v, models.Street, msg.street_id, "street_id")
    ):
        m.street_id = msg.street_id
    if "station_id" in f:
        if msg.station_id == 0:
            m.station_id = None
        elif station := active_ref(s, v, models.Station, msg.station_id, "station_id"):
            m.station_id = station.id
            if "street_id" not in f or not msg.street_id:
                m.street_id = station.street_id
            elif station.street_id != msg.street_id:
                v.add("station_id", f"station {station.code} is not in street {msg.street_id}")
    if "profession" in f:
        m.profession = msg.profession.strip()
    if "expertise" in f:
        m.expertise = [models.DeputyExpertise(tag=t) for t in domain.normalise_tags(msg.expertise)]
    if "contact_community_ids" in f:
        ids = list(dict.fromkeys(msg.contact_community_ids))
        for cid in ids:
            active_ref(s, v, models.Community, cid, "contact_community_ids")
        m.contact_communities = [models.DeputyContactCommunity(community_id=c) for c in ids]
    if "biography" in f:
        m.biography = msg.biography.strip()
    contact_fields = {x.removeprefix("contact.") for x in f if x.startswith("contact")}
    if contact_fields:
        contact = m.contact or models.DeputyContact()
        given = msg.contact
        every = "contact" in f
        for name in ("phone", "email", "workplace", "workplace_address"):
            if every or name in contact_fields:
                setattr(contact, name, getattr(given, name).strip())
        domain.check_contact(v, contact.phone, contact.email)
        m.contact = contact
    if not m.street_id:
        v.add("street_id", "is required (or give station_id)")


def apply_position(
    s: Session, m: models.Position, msg: pb.Position, f: set[str], v: Violations
) -> None:
    if "role" in f:
        if msg.role not in ROLE.to_name:
            v.add("role", f"must be one of: {', '.join(ROLE.names)}")
        else:
            m.role = ROLE.to_name[msg.role]
    if "unit_id" in f:
        m.unit_id = msg.unit_id or None
    if "station_id" in f:
        m.station_id = msg.station_id or None
    if "deputy_id" in f:
        m.deputy_id = msg.deputy_id or None
    if "holder_name" in f:
        m.holder_name = msg.holder_name.strip()
    if "holder_title" in f:
        m.holder_title = msg.holder_title.strip()
    if "started_on" in f:
        m.started_on = v.iso_date("started_on", msg.started_on) or domain.today()
    if "ended_on" in f:
        m.ended_on = v.iso_date("ended_on", msg.ended_on)
    if m.ended_on and m.started_on and m.ended_on < m.started_on:
        v.add("ended_on", f"{m.ended_on.isoformat()} is before started_on")
    if not m.role:
        return
    if m.role in domain.STREET_ROLES:
        unit = active_ref(s, v, models.Unit, m.unit_id or 0, "unit_id")
        if unit is not None and unit.kind != "street_committee":
            v.add("unit_id", f"a {m.role} belongs to a street committee, not a {unit.kind}")
        if m.station_id:
            v.add("station_id", f"must be empty for a {m.role}")
    else:
        active_ref(s, v, models.Station, m.station_id or 0, "station_id")
        if m.unit_id:
            v.add("unit_id", f"must be empty for a {m.role}")
    deputy = None
    if m.deputy_id:
        deputy = active_ref(s, v, models.Deputy, m.deputy_id, "deputy_id")
        if deputy is not None:
            m.holder_name = deputy.name
    if m.role == "station_head":
        if deputy is None and not m.deputy_id:
            v.add("deputy_id", "a station head must be a deputy")
        elif deputy is not None and deputy.station_id != m.station_id:
            v.add("deputy_id", f"deputy {deputy.code} is not assigned to station {m.station_id}")
    if not m.holder_name:
        v.add("holder_name", "is required (or give deputy_id)")


def apply_budget_line(
    s: Session, m: models.BudgetLine, msg: pb.BudgetLine, f: set[str], v: Violations
) -> None:
    if "unit_id" in f and (unit := active_ref(s, v, models.Unit, msg.unit_id, "unit_id")):
        if unit.kind != "street_committee":
            v.add("unit_id", f"budgets are kept for street committees, not a {unit.kind}")
        m.unit_id = unit.id
    if "year" in f:
        if not 2000 <= msg.year <= 2100:
            v.add("year", f"{msg.year} is not a year between 2000 and 2100")
        m.year = msg.year
    if "kind" in f:
        if msg.kind not in BUDGET_KIND.to_name:
            v.add("kind", f"must be one of: {', '.join(BUDGET_KIND.names)}")
        else:
            m.kind = BUDGET_KIND.to_name[msg.kind]
    if "amount_yuan" in f:
        if msg.amount_yuan < 0:
            v.add("amount_yuan", "must not be negative")
        m.amount_yuan = msg.amount_yuan
    if "note" in f:
        m.note = msg.note.strip()


def _apply_code_name(m: Any, msg: Any, f: set[str], v: Violations) -> None:
    if "code" in f:
        v.code("code", msg.code.strip())
        m.code = msg.code.strip()
    if "name" in f:
        if not msg.name.strip():
            v.add("name", "is required")
        m.name = msg.name.strip()


# ---------------------------------------------------------------- streets


def _street_of(session: Session, model: type[Any], record_id: int | None) -> int | None:
    if not record_id:
        return None
    found = session.get(model, record_id)
    return getattr(found, "street_id", None) if found is not None else None


StreetOf = Callable[[Session, Any], "int | None"]
Refs = tuple[type[Any], Callable[[Any], Iterable[int]]]


def street_scope(own: StreetOf, **references: Refs) -> Callable[..., set[int | None]]:
    """The streets hook of a kind: the record's own street (`own`), and for
    each field a command names, the streets of the records it references
    (their table and how to read their ids from the record)."""

    def streets(session: Session, m: Any, fields: set[str]) -> set[int | None]:
        found: set[int | None] = {own(session, m)}
        for name, (model, ids) in references.items():
            wanted = [i for i in ids(m) if i] if name in fields else []
            if wanted:
                found |= set(session.scalars(select(model.street_id).where(model.id.in_(wanted))))
        return found

    return streets


def _own(_s: Session, m: Any) -> int | None:
    return m.street_id  # type: ignore[no-any-return]


def _one(attr: str) -> Callable[[Any], list[int]]:
    return lambda m: [getattr(m, attr) or 0]


def _position_street(s: Session, m: models.Position) -> int | None:
    # A position belongs to its street committee or its station.
    if m.unit_id:
        return _street_of(s, models.Unit, m.unit_id)
    return _street_of(s, models.Station, m.station_id)


street_streets = street_scope(lambda _s, m: m.id)
own_street = street_scope(_own)
community_streets = street_scope(_own, area_id=(models.Area, _one("area_id")))
station_streets = street_scope(
    _own,
    area_id=(models.Area, _one("area_id")),
    venue_id=(models.Venue, _one("venue_id")),
    community_ids=(models.Community, lambda m: [c.community_id for c in m.served]),
)
unit_streets = street_scope(_own, parent_id=(models.Unit, _one("parent_id")))
deputy_streets = street_scope(
    _own,
    station_id=(models.Station, _one("station_id")),
    contact_community_ids=(
        models.Community,
        lambda m: [c.community_id for c in m.contact_communities],
    ),
)
position_streets = street_scope(_position_street, deputy_id=(models.Deputy, _one("deputy_id")))
budget_line_streets = street_scope(lambda s, m: _street_of(s, models.Unit, m.unit_id))


# ---------------------------------------------------------------- who sees what


def sees_private_data(viewer: Principal | None, street_id: int | None) -> bool:
    """Private contact and staff notes: the district's offices, and the street
    committee of the record's street."""
    if viewer is None:
        return False
    if viewer.is_district:
        return True
    return viewer.role is Role.STREET_COMMITTEE and viewer.street_id == street_id


def public_view(viewer: Principal | None, message: Message) -> Message:
    """Why a record was deactivated is for staff only."""
    if (viewer is None or not viewer.is_staff) and message.HasField("deactivation"):  # type: ignore[attr-defined]
        message.deactivation.reason = ""  # type: ignore[attr-defined]
    return message


def deputy_view(viewer: Principal | None, message: Message) -> Message:
    assert isinstance(message, pb.Deputy)
    if not sees_private_data(viewer, message.street_id):
        message.ClearField("contact")
    return public_view(viewer, message)


# ---------------------------------------------------------------- events


def _changed(kind_event: type[Message], attr: str, to_pb: Callable[[Any], Message]):  # type: ignore[no-untyped-def]
    def build(_s: Session, m: Any, change: str, fields: list[str]) -> Message:
        record = to_pb(m)
        # Staff-only: the reason stays in the registry.
        if record.HasField("deactivation"):  # type: ignore[attr-defined]
            record.deactivation.reason = ""  # type: ignore[attr-defined]
        return kind_event(**{attr: record, "change": change, "changed_fields": fields})

    return build


def _deputy_event(s: Session, m: models.Deputy, change: str, fields: list[str]) -> Message:
    profile = deputy_profile_pb(m, s)
    if change == "created":
        return ev.DeputyRegistered(deputy=profile)
    if change == "deactivated":
        return ev.DeputyDeactivated(deputy=profile)
    return ev.DeputyUpdated(deputy=profile, changed_fields=fields)


def position_held_pb(m: models.Position) -> ev.PositionHeld:
    return ev.PositionHeld(
        id=m.id,
        role=ROLE.number(m.role),  # type: ignore[arg-type]
        unit_id=m.unit_id or 0,
        station_id=m.station_id or 0,
        deputy_id=m.deputy_id or 0,
        started_on=iso(m.started_on),
        ended_on=iso(m.ended_on),
    )


def _position_event(_s: Session, m: models.Position, change: str, fields: list[str]) -> Message:
    if m.ended_on is not None:
        return ev.PositionVacated(position=position_held_pb(m))
    return ev.PositionFilled(position=position_held_pb(m))


def _budget_line_event(
    _s: Session, m: models.BudgetLine, change: str, fields: list[str]
) -> Message:
    ref = ev.BudgetLineRef(
        id=m.id,
        unit_id=m.unit_id,
        year=m.year,
        kind=BUDGET_KIND.number(m.kind),  # type: ignore[arg-type]
        active=m.active,
    )
    return ev.BudgetLineChanged(budget_line=ref, change=change, changed_fields=fields)


# ---------------------------------------------------------------- kind hooks


def check_position_free(session: Session, position: models.Position) -> None:
    """A single-holder role held once; a station's deputy heads capped."""
    if position.ended_on is not None or not position.role:
        return
    held = select(models.Position).where(
        models.Position.role == position.role,
        models.Position.ended_on.is_(None),
        models.Position.id != (position.id or 0),  # an update does not clash with itself
    )
    if position.role in domain.SINGLE_HOLDER_ROLES:
        where = (
            models.Position.unit_id == position.unit_id
            if position.role in domain.STREET_ROLES
            else models.Position.station_id == position.station_id
        )
        holder = session.scalars(held.where(where)).first()
        if holder is not None:
            raise FailedPrecondition(
                f"{position.role} is held by {holder.holder_name} since "
                f"{holder.started_on}: vacate position {holder.id} first"
            )
    if position.role == "station_deputy_head":
        count = session.scalar(
            select(func.count()).select_from(
                held.where(models.Position.station_id == position.station_id).subquery()
            )
        )
        if (count or 0) >= domain.MAX_STATION_DEPUTY_HEADS:
            raise FailedPrecondition(
                f"station {position.station_id} has {domain.MAX_STATION_DEPUTY_HEADS} "
                "deputy heads already"
            )


def vacate_positions_of(
    store: RecordStore, uow: UnitOfWork, actor: Principal, deputy: models.Deputy, reason: str
) -> None:
    """A deputy who leaves leaves every position they hold."""
    for position in uow.session.scalars(
        select(models.Position).where(
            models.Position.deputy_id == deputy.id, models.Position.ended_on.is_(None)
        )
    ):
        position.ended_on = max(domain.today(), position.started_on)
        position.end_reason = f"deputy deactivated: {reason.strip()}"
        uow.session.flush()
        store.changed(uow, POSITION, actor, position, "vacated", ["ended_on", "end_reason"], {})


def deputy_reassigned(
    uow: UnitOfWork, m: models.Deputy, change: str, fields: list[str], before: dict[str, Any]
) -> None:
    if change == "updated" and ("station_id" in fields or "street_id" in fields):
        uow.emit(
            ev.DeputyReassigned(
                deputy=deputy_profile_pb(m, uow.session),
                from_station_id=before.get("station_id") or 0,
                to_station_id=m.station_id or 0,
                from_street_id=before.get("street_id") or 0,
                to_street_id=m.street_id or 0,
            )
        )


def deputy_create_fields(message: Message) -> set[str]:
    return {"contact"} if message.HasField("contact") else set()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- filters


def _enum_filter(field_name: str, column: Any, names: Any) -> Filter:
    return Filter(field_name, lambda number: column == names.name(number, field_name))


def _eq(field_name: str, column: Any) -> Filter:
    return Filter(field_name, lambda value: column == value)


def _has_expertise(tag: str) -> Any:
    return models.Deputy.id.in_(
        select(models.DeputyExpertise.deputy_id).where(models.DeputyExpertise.tag == tag.strip())
    )


def _position_in_street(street_id: int) -> Any:
    m = models.Position
    return m.unit_id.in_(
        select(models.Unit.id).where(models.Unit.street_id == street_id)
    ) | m.station_id.in_(select(models.Station.id).where(models.Station.street_id == street_id))


# ---------------------------------------------------------------- kinds

_CODE_NAME = frozenset({"code", "name"})
_STAFF = frozenset(STAFF_ROLES)

STREET = RecordKind(
    "street", models.Street, pb.Street, "street", street_pb, apply_street,
    ("code", "name"), _CODE_NAME,
    event=_changed(ev.StreetChanged, "street", street_pb),
    filters=(Filter("query", search(models.Street.name, models.Street.code)),),
    district_only=frozenset({"create", "deactivate"}),
    hooks=KindHooks(streets=street_streets, view=public_view),
)  # fmt: skip
AREA = RecordKind(
    "area", models.Area, pb.Area, "area", area_pb, apply_area,
    ("code", "name", "street_id"), _CODE_NAME | {"street_id"},
    event=_changed(ev.AreaChanged, "area", area_pb),
    filters=(_eq("street_id", models.Area.street_id),),
    hooks=KindHooks(streets=own_street, view=public_view),
)  # fmt: skip
COMMUNITY = RecordKind(
    "community", models.Community, pb.Community, "community", community_pb, apply_community,
    ("code", "name", "street_id"), _CODE_NAME | {"street_id", "area_id", "address_keywords"},
    event=_changed(ev.CommunityChanged, "community", community_pb),
    filters=(
        _eq("street_id", models.Community.street_id),
        _eq("area_id", models.Community.area_id),
        Filter("query", search(models.Community.name, models.Community.code)),
    ),
    hooks=KindHooks(streets=community_streets, view=public_view),
)  # fmt: skip
VENUE = RecordKind(
    "venue", models.Venue, pb.Venue, "venue", venue_pb, apply_venue,
    ("code", "name", "street_id"),
    _CODE_NAME | {"street_id", "address", "capacity", "opening_hours"},
    event=_changed(ev.VenueChanged, "venue", venue_pb),
    filters=(_eq("street_id", models.Venue.street_id),),
    hooks=KindHooks(streets=own_street, view=public_view),
)  # fmt: skip
STATION = RecordKind(
    "station", models.Station, pb.Station, "station", station_pb, apply_station,
    ("code", "name", "area_id"),
    _CODE_NAME | {"area_id", "venue_id", "community_ids", "opened_on"},
    event=_changed(ev.StationChanged, "station", station_pb),
    filters=(_eq("street_id", models.Station.street_id), _eq("area_id", models.Station.area_id)),
    hooks=KindHooks(streets=station_streets, view=public_view),
)  # fmt: skip
UNIT = RecordKind(
    "unit", models.Unit, pb.Unit, "unit", unit_pb, apply_unit,
    ("code", "name", "kind"),
    _CODE_NAME | {"kind", "parent_id", "street_id", "responsibilities"},
    event=_changed(ev.UnitChanged, "unit", unit_pb),
    filters=(
        _enum_filter("kind", models.Unit.kind, UNIT_KIND),
        _eq("parent_id", models.Unit.parent_id),
        _eq("street_id", models.Unit.street_id),
    ),
    hooks=KindHooks(streets=unit_streets, view=public_view),
)  # fmt: skip
DEPUTY = RecordKind(
    "deputy", models.Deputy, pb.Deputy, "deputy", deputy_pb, apply_deputy,
    ("code", "name", "level"),
    _CODE_NAME | {
        "gender", "level", "term", "term_start", "term_end", "street_id", "station_id",
        "profession", "expertise", "contact_community_ids", "biography", "contact",
        "contact.phone", "contact.email", "contact.workplace", "contact.workplace_address",
    },
    event=_deputy_event,
    filters=(
        _enum_filter("level", models.Deputy.level, LEVEL),
        _eq("street_id", models.Deputy.street_id),
        _eq("station_id", models.Deputy.station_id),
        Filter("expertise", _has_expertise),
        Filter("query", search(models.Deputy.name, models.Deputy.code)),
    ),
    hooks=KindHooks(
        streets=deputy_streets,
        create_fields=deputy_create_fields,
        on_deactivate=vacate_positions_of,
        more_events=deputy_reassigned,
        view=deputy_view,
    ),
)  # fmt: skip
POSITION = RecordKind(
    "position", models.Position, pb.Position, "position", position_pb, apply_position,
    ("role",),
    frozenset({
        "role", "unit_id", "station_id", "deputy_id", "holder_name", "holder_title",
        "started_on",
    }),
    natural_key=(), has_active=False, event=_position_event,
    filters=(
        Filter("include_ended", lambda given: None if given else models.Position.ended_on.is_(None),
               always=True),
        _enum_filter("role", models.Position.role, ROLE),
        _eq("unit_id", models.Position.unit_id),
        _eq("station_id", models.Position.station_id),
        _eq("deputy_id", models.Position.deputy_id),
        Filter("street_id", _position_in_street),
    ),
    readers=_STAFF,
    hooks=KindHooks(streets=position_streets, check=check_position_free),
)  # fmt: skip
BUDGET_LINE = RecordKind(
    "budget line", models.BudgetLine, pb.BudgetLine, "budget_line", budget_line_pb,
    apply_budget_line, ("unit_id", "year", "kind"),
    frozenset({"unit_id", "year", "kind", "amount_yuan", "note"}),
    natural_key=("unit_id", "year", "kind"), unique_among_active=True,
    event=_budget_line_event,
    filters=(_eq("unit_id", models.BudgetLine.unit_id), _eq("year", models.BudgetLine.year)),
    readers=_STAFF,
    hooks=KindHooks(streets=budget_line_streets, view=public_view),
)  # fmt: skip

KINDS: tuple[RecordKind, ...] = (
    STREET, AREA, COMMUNITY, VENUE, STATION, UNIT, DEPUTY, POSITION, BUDGET_LINE,
)  # fmt: skip

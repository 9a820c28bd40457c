"""Each kind of registry record: how it reads from and writes to protobuf,
what it checks, and which event tells others it changed.

The generic create / update / deactivate / list flow lives in
`registry.service`; a `RecordKind` here holds only what is particular to a
kind, so the nine kinds share one implementation of the flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from liaison.registry.v1 import events_pb2 as ev
from liaison.registry.v1 import registry_pb2 as pb
from registry import domain, models
from registry.convert import BUDGET_KIND, LEVEL, ROLE, UNIT_KIND, deactivation, iso, timestamp
from registry.domain import Violations

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
        community_ids=[s.community_id for s in m.served],
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
        contact_community_ids=[c.community_id for c in m.contact_communities],
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
    return pb.DeputyProfile(
        id=m.id,
        code=m.code,
        name=m.name,
        gender=m.gender,
        level=LEVEL.number(m.level),  # type: ignore[arg-type]
        term=m.term,
        street_id=m.street_id,
        street_name=street.name if street else "",
        station_id=m.station_id or 0,
        station_name=station.name if station else "",
        profession=m.profession,
        expertise=[e.tag for e in m.expertise],
        contact_community_ids=[c.community_id for c in m.contact_communities],
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


# ---------------------------------------------------------------- kinds


@dataclass(frozen=True)
class RecordKind:
    """What the generic flow needs to know of one kind of record."""

    noun: str  # "deputy"
    model: type[Any]
    message: type[Message]
    request_field: str  # the record's field in Create/Update requests
    to_pb: Callable[[Any], Message]
    apply: Callable[[Session, Any, Any, set[str], Violations], None]
    # Fields a create must give; the others take their defaults.
    required: tuple[str, ...]
    settable: frozenset[str]
    natural_key: tuple[str, ...] = ("code",)
    has_active: bool = True
    event: Callable[[Session, Any, str, list[str]], Message] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    def natural_key_of(self, m: Any) -> dict[str, Any]:
        return {k: getattr(m, k) for k in self.natural_key}


def _changed(kind_event: type[Message], attr: str, to_pb: Callable[[Any], Message]):  # type: ignore[no-untyped-def]
    def build(_s: Session, m: Any, change: str, fields: list[str]) -> Message:
        return kind_event(**{attr: to_pb(m), "change": change, "changed_fields": fields})

    return build


def _deputy_event(s: Session, m: models.Deputy, change: str, fields: list[str]) -> Message:
    profile = deputy_profile_pb(m, s)
    if change == "created":
        return ev.DeputyRegistered(deputy=profile)
    if change == "deactivated":
        return ev.DeputyDeactivated(deputy=profile, reason=m.deactivation_reason or "")
    return ev.DeputyUpdated(deputy=profile, changed_fields=fields)


def _position_event(_s: Session, m: models.Position, change: str, fields: list[str]) -> Message:
    if m.ended_on is not None:
        return ev.PositionVacated(position=position_pb(m))
    return ev.PositionFilled(position=position_pb(m))


_CODE_NAME = frozenset({"code", "name"})

STREET = RecordKind(
    "street", models.Street, pb.Street, "street", street_pb, apply_street,
    ("code", "name"), _CODE_NAME,
    event=_changed(ev.StreetChanged, "street", street_pb),
)  # fmt: skip
AREA = RecordKind(
    "area", models.Area, pb.Area, "area", area_pb, apply_area,
    ("code", "name", "street_id"), _CODE_NAME | {"street_id"},
    event=_changed(ev.AreaChanged, "area", area_pb),
)  # fmt: skip
COMMUNITY = RecordKind(
    "community", models.Community, pb.Community, "community", community_pb, apply_community,
    ("code", "name", "street_id"), _CODE_NAME | {"street_id", "area_id", "address_keywords"},
    event=_changed(ev.CommunityChanged, "community", community_pb),
)  # fmt: skip
VENUE = RecordKind(
    "venue", models.Venue, pb.Venue, "venue", venue_pb, apply_venue,
    ("code", "name", "street_id"),
    _CODE_NAME | {"street_id", "address", "capacity", "opening_hours"},
    event=_changed(ev.VenueChanged, "venue", venue_pb),
)  # fmt: skip
STATION = RecordKind(
    "station", models.Station, pb.Station, "station", station_pb, apply_station,
    ("code", "name", "area_id"),
    _CODE_NAME | {"area_id", "venue_id", "community_ids", "opened_on"},
    event=_changed(ev.StationChanged, "station", station_pb),
)  # fmt: skip
UNIT = RecordKind(
    "unit", models.Unit, pb.Unit, "unit", unit_pb, apply_unit,
    ("code", "name", "kind"),
    _CODE_NAME | {"kind", "parent_id", "street_id", "responsibilities"},
    event=_changed(ev.UnitChanged, "unit", unit_pb),
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
)  # fmt: skip
POSITION = RecordKind(
    "position", models.Position, pb.Position, "position", position_pb, apply_position,
    ("role",),
    frozenset({
        "role", "unit_id", "station_id", "deputy_id", "holder_name", "holder_title",
        "started_on",
    }),
    natural_key=(), has_active=False, event=_position_event,
)  # fmt: skip
BUDGET_LINE = RecordKind(
    "budget line", models.BudgetLine, pb.BudgetLine, "budget_line", budget_line_pb,
    apply_budget_line, ("unit_id", "year", "kind"),
    frozenset({"unit_id", "year", "kind", "amount_yuan", "note"}),
    natural_key=("unit_id", "year", "kind"),
    event=_changed(ev.BudgetLineChanged, "budget_line", budget_line_pb),
)  # fmt: skip


def list_query(kind: RecordKind, include_inactive: bool) -> Select[Any]:
    query = select(kind.model)
    if kind.has_active and not include_inactive:
        query = query.where(kind.model.active.is_(True))
    return query

"""Rosters and demo data into the registry, through the same use cases as the
gRPC API: the same checks, the same events.

Rows name other records by code (a station's street, a deputy's station);
`Refs` resolves them, including records created earlier in the same file.
An import is one unit of work: any bad row and nothing of the file is kept,
nor when the caller's gRPC deadline passes mid-import (DEADLINE_EXCEEDED).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from kit.auth import Principal
from kit.db import UnitOfWork
from kit.errors import DomainError, PermissionDenied, Unauthenticated
from kit.grpc_server import check_deadline
from liaison.registry.v1 import registry_pb2 as pb
from registry import models, roster
from registry.convert import BUDGET_KIND, LEVEL, ROLE, UNIT_KIND
from registry.demo_data import District
from registry.records import (
    AREA,
    BUDGET_LINE,
    COMMUNITY,
    DEPUTY,
    POSITION,
    STATION,
    STREET,
    UNIT,
    VENUE,
    RecordKind,
)
from registry.service import Registry

# Which spreadsheet column a record field comes from, to name it in errors.
FIELD_COLUMNS = {
    "street_id": "street",
    "area_id": "area",
    "venue_id": "venue",
    "station_id": "station",
    "community_ids": "communities",
    "contact_community_ids": "contact_communities",
    "deputy_id": "deputy",
    "unit_id": "street",
    "contact.phone": "phone",
    "contact.email": "email",
    "address_keywords": "address_keywords",
}


class RowProblem(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class Refs:
    """Resolves codes (and street names) to ids within one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _id(self, model: type[Any], code: str, column: str, noun: str) -> int:
        found = self.session.scalars(
            select(model.id).where(model.code == code, model.active.is_(True))
        ).first()
        if found is None:
            raise RowProblem(column, f"no active {noun} has code {code!r}")
        return int(found)

    def street(self, value: str, column: str = "street") -> int:
        found = self.session.scalars(
            select(models.Street.id).where(
                or_(models.Street.code == value, models.Street.name == value),
                models.Street.active.is_(True),
            )
        ).first()
        if found is None:
            raise RowProblem(column, f"no active street is named or coded {value!r}")
        return int(found)

    def area(self, code: str, column: str = "area") -> int:
        return self._id(models.Area, code, column, "area") if code else 0

    def venue(self, code: str, column: str = "venue") -> int:
        return self._id(models.Venue, code, column, "venue") if code else 0

    def station(self, code: str, column: str = "station") -> int:
        return self._id(models.Station, code, column, "station") if code else 0

    def community(self, code: str, column: str) -> int:
        return self._id(models.Community, code, column, "community")

    def unit(self, code: str, column: str = "unit") -> int:
        return self._id(models.Unit, code, column, "unit") if code else 0

    def deputy(self, code: str, column: str = "deputy") -> int:
        return self._id(models.Deputy, code, column, "deputy") if code else 0

    def street_committee(self, street: str, column: str = "street") -> int:
        street_id = self.street(street, column)
        found = self.session.scalars(
            select(models.Unit.id).where(
                models.Unit.kind == "street_committee",
                models.Unit.street_id == street_id,
                models.Unit.active.is_(True),
            )
        ).first()
        if found is None:
            raise RowProblem(column, f"street {street!r} has no street committee")
        return int(found)


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


# ---------------------------------------------------------------- row -> message


def street_msg(r: dict[str, Any], refs: Refs) -> pb.Street:
    return pb.Street(code=r["code"], name=r["name"])


def area_msg(r: dict[str, Any], refs: Refs) -> pb.Area:
    return pb.Area(code=r["code"], name=r["name"], street_id=refs.street(r["street"]))


def community_msg(r: dict[str, Any], refs: Refs) -> pb.Community:
    return pb.Community(
        code=r["code"],
        name=r["name"],
        street_id=refs.street(r["street"]),
        area_id=refs.area(r.get("area") or ""),
        address_keywords=r.get("address_keywords") or [],
    )


def venue_msg(r: dict[str, Any], refs: Refs) -> pb.Venue:
    return pb.Venue(
        code=r["code"],
        name=r["name"],
        address=r.get("address") or "",
        street_id=refs.street(r["street"]),
        capacity=int(r.get("capacity") or 0),
        opening_hours=r.get("opening_hours") or "",
    )


def station_msg(r: dict[str, Any], refs: Refs) -> pb.Station:
    return pb.Station(
        code=r["code"],
        name=r["name"],
        area_id=refs.area(r["area"]),
        venue_id=refs.venue(r.get("venue") or ""),
        community_ids=[refs.community(c, "communities") for c in r.get("communities") or []],
        opened_on=_iso(r.get("opened_on")),
    )


def unit_msg(r: dict[str, Any], refs: Refs) -> pb.Unit:
    return pb.Unit(
        code=r["code"],
        name=r["name"],
        kind=UNIT_KIND.number(r["kind"]),  # type: ignore[arg-type]
        parent_id=refs.unit(r.get("parent") or "", "parent"),
        street_id=refs.street(r["street"]) if r.get("street") else 0,
        responsibilities=r.get("responsibilities") or "",
    )


def deputy_msg(r: dict[str, Any], refs: Refs) -> pb.Deputy:
    message = pb.Deputy(
        code=r["code"],
        name=r["name"],
        gender=r.get("gender") or "",
        level=LEVEL.number(r["level"]),  # type: ignore[arg-type]
        term=r.get("term") or "",
        term_start=_iso(r.get("term_start")),
        term_end=_iso(r.get("term_end")),
        street_id=refs.street(r["street"]),
        station_id=refs.station(r.get("station") or ""),
        profession=r.get("profession") or "",
        expertise=r.get("expertise") or [],
        contact_community_ids=[
            refs.community(c, "contact_communities") for c in r.get("contact_communities") or []
        ],
        biography=r.get("biography") or "",
    )
    contact = pb.DeputyContact(
        phone=r.get("phone") or "",
        email=r.get("email") or "",
        workplace=r.get("workplace") or "",
        workplace_address=r.get("workplace_address") or "",
    )
    if contact.ListFields():
        message.contact.CopyFrom(contact)
    return message


def position_msg(r: dict[str, Any], refs: Refs) -> pb.Position:
    role = r["role"]
    street_role = role.startswith("street_")
    if street_role and not r.get("street"):
        raise RowProblem("street", f"is required for a {role}")
    if not street_role and not r.get("station"):
        raise RowProblem("station", f"is required for a {role}")
    return pb.Position(
        role=ROLE.number(role),  # type: ignore[arg-type]
        unit_id=refs.street_committee(r["street"]) if street_role else 0,
        station_id=0 if street_role else refs.station(r["station"]),
        deputy_id=refs.deputy(r.get("deputy") or ""),
        holder_name=r.get("holder_name") or "",
        holder_title=r.get("holder_title") or "",
        started_on=_iso(r.get("started_on")),
        ended_on=_iso(r.get("ended_on")),
    )


def budget_line_msg(r: dict[str, Any], refs: Refs) -> pb.BudgetLine:
    return pb.BudgetLine(
        unit_id=refs.unit(r["unit"]),
        year=int(r["year"]),
        kind=BUDGET_KIND.number(r["kind"]),  # type: ignore[arg-type]
        amount_yuan=int(r["amount_yuan"]),
        note=r.get("note") or "",
    )


Builder = Callable[[dict[str, Any], Refs], Message]

# In the order a whole district must be loaded: references point backwards.
LOAD_ORDER: tuple[tuple[str, RecordKind, Builder], ...] = (
    ("streets", STREET, street_msg),
    ("areas", AREA, area_msg),
    ("communities", COMMUNITY, community_msg),
    ("venues", VENUE, venue_msg),
    ("stations", STATION, station_msg),
    ("units", UNIT, unit_msg),
    ("deputies", DEPUTY, deputy_msg),
    ("positions", POSITION, position_msg),
    ("budget_lines", BUDGET_LINE, budget_line_msg),
)
BY_NAME = {name: (kind, build) for name, kind, build in LOAD_ORDER}


# Who loads the demo district: the platform itself.
DEMO_LOADER = Principal.system("demo-loader")


class Loader:
    def __init__(
        self, registry: Registry, roster_limits: roster.RosterLimits = roster.DEFAULT_LIMITS
    ) -> None:
        self.registry = registry
        self.records = registry.records
        self.roster_limits = roster_limits

    def _upsert(
        self, uow: UnitOfWork, kind: RecordKind, message: Message, actor: Principal | None
    ) -> bool:
        """Create, or update the record with the same natural key; True if created."""
        if kind is POSITION:
            return self._upsert_position(uow, message, actor)  # type: ignore[arg-type]
        key = {k: getattr(message, k) for k in kind.natural_key}
        if kind is BUDGET_LINE:  # the message holds the enum number, the table its name
            key["kind"] = BUDGET_KIND.to_name.get(key["kind"], "")
        query = select(kind.model).where(*(getattr(kind.model, k) == v for k, v in key.items()))
        if kind.has_active:
            query = query.where(kind.model.active.is_(True))
        existing = uow.session.scalars(query).first()
        if existing is None:
            self.records.create_in(uow, kind, message, actor)
            return True
        self.records.update_in(uow, kind, existing, message, kind.create_fields(message), actor)
        return False

    def _upsert_position(
        self, uow: UnitOfWork, message: pb.Position, actor: Principal | None
    ) -> bool:
        existing = uow.session.scalars(
            select(models.Position).where(
                models.Position.role == ROLE.to_name.get(message.role, ""),
                models.Position.unit_id == (message.unit_id or None),
                models.Position.station_id == (message.station_id or None),
                models.Position.holder_name == message.holder_name,
                models.Position.ended_on.is_(None),
            )
        ).first()
        if existing is None:
            self.records.create_in(uow, POSITION, message, actor, frozenset({"ended_on"}))
            return True
        self.records.update_in(
            uow, POSITION, existing, message, {"holder_title", "started_on", "ended_on"}, actor
        )
        return False

    def _rows_into(
        self,
        uow: UnitOfWork,
        kind: RecordKind,
        build: Builder,
        rows: Iterable[tuple[int, dict[str, Any]]],
        errors: list[roster.RowError],
        actor: Principal | None,
        header: Callable[[int, str], str] = lambda _row, key: key,
    ) -> tuple[int, int]:
        """Upsert every row; problems go to `errors`, naming columns by `header`."""
        created = updated = 0
        refs = Refs(uow.session)
        for row_number, values in rows:
            # Raised out of the unit of work: the rows so far are rolled back.
            check_deadline(f"importing row {row_number} of the roster")
            try:
                # A savepoint per row: a bad row leaves nothing half-written,
                # and the rows after it are still checked.
                with uow.session.begin_nested():
                    message = build(values, refs)
                    if self._upsert(uow, kind, message, actor):
                        created += 1
                    else:
                        updated += 1
            except (PermissionDenied, Unauthenticated):
                raise  # a caller who may not write this row: the whole file is refused
            except RowProblem as problem:
                column = header(row_number, problem.column)
                errors.append(roster.RowError(row_number, column, problem.reason))
            except DomainError as error:
                if error.violations:
                    for v in error.violations:
                        column = header(row_number, FIELD_COLUMNS.get(v.field, v.field))
                        errors.append(roster.RowError(row_number, column, v.description))
                else:
                    errors.append(roster.RowError(row_number, "", error.message))
        return created, updated

    def import_roster(
        self, kind_name: str, fmt: str, content: bytes, actor: Principal | None
    ) -> tuple[int, int]:
        kind, build = BY_NAME[kind_name]
        # Who may write this kind at all, before the file is read.
        self.records.writer(kind, actor, "import")
        # Raises RosterError, or InvalidArgument for a file beyond the limits.
        rows = roster.parse_roster(kind_name, fmt, content, self.roster_limits)
        errors: list[roster.RowError] = []
        with self.registry.db.unit_of_work() as uow:
            by_number = {r.row: r for r in rows}
            created, updated = self._rows_into(
                uow,
                kind,
                build,
                ((r.row, r.values) for r in rows),
                errors,
                actor,
                header=lambda number, key: by_number[number].header(key),
            )
            if errors:
                raise roster.RosterError(errors)  # rolls the whole file back
        return created, updated

    def load_district(self, district: District, *, if_empty: bool = False) -> dict[str, int] | None:
        """Load a whole district in one transaction (idempotent: upserts).

        With `if_empty`, only into a registry that has no street yet; None
        when it has one, and nothing is written. A local run loads the demo
        this way at every start and so never overwrites what people changed.
        """
        counts: dict[str, int] = {}
        errors: list[roster.RowError] = []
        with self.registry.db.unit_of_work() as uow:
            if if_empty:
                # Two starts at once: the second waits here until the first
                # has committed, then sees its streets. (On SQLite the unit of
                # work's BEGIN IMMEDIATE already serialises writers.)
                if self.registry.db.is_postgres:
                    uow.session.execute(
                        text("SELECT pg_advisory_xact_lock(hashtext('registry.load_district'))")
                    )
                if uow.session.scalar(select(models.Street.id).limit(1)) is not None:
                    return None
            for name, kind, build in LOAD_ORDER:
                rows = getattr(district, name)
                created, updated = self._rows_into(
                    uow, kind, build, enumerate(rows, start=1), errors, DEMO_LOADER
                )
                if errors:
                    detail = "; ".join(f"{name} {e.row} {e.column}: {e.reason}" for e in errors[:5])
                    raise RuntimeError(f"demo data does not load: {detail}")
                counts[name] = created + updated
        return counts

    def export_roster(self, kind_name: str, fmt: str, street_id: int) -> bytes:
        with self.registry.db.read() as session:
            rows = list(export_rows(session, kind_name, street_id))
        return roster.write_roster(kind_name, fmt, rows)


def export_rows(session: Session, kind_name: str, street_id: int) -> Iterable[dict[str, Any]]:
    def code_of(model: type[Any], record_id: int | None) -> str:
        if not record_id:
            return ""
        found = session.get(model, record_id)
        return found.code if found else ""

    def community_codes(ids: Iterable[int]) -> list[str]:
        return [code_of(models.Community, i) for i in ids]

    if kind_name == "deputies":
        deputies = select(models.Deputy).where(models.Deputy.active.is_(True))
        if street_id:
            deputies = deputies.where(models.Deputy.street_id == street_id)
        for d in session.scalars(deputies.order_by(models.Deputy.code)):
            contact = d.contact
            yield {
                "code": d.code,
                "name": d.name,
                "gender": d.gender,
                "level": d.level,
                "term": d.term,
                "term_start": d.term_start,
                "term_end": d.term_end,
                "street": code_of(models.Street, d.street_id),
                "station": code_of(models.Station, d.station_id),
                "profession": d.profession,
                "expertise": [e.tag for e in d.expertise],
                "contact_communities": community_codes(
                    c.community_id for c in d.contact_communities
                ),
                "phone": contact.phone if contact else "",
                "email": contact.email if contact else "",
                "workplace": contact.workplace if contact else "",
                "workplace_address": contact.workplace_address if contact else "",
                "biography": d.biography,
            }
    elif kind_name == "stations":
        stations = select(models.Station).where(models.Station.active.is_(True))
        if street_id:
            stations = stations.where(models.Station.street_id == street_id)
        for s in session.scalars(stations.order_by(models.Station.code)):
            yield {
                "code": s.code,
                "name": s.name,
                "street": code_of(models.Street, s.street_id),
                "area": code_of(models.Area, s.area_id),
                "venue": code_of(models.Venue, s.venue_id),
                "communities": community_codes(c.community_id for c in s.served),
                "opened_on": s.opened_on,
            }
    elif kind_name == "communities":
        communities = select(models.Community).where(models.Community.active.is_(True))
        if street_id:
            communities = communities.where(models.Community.street_id == street_id)
        for c in session.scalars(communities.order_by(models.Community.code)):
            yield {
                "code": c.code,
                "name": c.name,
                "street": code_of(models.Street, c.street_id),
                "area": code_of(models.Area, c.area_id),
                "address_keywords": [k.keyword for k in c.keywords],
            }
    elif kind_name == "positions":
        positions = select(models.Position).where(models.Position.ended_on.is_(None))
        for p in session.scalars(positions.order_by(models.Position.id)):
            unit = session.get(models.Unit, p.unit_id) if p.unit_id else None
            station = session.get(models.Station, p.station_id) if p.station_id else None
            p_street = unit.street_id if unit else (station.street_id if station else None)
            if street_id and p_street != street_id:
                continue
            yield {
                "role": p.role,
                "street": code_of(models.Street, p_street),
                "station": station.code if station else "",
                "deputy": code_of(models.Deputy, p.deputy_id),
                "holder_name": p.holder_name,
                "holder_title": p.holder_title,
                "started_on": p.started_on,
                "ended_on": p.ended_on,
            }

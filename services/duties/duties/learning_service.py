"""Learning materials' use cases: publish, read and list, mark read, and who
has read what. Each change is one unit of work with its event and audit
entry; a refused call writes nothing.

Who may: publish, the district's offices (admin, standing committee office,
working body) for the district or a street, a street committee for its own
street; read and list, the district's offices all, street staff the
district's and their street's, a deputy those meant for them (the
district's and their street's, their street asked of the registry); mark
read, the deputy themself; readership, the district's offices, street staff
among their street's deputies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from duties.learning import MaterialDraft, check_material, readership
from duties.registry import Deputies
from duties.scorecard_models import MaterialReadRow, MaterialRow
from kit import audit
from kit.auth import STREET_SCOPED_ROLES, Principal, Role, require
from kit.convert import EnumNames, timestamp
from kit.db import Database
from kit.errors import NotFound, PermissionDenied, invalid
from kit.records import page
from liaison.duties.v1 import scorecard_events_pb2 as ev
from liaison.duties.v1 import scorecard_pb2 as pb

KIND = EnumNames(pb.MaterialKind, "MATERIAL_KIND")
DISTRICT_OFFICES = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.WORKING_BODY)
# The platform itself publishes the demo's materials (never from a token).
PUBLISHERS = (*DISTRICT_OFFICES, Role.STREET_COMMITTEE, Role.SYSTEM)
STAFF = (*DISTRICT_OFFICES, *STREET_SCOPED_ROLES)
READERS = (*STAFF, Role.DEPUTY)
MAX_ID = 2**63 - 1


def _id(value: int, field: str = "id", *, required: bool = True) -> int:
    if (required and value == 0) or not 0 <= value <= MAX_ID:
        raise invalid(field, "is required: a positive id" if required else "must be a positive id")
    return value


class Learning:
    """Learning materials' use cases over one Database and the registry."""

    def __init__(
        self,
        db: Database,
        deputies: Deputies,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.deputies = deputies
        self.clock = clock or (lambda: datetime.now(UTC))

    def publish(self, request: pb.PublishMaterialRequest, actor: Principal | None) -> Any:
        who = require(actor, *PUBLISHERS, doing="publish learning materials")
        street_id = _id(request.street_id, "street_id", required=False)
        if who.role is Role.STREET_COMMITTEE:
            if street_id not in (0, who.street_id):
                raise PermissionDenied(
                    f"a street committee of street {who.street_id} may publish only for its "
                    f"own street, not street {street_id}"
                )
            street_id = who.street_id or 0
        draft = check_material(
            MaterialDraft(
                request.title, KIND.to_name.get(request.kind, ""), request.text, request.url
            )
        )
        with self.db.unit_of_work() as uow:
            row = MaterialRow(
                title=draft.title,
                kind=draft.kind,
                text=draft.text,
                url=draft.url,
                street_id=street_id or None,
                published_at=self.clock(),
            )
            uow.session.add(row)
            uow.session.flush()
            view = _material_pb(row)
            uow.emit(ev.MaterialPublished(material=view))
            audit.record(
                uow.session,
                who,
                "publish_material",
                "material",
                row.id,
                ["title", "kind", "text", "url", "street_id"],
            )
            return view

    def _reader_street(self, who: Principal) -> int | None:
        """The one street whose materials the caller reads besides the
        district's; None for the district's offices (every street)."""
        if who.role is Role.DEPUTY:
            if who.deputy_id is None:
                raise PermissionDenied("a deputy's token names no deputy")
            return self.deputies.deputy(who.deputy_id).street_id
        if who.role in STREET_SCOPED_ROLES:
            return who.street_id or 0
        return None

    def get(self, material_id: int, actor: Principal | None) -> Any:
        who = require(actor, *READERS, doing="read learning materials")
        _id(material_id)
        street = self._reader_street(who)
        with self.db.read() as session:
            row = _material(session, material_id)
            _check_meant(row, street, who)
            return self._view(session, row, who)

    def list(
        self, request: pb.ListMaterialsRequest, actor: Principal | None
    ) -> tuple[list[Any], Any]:
        who = require(actor, *READERS, doing="list learning materials")
        wanted = _id(request.street_id, "street_id", required=False)
        street = self._reader_street(who)
        m = MaterialRow
        query = select(m)
        if street is not None:
            if wanted not in (0, street):
                raise PermissionDenied(
                    f"a {who.role.value} may not list street {wanted}'s learning materials"
                )
            query = query.where(or_(m.street_id.is_(None), m.street_id == street))
        if wanted:
            query = query.where(m.street_id == wanted)
        if request.unread_only:
            if who.role is not Role.DEPUTY:
                raise invalid("unread_only", "is for a deputy's own list")
            query = query.where(
                ~exists().where(
                    MaterialReadRow.material_id == m.id,
                    MaterialReadRow.deputy_id == who.deputy_id,
                )
            )
        with self.db.read() as session:
            rows, info = page(session, query, m.id, request.page, request)
            return [self._view(session, r, who) for r in rows], info

    def mark_read(self, material_id: int, actor: Principal | None) -> Any:
        who = require(actor, Role.DEPUTY, doing="mark learning materials read")
        _id(material_id)
        street = self._reader_street(who)
        with self.db.unit_of_work() as uow:
            session = uow.session
            row = _material(session, material_id)
            _check_meant(row, street, who)
            inserted = session.execute(
                pg_insert(MaterialReadRow)
                .values(material_id=row.id, deputy_id=who.deputy_id, read_at=self.clock())
                .on_conflict_do_nothing()
                .returning(MaterialReadRow.deputy_id)
            ).first()
            if inserted is not None:
                uow.emit(ev.MaterialRead(material_id=row.id, deputy_id=who.deputy_id or 0))
                audit.record(session, who, "mark_material_read", "material", row.id, ["read_at"])
            return self._view(session, row, who)

    def readership(self, request: pb.GetMaterialReadershipRequest, actor: Principal | None) -> Any:
        who = require(actor, *STAFF, doing="see who has read learning materials")
        _id(request.id)
        wanted = _id(request.street_id, "street_id", required=False)
        street = self._reader_street(who)
        with self.db.read() as session:
            row = _material(session, request.id)
            _check_meant(row, street, who)
            if street is not None and wanted not in (0, street):
                raise PermissionDenied(
                    f"a {who.role.value} of street {street} may not see street {wanted}'s readers"
                )
            material_id, material_street = row.id, row.street_id
            within = street or wanted or material_street
            reads = {
                r.deputy_id: r.read_at
                for r in session.scalars(
                    select(MaterialReadRow).where(MaterialReadRow.material_id == row.id)
                )
            }
        meant = self.deputies.of_street(within) if within else self.deputies.all_active()
        if material_street is not None:
            meant = [d for d in meant if d.street_id == material_street]
        found = readership((d.id for d in meant), reads)
        facts = {d.id: d for d in meant}

        def reader(deputy_id: int) -> pb.Reader:
            d = facts[deputy_id]
            return pb.Reader(
                deputy_id=d.id,
                name=d.name,
                street_id=d.street_id,
                read_at=timestamp(reads.get(deputy_id)),
            )

        return pb.MaterialReadership(
            material_id=material_id,
            read=[reader(i) for i in found.read],
            not_read=[reader(i) for i in found.not_read],
        )

    def _view(self, session: Session, row: MaterialRow, who: Principal) -> pb.Material:
        view = _material_pb(row)
        if who.role is Role.DEPUTY:
            read = session.get(MaterialReadRow, (row.id, who.deputy_id))
            if read is not None:
                view.read_at.CopyFrom(timestamp(read.read_at))
        return view


def _material(session: Session, material_id: int) -> MaterialRow:
    row = session.get(MaterialRow, material_id)
    if row is None:
        raise NotFound(f"no learning material {material_id}")
    return row


def _check_meant(row: MaterialRow, street: int | None, who: Principal) -> None:
    """Refuse a material of another street than the caller's."""
    if street is not None and row.street_id is not None and row.street_id != street:
        raise PermissionDenied(
            f"learning material {row.id} is for street {row.street_id}, "
            f"not a {who.role.value} of street {street}"
        )


def _material_pb(row: MaterialRow) -> pb.Material:
    return pb.Material(
        id=row.id,
        title=row.title,
        kind=KIND.number(row.kind),  # type: ignore[arg-type]
        text=row.text,
        url=row.url,
        street_id=row.street_id or 0,
        published_at=timestamp(row.published_at),
    )

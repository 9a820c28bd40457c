"""The registry's use cases: each one a unit of work that changes records,
checks the rules and records the events others need, all in one commit."""

from __future__ import annotations

import base64
import threading
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kit.db import Database, UnitOfWork
from kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    invalid,
)
from kit.outbox import outbox_events
from liaison.registry.v1 import events_pb2 as ev
from liaison.registry.v1 import registry_pb2 as pb
from registry import domain, models
from registry.domain import Violations
from registry.records import (
    BUDGET_LINE,
    DEPUTY,
    POSITION,
    UNIT,
    RecordKind,
    deputy_profile_pb,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


# ---------------------------------------------------------------- paging


def encode_token(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode()


def decode_token(token: str) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, value = text.partition(":")
        if prefix != "after":
            raise ValueError(text)
        return int(value)
    except Exception as exc:
        raise invalid("page.page_token", "is not a token this service gave out") from exc


def page(
    session: Session, query: Select[Any], model: type[Any], request: Any
) -> tuple[list[Any], Any]:
    """One page of `query` in id order, and its PageInfo."""
    from liaison.common.v1 import envelope_pb2

    size = request.page_size or DEFAULT_PAGE_SIZE
    if size < 0 or size > MAX_PAGE_SIZE:
        raise invalid("page.page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    after = decode_token(request.page_token)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.scalars(query.where(model.id > after).order_by(model.id).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    info = envelope_pb2.PageInfo(
        next_page_token=encode_token(rows[-1].id) if more and rows else "",
        total_size=int(total or 0),
    )
    return rows, info


# ---------------------------------------------------------------- masks


def fields_for_create(kind: RecordKind, message: Message) -> set[str]:
    """Every settable field: a create sets them all (defaults included)."""
    return {f for f in kind.settable if "." not in f}


def fields_for_update(kind: RecordKind, message: Message, mask: Sequence[str]) -> set[str]:
    if not mask:
        raise invalid("update_mask", "name the fields to change")
    unknown = [p for p in mask if p not in kind.settable]
    if unknown:
        raise InvalidArgument(
            f"cannot change {', '.join(unknown)} of a {kind.noun}",
            [
                domain.FieldViolation("update_mask", f"{p} is not a field that can be changed")
                for p in unknown
            ],
        )
    return set(mask)


# ---------------------------------------------------------------- the flow


class Registry:
    """The registry's application service, over one Database."""

    def __init__(self, db: Database, budget_minimum_yuan: int = 370_000) -> None:
        self.db = db
        self.budget_minimum_yuan = budget_minimum_yuan
        self._directory = DirectoryCache()

    # -- generic reads

    def get(self, kind: RecordKind, record_id: int) -> Message:
        with self.db.read() as session:
            return kind.to_pb(self._load(session, kind, record_id))

    def list_page(
        self, kind: RecordKind, query: Select[Any], page_request: Any
    ) -> tuple[list[Message], Any]:
        with self.db.read() as session:
            rows, info = page(session, query, kind.model, page_request)
            return [kind.to_pb(r) for r in rows], info

    # -- generic writes

    def create(self, kind: RecordKind, message: Message) -> Message:
        with self.db.unit_of_work() as uow:
            model = self._create(uow, kind, message)
            return kind.to_pb(model)

    def update(self, kind: RecordKind, message: Message, mask: Sequence[str]) -> Message:
        with self.db.unit_of_work() as uow:
            model = self._load(uow.session, kind, message.id)  # type: ignore[attr-defined]
            fields = fields_for_update(kind, message, mask)
            self._update(uow, kind, model, message, fields)
            return kind.to_pb(model)

    def _update(
        self, uow: UnitOfWork, kind: RecordKind, model: Any, message: Message, fields: set[str]
    ) -> list[str]:
        """Apply `fields` of `message` to `model`; the names of those that changed."""
        if kind.has_active and not model.active:
            raise FailedPrecondition(f"{kind.noun} {model.id} is deactivated")
        before = _snapshot(kind, model)
        v = Violations()
        kind.apply(uow.session, model, message, fields, v)
        if v:
            raise InvalidArgument(_summary(kind, v), v.items)
        if kind is POSITION and model.ended_on is None:
            with uow.session.no_autoflush:
                self._check_position_free(uow.session, model)
        self._check_unique(uow.session, kind, model)
        self._flush(uow, kind)
        after = _snapshot(kind, model)
        changed = sorted(f for f in after if before.get(f) != after.get(f))
        self._emit_change(uow, kind, model, "updated", changed, before)
        return changed

    def deactivate(self, kind: RecordKind, record_id: int, reason: str) -> Message:
        if not reason.strip():
            raise invalid("reason", "is required: say why the record is deactivated")
        with self.db.unit_of_work() as uow:
            model = self._load(uow.session, kind, record_id)
            if not model.active:
                raise FailedPrecondition(
                    f"{kind.noun} {record_id} was already deactivated at "
                    f"{model.deactivated_at.isoformat()}"
                )
            if kind is DEPUTY:
                self._vacate_positions_of(uow, model, reason)
            model.active = False
            model.deactivated_at = models.utcnow()
            model.deactivation_reason = reason.strip()
            uow.session.flush()
            self._emit_change(uow, kind, model, "deactivated", [], {})
            return kind.to_pb(model)

    def _create(
        self,
        uow: UnitOfWork,
        kind: RecordKind,
        message: Message,
        extra_fields: frozenset[str] = frozenset(),
    ) -> Any:
        v = Violations()
        for name in kind.required:
            v.require(name, getattr(message, name))
        model = kind.model()
        fields = fields_for_create(kind, message) | extra_fields
        if kind is DEPUTY and message.HasField("contact"):  # type: ignore[attr-defined]
            fields.add("contact")
        kind.apply(uow.session, model, message, fields, v)
        if v:
            v.items = list({(i.field, i.description): i for i in v.items}.values())
            raise InvalidArgument(_summary(kind, v), v.items)
        if kind is POSITION:
            self._check_position_free(uow.session, model)
        self._check_unique(uow.session, kind, model)
        uow.session.add(model)
        self._flush(uow, kind)
        self._emit_change(uow, kind, model, "created", [], {})
        return model

    # -- particular use cases

    def get_deputy_profile(self, deputy_id: int) -> pb.DeputyProfile:
        with self.db.read() as session:
            return deputy_profile_pb(self._load(session, DEPUTY, deputy_id), session)

    def fill_position(self, message: pb.Position) -> pb.Position:
        return self.create(POSITION, message)  # type: ignore[return-value]

    def vacate_position(self, position_id: int, ended_on: str, reason: str) -> pb.Position:
        if not reason.strip():
            raise invalid("reason", "is required: say why the position is vacated")
        v = Violations()
        end = v.iso_date("ended_on", ended_on) if ended_on else domain.today()
        if v:
            raise InvalidArgument("ended_on is not a date", v.items)
        with self.db.unit_of_work() as uow:
            position = self._load(uow.session, POSITION, position_id)
            if position.ended_on is not None:
                raise FailedPrecondition(
                    f"position {position_id} was already vacated on {position.ended_on}"
                )
            if end and end < position.started_on:
                raise invalid("ended_on", f"{end.isoformat()} is before started_on")
            position.ended_on = end
            position.end_reason = reason.strip()
            uow.session.flush()
            uow.emit(ev.PositionVacated(position=POSITION.to_pb(position)))
            return POSITION.to_pb(position)  # type: ignore[return-value]

    def check_budgets(self, year: int, unit_id: int) -> list[pb.StreetBudgetCheck]:
        if not year:
            year = domain.today().year
        with self.db.read() as session:
            query = select(models.Unit).where(
                models.Unit.kind == "street_committee", models.Unit.active.is_(True)
            )
            if unit_id:
                unit = self._load(session, UNIT, unit_id)
                if unit.kind != "street_committee":
                    raise invalid(
                        "unit_id", f"unit {unit_id} is a {unit.kind}, not a street committee"
                    )
                query = query.where(models.Unit.id == unit_id)
            units = list(session.scalars(query.order_by(models.Unit.id)))
            sums: dict[tuple[int, str], int] = {
                (uid, k): int(total)
                for uid, k, total in session.execute(
                    select(
                        models.BudgetLine.unit_id,
                        models.BudgetLine.kind,
                        func.sum(models.BudgetLine.amount_yuan),
                    )
                    .where(models.BudgetLine.year == year, models.BudgetLine.active.is_(True))
                    .group_by(models.BudgetLine.unit_id, models.BudgetLine.kind)
                )
            }
            checks = []
            for unit in units:
                check = domain.BudgetCheck(
                    personnel=sums.get((unit.id, "personnel"), 0),
                    operations=sums.get((unit.id, "operations"), 0),
                    minimum=self.budget_minimum_yuan,
                )
                checks.append(
                    pb.StreetBudgetCheck(
                        unit_id=unit.id,
                        unit_name=unit.name,
                        year=year,
                        personnel_yuan=check.personnel,
                        operations_yuan=check.operations,
                        total_yuan=check.total,
                        minimum_yuan=check.minimum,
                        meets_minimum=check.meets_minimum,
                        shortfall_yuan=check.shortfall,
                    )
                )
        return checks

    def find_station(self, request: pb.FindStationRequest) -> pb.FindStationResponse:
        """The station serving a community, its venue and deputies.

        The public's most frequent question, asked of data that changes
        rarely: answers are kept per community and dropped as soon as
        anything in the registry changes. Every change writes an outbox row
        in its own transaction, so the newest outbox id is an exact version
        of the registry's data, read with one indexed query.
        """
        with self.db.read() as session:
            directory = self._directory.current(session)
            community_id = directory.community_for(request)
            cached = directory.answers.get(community_id)
            if cached is not None:
                return cached
            answer = self._build_station_answer(session, community_id)
            directory.answers[community_id] = answer
            return answer

    def _build_station_answer(self, session: Session, community_id: int) -> pb.FindStationResponse:
        from registry.records import community_pb, station_pb, street_pb, venue_pb

        community = session.get(models.Community, community_id)
        assert community is not None
        station = session.scalars(
            select(models.Station)
            .join(models.StationCommunity)
            .where(
                models.StationCommunity.community_id == community.id,
                models.Station.active.is_(True),
            )
        ).first()
        if station is None:
            raise NotFound(f"no active liaison station serves {community.name} yet")
        venue = session.get(models.Venue, station.venue_id) if station.venue_id else None
        street = session.get(models.Street, station.street_id)
        deputies = list(
            session.scalars(
                select(models.Deputy).where(
                    models.Deputy.station_id == station.id, models.Deputy.active.is_(True)
                )
            )
        )
        deputies.sort(key=lambda d: (domain.level_rank(d.level), d.code))
        heads = set(
            session.scalars(
                select(models.Position.deputy_id).where(
                    models.Position.station_id == station.id,
                    models.Position.role == "station_head",
                    models.Position.ended_on.is_(None),
                )
            )
        )
        contacts = list(
            session.scalars(
                select(models.Deputy)
                .join(models.DeputyContactCommunity)
                .where(
                    models.DeputyContactCommunity.community_id == community.id,
                    models.Deputy.active.is_(True),
                )
                .order_by(models.Deputy.code)
            )
        )
        return pb.FindStationResponse(
            community=community_pb(community),
            station=station_pb(station),
            venue=venue_pb(venue) if venue else None,
            street=street_pb(street) if street else None,
            deputies=[
                pb.StationDeputy(
                    deputy=deputy_profile_pb(d, session), is_station_head=d.id in heads
                )
                for d in deputies
            ],
            contact_deputies=[deputy_profile_pb(d, session) for d in contacts],
        )

    # -- helpers

    def _load(self, session: Session, kind: RecordKind, record_id: int) -> Any:
        if record_id <= 0:
            raise invalid("id", "must be a positive number")
        found = session.get(kind.model, record_id)
        if found is None:
            raise NotFound(f"no {kind.noun} has id {record_id}")
        return found

    def _check_unique(self, session: Session, kind: RecordKind, model: Any) -> None:
        if not kind.natural_key:
            return
        key = kind.natural_key_of(model)
        query = select(kind.model).where(
            *(getattr(kind.model, k) == value for k, value in key.items())
        )
        if model.id:
            query = query.where(kind.model.id != model.id)
        if kind is BUDGET_LINE:  # deactivated lines stay as history
            query = query.where(kind.model.active.is_(True))
        # No autoflush: flushing the changed key first would fail on the
        # unique constraint instead of answering ALREADY_EXISTS.
        with session.no_autoflush:
            twin = session.scalars(query).first()
        if twin is not None:
            shown = ", ".join(f"{k}={v}" for k, v in key.items())
            raise AlreadyExists(f"a {kind.noun} with {shown} exists already (id {twin.id})")

    def _check_position_free(self, session: Session, position: models.Position) -> None:
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

    def _vacate_positions_of(self, uow: UnitOfWork, deputy: models.Deputy, reason: str) -> None:
        for position in uow.session.scalars(
            select(models.Position).where(
                models.Position.deputy_id == deputy.id, models.Position.ended_on.is_(None)
            )
        ):
            position.ended_on = max(domain.today(), position.started_on)
            position.end_reason = f"deputy deactivated: {reason.strip()}"
            uow.session.flush()
            uow.emit(ev.PositionVacated(position=POSITION.to_pb(position)))

    def _flush(self, uow: UnitOfWork, kind: RecordKind) -> None:
        try:
            uow.session.flush()
        except IntegrityError as exc:
            raise AlreadyExists(f"a {kind.noun} with the same key exists already") from exc

    def _emit_change(
        self,
        uow: UnitOfWork,
        kind: RecordKind,
        model: Any,
        change: str,
        changed: list[str],
        before: dict[str, Any],
    ) -> None:
        if kind.event is None:
            return
        if change == "updated" and not changed:
            return  # nothing changed: nothing to tell
        uow.emit(kind.event(uow.session, model, change, changed))
        if (
            kind is DEPUTY
            and change == "updated"
            and ("station_id" in changed or "street_id" in changed)
        ):
            uow.emit(
                ev.DeputyReassigned(
                    deputy=deputy_profile_pb(model, uow.session),
                    from_station_id=before.get("station_id") or 0,
                    to_station_id=model.station_id or 0,
                    from_street_id=before.get("street_id") or 0,
                    to_street_id=model.street_id or 0,
                )
            )


def _snapshot(kind: RecordKind, model: Any) -> dict[str, Any]:
    """The settable fields' values, to tell what an update changed."""
    message = kind.to_pb(model)
    snap: dict[str, Any] = {}
    for name in kind.settable:
        target: Any = message
        for part in name.split("."):
            target = getattr(target, part, None)
        if isinstance(target, Message):
            snap[name] = target.SerializeToString()
        elif isinstance(target, str | int | float | bool) or target is None:
            snap[name] = target
        else:  # a repeated field
            snap[name] = list(target)
    return snap


def _summary(kind: RecordKind, v: Violations) -> str:
    names = ", ".join(dict.fromkeys(i.field for i in v.items))
    return f"the {kind.noun} is not valid: check {names}"


class Directory:
    """The communities as an address names them, and answers already given,
    for one version of the registry's data."""

    def __init__(self, version: int, session: Session) -> None:
        self.version = version
        self.answers: dict[int, pb.FindStationResponse] = {}
        terms: dict[int, tuple[str, list[str]]] = {}
        self.by_code: dict[str, int] = {}
        for cid, code, name, keyword in session.execute(
            select(
                models.Community.id,
                models.Community.code,
                models.Community.name,
                models.CommunityKeyword.keyword,
            )
            .outerjoin(models.CommunityKeyword)
            .where(models.Community.active.is_(True))
        ):
            terms.setdefault(cid, (name, []))[1].extend([keyword] if keyword else [])
            self.by_code[code] = cid
        self.names = {cid: name for cid, (name, _) in terms.items()}
        self.terms = [domain.CommunityTerms(cid, n, tuple(k)) for cid, (n, k) in terms.items()]

    def community_for(self, request: pb.FindStationRequest) -> int:
        by = request.WhichOneof("by")
        if by == "community_id":
            if request.community_id not in self.names:
                raise NotFound(f"no active community has id {request.community_id}")
            return request.community_id
        if by == "community_code":
            found = self.by_code.get(request.community_code)
            if found is None:
                raise NotFound(f"no active community has code {request.community_code!r}")
            return found
        if by == "address":
            address = request.address.strip()
            if len(address) < 2:
                raise invalid("address", "give at least a road, estate or community name")
            matches = domain.match_community(address, self.terms)
            if not matches:
                raise NotFound(f"no community of the district is named in {address!r}")
            if len(matches) > 1:
                names = "、".join(self.names[c] for c in matches)
                raise FailedPrecondition(
                    f"the address could be in {names}: add the community or estate name"
                )
            return matches[0]
        raise invalid("by", "give community_id, community_code or address")


class DirectoryCache:
    """The Directory of the registry's current data version, shared by threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._directory: Directory | None = None

    def current(self, session: Session) -> Directory:
        version = int(session.scalar(select(func.max(outbox_events.c.id))) or 0)
        with self._lock:
            directory = self._directory
        if directory is not None and directory.version == version:
            return directory
        directory = Directory(version, session)
        with self._lock:
            self._directory = directory
        return directory

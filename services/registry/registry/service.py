"""The registry's use cases: each one a unit of work that checks who is
asking, changes records, checks the rules and records the events others need
and the audit entry, all in one commit.

The generic flow of the nine record kinds is kit's record engine
(`kit.records.RecordStore`); what is here is particular to the registry.
"""

from __future__ import annotations

import threading
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import func, select

from kit.auth import STAFF_ROLES, Principal, Role, require, require_streets
from kit.db import Database
from kit.errors import (
    FailedPrecondition,
    invalid,
)
from kit.outbox import current_sequence, events_between
from kit.records import RecordKind, RecordStore
from liaison.registry.v1 import registry_pb2 as pb
from registry import domain, models
from registry.lookup import CannotApply, PublicDirectory
from registry.records import (
    DEPUTY,
    POSITION,
    UNIT,
    deputy_profile_pb,
)
from registry.snapshot import directory_parts

# Who may export rosters (they carry private contact): the district's offices
# anywhere, a street committee for its own street.
ROSTER_EXPORTERS = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.SYSTEM, Role.STREET_COMMITTEE)


class Registry:
    """The registry's application service, over one Database."""

    def __init__(self, db: Database, budget_minimum_yuan: int = 370_000) -> None:
        self.db = db
        self.records = RecordStore(db)
        self.budget_minimum_yuan = budget_minimum_yuan
        # The public directory of the newest data version seen, shared by threads.
        self._directory: PublicDirectory | None = None
        self._lock = threading.Lock()

    # -- the record engine's flow, for every kind

    def get(self, kind: RecordKind, record_id: int, actor: Principal | None) -> Message:
        return self.records.get(kind, record_id, actor)

    def list_page(
        self, kind: RecordKind, request: Any, actor: Principal | None
    ) -> tuple[list[Message], Any]:
        return self.records.list_page(kind, request, actor)

    def create(self, kind: RecordKind, message: Message, actor: Principal | None) -> Message:
        return self.records.create(kind, message, actor)

    def update(
        self, kind: RecordKind, message: Message, mask: list[str], actor: Principal | None
    ) -> Message:
        return self.records.update(kind, message, mask, actor)

    def deactivate(
        self, kind: RecordKind, record_id: int, reason: str, actor: Principal | None
    ) -> Message:
        return self.records.deactivate(kind, record_id, reason, actor)

    # -- particular use cases

    def get_deputy_profile(self, deputy_id: int) -> pb.DeputyProfile:
        """Public: what anyone may know of a deputy."""
        with self.db.read() as session:
            return deputy_profile_pb(self.records.load(session, DEPUTY, deputy_id), session)

    def vacate_position(
        self, position_id: int, ended_on: str, reason: str, actor: Principal | None
    ) -> pb.Position:
        who = self.records.writer(POSITION, actor, "vacate")
        if not reason.strip():
            raise invalid("reason", "is required: say why the position is vacated")
        v = domain.Violations()
        end = v.iso_date("ended_on", ended_on) if ended_on else domain.today()
        v.raise_if_any("ended_on is not a date")
        with self.db.unit_of_work() as uow:
            position = self.records.load(uow.session, POSITION, position_id)
            self.records.check_streets(uow.session, POSITION, who, position, set(), "vacate")
            if position.ended_on is not None:
                raise FailedPrecondition(
                    f"position {position_id} was already vacated on {position.ended_on}"
                )
            if end and end < position.started_on:
                raise invalid("ended_on", f"{end.isoformat()} is before started_on")
            position.ended_on = end
            position.end_reason = reason.strip()
            uow.session.flush()
            self.records.changed(
                uow, POSITION, who, position, "vacated", ["ended_on", "end_reason"], {}
            )
            return self.records.view(POSITION, actor, position)  # type: ignore[return-value]

    def check_budgets(
        self, year: int, unit_id: int, actor: Principal | None
    ) -> list[pb.StreetBudgetCheck]:
        require(actor, *STAFF_ROLES, doing="read budget checks")
        if not year:
            year = domain.today().year
        with self.db.read() as session:
            query = select(models.Unit).where(
                models.Unit.kind == "street_committee", models.Unit.active.is_(True)
            )
            if unit_id:
                unit = self.records.load(session, UNIT, unit_id)
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

    def check_roster_export(self, actor: Principal | None, street_id: int) -> None:
        """Rosters carry private contact: who may take them out."""
        who = require(actor, *ROSTER_EXPORTERS, doing="export rosters")
        if not who.is_district:
            if not street_id:
                raise invalid(
                    "street_id", f"give your street ({who.street_id}) to export its roster"
                )
            require_streets(who, {street_id}, "export this roster")

    def directory(self, chunk_size: int = 500) -> list[pb.DirectoryChunk]:
        """The public directory as of one version, in chunks (see StreamDirectory).

        Read in one consistent snapshot, so the version (the sequence of the
        last event whose transaction the snapshot sees, `kit.outbox`) is
        exactly the data sent: events with a larger sequence come after it."""
        if not 0 <= chunk_size <= 10_000:
            raise invalid("chunk_size", "must be between 1 and 10000")
        size = chunk_size or 500
        with self.db.read(consistent=True) as session:
            version = current_sequence(session)
            parts = directory_parts(session)
        chunks: list[pb.DirectoryChunk] = []
        for field, records in parts:
            for start in range(0, len(records), size):
                chunk = pb.DirectoryChunk(version=version)
                getattr(chunk, field).extend(records[start : start + size])
                chunks.append(chunk)
        if not chunks:
            chunks.append(pb.DirectoryChunk(version=version))
        chunks[-1].last = True
        return chunks

    def audit(self, request: Any, actor: Principal | None) -> tuple[list[Any], Any]:
        return self.records.audit_page(request, actor)

    def find_station(self, request: pb.FindStationRequest) -> pb.FindStationResponse:
        """The station serving a community, its venue and deputies.

        The public's most frequent question, asked of data that changes
        rarely: answered from the public directory of the current data
        version (`registry.lookup`, the same the gateway answers from), made
        again only when something changed. Every change writes an event in
        its own transaction, so the service's event sequence (one row) is an
        exact version of the registry's data.
        """
        return self._public_directory().find_station(request)

    def _public_directory(self) -> PublicDirectory:
        """The directory of the current version: the one kept, brought up to
        date with the events written since (read from the outbox, in the
        same snapshot as the version), or a fresh snapshot when there is none
        or the events have been purged."""
        with self._lock:
            current = self._directory
        with self.db.read(consistent=True) as session:
            version = current_sequence(session)
            if current is not None and current.version >= version:
                return current
            events = (
                events_between(session, current.version, version) if current is not None else []
            )
        fresh: PublicDirectory | None = None
        if current is not None and len(events) == version - current.version:
            try:
                fresh = current.applied(events, version)
            except CannotApply:
                fresh = None
        if fresh is None:
            fresh = PublicDirectory.from_chunks(self.directory())
        with self._lock:
            if self._directory is None or fresh.version > self._directory.version:
                self._directory = fresh
        return fresh

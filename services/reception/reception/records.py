"""Reception records and the figures.

A session's record says which deputies came (deputies of the session's
station, from the read model), how many people were received
(person-times) and notes. One per session, held or past, not cancelled;
the staff of the station's street and the district's offices write it
until it is locked, and they and the deputies on the session's rota read it.
Each write publishes `reception_recorded` (the deputies present, no notes or
names), from which the duties service's public duty record counts the
receptions each deputy attended.
Bookings are not built yet, so any non-negative count of person-times is
taken; once they are, it must be at least the bookings attended plus the
walk-ins.

The figures are public aggregates per station, street or the district, per
year or month: sessions recorded, deputy-activity person-times (deputies
present at recorded receptions; the other activities of the "five ones"
belong to services not built yet), reception person-times, and opinions
collected by category, outcome (status) and source.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import Principal, require
from kit.convert import iso, timestamp
from kit.db import Database
from kit.errors import FailedPrecondition, NotFound, PermissionDenied, Violations
from kit.records import MAX_ID
from liaison.reception.v1 import events_pb2 as ev
from liaison.reception.v1 import opinions_pb2 as opb
from reception import access, domain, models
from reception import opinion_rules as rules
from reception.lookup import load
from reception.opinions import READERS, TRIAGE, Clock, check_text, shanghai_day

MAX_NOTES = 2000
MAX_DEPUTIES = 50
MAX_PERSON_TIMES = 100_000


class Records:
    """Reception records and figures, over one Database."""

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or (lambda: datetime.now(UTC))

    @staticmethod
    def _view(session: Session, row: models.ReceptionRecord) -> opb.ReceptionRecord:
        names = []
        for deputy_id in row.deputy_ids:
            deputy = session.get(models.RegistryDeputy, deputy_id)
            names.append(deputy.name if deputy else "")
        opinions = session.scalar(
            select(func.count())
            .select_from(models.Opinion)
            .where(models.Opinion.session_id == row.session_id)
        )
        return opb.ReceptionRecord(
            session_id=row.session_id,
            station_id=row.station_id,
            session_date=iso(row.session_date),
            deputy_ids=list(row.deputy_ids),
            deputy_names=names,
            person_times=row.person_times,
            notes=row.notes,
            locked=row.locked,
            opinions_recorded=int(opinions or 0),
            updated_at=timestamp(row.updated_at),
            locked_at=timestamp(row.locked_at),
        )

    def put(
        self, request: opb.PutReceptionRecordRequest, actor: Principal | None
    ) -> opb.ReceptionRecord:
        who = require(actor, *TRIAGE, doing="write reception records")
        v = Violations()
        notes = check_text(v, "notes", request.notes, MAX_NOTES, required=False)
        if not 0 <= request.person_times <= MAX_PERSON_TIMES:
            v.add("person_times", f"must be between 0 and {MAX_PERSON_TIMES}")
        if len(request.deputy_ids) > MAX_DEPUTIES:
            v.add("deputy_ids", f"holds more than {MAX_DEPUTIES} deputies")
        seen: set[int] = set()
        for i, deputy_id in enumerate(request.deputy_ids):
            if not 0 < deputy_id <= MAX_ID:
                v.add(f"deputy_ids[{i}]", "must be a positive number")
            elif deputy_id in seen:
                v.add(f"deputy_ids[{i}]", f"names deputy {deputy_id} twice")
            seen.add(deputy_id)
        v.raise_if_any("the reception record is not valid")
        with self.db.unit_of_work() as uow:
            session = uow.session
            sitting = load(
                session, models.ReceptionSession, request.session_id, "session", "session_id"
            )
            # One writer of a session's record at a time: the first creates it.
            session.refresh(sitting, with_for_update=True)
            station = session.get(models.RegistryStation, sitting.station_id)
            if station is None or not access.is_station_staff(who, station):
                raise PermissionDenied(
                    f"a {who.role.value} may not write the record of session {sitting.id}"
                )
            if sitting.status == domain.CANCELLED:
                raise FailedPrecondition(f"session {sitting.id} was cancelled: it has no record")
            if sitting.session_date > shanghai_day(self.clock()):
                raise FailedPrecondition(f"session {sitting.id} has not been held yet")
            for i, deputy_id in enumerate(request.deputy_ids):
                deputy = session.get(models.RegistryDeputy, deputy_id)
                if deputy is None or deputy.station_id != station.id:
                    v.add(
                        f"deputy_ids[{i}]",
                        f"deputy {deputy_id} is not a deputy of station {station.id}",
                    )
            v.raise_if_any("the reception record is not valid")
            row = session.get(models.ReceptionRecord, sitting.id, with_for_update=True)
            created = row is None
            if row is None:
                row = models.ReceptionRecord(
                    session_id=sitting.id, station_id=station.id, session_date=sitting.session_date
                )
                session.add(row)
            elif row.locked:
                raise FailedPrecondition(f"the record of session {sitting.id} is locked")
            before = (list(row.deputy_ids or []), row.person_times, row.notes, row.locked)
            row.deputy_ids = list(request.deputy_ids)
            row.person_times = request.person_times
            row.notes = notes
            if request.lock:
                row.locked = True
                row.locked_at = self.clock()
            session.flush()
            after = (row.deputy_ids, row.person_times, row.notes, row.locked)
            changed = [
                name
                for name, old, new in zip(
                    ("deputy_ids", "person_times", "notes", "locked"), before, after, strict=True
                )
                if created or old != new
            ]
            uow.emit(
                ev.ReceptionRecorded(
                    session_id=sitting.id,
                    station_id=station.id,
                    session_date=iso(row.session_date),
                    deputy_ids=list(row.deputy_ids),
                    person_times=row.person_times,
                    locked=row.locked,
                )
            )
            audit.record(
                session,
                who,
                "created" if created else "updated",
                "reception_record",
                sitting.id,
                changed,
            )
            return self._view(session, row)

    def get(self, session_id: int, actor: Principal | None) -> opb.ReceptionRecord:
        who = require(actor, *READERS, doing="read reception records")
        with self.db.read() as session:
            sitting = load(session, models.ReceptionSession, session_id, "session", "session_id")
            station = session.get(models.RegistryStation, sitting.station_id)
            if station is None or not access.may_see_personal(session, who, station, sitting.id):
                raise PermissionDenied(
                    f"a {who.role.value} may not read the record of session {sitting.id}"
                )
            row = session.get(models.ReceptionRecord, sitting.id)
            if row is None:
                raise NotFound(f"session {sitting.id} has no record yet")
            return self._view(session, row)

    # -- figures

    def figures(self, request: opb.GetReceptionFiguresRequest) -> opb.ReceptionFigures:
        """Public aggregates: no record, no person."""
        v = Violations()
        if not 2000 <= request.year <= 2100:
            v.add("year", "is required, between 2000 and 2100")
        if not 0 <= request.month <= 12:
            v.add("month", "must be between 1 and 12 (0: the whole year)")
        if request.station_id and request.street_id:
            v.add("street_id", "give a station or a street, not both")
        for field in ("station_id", "street_id"):
            if not 0 <= getattr(request, field) <= MAX_ID:
                v.add(field, "must be a positive number")
        v.raise_if_any("the figures asked are not valid")
        first = date(request.year, request.month or 1, 1)
        last_month = request.month or 12
        last = date(request.year, last_month, calendar.monthrange(request.year, last_month)[1])
        with self.db.read(consistent=True) as session:
            records = select(models.ReceptionRecord).where(
                models.ReceptionRecord.session_date.between(first, last)
            )
            opinions = select(models.Opinion.recorded_on, models.Opinion.category,
                              models.Opinion.status, models.Opinion.source).where(
                models.Opinion.recorded_on.between(first, last)
            )  # fmt: skip
            if request.station_id:
                load(session, models.RegistryStation, request.station_id, "station", "station_id")
                records = records.where(models.ReceptionRecord.station_id == request.station_id)
                opinions = opinions.where(models.Opinion.station_id == request.station_id)
            elif request.street_id:
                stations = select(models.RegistryStation.id).where(
                    models.RegistryStation.street_id == request.street_id
                )
                if not session.scalars(stations).first():
                    raise NotFound(f"no station is in street {request.street_id}")
                records = records.where(models.ReceptionRecord.station_id.in_(stations))
                opinions = opinions.where(models.Opinion.street_id == request.street_id)
            rows = [
                (r.session_date, len(r.deputy_ids or []), r.person_times)
                for r in session.scalars(records)
            ]
            found = list(session.execute(opinions).all())
        months = {m: opb.MonthFigures(month=f"{request.year}-{m:02d}") for m in range(1, 13)}
        for day, deputies, people in rows:
            month = months[day.month]
            month.sessions_recorded += 1
            month.deputy_activity_person_times += deputies
            month.reception_person_times += people
        for recorded_on, *_ in found:
            months[recorded_on.month].opinions_collected += 1
        chosen = [months[m] for m in range(first.month, last.month + 1)]
        return opb.ReceptionFigures(
            station_id=request.station_id,
            street_id=request.street_id,
            year=request.year,
            month=request.month,
            sessions_recorded=sum(m.sessions_recorded for m in chosen),
            deputy_activity_person_times=sum(m.deputy_activity_person_times for m in chosen),
            reception_person_times=sum(m.reception_person_times for m in chosen),
            opinions_collected=len(found),
            by_category=_counts(
                Counter(c for _, c, _, _ in found),
                [(c.name, c.label) for c in rules.CATEGORIES],
            ),
            by_outcome=_counts(
                Counter(s for _, _, s, _ in found),
                [(s, rules.STATUS_LABELS[s]) for s in rules.STATUSES],
            ),
            by_source=_counts(
                Counter(s for _, _, _, s in found),
                [(s, rules.SOURCE_LABELS[s]) for s in rules.SOURCES],
            ),
            months=[] if request.month else chosen,
        )


def _counts(counts: Counter[str], keys: Sequence[tuple[str, str]]) -> list[opb.FigureCount]:
    """Every key in its order, zeros included, so the figures are read alike."""
    return [opb.FigureCount(key=k, label=label, count=counts.get(k, 0)) for k, label in keys]

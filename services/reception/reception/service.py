"""The reception service's use cases: each one a unit of work that checks who
is asking, changes the calendar, and records the events others need and the
audit entry, all in one commit.

Who may change a station's calendar: the district's offices (admin, the
standing committee office, the platform itself), and the station staff and
street committee of the station's street. Sessions are public.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import STAFF_ROLES, Principal, Role, require, require_streets
from kit.convert import timestamp
from kit.db import Database, UnitOfWork
from kit.errors import AlreadyExists, FailedPrecondition, NotFound, Violations, invalid
from kit.records import RecordStore
from liaison.reception.v1 import events_pb2 as ev
from liaison.reception.v1 import reception_pb2 as pb
from reception import domain, ical, models
from reception.bookings import DEFAULT_SLOT_CAPACITY, Bookings
from reception.convert import POLICY, session_pb, slot_hours_pb
from reception.lookup import check_reason
from reception.lookup import load as _load
from reception.opinions import Opinions
from reception.records import Records
from reception.rota import DEFAULT_MIN_DEPUTIES
from reception.rotas import Generated, Rotas

CALENDAR_WRITERS = (
    Role.ADMIN,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.SYSTEM,
    Role.STATION_STAFF,
    Role.STREET_COMMITTEE,
)
MAX_RANGE_DAYS = 400
MAX_MONTHS = 24
STATION_CLOSED = "联络站已停用 (the station was deactivated in the registry)"
FEED_PAST_DAYS = 90


@dataclass(frozen=True)
class Scheduled:
    created: list[pb.Session]
    existing: int


def _reason(field: str, text: str) -> str:
    v = Violations()
    reason = check_reason(v, field, text)
    v.raise_if_any(f"{field} is not valid")
    return reason


class Reception:
    """The reception service's application service, over one Database."""

    def __init__(
        self,
        db: Database,
        *,
        months_ahead: int = 3,
        days: domain.WorkCalendar | None = None,
        default_capacity: int = DEFAULT_SLOT_CAPACITY,
        rota_min_deputies: int = DEFAULT_MIN_DEPUTIES,
    ) -> None:
        self.db = db
        self.months_ahead = months_ahead
        self.days = days or domain.WorkCalendar()
        self.records = RecordStore(db)
        self.bookings = Bookings(db, default_capacity=default_capacity)
        # Opinions and reception records (reception.opinions, reception.records).
        self.opinions = Opinions(db)
        self.reception_records = Records(db)
        # The rota's use cases (reception.rotas); new sessions get a rota.
        self.rota = Rotas(db, min_deputies=rota_min_deputies)

    # -- who may change a station's calendar

    def _writer(self, actor: Principal | None, doing: str) -> Principal:
        return require(actor, *CALENDAR_WRITERS, doing=doing)

    def _station(self, session: Session, station_id: int) -> models.RegistryStation:
        return _load(session, models.RegistryStation, station_id, "station", "station_id")  # type: ignore[no-any-return]

    def _station_for(
        self, session: Session, who: Principal, station_id: int, doing: str
    ) -> models.RegistryStation:
        station = self._station(session, station_id)
        require_streets(who, {station.street_id}, doing)
        return station

    # -- reads

    def _view(self, session: Session, row: models.ReceptionSession) -> pb.Session:
        station = session.get(models.RegistryStation, row.station_id)
        venue = (
            session.get(models.RegistryVenue, station.venue_id)
            if station and station.venue_id
            else None
        )
        return session_pb(row, station, venue)

    def _sessions(
        self, session: Session, station_ids: Sequence[int], first: date, last: date | None
    ) -> list[pb.Session]:
        query = select(models.ReceptionSession).where(
            models.ReceptionSession.station_id.in_(list(station_ids)),
            models.ReceptionSession.session_date >= first,
        )
        if last is not None:
            query = query.where(models.ReceptionSession.session_date <= last)
        rows = session.scalars(
            query.order_by(models.ReceptionSession.session_date, models.ReceptionSession.id)
        )
        return [self._view(session, r) for r in rows]

    def list_sessions(self, station_id: int, first: str, last: str) -> list[pb.Session]:
        """Public: a station's sessions from `first` to `last` (ISO dates)."""
        v = Violations()
        start = v.iso_date("from", first, required=True)
        end = v.iso_date("to", last, required=True)
        if start and end and end < start:
            v.add("to", "is before from")
        elif start and end and (end - start).days > MAX_RANGE_DAYS:
            v.add("to", f"is more than {MAX_RANGE_DAYS} days after from")
        v.raise_if_any("the dates are not valid")
        assert start is not None and end is not None
        with self.db.read() as session:
            self._station(session, station_id)
            return self._sessions(session, [station_id], start, end)

    def get_session(self, session_id: int) -> pb.Session:
        with self.db.read() as session:
            row = _load(session, models.ReceptionSession, session_id, "session", "id")
            return self._view(session, row)

    def station_calendar(self, station_id: int) -> pb.CalendarFeed:
        with self.db.read() as session:
            name = self._station(session, station_id).name
            sessions = self._sessions(
                session, [station_id], domain.today() - timedelta(days=FEED_PAST_DAYS), None
            )
        return pb.CalendarFeed(
            content=ical.feed(f"{name} 接待日", sessions),
            filename=f"station-{station_id}.ics",
        )

    def deputy_calendar(self, deputy_id: int) -> pb.CalendarFeed:
        """The sessions the deputy is on the rota of."""
        with self.db.read() as session:
            deputy = _load(session, models.RegistryDeputy, deputy_id, "deputy", "deputy_id")
            if not deputy.active:
                raise NotFound(f"deputy {deputy_id} is no longer in office")
            name = deputy.name
            first = domain.today() - timedelta(days=FEED_PAST_DAYS)
            sessions = [
                self._view(session, r) for r in self.rota.sessions_of(session, deputy_id, first)
            ]
        return pb.CalendarFeed(
            content=ical.feed(f"{name} 代表接待日", sessions),
            filename=f"deputy-{deputy_id}.ics",
        )

    # -- rules

    def _rule(self, session: Session, station_id: int) -> domain.StationRule:
        row = session.get(models.StationRule, station_id)
        if row is None:
            return domain.StationRule()
        return domain.StationRule(
            day_of_month=row.day_of_month,
            day_off_policy=row.day_off_policy,
            slots=tuple(domain.SlotHours.of(start, end, label) for label, start, end in row.slots),
        )

    def _venue_hours(self, session: Session, station: models.RegistryStation) -> tuple[str, int]:
        venue = session.get(models.RegistryVenue, station.venue_id) if station.venue_id else None
        if venue is None or not venue.active:
            return "", 0
        return venue.opening_hours, venue.capacity

    def _rule_pb(self, session: Session, station: models.RegistryStation) -> pb.StationRule:
        rule = self._rule(session, station.id)
        row = session.get(models.StationRule, station.id)
        hours, _ = self._venue_hours(session, station)
        return pb.StationRule(
            station_id=station.id,
            day_of_month=rule.day_of_month,
            day_off_policy=POLICY.number(rule.day_off_policy),  # type: ignore[arg-type]
            slots=slot_hours_pb(rule.slots),
            effective_slots=slot_hours_pb(rule.effective_slots(hours)),
            updated_at=timestamp(row.updated_at) if row else None,
        )

    def get_rule(self, station_id: int, actor: Principal | None) -> pb.StationRule:
        require(actor, *STAFF_ROLES, doing="read station rules")
        with self.db.read() as session:
            return self._rule_pb(session, self._station(session, station_id))

    def set_rule(self, rule: pb.StationRule, actor: Principal | None) -> pb.StationRule:
        who = self._writer(actor, "set station rules")
        v = Violations()
        day = rule.day_of_month or domain.DEFAULT_DAY_OF_MONTH
        if not 1 <= day <= 31:
            v.add("rule.day_of_month", "must be between 1 and 31")
        policy = POLICY.to_name.get(rule.day_off_policy or pb.DAY_OFF_POLICY_KEEP)
        if policy is None:
            v.add("rule.day_off_policy", f"must be one of: {', '.join(POLICY.names)}")
        slots = domain.check_slots(v, "rule.slots", ((s.label, s.start, s.end) for s in rule.slots))
        v.raise_if_any("the rule is not valid")
        with self.db.unit_of_work() as uow:
            station = self._station_for(
                uow.session, who, rule.station_id, "set this station's rule"
            )
            row = uow.session.get(models.StationRule, station.id)
            created = row is None
            if row is None:
                row = models.StationRule(station_id=station.id)
                uow.session.add(row)
            before = (row.day_of_month, row.day_off_policy, row.slots)
            row.day_of_month, row.day_off_policy = day, policy or domain.KEEP
            row.slots = [list(s.text) for s in slots]
            uow.session.flush()
            changed = [
                name
                for name, old, new in zip(
                    ("day_of_month", "day_off_policy", "slots"),
                    before,
                    (row.day_of_month, row.day_off_policy, row.slots),
                    strict=True,
                )
                if created or old != new
            ]
            audit.record(uow.session, who, "updated", "station_rule", station.id, changed)
            return self._rule_pb(uow.session, station)

    # -- scheduling

    def _new_session(
        self,
        uow: UnitOfWork,
        station: models.RegistryStation,
        *,
        kind: str,
        key: date,
        day: date,
        slots: Sequence[domain.SlotHours],
        capacity: int,
        flags: Sequence[str],
        reason: str = "",
    ) -> models.ReceptionSession | None:
        """A new session, or None when the station has one of this kind and key."""
        row = models.ReceptionSession(
            station_id=station.id,
            kind=kind,
            key_date=key,
            session_date=day,
            status=domain.SCHEDULED,
            reason=reason,
            flags=list(flags),
            slots=[
                models.SessionSlot(
                    label=s.label,
                    starts_at=s.starts_at,
                    ends_at=s.ends_at,
                    local_start=s.local_start,
                    local_end=s.local_end,
                    capacity=capacity,
                )
                for s in domain.timed_slots(day, slots)
            ],
        )
        query = select(models.ReceptionSession.id).where(
            models.ReceptionSession.station_id == station.id,
            models.ReceptionSession.key_date == key,
            models.ReceptionSession.kind == kind,
        )
        if uow.session.scalars(query).first() is not None:
            return None
        try:
            with uow.session.begin_nested():  # a concurrent scheduler may win the race
                uow.session.add(row)
                uow.session.flush()
        except IntegrityError:
            return None
        return row

    def schedule_in(
        self,
        uow: UnitOfWork,
        who: Principal,
        station: models.RegistryStation,
        first_month: date,
        count: int,
    ) -> Scheduled:
        """Schedule `count` months of a station's regular sessions in `uow`."""
        rule = self._rule(uow.session, station.id)
        hours, capacity = self._venue_hours(uow.session, station)
        slots = rule.effective_slots(hours)
        created: list[pb.Session] = []
        rows: list[models.ReceptionSession] = []
        existing = 0
        for year, month in domain.months(first_month, count):
            day = domain.reception_day(year, month, rule, self.days)
            row = self._new_session(
                uow,
                station,
                kind=domain.REGULAR,
                key=day.nominal,
                day=day.day,
                slots=slots,
                capacity=capacity,
                flags=day.flags,
            )
            if row is None:
                existing += 1
                continue
            view = self._view(uow.session, row)
            uow.emit(ev.SessionScheduled(session=view))
            audit.record(uow.session, who, "scheduled", "session", row.id)
            created.append(view)
            rows.append(row)
        self.rota.publish_in(uow, who, station.id, rows)
        return Scheduled(created, existing)

    def schedule(
        self, station_id: int, from_month: str, months: int, actor: Principal | None
    ) -> Scheduled:
        who = self._writer(actor, "schedule sessions")
        first = self._month(from_month)
        count = months or self.months_ahead + 1
        if not 1 <= count <= MAX_MONTHS:
            raise invalid("months", f"must be between 1 and {MAX_MONTHS}")
        with self.db.unit_of_work() as uow:
            if station_id:
                stations = [self._station_for(uow.session, who, station_id, "schedule sessions")]
                if not stations[0].active:
                    raise FailedPrecondition(f"station {station_id} is deactivated")
            else:
                query = select(models.RegistryStation).where(
                    models.RegistryStation.active.is_(True)
                )
                if not who.is_district:
                    query = query.where(models.RegistryStation.street_id == (who.street_id or 0))
                stations = list(uow.session.scalars(query.order_by(models.RegistryStation.id)))
            created: list[pb.Session] = []
            existing = 0
            for station in stations:
                done = self.schedule_in(uow, who, station, first, count)
                created += done.created
                existing += done.existing
            return Scheduled(created, existing)

    def schedule_ahead(self, who: Principal) -> Scheduled:
        """The worker's timer: this month and `months_ahead` more, for every
        active station."""
        return self.schedule(0, "", self.months_ahead + 1, who)

    def generate_rota(
        self,
        station_id: int,
        from_month: str,
        months: int,
        regenerate: bool,
        actor: Principal | None,
    ) -> Generated:
        """Draw the rotas of a station's sessions of `months` months from
        `from_month` (reception.rotas.Rotas.generate)."""
        first = self._month(from_month)
        count = months or self.months_ahead + 1
        if not 1 <= count <= MAX_MONTHS:
            raise invalid("months", f"must be between 1 and {MAX_MONTHS}")
        return self.rota.generate(station_id, first, count, regenerate, actor)

    @staticmethod
    def _month(text: str) -> date:
        if not text:
            return domain.today().replace(day=1)
        try:
            year, month = (int(part) for part in text.split("-"))
            first = date(year, month, 1)
        except ValueError:
            raise invalid("from_month", f"{text!r} is not a month (YYYY-MM)") from None
        if not 2000 <= year <= 2100:
            raise invalid("from_month", "must be between 2000 and 2100")
        return first

    def add_session(
        self,
        station_id: int,
        day_text: str,
        reason: str,
        slots: Sequence[pb.SlotHours],
        actor: Principal | None,
    ) -> pb.Session:
        who = self._writer(actor, "add sessions")
        v = Violations()
        day = v.iso_date("date", day_text, required=True)
        if day is not None and not 2000 <= day.year <= 2100:
            v.add("date", "must be between 2000 and 2100")
        given = domain.check_slots(v, "slots", ((s.label, s.start, s.end) for s in slots))
        v.raise_if_any("the session is not valid")
        why = _reason("reason", reason)
        assert day is not None
        if day < domain.today():
            raise invalid("date", "is in the past")
        with self.db.unit_of_work() as uow:
            station = self._station_for(uow.session, who, station_id, "add sessions")
            if not station.active:
                raise FailedPrecondition(f"station {station_id} is deactivated")
            hours, capacity = self._venue_hours(uow.session, station)
            row = self._new_session(
                uow,
                station,
                kind=domain.EXTRA,
                key=day,
                day=day,
                slots=given or self._rule(uow.session, station.id).effective_slots(hours),
                capacity=capacity,
                flags=domain.day_flags(day, self.days),
                reason=why,
            )
            if row is None:
                raise AlreadyExists(f"station {station_id} has an extra session on {day}")
            view = self._view(uow.session, row)
            uow.emit(ev.SessionAdded(session=view))
            audit.record(uow.session, who, "added", "session", row.id, ["date", "reason", "slots"])
            self.rota.publish_in(uow, who, station.id, [row])
            return view

    def cancel_session(self, session_id: int, reason: str, actor: Principal | None) -> pb.Session:
        who = self._writer(actor, "cancel sessions")
        why = _reason("reason", reason)
        with self.db.unit_of_work() as uow:
            row = _load(uow.session, models.ReceptionSession, session_id, "session", "id")
            self._station_for(uow.session, who, row.station_id, "cancel this session")
            if row.status == domain.CANCELLED:
                raise FailedPrecondition(f"session {session_id} was cancelled already")
            if row.session_date < domain.today():
                raise FailedPrecondition(f"session {session_id} is in the past")
            return self._cancel(uow, who, row, why)

    def _cancel(
        self, uow: UnitOfWork, who: Principal, row: models.ReceptionSession, why: str
    ) -> pb.Session:
        row.status = domain.CANCELLED
        row.cancellation_reason = why
        row.cancelled_at = datetime.now(UTC)
        uow.session.flush()
        view = self._view(uow.session, row)
        uow.emit(ev.SessionCancelled(session=view))
        audit.record(
            uow.session, who, "cancelled", "session", row.id, ["status", "cancellation_reason"]
        )
        return view

    def cancel_sessions_of_closed_stations(
        self, uow: UnitOfWork, who: Principal, station_ids: Sequence[int] | None = None
    ) -> list[pb.Session]:
        """Cancel, in `uow`, the scheduled sessions from today on of stations
        the registry has deactivated (of `station_ids`, or of every station):
        nobody receives at a closed station. Called by the worker with the
        registry's `station_changed` event, and by its hourly timer for what a
        snapshot brought. Their bookings stay, for staff to call the bookers."""
        query = (
            select(models.ReceptionSession)
            .join(
                models.RegistryStation,
                models.RegistryStation.id == models.ReceptionSession.station_id,
            )
            .where(
                models.RegistryStation.active.is_(False),
                models.ReceptionSession.status == domain.SCHEDULED,
                models.ReceptionSession.session_date >= domain.today(),
            )
            .order_by(models.ReceptionSession.id)
        )
        if station_ids is not None:
            query = query.where(models.ReceptionSession.station_id.in_(list(station_ids)))
        rows = list(uow.session.scalars(query.with_for_update(of=models.ReceptionSession)))
        return [self._cancel(uow, who, row, STATION_CLOSED) for row in rows]

    # -- the audit

    def audit(self, request: Message, actor: Principal | None) -> tuple[list[Any], Any]:
        return self.records.audit_page(request, actor)

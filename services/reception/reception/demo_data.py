"""The demo district's reception calendar: every active station's sessions
from January of the current year to three months ahead, a few stations with
rules of their own, extra sessions before the district congress meets, and
one cancellation. Then a year of what happened (`reception.demo_opinions`):
the sessions of the last twelve months recorded, and the opinions collected
at them, online and as orders, with their outcomes. Loaded by `reception
load-demo` once the registry's snapshot is in the read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from kit.auth import Principal
from kit.errors import AlreadyExists
from liaison.reception.v1 import reception_pb2 as pb
from reception import models
from reception.demo_opinions import load_demo_year
from reception.service import Reception

DEMO = Principal.system("demo-loader")
CONGRESS_REASON = "区人民代表大会召开前，听取选民对代表议案建议的意见"
CANCEL_REASON = "联络站场地维修，本次接待改至下月"


@dataclass(frozen=True)
class DemoCalendar:
    stations: int
    sessions: int
    extra: int
    cancelled: int
    records: int = 0
    reception_person_times: int = 0
    deputy_activity_person_times: int = 0
    opinions: int = 0


def active_station_ids(reception: Reception) -> list[int]:
    with reception.db.read() as session:
        return list(
            session.scalars(
                select(models.RegistryStation.id)
                .where(models.RegistryStation.active.is_(True))
                .order_by(models.RegistryStation.id)
            )
        )


def has_sessions(reception: Reception) -> bool:
    with reception.db.read() as session:
        count = session.scalar(select(func.count()).select_from(models.ReceptionSession))
    return bool(count)


def load_demo(reception: Reception, today: date) -> DemoCalendar:
    """Load the demo calendar (idempotent: what exists is left as it is)."""
    stations = active_station_ids(reception)
    # Every fifth station moves a reception day that falls on a day off;
    # every seventh receives in the morning only.
    for index, station_id in enumerate(stations):
        if index % 5 == 4 or index % 7 == 6:
            slots = (
                [pb.SlotHours(label="上午", start="09:00", end="12:00")] if index % 7 == 6 else []
            )
            policy = pb.DAY_OFF_POLICY_MOVE if index % 5 == 4 else pb.DAY_OFF_POLICY_KEEP
            reception.set_rule(
                pb.StationRule(station_id=station_id, day_off_policy=policy, slots=slots), DEMO
            )
    months = today.month + reception.months_ahead
    done = reception.schedule(0, f"{today.year}-01", months, DEMO)
    extra = 0
    congress_day = reception.days.next_working_day(today + timedelta(days=9))
    for station_id in stations[:3]:
        try:
            reception.add_session(station_id, congress_day.isoformat(), CONGRESS_REASON, [], DEMO)
            extra += 1
        except AlreadyExists:  # there already: loaded before
            pass
    cancelled = 0
    if stations:
        upcoming = reception.list_sessions(
            stations[-1], today.isoformat(), (today + timedelta(days=62)).isoformat()
        )
        regular = [
            s
            for s in upcoming
            if s.kind == pb.SESSION_KIND_REGULAR and s.status == pb.SESSION_STATUS_SCHEDULED
        ]
        if regular and regular[0].date > today.isoformat():
            reception.cancel_session(regular[0].id, CANCEL_REASON, DEMO)
            cancelled = 1
    year = load_demo_year(reception, today)
    return DemoCalendar(
        len(stations),
        len(done.created) + extra + year.sessions,
        extra,
        cancelled,
        year.records,
        year.reception_person_times,
        year.deputy_activity_person_times,
        year.opinions,
    )

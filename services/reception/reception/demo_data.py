"""The demo district's reception calendar: every active station's sessions
from January of the current year to three months ahead, a few stations with
rules of their own, extra sessions before the district congress meets, and
one cancellation; a rota for every session (past and ahead), a few
deputies' unavailability and one accepted swap; bookings, a waitlist and
walk-ins (`load_demo_bookings`). Then a year of what happened
(`reception.demo_opinions`): the sessions of the last twelve months
recorded, and the opinions collected at them, online and as orders, with
their outcomes. Loaded by `reception
load-demo` once the registry's snapshot is in the read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from kit.auth import Principal, Role
from kit.errors import AlreadyExists, FailedPrecondition
from liaison.reception.v1 import bookings_pb2 as bpb
from liaison.reception.v1 import reception_pb2 as pb
from liaison.reception.v1 import rota_pb2
from reception import models
from reception.demo_opinions import load_demo_year
from reception.service import Reception

DEMO = Principal.system("demo-loader")
CONGRESS_REASON = "区人民代表大会召开前，听取选民对代表议案建议的意见"
CANCEL_REASON = "联络站场地维修，本次接待改至下月"
AWAY_REASONS = ("参加市人大常委会集中学习培训", "外出考察调研", "单位重要公务安排")


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
    rotas: int = 0
    unavailable: int = 0
    swaps: int = 0


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
    rotas = sum(
        len(reception.generate_rota(s, f"{today.year}-01", months, False, DEMO).rotas)
        for s in stations
    )
    unavailable = _unavailability(reception, stations[:3], today)
    swaps = _swap(reception, stations, today)
    year = load_demo_year(reception, today)
    load_demo_bookings(reception, stations, today)
    return DemoCalendar(
        len(stations),
        len(done.created) + extra + year.sessions,
        extra,
        cancelled,
        records=year.records,
        reception_person_times=year.reception_person_times,
        deputy_activity_person_times=year.deputy_activity_person_times,
        opinions=year.opinions,
        rotas=rotas,
        unavailable=unavailable,
        swaps=swaps,
    )


def _ahead(reception: Reception, station_id: int, today: date) -> list[rota_pb2.SessionRota]:
    """The rotas of a station's scheduled sessions in the next 100 days."""
    sessions = reception.list_sessions(
        station_id,
        (today + timedelta(days=1)).isoformat(),
        (today + timedelta(days=100)).isoformat(),
    )
    return [reception.rota.get(s.id) for s in sessions if s.status == pb.SESSION_STATUS_SCHEDULED]


def _unavailability(reception: Reception, stations: list[int], today: date) -> int:
    """A deputy of each of `stations` away on their next session's day (once)."""
    with reception.db.read() as session:
        if session.scalar(select(func.count()).select_from(models.Unavailability)):
            return 0
    declared = 0
    for index, station_id in enumerate(stations):
        upcoming = _ahead(reception, station_id, today)
        others = [d for r in upcoming[:1] for d in r.deputies if not d.lead]
        if not others:
            continue
        day = upcoming[0].date
        reason = AWAY_REASONS[index % len(AWAY_REASONS)]
        reception.rota.declare(others[0].deputy_id, day, day, reason, DEMO)
        declared += 1
    return declared


def _swap(reception: Reception, stations: list[int], today: date) -> int:
    """One swap between two deputies of the next two sessions of the first
    station where one can be made, proposed and accepted (once)."""
    with reception.db.read() as session:
        if session.scalar(select(func.count()).select_from(models.RotaSwap)):
            return 0
    for station_id in stations:
        upcoming = _ahead(reception, station_id, today)
        if len(upcoming) < 2:
            continue
        x, y = upcoming[0], upcoming[1]
        on_x = {d.deputy_id for d in x.deputies}
        on_y = {d.deputy_id for d in y.deputies}
        mine = [d.deputy_id for d in x.deputies if not d.lead and d.deputy_id not in on_y]
        theirs = [d.deputy_id for d in y.deputies if not d.lead and d.deputy_id not in on_x]
        if mine and theirs:
            swap = reception.rota.propose(mine[0], x.session_id, theirs[0], y.session_id, DEMO)
            reception.rota.accept(swap.id, DEMO)
            return 1
    return 0


# ---------------------------------------------------------------- bookings

# Every demo name and phone is made up: 演示选民 ("demo constituent") and
# numbers of the 139-0000 block, nobody's.
DEMO_CONSTITUENT = Principal(sub="demo:constituent", role=Role.CONSTITUENT, name="演示选民")
DEMO_TOPICS = (
    "老旧小区加装电梯",
    "菜市场周边停车难",
    "夜间施工噪音扰民",
    "社区养老服务",
    "道路积水",
)


@dataclass(frozen=True)
class DemoBookings:
    booked: int
    waitlisted: int
    walk_ins: int


def _demo_phone(station_id: int, n: int) -> str:
    return f"139{station_id % 10000:04d}{n:04d}"


def load_demo_bookings(reception: Reception, stations: list[int], today: date) -> DemoBookings:
    """At the next open session of the first two stations: the first slot
    filled to its capacity and two on its waitlist, a few in the second slot
    (one of them the demo constituent's own), one cancellation that moves
    the waitlist up; three walk-ins at the newest past session of each of
    the first three stations. Idempotent: a booking whose phone is booked at
    the session already, and walk-ins where some exist, are left alone."""
    booked = waitlisted = walk_ins = 0
    for station_id in stations[:2]:
        upcoming = reception.list_sessions(
            station_id, today.isoformat(), (today + timedelta(days=62)).isoformat()
        )
        with reception.db.read() as session:
            station = session.get(models.RegistryStation, station_id)
            communities = [c.community_id for c in station.served] if station else []
        if not communities:
            continue
        for s in upcoming:
            availability = reception.bookings.availability(s.id)
            open_slots = [slot for slot in availability.slots if slot.open]
            if not open_slots:
                continue
            first, *later = open_slots
            wanted = [(first.slot_id, i, False) for i in range(first.capacity)]
            wanted += [(first.slot_id, first.capacity + i, True) for i in range(2)]
            wanted += [(later[0].slot_id, 900 + i, False) for i in range(3)] if later else []
            made: list[bpb.BookSlotResponse] = []
            for slot_id, n, waitlist in wanted:
                who = DEMO_CONSTITUENT if n == 900 else DEMO
                request = bpb.BookSlotRequest(
                    session_id=s.id,
                    slot_id=slot_id,
                    name=f"演示选民{n + 1}",
                    phone=_demo_phone(station_id, n),
                    community_id=communities[n % len(communities)],
                    topic=DEMO_TOPICS[n % len(DEMO_TOPICS)],
                    waitlist=waitlist,
                )
                try:
                    made.append(reception.bookings.book(request, who))
                except (AlreadyExists, FailedPrecondition):
                    continue  # loaded before, or the slot filled up meanwhile
            for reply in made:
                if reply.booking.status == bpb.BOOKING_STATUS_WAITLISTED:
                    waitlisted += 1
                else:
                    booked += 1
            if made and made[0].booking.status == bpb.BOOKING_STATUS_BOOKED:
                reception.bookings.cancel(made[0].booking.id, made[0].cancel_code, None)
            break
    for station_id in stations[:3]:
        past = reception.list_sessions(
            station_id, (today - timedelta(days=62)).isoformat(), today.isoformat()
        )
        held = [s for s in past if s.status == pb.SESSION_STATUS_SCHEDULED]
        if not held:
            continue
        newest = held[-1]
        if reception.bookings.session_bookings(newest.id, DEMO).walk_ins:
            continue
        with reception.db.read() as session:
            station = session.get(models.RegistryStation, station_id)
            communities = [c.community_id for c in station.served] if station else []
        for n, community_id in enumerate((communities * 3)[:3]):
            reception.bookings.record_walk_in(
                bpb.RecordWalkInRequest(
                    session_id=newest.id,
                    name="" if n == 2 else f"演示来访者{n + 1}",
                    community_id=community_id,
                    topic=DEMO_TOPICS[(n + 2) % len(DEMO_TOPICS)],
                ),
                DEMO,
            )
            walk_ins += 1
    return DemoBookings(booked, waitlisted, walk_ins)

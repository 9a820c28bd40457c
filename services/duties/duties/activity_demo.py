"""The demo year of deputies' activities and the street committees' visits,
at the seed's scale: every street committee trains its street's deputies
once and holds one more activity (an inspection, a forum or a joint street
event), the standing committee office one inspection for the district,
with attendance recorded (500+ deputy-activity person-times over the
demo district's 350 deputies); and every deputy is visited once at their
workplace, a third of the visits with a follow-up, most answered.

Deterministic for a given year and registry: one seeded generator; every
step goes through `ActivityUseCases` as the people who take it would (the
committees schedule, invite, record; the deputies sign up), with the
demo's own clock. Days are before `today`, so nothing lies in the future.

Research is loaded by `duties.research_demo`, report meetings and their
ballots by `duties.ballot_demo`, ratings by `duties.rating_demo`; they share
this module's clock and year (`DemoClock`, `demo_year`).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select

from duties import activity_models as m
from duties.activity_service import ActivityUseCases
from duties.registry import DeputyFacts
from kit.auth import Principal, Role
from kit.db import Database
from kit.workdays import SHANGHAI
from liaison.duties.v1 import activities_pb2 as pb

SEED = 20261127
ATTENDED_SHARE = 0.9
OTHER_KINDS = (
    (pb.ACTIVITY_KIND_INSPECTION, "视察辖内重点民生项目"),
    (pb.ACTIVITY_KIND_FORUM, "代表与选民座谈会"),
    (pb.ACTIVITY_KIND_JOINT_STREET_EVENT, "街道代表联组活动"),
)
RAISED = (
    "单位周边道路拥堵，建议优化交通信号配时",
    "社区老年人助餐需求大，建议增设长者饭堂",
    "建议加快老旧小区加装电梯审批",
    "希望多组织专题学习，提高履职能力",
    "建议完善社区垃圾分类设施",
)


@dataclass
class DemoClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Loaded:
    activities: int
    person_times: int
    visits: int


class Clocked(Protocol):
    """A part's use cases, whose clock the demo sets while it loads."""

    clock: Callable[[], datetime]


@contextmanager
def demo_clock(use_cases: Clocked, today: date) -> Iterator[DemoClock]:
    """`use_cases` on the demo's clock (at `today` until moved) while the
    block runs; the platform's clock again after it."""
    platform_clock = use_cases.clock
    clock = DemoClock(at(today))
    use_cases.clock = clock
    try:
        yield clock
    finally:
        use_cases.clock = platform_clock


def holds_any(db: Database, table: Any) -> bool:
    """Whether the service holds any row of `table` (a part's demo is in)."""
    with db.read() as session:
        return bool(session.scalar(select(func.count()).select_from(table)))


def has_demo(use_cases: ActivityUseCases) -> bool:
    return holds_any(use_cases.db, m.Activity)


def at(day: date, hour: int = 10) -> datetime:
    """A Shanghai hour of `day`."""
    return datetime.combine(day, time(hour), SHANGHAI)


def demo_year(today: date) -> tuple[date, date]:
    """The demo's days: of the year of `today` (in January, the year before),
    from 10 January to three days before `today` at the latest."""
    year = today.year if today >= date(today.year, 2, 1) else today.year - 1
    return date(year, 1, 10), min(today - timedelta(days=3), date(year, 12, 28))


def day_at(first: date, last: date, fraction: float) -> date:
    """The day `fraction` of the way from `first` to `last`."""
    return first + timedelta(days=int((last - first).days * fraction))


def by_street(deputies: list[DeputyFacts]) -> dict[int, list[int]]:
    """The active deputies' ids by street, streets and ids in order."""
    found: dict[int, list[int]] = defaultdict(list)
    for d in deputies:
        if d.active and d.street_id:
            found[d.street_id].append(d.id)
    return {street: sorted(ids) for street, ids in sorted(found.items())}


def street_committee(street_id: int) -> Principal:
    return Principal(
        sub=f"demo:street-committee-{street_id}",
        role=Role.STREET_COMMITTEE,
        street_id=street_id,
        name="街道人大工委",
    )


def demo_deputy(deputy_id: int) -> Principal:
    return Principal(sub=f"demo:deputy-{deputy_id}", role=Role.DEPUTY, deputy_id=deputy_id)


OFFICE = Principal(
    sub="demo:standing-committee-office",
    role=Role.STANDING_COMMITTEE_OFFICE,
    name="区人大常委会办公室",
)


def load_demo(use_cases: ActivityUseCases, deputies: list[DeputyFacts], today: date) -> Loaded:
    """Load the year of `today` up to the day before (in January, the year
    before), over `use_cases`, whose clock is the demo's while it loads."""
    with demo_clock(use_cases, today) as clock:
        return _load(use_cases, clock, deputies, today)


def _load(
    use_cases: ActivityUseCases, clock: DemoClock, deputies: list[DeputyFacts], today: date
) -> Loaded:
    rng = random.Random(SEED)
    streets = by_street(deputies)
    first, last = demo_year(today)

    def day(fraction: float) -> date:
        return day_at(first, last, fraction)

    activities = person_times = visits = 0
    for street_id, ids in streets.items():
        committee = street_committee(street_id)
        training_day = day(rng.uniform(0.05, 0.4))
        kind, title = OTHER_KINDS[street_id % len(OTHER_KINDS)]
        other_day = day(rng.uniform(0.4, 0.95))
        invited_other = sorted(rng.sample(ids, max(1, 2 * len(ids) // 3)))
        for activity_day, activity_kind, activity_title, invited in (
            (training_day, pb.ACTIVITY_KIND_TRAINING, "代表集中学习培训", sorted(ids)),
            (other_day, kind, title, invited_other),
        ):
            person_times += _hold(
                use_cases,
                clock,
                rng,
                committee,
                activity_day,
                activity_kind,
                activity_title,
                invited,
            )
            activities += 1
        for deputy_id in sorted(ids):
            visits += _visit(use_cases, clock, rng, committee, deputy_id, day(rng.random()))
    office = OFFICE
    everyone = sorted(i for ids in streets.values() for i in ids)
    inspected = sorted(rng.sample(everyone, min(len(everyone), 40)))
    person_times += _hold(
        use_cases,
        clock,
        rng,
        office,
        day(0.5),
        pb.ACTIVITY_KIND_INSPECTION,
        "区人大代表集中视察",
        inspected,
    )
    activities += 1
    return Loaded(activities, person_times, visits)


def _hold(
    use_cases: ActivityUseCases,
    clock: DemoClock,
    rng: random.Random,
    organiser: Principal,
    day: date,
    kind: int,
    title: str,
    invited: list[int],
) -> int:
    """Schedule, invite, sign up and record one activity; its person-times."""
    clock.now = at(day - timedelta(days=14))
    activity = use_cases.schedule(
        pb.ScheduleActivityRequest(
            kind=kind,  # type: ignore[arg-type]
            title=title,
            starts_on=day.isoformat(),
            place="代表之家" if organiser.street_id else "区人大常委会会议室",
            organiser=organiser.name,
        ),
        organiser,
    )
    use_cases.invite(
        pb.InviteDeputiesRequest(activity_id=activity.id, deputy_ids=invited), organiser
    )
    attending = [d for d in invited if rng.random() < ATTENDED_SHARE]
    clock.now = at(day - timedelta(days=3))
    for deputy_id in attending:
        use_cases.sign_up(pb.SignUpRequest(activity_id=activity.id), demo_deputy(deputy_id))
    clock.now = at(day, 17)
    entries = [
        pb.AttendanceEntry(
            deputy_id=d,
            attendance=pb.ATTENDANCE_ATTENDED
            if d in attending
            else pb.ATTENDANCE_ABSENT_WITH_LEAVE,
        )
        for d in invited
    ]
    use_cases.record_attendance(
        pb.RecordAttendanceRequest(activity_id=activity.id, entries=entries), organiser
    )
    return len(attending)


def _visit(
    use_cases: ActivityUseCases,
    clock: DemoClock,
    rng: random.Random,
    committee: Principal,
    deputy_id: int,
    day: date,
) -> int:
    clock.now = at(day, 16)
    visit = use_cases.record_visit(
        pb.RecordVisitRequest(
            deputy_id=deputy_id,
            visited_on=day.isoformat(),
            visitors=["街道人大工委主任", "街道人大工委干事"],
            place="代表工作单位",
            raised=rng.choice(RAISED),
        ),
        committee,
    )
    if rng.random() < 1 / 3:
        clock.now = at(day + timedelta(days=1), 9)
        followed = use_cases.add_follow_up(
            pb.AddFollowUpRequest(visit_id=visit.id, text="已转街道办事处研究办理"), committee
        )
        if rng.random() < 0.8:
            clock.now = at(day + timedelta(days=2), 9)
            use_cases.answer_follow_up(
                pb.AnswerFollowUpRequest(
                    visit_id=visit.id,
                    follow_up_id=followed.follow_ups[0].id,
                    answer="街道办事处已答复，正在推进",
                ),
                committee,
            )
    return 1

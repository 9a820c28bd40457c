"""A referral letter's deadlines, in plain Python: no database, no gRPC.

Days are those of Asia/Shanghai; instants are timezone-aware and in UTC.

The legal deadline
------------------
The handling unit answers in writing within three months of the day it
received the letter. The period is counted by the Civil Code's rules on
periods (《中华人民共和国民法典》第二百零一条至第二百零三条):

1. The day of receipt is not counted; the period runs from the next day
   (第二百零一条: 开始的当日不计入，自下一日开始计算). The day of receipt is
   the receiving instant's day in Asia/Shanghai, so an instant late on
   31 May UTC (1 June, 07:30 in Shanghai) was received on 1 June.
2. A period in months ends on the corresponding day of the month it ends
   in: the day with the same number as the day of receipt. Where that month
   has no such day, it ends on the month's last day (第二百零二条: 到期月的
   对应日为期间的最后一日；没有对应日的，月末日为期间的最后一日).
   Received 31 May: 31 August; 31 March: 30 June; 30 November: 28 February,
   or 29 February in a leap year.
3. When that last day is a day off (a statutory holiday, or a Saturday or
   Sunday that is not an adjusted working day, 调休: `kit.workdays`), the
   period ends on the next working day (第二百零三条第一款: 以法定休假日结束
   的次日为期间的最后一日). An adjusted working day is a working day: a
   deadline on such a Saturday stays there.
4. The period ends at 24:00 of its last day, Asia/Shanghai (第二百零三条第二
   款: 截止时间为二十四时). It is stored as the instant the next day starts in
   Asia/Shanghai, in UTC, and that instant is EXCLUSIVE: an answer at any
   instant before `ends_at` is in time, one at `ends_at` or later is late.

A year the holiday calendar does not cover yet (the State Council's notice
comes out in November for the next year) counts weekends only, and the
deadline says so (`holidays_known`).

Extensions
----------
A unit that cannot finish in three months may be given more time, but at
most six months from receipt in all (《全国人民代表大会代表建议、批评和意见处理
办法》: 三个月内办理完毕，最迟不超过六个月). The six months are counted by the
same rules. `check_extension` refuses a requested last day that is not
after the current one, or after the six-month limit's last day.

Stage clocks and reminders
--------------------------
Before the handling unit receives the letter, each hop has a clock in
working days (`StageClocks`, `add_working_days`). Reminders "due in N days"
fire at the start of the day N days before the last day; an overdue letter
is escalated in steps (`overdue_level`).
"""

from __future__ import annotations

import enum
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta

from kit.errors import Violations, invalid
from kit.workdays import SHANGHAI, WorkCalendar

LEGAL_MONTHS = 3
MAX_MONTHS = 6
REMINDER_DAYS = (30, 7, 1)


def _utc(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {at!r}")
    return at.astimezone(UTC)


def local_day(at: datetime) -> date:
    """The day an instant falls on in Asia/Shanghai."""
    return _utc(at, "at").astimezone(SHANGHAI).date()


def start_of(day: date) -> datetime:
    """The instant `day` starts in Asia/Shanghai, in UTC."""
    return datetime.combine(day, time(), SHANGHAI).astimezone(UTC)


def end_of(day: date) -> datetime:
    """24:00 of `day` in Asia/Shanghai, in UTC: the next day's start, exclusive."""
    return start_of(day + timedelta(days=1))


def corresponding_day(start: date, months: int) -> date:
    """The day `months` months after `start` with the same day number, or the
    last day of that month when it has no such day (民法典第二百零二条)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


@dataclass(frozen=True)
class Deadline:
    """The end of a period counted in months from a letter's receipt."""

    received_on: date  # the day of receipt, Asia/Shanghai (not counted)
    corresponding: date  # the corresponding day (第二百零二条); of an extension, the day asked for
    last_day: date  # the period's last day, moved off a day off (第二百零三条)
    ends_at: datetime  # 24:00 of the last day in Asia/Shanghai, UTC, exclusive
    holidays_known: bool  # False: a year the holiday calendar does not cover

    @property
    def moved(self) -> bool:
        """Whether the corresponding day was a day off."""
        return self.last_day != self.corresponding


def legal_deadline(
    received_at: datetime, months: int = LEGAL_MONTHS, *, calendar: WorkCalendar
) -> Deadline:
    """The end of a period of `months` months from receipt at `received_at`."""
    if months < 1:
        raise invalid("months", f"must be at least 1, got {months}")
    received_on = local_day(received_at)
    return _ending(received_on, corresponding_day(received_on, months), calendar)


def _ending(received_on: date, day: date, calendar: WorkCalendar) -> Deadline:
    """A period from `received_on` whose last day would be `day`, moved to
    the next working day when `day` is a day off (第二百零三条)."""
    last_day = calendar.next_working_day(day) if calendar.is_day_off(day) else day
    return Deadline(
        received_on=received_on,
        corresponding=day,
        last_day=last_day,
        ends_at=end_of(last_day),
        holidays_known=calendar.covers(day.year) and calendar.covers(last_day.year),
    )


def extension_limit(received_at: datetime, *, calendar: WorkCalendar) -> Deadline:
    """The latest any extension may reach: six months from receipt."""
    return legal_deadline(received_at, MAX_MONTHS, calendar=calendar)


def check_extension(
    received_at: datetime,
    current: Deadline,
    requested_last_day: date,
    *,
    calendar: WorkCalendar,
) -> None:
    """Raise InvalidArgument (field `requested_last_day`) when the requested
    last day is not after the current one or past the six-month limit."""
    limit = extension_limit(received_at, calendar=calendar)
    v = Violations()
    if requested_last_day <= current.last_day:
        v.add(
            "requested_last_day",
            f"{requested_last_day.isoformat()} is not after the current deadline's "
            f"last day, {current.last_day.isoformat()}",
        )
    if requested_last_day > limit.last_day:
        v.add(
            "requested_last_day",
            f"{requested_last_day.isoformat()} is past the legal limit of "
            f"{MAX_MONTHS} months from receipt on {limit.received_on.isoformat()}: "
            f"the last day can be {limit.last_day.isoformat()} at the latest",
        )
    v.raise_if_any("the deadline cannot be extended to that day")


def extended_deadline(
    received_at: datetime,
    current: Deadline,
    requested_last_day: date,
    *,
    calendar: WorkCalendar,
) -> Deadline:
    """The deadline extended to `requested_last_day` (checked by
    `check_extension`); a day off is moved to the next working day, which
    never passes the limit, itself a working day."""
    check_extension(received_at, current, requested_last_day, calendar=calendar)
    return _ending(current.received_on, requested_last_day, calendar)


# ---------------------------------------------------------------- stage clocks


def add_working_days(start: datetime, n: int, calendar: WorkCalendar) -> datetime:
    """The end (24:00, Asia/Shanghai, exclusive, in UTC) of the n-th working
    day after the day `start` falls on. The start day itself never counts,
    whether or not it is a working day."""
    if n < 1:
        raise invalid("working_days", f"must be at least 1, got {n}")
    day = local_day(start)
    for _ in range(n):
        day = calendar.next_working_day(day)
    return end_of(day)


SIGN_OFF = "sign_off"
REVIEW = "review"
DISPATCH = "dispatch"
ASSIGNMENT = "assignment"


@dataclass(frozen=True)
class StageClocks:
    """Working days each hop of a letter may take before the next starts.

    These are the platform's defaults, not law: a deployment may configure
    its own (each at least 1).

    - sign_off: the street committee's full-time deputy director and then
      its director comment on the deputy's letter;
    - review: the district congress's relevant working body reviews a letter
      beyond the street's powers;
    - dispatch: the standing committee office sends it to the district
      government office;
    - assignment: the government office hands it to the responsible
      department (whose three months then start).
    """

    sign_off: int = 3
    review: int = 5
    dispatch: int = 2
    assignment: int = 3

    def __post_init__(self) -> None:
        v = Violations()
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                v.add(f.name, f"must be a whole number of working days, at least 1, got {value!r}")
        v.raise_if_any("stage clocks are invalid")

    def working_days(self, stage: str) -> int:
        names = [f.name for f in fields(self)]
        if stage not in names:
            raise invalid("stage", f"{stage or '(empty)'} is not one of: {', '.join(names)}")
        value: int = getattr(self, stage)
        return value

    def ends_at(self, stage: str, start: datetime, calendar: WorkCalendar) -> datetime:
        """When the stage begun at `start` is due (exclusive, UTC)."""
        return add_working_days(start, self.working_days(stage), calendar)


# ---------------------------------------------------------------- reminders


@dataclass(frozen=True)
class Reminder:
    """A "due in `days_before` days" reminder and when it fires (UTC)."""

    days_before: int
    at: datetime


def last_day_of(ends_at: datetime) -> date:
    """The last day of a period that ends (exclusive) at `ends_at`."""
    return local_day(ends_at - timedelta(microseconds=1))


def reminder_instants(
    ends_at: datetime, now: datetime, days_before: Iterable[int] = REMINDER_DAYS
) -> tuple[Reminder, ...]:
    """The reminders still to fire for a deadline that ends at `ends_at`:
    each at the start (Asia/Shanghai) of the day `days_before` days before
    the last day, those at or before `now` left out, earliest first."""
    wanted = sorted(set(days_before), reverse=True)
    if any(n < 0 for n in wanted):
        raise invalid("days_before", f"must not be negative, got {wanted}")
    last_day = last_day_of(_utc(ends_at, "ends_at"))
    now_utc = _utc(now, "now")
    found = (Reminder(n, start_of(last_day - timedelta(days=n))) for n in wanted)
    return tuple(r for r in found if r.at > now_utc)


class Overdue(enum.IntEnum):
    """How far a letter is past its deadline: the escalation steps to the
    supervising body (the standing committee office, 督办)."""

    NONE = 0  # not overdue
    OVERDUE = 1  # past its deadline: the handling unit is pressed to answer
    OVER_30_DAYS = (
        2  # more than 30 days: the standing committee office presses the government office
    )
    OVER_90_DAYS = 3  # more than 90 days: put before the standing committee's leaders


def overdue_level(ends_at: datetime, now: datetime) -> Overdue:
    """0 until `ends_at` (exclusive); 1 from then on; 2 once more than 30
    days have passed since `ends_at`; 3 once more than 90 have."""
    late = _utc(now, "now") - _utc(ends_at, "ends_at")
    if late < timedelta(0):
        return Overdue.NONE
    if late > timedelta(days=90):
        return Overdue.OVER_90_DAYS
    if late > timedelta(days=30):
        return Overdue.OVER_30_DAYS
    return Overdue.OVERDUE

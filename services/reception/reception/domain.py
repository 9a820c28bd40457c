"""The reception calendar's rules, in plain Python: no database, no gRPC.

Every station receives on its reception day (the 15th of every month unless
its rule says another day), in the slots its venue opens. When that day is
a day off (a Chinese public holiday, or a weekend that is not an adjusted
working day, 调休), the station's rule keeps it or moves it to the next
working day. Days and hours are those of Asia/Shanghai; what is stored and
sent is UTC.

Public holidays and adjusted working days come from the platform's
working-day calendar (`kit.workdays.WorkCalendar`, from python-holidays). A
year it does not cover yet (the State Council's notice comes out in
November for the next year) is not guessed: only weekends count as days
off, and the session says so (`HOLIDAYS_NOT_COVERED`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from kit.errors import Violations
from kit.workdays import SHANGHAI, WorkCalendar

DEFAULT_DAY_OF_MONTH = 15

KEEP = "keep"
MOVE = "move"
DAY_OFF_POLICIES = (KEEP, MOVE)

REGULAR = "regular"
EXTRA = "extra"
SCHEDULED = "scheduled"
CANCELLED = "cancelled"

# Flags on a session: how its date was chosen.
MOVED_FROM_DAY_OFF = "moved_from_day_off"
KEPT_ON_DAY_OFF = "kept_on_day_off"
HOLIDAYS_NOT_COVERED = "holidays_not_covered"

_HOURS = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})")
_HH_MM = re.compile(r"^(\d{1,2}):(\d{2})$")
MAX_SLOTS = 6
MAX_LABEL = 40


def today() -> date:
    """Today in Asia/Shanghai."""
    return datetime.now(SHANGHAI).date()


# ---------------------------------------------------------------- slots


@dataclass(frozen=True)
class SlotHours:
    """One slot's opening hours, in Asia/Shanghai."""

    label: str
    start: time
    end: time

    @classmethod
    def of(cls, start: str, end: str, label: str = "") -> SlotHours:
        begins, ends = _parse_time(start), _parse_time(end)
        assert begins is not None and ends is not None
        return cls(label or default_label(begins), begins, ends)

    @property
    def text(self) -> tuple[str, str, str]:
        return self.label, self.start.strftime("%H:%M"), self.end.strftime("%H:%M")


def default_label(start: time) -> str:
    if start < time(12):
        return "上午"
    if start < time(18):
        return "下午"
    return "晚上"


def _parse_time(text: str) -> time | None:
    found = _HH_MM.match(text.strip())
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


DEFAULT_SLOTS = (SlotHours.of("09:00", "12:00"), SlotHours.of("14:30", "17:30"))


def slots_from_text(opening_hours: str) -> tuple[SlotHours, ...]:
    """The slots a venue's opening hours name ("每月15日 9:00-12:00、14:30-17:30"),
    in order; none when they name no times."""
    found = []
    for h1, m1, h2, m2 in _HOURS.findall(opening_hours or ""):
        start, end = _parse_time(f"{h1}:{m1}"), _parse_time(f"{h2}:{m2}")
        if start is not None and end is not None and start < end:
            found.append(SlotHours(default_label(start), start, end))
    return tuple(sorted(set(found), key=lambda s: s.start))[:MAX_SLOTS]


def check_slots(
    v: Violations, field: str, given: Iterable[tuple[str, str, str]]
) -> list[SlotHours]:
    """Slots as (label, start, end) texts, checked: times HH:MM, each slot
    ending after it starts, none overlapping, at most MAX_SLOTS."""
    slots: list[SlotHours] = []
    for index, (label, start_text, end_text) in enumerate(given):
        where = f"{field}[{index}]"
        start, end = _parse_time(start_text), _parse_time(end_text)
        if start is None:
            v.add(f"{where}.start", f"{start_text!r} is not a time (HH:MM)")
        if end is None:
            v.add(f"{where}.end", f"{end_text!r} is not a time (HH:MM)")
        if len(label.strip()) > MAX_LABEL:
            v.add(f"{where}.label", f"is longer than {MAX_LABEL} characters")
        if start is None or end is None:
            continue
        if end <= start:
            v.add(f"{where}.end", "must be after start")
            continue
        slots.append(SlotHours(label.strip() or default_label(start), start, end))
    if len(slots) > MAX_SLOTS:
        v.add(field, f"at most {MAX_SLOTS} slots")
    ordered = sorted(slots, key=lambda s: s.start)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            v.add(field, f"slots {before.text[1]} and {after.text[1]} overlap")
    return ordered


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class StationRule:
    """A station's reception rule; the defaults until staff set one."""

    day_of_month: int = DEFAULT_DAY_OF_MONTH
    day_off_policy: str = KEEP
    slots: tuple[SlotHours, ...] = ()  # empty: the venue's, else DEFAULT_SLOTS

    def effective_slots(self, venue_opening_hours: str = "") -> tuple[SlotHours, ...]:
        return self.slots or slots_from_text(venue_opening_hours) or DEFAULT_SLOTS


@dataclass(frozen=True)
class ReceptionDay:
    """The day a regular session is held, and how it was chosen."""

    nominal: date  # the reception day of the month (the 15th)
    day: date
    flags: tuple[str, ...] = field(default=())


def nominal_day(year: int, month: int, day_of_month: int) -> date:
    """The rule's day in that month; a day the month lacks is its last day."""
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day_of_month, last))


def reception_day(year: int, month: int, rule: StationRule, days: WorkCalendar) -> ReceptionDay:
    nominal = nominal_day(year, month, rule.day_of_month)
    flags: list[str] = []
    day = nominal
    if days.is_day_off(nominal):
        if rule.day_off_policy == MOVE:
            day = days.next_working_day(nominal)
            flags.append(MOVED_FROM_DAY_OFF)
        else:
            flags.append(KEPT_ON_DAY_OFF)
    if not days.covers(nominal.year) or not days.covers(day.year):
        flags.append(HOLIDAYS_NOT_COVERED)
    return ReceptionDay(nominal, day, tuple(flags))


def day_flags(day: date, days: WorkCalendar) -> tuple[str, ...]:
    """Flags of an extra session's day: only whether holidays are known."""
    return () if days.covers(day.year) else (HOLIDAYS_NOT_COVERED,)


def months(first: date, count: int) -> list[tuple[int, int]]:
    """`count` (year, month) pairs from `first`'s month on."""
    found = []
    year, month = first.year, first.month
    for _ in range(count):
        found.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


@dataclass(frozen=True)
class TimedSlot:
    label: str
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    local_start: str
    local_end: str


def timed_slots(day: date, slots: Sequence[SlotHours]) -> list[TimedSlot]:
    """The slots of `day`, their local hours turned into UTC instants."""
    return [
        TimedSlot(
            s.label,
            datetime.combine(day, s.start, SHANGHAI).astimezone(UTC),
            datetime.combine(day, s.end, SHANGHAI).astimezone(UTC),
            *s.text[1:],
        )
        for s in slots
    ]

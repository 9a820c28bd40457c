"""The reception calendar's rules, without I/O: public holidays, adjusted
working days, month ends, both station rules, a year the holiday library
does not cover, slots and their UTC instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from kit.errors import InvalidArgument, Violations
from reception.domain import (
    DEFAULT_SLOTS,
    HOLIDAYS_NOT_COVERED,
    KEEP,
    KEPT_ON_DAY_OFF,
    MOVE,
    MOVED_FROM_DAY_OFF,
    SlotHours,
    StationRule,
    WorkCalendar,
    check_slots,
    months,
    nominal_day,
    reception_day,
    slots_from_text,
    timed_slots,
)

DAYS = WorkCalendar()
KEEPS = StationRule(day_off_policy=KEEP)
MOVES = StationRule(day_off_policy=MOVE)


def test_the_library_covers_the_years_of_its_notices() -> None:
    # The State Council's notice for 2026 came out in November 2025.
    assert DAYS.covers(2025) and DAYS.covers(2026)
    assert DAYS.covered_until >= 2026


def test_public_holidays_and_adjusted_working_days() -> None:
    assert DAYS.is_day_off(date(2026, 10, 1))  # National Day, a Thursday
    assert DAYS.is_day_off(date(2026, 2, 17))  # Spring Festival, a Tuesday
    assert DAYS.is_day_off(date(2026, 10, 7))  # a weekday off, worked on Saturday 10 October
    # 调休: a Saturday and a Sunday that are working days.
    assert date(2026, 10, 10).weekday() == 5 and not DAYS.is_day_off(date(2026, 10, 10))
    assert date(2026, 9, 20).weekday() == 6 and not DAYS.is_day_off(date(2026, 9, 20))
    assert DAYS.is_day_off(date(2026, 11, 14))  # an ordinary Saturday
    assert not DAYS.is_day_off(date(2026, 11, 16))  # an ordinary Monday


def test_the_15th_on_a_working_day_is_the_reception_day_under_both_rules() -> None:
    for rule in (KEEPS, MOVES):
        day = reception_day(2026, 12, rule, DAYS)  # Tuesday 15 December 2026
        assert day.nominal == day.day == date(2026, 12, 15)
        assert day.flags == ()


def test_keep_receives_on_a_weekend_and_says_so() -> None:
    day = reception_day(2026, 11, KEEPS, DAYS)  # Sunday 15 November 2026
    assert day.day == date(2026, 11, 15)
    assert day.flags == (KEPT_ON_DAY_OFF,)


def test_move_goes_to_the_next_working_day() -> None:
    day = reception_day(2026, 11, MOVES, DAYS)  # Sunday 15 November 2026
    assert (day.nominal, day.day) == (date(2026, 11, 15), date(2026, 11, 16))
    assert day.flags == (MOVED_FROM_DAY_OFF,)


def test_move_skips_a_holiday_run_and_stops_on_a_weekend_working_day() -> None:
    # Spring Festival 2026: 15 February (Sunday) to 23 February are off; the
    # week after starts on Tuesday 24 February.
    day = reception_day(2026, 2, MOVES, DAYS)
    assert day.day == date(2026, 2, 24)
    # A rule on the 9th of May 2026: a Saturday, but an adjusted working day
    # for Labour Day, so no day off and nothing to move.
    on_ninth = StationRule(day_of_month=9, day_off_policy=MOVE)
    assert reception_day(2026, 5, on_ninth, DAYS).day == date(2026, 5, 9)
    assert reception_day(2026, 5, on_ninth, DAYS).flags == ()
    # The 4th of May 2026 (a day off in lieu of Labour Day) moves past the
    # 5th (off, worked on the 9th) to Wednesday the 6th.
    on_fourth = StationRule(day_of_month=4, day_off_policy=MOVE)
    assert reception_day(2026, 5, on_fourth, DAYS).day == date(2026, 5, 6)


def test_a_day_the_month_lacks_is_its_last_day() -> None:
    assert nominal_day(2026, 2, 31) == date(2026, 2, 28)
    assert nominal_day(2028, 2, 30) == date(2028, 2, 29)
    assert nominal_day(2026, 4, 31) == date(2026, 4, 30)
    # Wednesday 30 September 2026 is a working day (National Day starts on 1 October).
    assert reception_day(2026, 9, StationRule(day_of_month=31), DAYS).day == date(2026, 9, 30)


def test_a_move_at_a_month_end_crosses_into_the_next_month() -> None:
    # Saturday 31 October 2026 moves to Monday 2 November.
    day = reception_day(2026, 10, StationRule(day_of_month=31, day_off_policy=MOVE), DAYS)
    assert (day.nominal, day.day) == (date(2026, 10, 31), date(2026, 11, 2))
    # Thursday 31 December 2026 to Friday 1 January 2027 (New Year's Day, in
    # a year the library covers only by weekends here).
    covered_2026 = WorkCalendar(covered_until=2026)
    day = reception_day(2026, 12, StationRule(day_of_month=31, day_off_policy=MOVE), covered_2026)
    assert day.day == date(2026, 12, 31)


def test_a_year_not_covered_counts_weekends_only_and_says_so() -> None:
    days = WorkCalendar(covered_until=2026)
    assert not days.covers(2027)
    # 1 October 2027 is National Day, but no notice for 2027 is known: a
    # Friday counts as a working day, and the session says why.
    day = reception_day(2027, 10, StationRule(day_of_month=1, day_off_policy=MOVE), days)
    assert day.day == date(2027, 10, 1)
    assert day.flags == (HOLIDAYS_NOT_COVERED,)
    # Weekends still count: Sunday 15 August 2027 moves to Monday.
    day = reception_day(2027, 8, MOVES, days)
    assert day.day == date(2027, 8, 16)
    assert day.flags == (MOVED_FROM_DAY_OFF, HOLIDAYS_NOT_COVERED)
    # A move from a covered year into one not covered says so too.
    day = reception_day(2026, 12, StationRule(day_of_month=31, day_off_policy=MOVE), days)
    assert day.flags == ()
    saturday = StationRule(day_of_month=26, day_off_policy=MOVE)
    assert reception_day(2026, 12, saturday, days).day == date(2026, 12, 28)


def test_the_library_never_fails_on_a_far_year() -> None:
    far = reception_day(2099, 3, MOVES, DAYS)
    assert far.day.year == 2099 and HOLIDAYS_NOT_COVERED in far.flags


def test_months_run_across_the_year_end() -> None:
    assert months(date(2026, 11, 26), 4) == [(2026, 11), (2026, 12), (2027, 1), (2027, 2)]


def test_slots_from_the_venue_the_rule_or_the_defaults() -> None:
    assert [s.text for s in slots_from_text("每月15日 9:00-12:00、14:30-17:30")] == [
        ("上午", "09:00", "12:00"),
        ("下午", "14:30", "17:30"),
    ]
    assert slots_from_text("每月15日") == ()
    assert StationRule().effective_slots("每月15日") == DEFAULT_SLOTS
    assert StationRule().effective_slots("工作日 9:00-12:00、14:00-17:30")[1].start == time(14)
    own = (SlotHours.of("19:00", "21:00"),)
    assert StationRule(slots=own).effective_slots("9:00-12:00") == own
    assert own[0].label == "晚上"


def test_slots_are_checked_all_at_once() -> None:
    v = Violations()
    check_slots(v, "slots", [("", "9:00", "8:00"), ("", "25:00", "26:00"), ("x" * 41, "10", "")])
    fields = {i.field for i in v.items}
    assert fields == {"slots[0].end", "slots[1].start", "slots[1].end", "slots[2].label",
                      "slots[2].start", "slots[2].end"}  # fmt: skip
    v = Violations()
    check_slots(v, "slots", [("", "09:00", "12:00"), ("", "11:00", "13:00")])
    assert [i.field for i in v.items] == ["slots"]
    with pytest.raises(InvalidArgument):
        v.raise_if_any("bad")


def test_local_hours_become_utc_instants() -> None:
    (morning, afternoon) = timed_slots(date(2026, 12, 15), DEFAULT_SLOTS)
    # Asia/Shanghai is UTC+8 all year.
    assert morning.starts_at == datetime(2026, 12, 15, 1, 0, tzinfo=UTC)
    assert morning.ends_at == datetime(2026, 12, 15, 4, 0, tzinfo=UTC)
    assert afternoon.starts_at == datetime(2026, 12, 15, 6, 30, tzinfo=UTC)
    assert (afternoon.local_start, afternoon.local_end) == ("14:30", "17:30")

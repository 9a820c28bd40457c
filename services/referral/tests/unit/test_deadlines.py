"""A referral letter's deadlines without I/O: the Civil Code's rules on
periods (month ends, leap years, days off, adjusted working days, the day
of receipt in Asia/Shanghai), extensions and their six-month limit, stage
clocks in working days, reminders and overdue levels."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.errors import InvalidArgument
from kit.workdays import SHANGHAI, WorkCalendar
from referral.deadlines import (
    ASSIGNMENT,
    SIGN_OFF,
    Overdue,
    Reminder,
    StageClocks,
    add_working_days,
    check_extension,
    corresponding_day,
    end_of,
    extended_deadline,
    extension_limit,
    last_day_of,
    legal_deadline,
    overdue_level,
    reminder_instants,
    start_of,
)

DAYS = WorkCalendar()


def shanghai(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An instant at `hour:minute` of `day` in Asia/Shanghai, in UTC."""
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


def due(received: date, months: int = 3, days: WorkCalendar = DAYS) -> date:
    return legal_deadline(shanghai(received), months, calendar=days).last_day


# ---------------------------------------------------------------- the legal deadline


def test_three_months_end_on_the_corresponding_day() -> None:
    deadline = legal_deadline(shanghai(date(2026, 5, 12)), calendar=DAYS)
    assert deadline.received_on == date(2026, 5, 12)
    assert deadline.corresponding == deadline.last_day == date(2026, 8, 12)  # a Wednesday
    assert not deadline.moved and deadline.holidays_known


def test_month_ends_without_a_corresponding_day_end_on_the_last_day() -> None:
    assert due(date(2026, 5, 31)) == date(2026, 8, 31)  # August has a 31st (Monday)
    assert due(date(2026, 3, 31)) == date(2026, 6, 30)  # June has no 31st (Tuesday)
    # Saturday 28 February 2026 is an adjusted working day (Spring Festival).
    assert due(date(2025, 11, 30)) == date(2026, 2, 28)
    assert due(date(2024, 11, 30)) == date(2025, 2, 28)  # a Friday
    # Sunday 28 February 2027 is a day off (weekends only: 2027 not yet covered).
    assert due(date(2026, 11, 30)) == date(2027, 3, 1)


def test_leap_years() -> None:
    assert due(date(2023, 11, 30)) == date(2024, 2, 29)  # a Thursday of a leap year
    assert due(date(2023, 11, 29)) == date(2024, 2, 29)
    assert corresponding_day(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert corresponding_day(date(2099, 11, 30), 3) == date(2100, 2, 28)  # 2100: no leap year
    assert corresponding_day(date(2023, 11, 28), 3) == date(2024, 2, 28)


def test_corresponding_days_across_years() -> None:
    assert corresponding_day(date(2026, 10, 15), 3) == date(2027, 1, 15)
    assert corresponding_day(date(2026, 12, 31), 6) == date(2027, 6, 30)
    assert corresponding_day(date(2026, 1, 1), 12) == date(2027, 1, 1)


def test_a_deadline_on_spring_festival_moves_to_the_next_working_day() -> None:
    # 17 February 2026 is Spring Festival (15 to 23 February off).
    deadline = legal_deadline(shanghai(date(2025, 11, 17)), calendar=DAYS)
    assert deadline.corresponding == date(2026, 2, 17)
    assert deadline.last_day == date(2026, 2, 24) and deadline.moved


def test_a_deadline_on_national_day_moves_to_the_next_working_day() -> None:
    # 1 to 7 October 2026 are off.
    for received in (date(2026, 7, 1), date(2026, 7, 4), date(2026, 7, 7)):
        assert due(received) == date(2026, 10, 8), received
    assert due(date(2026, 7, 8)) == date(2026, 10, 8)  # the 8th itself: not moved


def test_a_deadline_on_an_adjusted_working_saturday_is_not_moved() -> None:
    # Saturday 10 October 2026 and Saturday 9 May 2026 are working days (调休).
    deadline = legal_deadline(shanghai(date(2026, 7, 10)), calendar=DAYS)
    assert deadline.last_day == date(2026, 10, 10) and not deadline.moved
    assert due(date(2026, 2, 9)) == date(2026, 5, 9)
    # An ordinary Saturday is moved to Monday.
    assert due(date(2026, 8, 14)) == date(2026, 11, 16)


def test_the_period_ends_at_24_00_shanghai_exclusive() -> None:
    deadline = legal_deadline(shanghai(date(2026, 5, 12)), calendar=DAYS)
    # 24:00 on 12 August in Shanghai is 16:00 UTC that day.
    assert deadline.ends_at == datetime(2026, 8, 12, 16, 0, tzinfo=UTC)
    assert deadline.ends_at.utcoffset() == timedelta(0)
    assert last_day_of(deadline.ends_at) == date(2026, 8, 12)
    answered_at_2359 = shanghai(date(2026, 8, 12), 23, 59)
    assert answered_at_2359 < deadline.ends_at
    assert overdue_level(deadline.ends_at, answered_at_2359) == Overdue.NONE
    assert overdue_level(deadline.ends_at, deadline.ends_at) == Overdue.OVERDUE


def test_the_day_of_receipt_is_the_day_in_shanghai_not_in_utc() -> None:
    # 23:30 UTC on 31 May is 07:30 on 1 June in Shanghai: received on 1 June,
    # so the corresponding day is 1 September, not 31 August.
    early = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    deadline = legal_deadline(early, calendar=DAYS)
    assert deadline.received_on == date(2026, 6, 1)
    assert deadline.last_day == date(2026, 9, 1)
    # 23:59 on 31 May in Shanghai (15:59 UTC): still 31 May.
    late = shanghai(date(2026, 5, 31), 23, 59)
    assert late.date() == date(2026, 5, 31)
    assert legal_deadline(late, calendar=DAYS).last_day == date(2026, 8, 31)
    # The same instant in another zone counts the same.
    elsewhere = early.astimezone(ZoneInfo("America/New_York"))
    assert legal_deadline(elsewhere, calendar=DAYS) == deadline


def test_a_year_the_calendar_does_not_cover_counts_weekends_only_and_says_so() -> None:
    covered_2025 = WorkCalendar(covered_until=2025)
    deadline = legal_deadline(shanghai(date(2025, 11, 17)), calendar=covered_2025)
    assert deadline.last_day == date(2026, 2, 17)  # Spring Festival unknown: not moved
    assert not deadline.holidays_known
    assert legal_deadline(shanghai(date(2025, 6, 3)), calendar=covered_2025).holidays_known


def test_naive_instants_and_empty_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        legal_deadline(datetime(2026, 5, 12, 10, 0), calendar=DAYS)
    with pytest.raises(InvalidArgument, match="months"):
        legal_deadline(shanghai(date(2026, 5, 12)), 0, calendar=DAYS)


instants = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2026, 6, 30), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(received_at=instants, months=st.integers(min_value=1, max_value=12))
def test_every_deadline_follows_the_rules(received_at: datetime, months: int) -> None:
    d = legal_deadline(received_at, months, calendar=DAYS)
    received_on = received_at.astimezone(SHANGHAI).date()
    assert d.received_on == received_on
    # Article 202: the same day number, or the month's last day.
    month_index = received_on.year * 12 + received_on.month - 1 + months
    assert (d.corresponding.year * 12 + d.corresponding.month - 1) == month_index
    assert d.corresponding.day == received_on.day or (
        d.corresponding.day < received_on.day and (d.corresponding + timedelta(days=1)).day == 1
    )
    # Article 203: the last day is the first working day on or after it.
    assert not DAYS.is_day_off(d.last_day)
    day = d.corresponding
    while day < d.last_day:
        assert DAYS.is_day_off(day)
        day += timedelta(days=1)
    # 24:00 of the last day, Shanghai, as a UTC instant.
    assert d.ends_at.tzinfo == UTC
    assert d.ends_at.astimezone(SHANGHAI).time() == time(0)
    assert d.ends_at.astimezone(SHANGHAI).date() == d.last_day + timedelta(days=1)
    assert last_day_of(d.ends_at) == d.last_day


@settings(max_examples=200, deadline=None)
@given(first=instants, later_by=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
def test_a_later_receipt_never_has_an_earlier_deadline(
    first: datetime, later_by: timedelta
) -> None:
    assert (
        legal_deadline(first, calendar=DAYS).ends_at
        <= legal_deadline(first + later_by, calendar=DAYS).ends_at
    )


# ---------------------------------------------------------------- extensions


def test_an_extension_within_six_months() -> None:
    received = shanghai(date(2026, 3, 31))
    current = legal_deadline(received, calendar=DAYS)
    assert current.last_day == date(2026, 6, 30)
    extended = extended_deadline(received, current, date(2026, 8, 14), calendar=DAYS)
    assert extended.last_day == date(2026, 8, 14) and extended.received_on == date(2026, 3, 31)
    assert extended.ends_at == end_of(date(2026, 8, 14))
    # A day off asked for moves to the next working day.
    on_saturday = extended_deadline(received, current, date(2026, 8, 15), calendar=DAYS)
    assert on_saturday.last_day == date(2026, 8, 17) and on_saturday.moved


def test_the_six_month_limit_is_counted_like_the_deadline() -> None:
    received = shanghai(date(2026, 3, 31))
    limit = extension_limit(received, calendar=DAYS)
    assert limit.last_day == date(2026, 9, 30)  # 30 September: a Wednesday
    current = legal_deadline(received, calendar=DAYS)
    assert extended_deadline(received, current, date(2026, 9, 30), calendar=DAYS).last_day == (
        date(2026, 9, 30)
    )
    # Six months from 1 April 2026 is 1 October, National Day: the limit is 8 October.
    april = shanghai(date(2026, 4, 1))
    assert extension_limit(april, calendar=DAYS).last_day == date(2026, 10, 8)
    check_extension(april, legal_deadline(april, calendar=DAYS), date(2026, 10, 8), calendar=DAYS)


def test_an_extension_not_after_the_current_deadline_is_refused() -> None:
    received = shanghai(date(2026, 3, 31))
    current = legal_deadline(received, calendar=DAYS)
    for asked in (date(2026, 6, 30), date(2026, 6, 1)):
        with pytest.raises(InvalidArgument) as raised:
            check_extension(received, current, asked, calendar=DAYS)
        (violation,) = raised.value.violations
        assert violation.field == "requested_last_day"
        assert "not after the current deadline's last day, 2026-06-30" in violation.description


def test_an_extension_past_six_months_is_refused_and_names_the_limit() -> None:
    received = shanghai(date(2026, 3, 31))
    current = legal_deadline(received, calendar=DAYS)
    with pytest.raises(InvalidArgument) as raised:
        extended_deadline(received, current, date(2026, 10, 1), calendar=DAYS)
    (violation,) = raised.value.violations
    assert violation.field == "requested_last_day"
    assert "past the legal limit of 6 months" in violation.description
    assert "2026-09-30 at the latest" in violation.description
    assert raised.value.message == "the deadline cannot be extended to that day"


@settings(max_examples=200, deadline=None)
@given(received_at=instants, asked_after=st.integers(min_value=-40, max_value=200))
def test_extensions_stay_within_six_months(received_at: datetime, asked_after: int) -> None:
    current = legal_deadline(received_at, calendar=DAYS)
    limit = extension_limit(received_at, calendar=DAYS)
    asked = current.last_day + timedelta(days=asked_after)
    if current.last_day < asked <= limit.last_day:
        extended = extended_deadline(received_at, current, asked, calendar=DAYS)
        assert current.ends_at < extended.ends_at <= limit.ends_at
        assert extended.last_day >= asked and not DAYS.is_day_off(extended.last_day)
    else:
        with pytest.raises(InvalidArgument):
            check_extension(received_at, current, asked, calendar=DAYS)


# ---------------------------------------------------------------- stage clocks


def test_working_days_skip_weekends_and_count_from_the_next_day() -> None:
    friday = shanghai(date(2026, 11, 20), 16, 30)
    # Monday, Tuesday, Wednesday: due at 24:00 on Wednesday 25 November.
    assert add_working_days(friday, 3, DAYS) == end_of(date(2026, 11, 25))
    assert add_working_days(friday, 1, DAYS) == end_of(date(2026, 11, 23))
    saturday = shanghai(date(2026, 11, 21))
    assert add_working_days(saturday, 1, DAYS) == end_of(date(2026, 11, 23))


def test_working_days_skip_holidays_and_count_adjusted_working_days() -> None:
    # Sent on Friday 13 February 2026: Saturday 14 February is a working day,
    # then nothing until Tuesday 24 February.
    friday = shanghai(date(2026, 2, 13))
    assert add_working_days(friday, 1, DAYS) == end_of(date(2026, 2, 14))
    assert add_working_days(friday, 2, DAYS) == end_of(date(2026, 2, 24))
    # Sent on 30 September 2026: 1 to 7 October off; 8, 9, Saturday 10 October work.
    assert add_working_days(shanghai(date(2026, 9, 30)), 3, DAYS) == end_of(date(2026, 10, 10))


def test_the_start_day_is_the_day_in_shanghai() -> None:
    # 20:00 UTC on Sunday 22 November is 04:00 on Monday 23 November in Shanghai.
    start = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert add_working_days(start, 1, DAYS) == end_of(date(2026, 11, 24))
    with pytest.raises(InvalidArgument):
        add_working_days(start, 0, DAYS)


@settings(max_examples=200, deadline=None)
@given(start=instants, n=st.integers(min_value=1, max_value=15))
def test_exactly_n_working_days_after_the_start_day(start: datetime, n: int) -> None:
    ends_at = add_working_days(start, n, DAYS)
    last = last_day_of(ends_at)
    assert ends_at == end_of(last)
    assert not DAYS.is_day_off(last)
    first = start.astimezone(SHANGHAI).date() + timedelta(days=1)
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    assert sum(not DAYS.is_day_off(day) for day in span) == n


def test_stage_clocks_have_defaults_and_can_be_configured() -> None:
    clocks = StageClocks()
    assert (clocks.sign_off, clocks.review, clocks.dispatch, clocks.assignment) == (3, 5, 2, 3)
    friday = shanghai(date(2026, 11, 20))
    assert clocks.ends_at(SIGN_OFF, friday, DAYS) == end_of(date(2026, 11, 25))
    assert StageClocks(assignment=5).ends_at(ASSIGNMENT, friday, DAYS) == end_of(date(2026, 11, 27))
    with pytest.raises(InvalidArgument, match="stage"):
        clocks.working_days("answer")
    with pytest.raises(InvalidArgument) as raised:
        StageClocks(review=0, dispatch=-1)
    assert [v.field for v in raised.value.violations] == ["review", "dispatch"]


# ---------------------------------------------------------------- reminders


def test_reminders_fire_at_the_start_of_the_day_n_days_before_the_last_day() -> None:
    deadline = legal_deadline(shanghai(date(2026, 5, 31)), calendar=DAYS)  # 31 August
    received = shanghai(date(2026, 5, 31))
    assert reminder_instants(deadline.ends_at, received) == (
        Reminder(30, datetime(2026, 7, 31, 16, 0, tzinfo=UTC)),  # 00:00 on 1 August, Shanghai
        Reminder(7, start_of(date(2026, 8, 24))),
        Reminder(1, start_of(date(2026, 8, 30))),
    )


def test_reminders_already_past_are_left_out() -> None:
    ends_at = end_of(date(2026, 8, 31))
    now = shanghai(date(2026, 8, 25))
    assert reminder_instants(ends_at, now) == (Reminder(1, start_of(date(2026, 8, 30))),)
    # One firing right now is done: left out.
    assert reminder_instants(ends_at, start_of(date(2026, 8, 30))) == ()
    assert reminder_instants(ends_at, ends_at) == ()
    assert reminder_instants(ends_at, now, days_before=(3, 0, 3)) == (
        Reminder(3, start_of(date(2026, 8, 28))),
        Reminder(0, start_of(date(2026, 8, 31))),
    )
    with pytest.raises(InvalidArgument):
        reminder_instants(ends_at, now, days_before=(-1,))


# ---------------------------------------------------------------- overdue


def test_overdue_levels_are_escalation_steps() -> None:
    ends_at = end_of(date(2026, 8, 31))
    assert overdue_level(ends_at, ends_at - timedelta(microseconds=1)) == 0
    assert overdue_level(ends_at, ends_at) == 1 == Overdue.OVERDUE
    assert overdue_level(ends_at, ends_at + timedelta(days=30)) == 1
    assert overdue_level(ends_at, ends_at + timedelta(days=30, seconds=1)) == 2
    assert overdue_level(ends_at, ends_at + timedelta(days=90)) == 2
    assert overdue_level(ends_at, ends_at + timedelta(days=90, seconds=1)) == 3
    assert overdue_level(ends_at, ends_at + timedelta(days=400)) == Overdue.OVER_90_DAYS

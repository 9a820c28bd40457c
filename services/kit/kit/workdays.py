"""Working days in mainland China, in plain Python: no database, no gRPC.

A day off is a Chinese public holiday, or a Saturday or Sunday that is not
an adjusted working day (调休). Days are those of Asia/Shanghai.

Public holidays and adjusted working days come from python-holidays
(`holidays.China`), which carries the State Council's yearly notice for
each year it covers. A year it does not cover yet (the notice comes out in
November for the next year) is not guessed: only weekends count as days
off, and `WorkCalendar.covers` tells the caller so.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays
from holidays.countries.china import ChinaStaticHolidays

SHANGHAI = ZoneInfo("Asia/Shanghai")


class WorkCalendar:
    """Which days are days off in mainland China.

    `covered_until`: the last year whose State Council notice the holiday
    library carries (by default, the newest year of python-holidays' table
    of the notices' adjusted days). Later years count weekends only.
    """

    def __init__(self, covered_until: int | None = None) -> None:
        self.covered_until = (
            covered_until if covered_until is not None else max(_notice_years() or {0})
        )

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.China(years=range(2000, self.covered_until + 1))

    def covers(self, year: int) -> bool:
        return year <= self.covered_until

    def is_day_off(self, day: date) -> bool:
        if not self.covers(day.year):
            return day.weekday() >= 5
        return not self._holidays.is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        following = day + timedelta(days=1)
        while self.is_day_off(following):
            following += timedelta(days=1)
        return following


def _notice_years() -> set[int]:
    """The years for which python-holidays has the State Council's notice:
    its table of the days off and adjusted working days each notice set."""
    table = getattr(ChinaStaticHolidays, "special_public_holidays", {})
    return {year for year in table if isinstance(year, int)}

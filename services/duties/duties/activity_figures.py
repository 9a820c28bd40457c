"""A year's activity figures, counted from the activities' rows (no person
leaves here): what `GetActivityFigures` answers and the console draws.

- activities: activities whose first day falls in the year, by kind;
- invited: invitations to them (deputy-activity pairs);
- person-times: invitations recorded as attended (the seed's "500+
  deputy-activity person-times a year");
- absent with leave / absent: the other recorded attendances; what is not
  recorded yet counts only as invited.

By street (a street or station activity counts for its street) and for the
district as a whole (every activity, the district's own included).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from duties.activities import ActivityKind, Attendance


@dataclass(frozen=True)
class ActivityRow:
    """What the figures need of one activity."""

    kind: str
    street_id: int | None  # None: a district activity
    year: int
    attendance: tuple[str | None, ...]  # one per invitation; None: not recorded yet


@dataclass
class KindCounts:
    activities: int = 0
    invited: int = 0
    person_times: int = 0
    absent_with_leave: int = 0
    absent: int = 0

    def add(self, row: ActivityRow) -> None:
        self.activities += 1
        self.invited += len(row.attendance)
        self.person_times += row.attendance.count(Attendance.ATTENDED.value)
        self.absent_with_leave += row.attendance.count(Attendance.ABSENT_WITH_LEAVE.value)
        self.absent += row.attendance.count(Attendance.ABSENT.value)


def _by_kind() -> dict[str, KindCounts]:
    return {kind.value: KindCounts() for kind in ActivityKind}


@dataclass
class ActivityFigures:
    year: int
    district: dict[str, KindCounts] = field(default_factory=_by_kind)
    by_street: dict[int, dict[str, KindCounts]] = field(
        default_factory=lambda: defaultdict(_by_kind)
    )

    @property
    def district_total(self) -> KindCounts:
        return total(self.district.values())

    def street_total(self, street_id: int) -> KindCounts:
        return total(self.by_street[street_id].values())


def total(counts: Iterable[KindCounts]) -> KindCounts:
    summed = KindCounts()
    for c in counts:
        summed.activities += c.activities
        summed.invited += c.invited
        summed.person_times += c.person_times
        summed.absent_with_leave += c.absent_with_leave
        summed.absent += c.absent
    return summed


def count(rows: Iterable[ActivityRow], year: int, street_id: int | None = None) -> ActivityFigures:
    """The year's figures; with `street_id`, that street's activities only
    (the district then sums that street alone)."""
    figures = ActivityFigures(year)
    for row in rows:
        if row.year != year or (street_id is not None and row.street_id != street_id):
            continue
        figures.district[row.kind].add(row)
        if row.street_id is not None:
            figures.by_street[row.street_id][row.kind].add(row)
    return figures

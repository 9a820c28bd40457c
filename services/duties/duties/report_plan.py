"""The duty-report plan (履职报告) of a term's three-year cycle, without I/O.

One third of the deputies report to their voters each year, so that each
deputy reports once in the three years of a cycle. The planner is pure:

- `plan_cycle(deputies, first_year)` assigns every deputy one year of the
  three. Deputies are ordered by (street, level, id) and dealt round the
  three years in that order, so every street's deputies form one run of the
  rotation: each year holds a third (±1) of the whole district AND of every
  street (and, within a street, of each level as far as a run allows). The
  same deputies give the same plan, whatever order they come in.
- `place_joiner(plan, deputy, joined_in)` places a deputy who joins
  mid-cycle without moving anyone: in the year of the remaining ones (the
  year they join and after) least loaded in their street, then least loaded
  overall, then the earliest. In a fresh cycle this keeps every street
  within ±1; the district total may drift by more after many joins and
  leaves, which a new cycle's plan evens out again.
- `withdraw(plan, deputy_id)` frees a leaving deputy's slot, nothing else
  moves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kit.errors import FailedPrecondition, FieldViolation, InvalidArgument

CYCLE_YEARS = 3


@dataclass(frozen=True)
class PlannedDeputy:
    """What the plan needs of a deputy: the registry's id, street and level."""

    deputy_id: int
    street_id: int
    level: str = ""


@dataclass(frozen=True)
class ReportSlot:
    """One deputy's year to report in."""

    deputy_id: int
    street_id: int
    level: str
    year: int


@dataclass(frozen=True)
class ReportPlan:
    """A cycle's plan: the first year and every deputy's slot, by deputy id."""

    first_year: int
    slots: Mapping[int, ReportSlot]

    @property
    def years(self) -> tuple[int, ...]:
        return cycle_years(self.first_year)

    def year_of(self, deputy_id: int) -> int | None:
        slot = self.slots.get(deputy_id)
        return None if slot is None else slot.year

    def load(self, street_id: int | None = None) -> dict[int, int]:
        """How many deputies report in each year, of one street or of all."""
        counts = Counter(
            s.year for s in self.slots.values() if street_id is None or s.street_id == street_id
        )
        return {year: counts.get(year, 0) for year in self.years}


def cycle_years(first_year: int) -> tuple[int, ...]:
    return tuple(first_year + i for i in range(CYCLE_YEARS))


def check_first_year(first_year: int) -> None:
    if not 2000 <= first_year <= 2200:
        raise InvalidArgument(
            "the cycle's first year is out of range",
            [FieldViolation("first_year", "must be a year between 2000 and 2200")],
        )


def plan_cycle(deputies: Iterable[PlannedDeputy], first_year: int) -> ReportPlan:
    """Every deputy's year of a cycle, balanced overall and per street."""
    check_first_year(first_year)
    chosen = list(deputies)
    ids = Counter(d.deputy_id for d in chosen)
    twice = sorted(i for i, n in ids.items() if n > 1)
    if twice:
        raise InvalidArgument(
            "a deputy is named more than once",
            [FieldViolation("deputies", f"deputy {i} is named more than once") for i in twice],
        )
    years = cycle_years(first_year)
    ordered = sorted(chosen, key=lambda d: (d.street_id, d.level, d.deputy_id))
    slots = {
        d.deputy_id: ReportSlot(d.deputy_id, d.street_id, d.level, years[i % CYCLE_YEARS])
        for i, d in enumerate(ordered)
    }
    return ReportPlan(first_year, slots)


def remaining_years(first_year: int, joined_in: int) -> tuple[int, ...]:
    """The years of the cycle a deputy joining in `joined_in` can still report in."""
    years = cycle_years(first_year)
    if joined_in > years[-1]:
        raise FailedPrecondition(
            f"the cycle {years[0]}-{years[-1]} has ended; plan a new cycle for {joined_in}"
        )
    return tuple(y for y in years if y >= joined_in)


def place_joiner(plan: ReportPlan, deputy: PlannedDeputy, joined_in: int) -> ReportPlan:
    """The plan with a newly joined deputy in the least loaded remaining year."""
    if deputy.deputy_id in plan.slots:
        raise FailedPrecondition(
            f"deputy {deputy.deputy_id} already reports in {plan.year_of(deputy.deputy_id)}"
        )
    open_years = remaining_years(plan.first_year, joined_in)
    street = plan.load(deputy.street_id)
    overall = plan.load()
    year = min(open_years, key=lambda y: (street[y], overall[y], y))
    slots = dict(plan.slots)
    slots[deputy.deputy_id] = ReportSlot(deputy.deputy_id, deputy.street_id, deputy.level, year)
    return ReportPlan(plan.first_year, slots)


def withdraw(plan: ReportPlan, deputy_id: int) -> ReportPlan:
    """The plan without a deputy who has left; nobody else moves."""
    if deputy_id not in plan.slots:
        raise FailedPrecondition(f"deputy {deputy_id} is not in the plan")
    return ReportPlan(plan.first_year, {i: s for i, s in plan.slots.items() if i != deputy_id})


def cycle_first_year(any_first_year: int, year: int) -> int:
    """The first year of the cycle (of cycles starting `any_first_year` + 3k)
    that holds `year`."""
    return year - (year - any_first_year) % CYCLE_YEARS

"""A year's letter figures, counted from the letters' rows (no record and
no person leaves here): what `GetLetterFigures` answers and what the
console's overdue board draws.

- received: letters opened in the year (Asia/Shanghai);
- referred: those the street committee sent the district's way;
- answered: those answered in writing in their current round;
- in hand: sent to a handling unit and not answered yet;
- overdue: in hand past the legal deadline (at `now`);
- days to answer: calendar days (fractional) from the handling unit's
  receipt to its written answer, median and 90th percentile (the nearest
  rank), by handling unit and overall;
- satisfaction: each rater's rating of the latest round rated.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kit.workdays import SHANGHAI
from referral import routing

IN_HAND = frozenset({routing.Stage.AWAITING_RECEIPT.value, routing.Stage.IN_HAND.value})
ANSWERED = frozenset(
    {routing.Stage.ANSWERED.value, routing.Stage.FED_BACK.value, routing.Stage.CLOSED.value}
)


@dataclass(frozen=True)
class Row:
    """What the figures need of one letter."""

    street_id: int
    stage: str
    route: str | None
    handler: tuple[str, int] | None  # (unit kind, id)
    opened_at: datetime
    received_at: datetime | None
    answered_at: datetime | None
    due_at: datetime | None
    ratings: tuple[tuple[str, str], ...] = ()  # (rater, satisfaction) of the latest round


@dataclass
class Counts:
    received: int = 0
    referred: int = 0
    answered: int = 0
    in_hand: int = 0
    overdue: int = 0
    closed: int = 0

    def add(self, row: Row, now: datetime) -> None:
        self.received += 1
        self.referred += row.route == routing.Route.DISTRICT.value
        self.answered += row.stage in ANSWERED
        self.closed += row.stage == routing.Stage.CLOSED.value
        if row.stage in IN_HAND:
            self.in_hand += 1
            self.overdue += row.due_at is not None and row.due_at <= now


@dataclass
class Figures:
    totals: Counts = field(default_factory=Counts)
    by_street: dict[int, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_handler: dict[tuple[str, int], Counts] = field(default_factory=lambda: defaultdict(Counts))
    days_by_handler: dict[tuple[str, int], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    received_by_month: Counter[str] = field(default_factory=Counter)
    answered_by_month: Counter[str] = field(default_factory=Counter)
    open_by_stage: Counter[str] = field(default_factory=Counter)
    satisfaction: Counter[str] = field(default_factory=Counter)

    @property
    def days(self) -> list[float]:
        return [d for days in self.days_by_handler.values() for d in days]


def month_of(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m")


def count(rows: Iterable[Row], now: datetime | None = None) -> Figures:
    now = now or datetime.now(UTC)
    figures = Figures()
    for row in rows:
        figures.totals.add(row, now)
        figures.by_street[row.street_id].add(row, now)
        figures.received_by_month[month_of(row.opened_at)] += 1
        if row.stage != routing.Stage.CLOSED.value:
            figures.open_by_stage[row.stage] += 1
        if row.handler is not None:
            figures.by_handler[row.handler].add(row, now)
            if row.received_at is not None and row.answered_at is not None:
                days = (row.answered_at - row.received_at).total_seconds() / 86400
                figures.days_by_handler[row.handler].append(max(days, 0.0))
        if row.answered_at is not None and row.stage in ANSWERED:
            figures.answered_by_month[month_of(row.answered_at)] += 1
        for _rater, satisfaction in row.ratings:
            figures.satisfaction[satisfaction] += 1
    return figures


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank `q` quantile of `values` (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return round(ordered[rank - 1], 1)


def latest_ratings(letter: routing.Letter) -> tuple[tuple[str, str], ...]:
    """Each rater's rating of the latest round that has any."""
    if not letter.ratings:
        return ()
    latest = max(r.round for r in letter.ratings)
    return tuple((r.rater.value, r.satisfaction.value) for r in letter.ratings if r.round == latest)

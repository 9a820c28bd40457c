"""The five-ones scorecard rules (五个一), without I/O.

Per deputy and year, each of the five with its evidence and a status:

1. training — at least one training attended in the year;
2. suggestion — at least one suggestion or letter followed to its answer;
3. research — at least one research topic reported;
4. duty report — due only in the deputy's planned year of the report plan:
   done when the ballot's result was published in that year (flagged when
   the share of "satisfied + basically satisfied" was below the configured
   share); "not due" in the other years;
5. visit — at least one committee visit recorded.

Status per item: done / short / not due. While the year runs, a scorecard
says what is still short and how many days are left before the year ends
(31 December, 24:00 Asia/Shanghai) so staff can act; per street and per
district, `shortfalls` counts and lists who is short of which.

The rules read a plain input (`DeputyEvidence`: the deputy's evidence list
of kind, date and reference, and whether the report is due this year), so
they know nothing of where evidence is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from kit.workdays import SHANGHAI


class Item(StrEnum):
    """The five ones, in the order the district counts them."""

    TRAINING = "training"
    SUGGESTION = "suggestion"
    RESEARCH = "research"
    DUTY_REPORT = "duty_report"
    VISIT = "visit"


class EvidenceKind(StrEnum):
    """What a piece of evidence records."""

    TRAINING_ATTENDED = "training_attended"
    SUGGESTION_FOLLOWED = "suggestion_followed"
    RESEARCH_REPORTED = "research_reported"
    BALLOT_PUBLISHED = "ballot_published"
    VISIT_RECORDED = "visit_recorded"


EVIDENCE_FOR: Mapping[Item, EvidenceKind] = {
    Item.TRAINING: EvidenceKind.TRAINING_ATTENDED,
    Item.SUGGESTION: EvidenceKind.SUGGESTION_FOLLOWED,
    Item.RESEARCH: EvidenceKind.RESEARCH_REPORTED,
    Item.DUTY_REPORT: EvidenceKind.BALLOT_PUBLISHED,
    Item.VISIT: EvidenceKind.VISIT_RECORDED,
}


class Status(StrEnum):
    DONE = "done"
    SHORT = "short"
    NOT_DUE = "not_due"


@dataclass(frozen=True)
class Evidence:
    """One thing a deputy did: its kind, the day (Asia/Shanghai) and a
    reference to the record it comes from (a training, a letter, a ballot).
    `flagged` marks a published ballot below the configured share."""

    kind: EvidenceKind
    on: date
    ref: str
    flagged: bool = False


@dataclass(frozen=True)
class DeputyEvidence:
    """A deputy's evidence for a year and whether their report is due in it."""

    deputy_id: int
    year: int
    report_due: bool
    evidence: tuple[Evidence, ...] = ()
    street_id: int | None = None


@dataclass(frozen=True)
class ItemResult:
    item: Item
    status: Status
    evidence: tuple[Evidence, ...] = ()
    # Only the duty report: its published ballot fell below the share.
    flagged: bool = False


@dataclass(frozen=True)
class Scorecard:
    deputy_id: int
    year: int
    street_id: int | None
    items: tuple[ItemResult, ...]
    # Days left before the year ends, counting today; 0 once it has ended.
    days_left: int
    # Whether the year has not yet ended (shortfalls can still be made good).
    open: bool

    @property
    def short(self) -> tuple[Item, ...]:
        return tuple(r.item for r in self.items if r.status is Status.SHORT)

    def result(self, item: Item) -> ItemResult:
        return next(r for r in self.items if r.item is item)


def shanghai_today(now: datetime | None = None) -> date:
    """Today's date in Asia/Shanghai."""
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()


def days_left_in(year: int, today: date) -> int:
    """Days from `today` to the year's end, today included: 1 on
    31 December, 0 once the year has ended, the whole year before it starts."""
    if today.year > year:
        return 0
    start = max(today, date(year, 1, 1))
    return (date(year, 12, 31) - start).days + 1


def score(deputy: DeputyEvidence, today: date) -> Scorecard:
    """The deputy's scorecard for `deputy.year` as of `today` (Asia/Shanghai).

    Evidence dated outside the year does not count; the evidence of each
    item is listed oldest first."""
    in_year = sorted(
        (e for e in deputy.evidence if e.on.year == deputy.year), key=lambda e: (e.on, e.ref)
    )
    items = []
    for item, kind in EVIDENCE_FOR.items():
        found = tuple(e for e in in_year if e.kind is kind)
        if item is Item.DUTY_REPORT and not deputy.report_due:
            items.append(ItemResult(item, Status.NOT_DUE, found))
            continue
        status = Status.DONE if found else Status.SHORT
        flagged = item is Item.DUTY_REPORT and any(e.flagged for e in found)
        items.append(ItemResult(item, status, found, flagged))
    return Scorecard(
        deputy_id=deputy.deputy_id,
        year=deputy.year,
        street_id=deputy.street_id,
        items=tuple(items),
        days_left=days_left_in(deputy.year, today),
        open=today.year <= deputy.year,
    )


@dataclass(frozen=True)
class ItemShortfall:
    """Who is short of one of the five."""

    item: Item
    deputy_ids: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.deputy_ids)


@dataclass(frozen=True)
class Shortfalls:
    """Who is short of which, among the scorecards of a street or the
    district; `by_street` splits the same per street."""

    year: int
    deputies: int
    complete: int
    items: tuple[ItemShortfall, ...]
    flagged: tuple[int, ...]
    days_left: int
    by_street: Mapping[int, Shortfalls] = field(default_factory=dict)


def shortfalls(
    cards: Iterable[Scorecard], year: int, today: date, *, split: bool = True
) -> Shortfalls:
    """Counts and lists of the deputies short of each item (ids ascending),
    the deputies with nothing short, and those whose ballot was flagged."""
    chosen = sorted((c for c in cards if c.year == year), key=lambda c: c.deputy_id)
    items = tuple(
        ItemShortfall(item, tuple(c.deputy_id for c in chosen if item in c.short)) for item in Item
    )
    flagged = tuple(c.deputy_id for c in chosen if c.result(Item.DUTY_REPORT).flagged)
    by_street: dict[int, Shortfalls] = {}
    if split:
        streets = sorted({c.street_id for c in chosen if c.street_id is not None})
        for street in streets:
            mine = [c for c in chosen if c.street_id == street]
            by_street[street] = shortfalls(mine, year, today, split=False)
    return Shortfalls(
        year=year,
        deputies=len(chosen),
        complete=sum(1 for c in chosen if not c.short),
        items=items,
        flagged=flagged,
        days_left=days_left_in(year, today),
        by_street=by_street,
    )

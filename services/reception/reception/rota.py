"""The rota's rules, in plain Python: which deputies receive at which session.

A station's rota is drawn from its deputies of all four levels. Each session
gets `min_deputies` of them (LIAISON_RECEPTION_ROTA_MIN_DEPUTIES, 2 by
default), and among them the station head or a deputy head, who leads it.
Nobody is put on a day they declared themselves unavailable.

Fair over the year: for each session the deputies available that day are
taken in order of how many sessions of that year they already have (fewest
first); at equal counts a deputy who is not a head comes first, so heads are
kept for the seats only they can fill, then a fixed rotation breaks the tie.
When the first `min_deputies` hold no head, the last of them gives way to
the first head. So, while everyone is available, the deputies who are not
heads stay within one session of each other over the year, the heads within
one of each other, and everyone within one of everyone when the heads are
numerous enough to lead every session at their fair share
(`heads * min_deputies >= deputies`); with fewer heads, the heads receive
more often than the others, which the head rule demands.

Everything here is deterministic: the same sessions, deputies, counts and
unavailability give the same rota. Use cases over the database are in
`reception.rotas`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

DEFAULT_MIN_DEPUTIES = 2

# Why a session's rota is not complete.
NO_HEAD = "no_head_available"
TOO_FEW = "too_few_deputies"


@dataclass(frozen=True)
class Candidate:
    """A deputy of the station who may receive: its registry id, and whether
    they are the station head or a deputy head."""

    deputy_id: int
    head: bool = False


@dataclass(frozen=True)
class Away:
    """A deputy's declared unavailability, both days included."""

    deputy_id: int
    first: date
    last: date

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Pick:
    deputy_id: int
    lead: bool = False


@dataclass(frozen=True)
class Planned:
    """One session's rota: who receives, the lead first, and what is missing."""

    session_id: int
    day: date
    picks: tuple[Pick, ...]
    gaps: tuple[str, ...] = ()

    @property
    def deputy_ids(self) -> list[int]:
        return [p.deputy_id for p in self.picks]


@dataclass
class Counts:
    """How many sessions each deputy has in each year."""

    by_year: dict[int, Counter[int]] = field(default_factory=dict)

    def of(self, year: int) -> Counter[int]:
        return self.by_year.setdefault(year, Counter())

    def add(self, day: date, deputy_ids: Iterable[int]) -> None:
        self.of(day.year).update(deputy_ids)

    def remove(self, day: date, deputy_ids: Iterable[int]) -> None:
        self.of(day.year).subtract(deputy_ids)


def available(candidates: Iterable[Candidate], away: Iterable[Away], day: date) -> list[Candidate]:
    """The candidates not away on `day`."""
    gone = {a.deputy_id for a in away if a.covers(day)}
    return [c for c in candidates if c.deputy_id not in gone]


def _rotation(deputy_id: int, day: date) -> int:
    """A tie-break that turns with the days, so the same deputy is not always
    first among equals; a fixed function of both, hence deterministic."""
    return (deputy_id * 2654435761 + day.toordinal() * 40503) % 2**32


def choose(
    candidates: Sequence[Candidate],
    counts: Mapping[int, int],
    day: date,
    min_deputies: int,
    keep: Sequence[Pick] = (),
) -> tuple[tuple[Pick, ...], tuple[str, ...]]:
    """The rota of one session on `day` from the available `candidates`:
    `keep` stays on it (a rota being repaired), the rest is chosen fairly.
    The lead (a head) comes first. Also the gaps: `no_head_available`,
    `too_few_deputies`."""
    heads = {c.deputy_id for c in candidates if c.head}
    present = {c.deputy_id for c in candidates}
    kept = list(dict.fromkeys(p.deputy_id for p in keep if p.deputy_id in present))
    order = sorted(
        (c.deputy_id for c in candidates if c.deputy_id not in kept),
        key=lambda d: (counts.get(d, 0), d in heads, _rotation(d, day)),
    )
    wanted = max(min_deputies - len(kept), 0)
    chosen = kept + order[:wanted]
    if not heads.intersection(chosen):
        spare_heads = [d for d in order if d in heads and d not in chosen]
        if spare_heads:
            added = order[:wanted]
            if added and len(chosen) >= min_deputies:
                chosen.remove(added[-1])  # the last one chosen gives way
            chosen.append(spare_heads[0])
    lead_of_kept = next((p.deputy_id for p in keep if p.lead and p.deputy_id in heads), None)
    lead = lead_of_kept if lead_of_kept in chosen else next((d for d in chosen if d in heads), None)
    picks = [Pick(lead, True)] if lead is not None else []
    picks += [Pick(d) for d in chosen if d != lead]
    gaps: list[str] = []
    if lead is None:
        gaps.append(NO_HEAD)
    if len(picks) < min_deputies:
        gaps.append(TOO_FEW)
    return tuple(picks), tuple(gaps)


def plan(
    sessions: Sequence[tuple[int, date]],
    candidates: Sequence[Candidate],
    away: Sequence[Away] = (),
    *,
    min_deputies: int = DEFAULT_MIN_DEPUTIES,
    counts: Counts | None = None,
) -> list[Planned]:
    """The rotas of `sessions` ((id, day), taken in date order) of one station.

    `counts`: the sessions each deputy already has in each year (the rotas
    kept); it is updated with the new ones."""
    if min_deputies < 1:
        raise ValueError("a session needs at least one deputy")
    tally = counts if counts is not None else Counts()
    planned: list[Planned] = []
    for session_id, day in sorted(sessions, key=lambda s: (s[1], s[0])):
        picks, gaps = choose(
            available(candidates, away, day), tally.of(day.year), day, min_deputies
        )
        tally.add(day, (p.deputy_id for p in picks))
        planned.append(Planned(session_id, day, picks, gaps))
    return planned


def gaps_of(picks: Sequence[Pick], heads: Iterable[int], min_deputies: int) -> tuple[str, ...]:
    """What a rota set by hand (or repaired) lacks."""
    gaps = []
    if not set(heads).intersection(p.deputy_id for p in picks):
        gaps.append(NO_HEAD)
    if len(picks) < min_deputies:
        gaps.append(TOO_FEW)
    return tuple(gaps)

"""The rota's rules, without I/O: fairness over the year, a head leading each
session, the minimum of deputies, unavailability, determinism."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reception.rota import (
    NO_HEAD,
    TOO_FEW,
    Away,
    Candidate,
    Counts,
    Pick,
    choose,
    gaps_of,
    plan,
)

YEAR = [(month, date(2027, month, 15)) for month in range(1, 13)]


def station(heads: int, others: int) -> list[Candidate]:
    return [Candidate(100 + i, head=True) for i in range(heads)] + [
        Candidate(200 + i) for i in range(others)
    ]


def tally(planned: list) -> Counter[int]:
    return Counter(d for p in planned for d in p.deputy_ids)


def spread(counts: Counter[int], ids: list[int]) -> int:
    values = [counts.get(i, 0) for i in ids]
    return max(values) - min(values) if values else 0


stations = st.tuples(st.integers(1, 3), st.integers(0, 12), st.integers(1, 4))
many_sessions = st.lists(
    st.dates(date(2027, 1, 1), date(2027, 12, 31)), min_size=1, max_size=40, unique=True
)


@settings(max_examples=200, deadline=None)
@given(stations, many_sessions)
def test_over_a_year_every_deputy_is_within_one_of_the_others(
    shape: tuple[int, int, int], days: list[date]
) -> None:
    heads, others, minimum = shape
    candidates = station(heads, others)
    sessions = list(enumerate(sorted(days), start=1))
    planned = plan(sessions, candidates, min_deputies=minimum)
    counts = tally(planned)
    head_ids = [c.deputy_id for c in candidates if c.head]
    other_ids = [c.deputy_id for c in candidates if not c.head]
    assert spread(counts, other_ids) <= 1
    assert spread(counts, head_ids) <= 1
    if heads * minimum >= len(candidates):
        assert spread(counts, [c.deputy_id for c in candidates]) <= 1
    else:  # too few heads to lead every session at their share: they receive more
        most = max((counts[o] for o in other_ids), default=0)
        assert min(counts[h] for h in head_ids) >= most - 1


@settings(max_examples=200, deadline=None)
@given(stations, many_sessions)
def test_every_session_has_its_minimum_led_by_a_head(
    shape: tuple[int, int, int], days: list[date]
) -> None:
    heads, others, minimum = shape
    candidates = station(heads, others)
    for p in plan(list(enumerate(days, start=1)), candidates, min_deputies=minimum):
        assert p.picks[0].lead and p.picks[0].deputy_id < 200, "a head leads, first"
        assert sum(pick.lead for pick in p.picks) == 1
        assert len(set(p.deputy_ids)) == len(p.picks)
        assert len(p.picks) == min(minimum, heads + others)
        assert (TOO_FEW in p.gaps) == (heads + others < minimum)
        assert NO_HEAD not in p.gaps


@settings(max_examples=200, deadline=None)
@given(
    stations,
    many_sessions,
    st.lists(
        st.tuples(
            st.sampled_from([100, 101, 102, 200, 201, 202, 203]),
            st.dates(date(2027, 1, 1), date(2027, 12, 31)),
            st.integers(0, 60),
        ),
        max_size=8,
    ),
)
def test_nobody_receives_on_a_day_they_are_away(
    shape: tuple[int, int, int], days: list[date], absences: list[tuple[int, date, int]]
) -> None:
    heads, others, minimum = shape
    candidates = station(heads, others)
    away = [Away(d, first, first + timedelta(days=n)) for d, first, n in absences]
    for p in plan(list(enumerate(days, start=1)), candidates, away, min_deputies=minimum):
        gone = {a.deputy_id for a in away if a.covers(p.day)}
        present = [c for c in candidates if c.deputy_id not in gone]
        assert not gone.intersection(p.deputy_ids)
        assert len(p.picks) == min(minimum, len(present))
        assert (NO_HEAD in p.gaps) == (not any(c.head for c in present))
        assert p.picks[0].lead == (NO_HEAD not in p.gaps) if p.picks else True


@given(stations, many_sessions)
def test_the_same_input_gives_the_same_rota(shape: tuple[int, int, int], days: list[date]) -> None:
    heads, others, minimum = shape
    sessions = list(enumerate(days, start=1))
    first = plan(sessions, station(heads, others), min_deputies=minimum)
    again = plan(list(reversed(sessions)), station(heads, others)[::-1], min_deputies=minimum)
    assert first == again


def test_a_year_of_a_station_with_one_head_and_five_deputies() -> None:
    candidates = station(1, 5)
    planned = plan(YEAR, candidates, min_deputies=2)
    counts = tally(planned)
    assert counts[100] == 12, "the only head leads every session"
    assert sorted(counts[200 + i] for i in range(5)) == [2, 2, 2, 3, 3]
    assert sum(counts.values()) == 24


def test_what_was_kept_counts_towards_the_year() -> None:
    candidates = station(2, 2)
    counts = Counts()
    counts.add(date(2027, 1, 15), [100, 200, 200])
    planned = plan([(1, date(2027, 2, 15))], candidates, min_deputies=2, counts=counts)
    assert set(planned[0].deputy_ids) == {101, 201}, "the fewest sessions so far come first"
    assert counts.of(2027)[101] == 1


def test_a_repair_keeps_who_stays_and_fills_the_rest() -> None:
    candidates = station(2, 3)
    picks, gaps = choose(candidates, {}, date(2027, 3, 15), 3, keep=[Pick(201)])
    assert picks[0] == Pick(100, True) or picks[0] == Pick(101, True)
    assert 201 in [p.deputy_id for p in picks]
    assert len(picks) == 3 and gaps == ()


def test_a_head_joins_when_those_who_stay_hold_none() -> None:
    candidates = station(1, 3)
    picks, gaps = choose(candidates, {}, date(2027, 3, 15), 2, keep=[Pick(200), Pick(201)])
    assert [p.deputy_id for p in picks] == [100, 200, 201]
    assert gaps == ()


def test_gaps_of_a_rota_set_by_hand() -> None:
    assert gaps_of([Pick(200)], heads=[100], min_deputies=2) == (NO_HEAD, TOO_FEW)
    assert gaps_of([Pick(100, True), Pick(200)], heads=[100], min_deputies=2) == ()

"""The duty-report plan: each deputy once in the cycle, a third (±1) of the
district and of every street each year, the same plan for the same deputies,
and joiners and leavers that move nobody else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duties.report_plan import (
    PlannedDeputy,
    cycle_first_year,
    place_joiner,
    plan_cycle,
    remaining_years,
    withdraw,
)
from kit.errors import FailedPrecondition, InvalidArgument

FIRST = 2026


def deputies_strategy(max_size: int = 120) -> st.SearchStrategy[list[PlannedDeputy]]:
    one = st.builds(
        PlannedDeputy,
        deputy_id=st.integers(1, 10_000),
        street_id=st.integers(1, 8),
        level=st.sampled_from(["district", "city", "province"]),
    )
    return st.lists(one, max_size=max_size, unique_by=lambda d: d.deputy_id)


# Deputies who join mid-cycle: ids apart from those planned.
JOINERS = st.lists(
    st.builds(PlannedDeputy, deputy_id=st.integers(20_000, 30_000), street_id=st.integers(1, 8)),
    max_size=30,
    unique_by=lambda d: d.deputy_id,
)


def spread(load: dict[int, int]) -> int:
    return max(load.values()) - min(load.values())


@settings(max_examples=200, deadline=None)
@given(deputies_strategy())
def test_each_deputy_reports_exactly_once_in_the_cycle(deputies: list[PlannedDeputy]) -> None:
    plan = plan_cycle(deputies, FIRST)
    assert set(plan.slots) == {d.deputy_id for d in deputies}
    assert all(s.year in (2026, 2027, 2028) for s in plan.slots.values())


@settings(max_examples=200, deadline=None)
@given(deputies_strategy())
def test_each_year_holds_a_third_overall_and_per_street(deputies: list[PlannedDeputy]) -> None:
    plan = plan_cycle(deputies, FIRST)
    assert spread(plan.load()) <= 1
    for street in {d.street_id for d in deputies}:
        assert spread(plan.load(street)) <= 1, street


@settings(max_examples=100, deadline=None)
@given(deputies_strategy(), st.randoms(use_true_random=False))
def test_the_same_deputies_in_any_order_give_the_same_plan(deputies, rnd) -> None:
    shuffled = list(deputies)
    rnd.shuffle(shuffled)
    assert plan_cycle(deputies, FIRST).slots == plan_cycle(shuffled, FIRST).slots


@settings(max_examples=200, deadline=None)
@given(
    deputies_strategy(60),
    JOINERS,
    st.sampled_from([2026, 2027, 2028]),
)
def test_joiners_move_nobody_and_take_a_remaining_year(deputies, joiners, joined_in) -> None:
    before = plan_cycle(deputies, FIRST)
    plan = before
    for joiner in joiners:
        plan = place_joiner(plan, joiner, joined_in)
    for deputy_id, slot in before.slots.items():
        assert plan.slots[deputy_id] == slot
    for joiner in joiners:
        assert plan.year_of(joiner.deputy_id) in remaining_years(FIRST, joined_in)


@settings(max_examples=200, deadline=None)
@given(
    deputies_strategy(60),
    JOINERS,
)
def test_joiners_at_the_cycle_start_keep_every_street_within_one(deputies, joiners) -> None:
    plan = plan_cycle(deputies, FIRST)
    for joiner in joiners:
        plan = place_joiner(plan, joiner, FIRST)
    for street in {d.street_id for d in [*deputies, *joiners]}:
        assert spread(plan.load(street)) <= 1, street


@settings(max_examples=200, deadline=None)
@given(deputies_strategy(60), st.data())
def test_a_leaver_frees_their_slot_and_nobody_moves(deputies, data) -> None:
    if not deputies:
        return
    plan = plan_cycle(deputies, FIRST)
    leaver = data.draw(st.sampled_from(deputies))
    after = withdraw(plan, leaver.deputy_id)
    assert leaver.deputy_id not in after.slots
    assert {i: s for i, s in plan.slots.items() if i != leaver.deputy_id} == dict(after.slots)


def test_a_joiner_fills_the_year_a_leaver_freed() -> None:
    deputies = [PlannedDeputy(i, 1) for i in range(1, 7)]  # two a year
    plan = plan_cycle(deputies, FIRST)
    leaver = next(i for i, s in plan.slots.items() if s.year == 2027)
    plan = withdraw(plan, leaver)
    plan = place_joiner(plan, PlannedDeputy(99, 1), FIRST)
    assert plan.year_of(99) == 2027


def test_a_joiner_late_in_the_cycle_can_only_take_the_last_year() -> None:
    plan = plan_cycle([PlannedDeputy(1, 1)], FIRST)
    plan = place_joiner(plan, PlannedDeputy(2, 1), 2028)
    assert plan.year_of(2) == 2028


def test_a_joiner_after_the_cycle_is_refused() -> None:
    plan = plan_cycle([PlannedDeputy(1, 1)], FIRST)
    with pytest.raises(FailedPrecondition, match="has ended"):
        place_joiner(plan, PlannedDeputy(2, 1), 2029)


def test_a_deputy_already_planned_cannot_join_again() -> None:
    plan = plan_cycle([PlannedDeputy(1, 1)], FIRST)
    with pytest.raises(FailedPrecondition, match="already reports"):
        place_joiner(plan, PlannedDeputy(1, 2), FIRST)


def test_a_deputy_named_twice_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        plan_cycle([PlannedDeputy(1, 1), PlannedDeputy(1, 2)], FIRST)
    assert caught.value.violations[0].field == "deputies"


def test_a_first_year_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        plan_cycle([], 1999)


def test_withdrawing_someone_not_planned_is_refused() -> None:
    with pytest.raises(FailedPrecondition):
        withdraw(plan_cycle([], FIRST), 5)


@pytest.mark.parametrize(
    ("year", "first"), [(2026, 2026), (2028, 2026), (2029, 2029), (2025, 2023), (2031, 2029)]
)
def test_the_cycle_holding_a_year(year: int, first: int) -> None:
    assert cycle_first_year(2026, year) == first


def test_a_street_of_seven_reports_three_two_two() -> None:
    plan = plan_cycle([PlannedDeputy(i, 4) for i in range(7)], FIRST)
    assert sorted(plan.load(4).values()) == [2, 2, 3]

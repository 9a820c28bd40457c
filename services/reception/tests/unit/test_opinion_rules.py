"""The rules of opinions: tracking codes, the lifecycle's transitions, the
categories' list and the ranking of deputies by expertise (包干到户)."""

from __future__ import annotations

import pytest

from kit.errors import FailedPrecondition
from liaison.reception.v1 import opinions_pb2 as opb
from reception import opinion_rules as rules
from reception.opinions import CATEGORY, STATUS


def test_a_tracking_code_is_the_year_and_six_digits() -> None:
    assert rules.tracking_code(2026, 123) == "TH-2026-000123"
    assert rules.tracking_code(2026, 1_234_567) == "TH-2026-1234567"
    assert rules.parse_code("th-2026-000123 ") == (2026, 123)
    for bad in ("TH-2026-123", "TH-26-000123", "XX-2026-000123", "TH-2026-00012a", ""):
        assert rules.parse_code(bad) is None
    with pytest.raises(ValueError):
        rules.tracking_code(2026, 0)


@pytest.mark.parametrize(
    ("source", "status", "action", "after"),
    [
        ("reception", "recorded", "answered", "answered_on_the_spot"),
        ("online", "recorded", "answered", "answered_on_the_spot"),
        ("online", "recorded", "handed_on", "handed_on"),
        ("reception", "recorded", "merged", "merged"),
        ("reception", "recorded", "declined", "declined"),
        ("reception", "recorded", "assigned", "recorded"),
        ("order", "recorded", "assigned", "in_progress"),
        ("order", "in_progress", "assigned", "in_progress"),
        ("order", "in_progress", "done", "done"),
        ("order", "in_progress", "handed_on", "handed_on"),
        ("order", "in_progress", "declined", "declined"),
    ],
)
def test_the_transitions_allowed(source: str, status: str, action: str, after: str) -> None:
    assert rules.next_status(source, status, action) == after


@pytest.mark.parametrize(
    ("source", "status", "action"),
    [
        ("order", "recorded", "answered"),  # an order is worked through, not answered
        ("reception", "recorded", "done"),  # only orders are done
        ("online", "in_progress", "answered"),
        *[
            (src, final, "handed_on")
            for src in rules.SOURCES
            for final in ("answered_on_the_spot", "handed_on", "merged", "declined", "done")
        ],  # fmt: skip
    ],
)
def test_an_illegal_transition_names_the_states(source: str, status: str, action: str) -> None:
    with pytest.raises(FailedPrecondition) as refused:
        rules.next_status(source, status, action)
    assert status in refused.value.message and action in refused.value.message


def test_a_final_state_says_it_is_closed_and_an_open_one_what_it_may_become() -> None:
    with pytest.raises(FailedPrecondition, match="it is closed"):
        rules.next_status("online", "declined", "answered")
    with pytest.raises(FailedPrecondition, match="it may be assigned, declined, done"):
        rules.next_status("order", "in_progress", "answered")


def test_the_categories_are_the_contracts_enum_and_the_statuses_too() -> None:
    assert [c.name for c in rules.CATEGORIES] == list(CATEGORY.names)
    assert set(rules.STATUSES) == set(STATUS.names)
    assert CATEGORY.number("property") == opb.OPINION_CATEGORY_PROPERTY
    assert all(c.label for c in rules.CATEGORIES)


def _c(deputy_id: int, station: int, tags: list[str], load: int = 0) -> rules.Candidate:
    return rules.Candidate(deputy_id, f"代表{deputy_id}", station, tags, load)


def test_deputies_are_ranked_by_fit_then_station_then_load() -> None:
    candidates = [
        _c(1, 11, ["法律"]),  # property's third tag: 1
        _c(2, 12, ["物业管理"]),  # the first tag, another station: 3
        _c(3, 11, ["物业管理"], load=2),  # the first tag, this station, busy
        _c(4, 11, ["物业管理"], load=0),  # the first tag, this station, free
        _c(5, 11, ["教育"]),  # does not fit
        _c(6, 11, ["物业管理", "住房保障"]),  # 3 + 2
    ]
    ranked = rules.rank("property", 11, candidates, 10)
    assert [s.candidate.deputy_id for s in ranked] == [6, 4, 3, 2, 1]
    assert ranked[0].matched == ("物业管理", "住房保障") and ranked[0].score == 5
    assert "“物业管理”" in ranked[0].reason and "本站代表" in ranked[0].reason
    assert "在办2件" in ranked[2].reason
    assert "本街道其他联络站代表" in ranked[3].reason
    assert len(rules.rank("property", 11, candidates, 2)) == 2


def test_when_no_expertise_fits_the_stations_own_deputies_are_named() -> None:
    ranked = rules.rank("other", 11, [_c(1, 11, ["法律"]), _c(2, 12, ["教育"])], 5)
    assert [s.candidate.deputy_id for s in ranked] == [1]
    assert ranked[0].score == 0 and "无与“其他”对口的专长" in ranked[0].reason

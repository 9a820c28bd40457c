"""The five-ones scorecard rules over a deputy's plain evidence list."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from duties.scorecard import (
    DeputyEvidence,
    Evidence,
    EvidenceKind,
    Item,
    Scorecard,
    Status,
    days_left_in,
    score,
    shanghai_today,
    shortfalls,
)

K = EvidenceKind
MID_YEAR = date(2026, 9, 1)


def ev(kind: EvidenceKind, on: date, ref: str = "r", flagged: bool = False) -> Evidence:
    return Evidence(kind, on, ref, flagged)


def everything(year: int = 2026) -> tuple[Evidence, ...]:
    return (
        ev(K.TRAINING_ATTENDED, date(year, 3, 1), "training:1"),
        ev(K.SUGGESTION_FOLLOWED, date(year, 4, 1), "letter:2"),
        ev(K.RESEARCH_REPORTED, date(year, 5, 1), "research:3"),
        ev(K.BALLOT_PUBLISHED, date(year, 6, 1), "ballot:4"),
        ev(K.VISIT_RECORDED, date(year, 7, 1), "visit:5"),
    )


def test_all_five_done_in_the_planned_year() -> None:
    card = score(DeputyEvidence(1, 2026, True, everything()), MID_YEAR)
    assert [r.status for r in card.items] == [Status.DONE] * 5
    assert card.short == ()
    assert card.result(Item.DUTY_REPORT).evidence[0].ref == "ballot:4"


def test_the_report_is_not_due_outside_the_planned_year() -> None:
    card = score(DeputyEvidence(1, 2026, False, ()), MID_YEAR)
    assert card.result(Item.DUTY_REPORT).status is Status.NOT_DUE
    assert card.short == (Item.TRAINING, Item.SUGGESTION, Item.RESEARCH, Item.VISIT)


def test_a_due_report_without_a_published_ballot_is_short() -> None:
    evidence = tuple(e for e in everything() if e.kind is not K.BALLOT_PUBLISHED)
    card = score(DeputyEvidence(1, 2026, True, evidence), MID_YEAR)
    assert card.short == (Item.DUTY_REPORT,)


def test_a_ballot_below_the_share_is_done_and_flagged() -> None:
    evidence = (ev(K.BALLOT_PUBLISHED, date(2026, 6, 1), "ballot:9", flagged=True),)
    result = score(DeputyEvidence(1, 2026, True, evidence), MID_YEAR).result(Item.DUTY_REPORT)
    assert result.status is Status.DONE
    assert result.flagged


def test_evidence_of_another_year_does_not_count() -> None:
    card = score(DeputyEvidence(1, 2026, True, everything(2025)), MID_YEAR)
    assert len(card.short) == 5
    assert all(r.evidence == () for r in card.items)


def test_evidence_is_listed_oldest_first_per_item() -> None:
    evidence = (
        ev(K.TRAINING_ATTENDED, date(2026, 10, 1), "b"),
        ev(K.TRAINING_ATTENDED, date(2026, 2, 1), "a"),
    )
    card = score(DeputyEvidence(1, 2026, False, evidence), MID_YEAR)
    assert [e.ref for e in card.result(Item.TRAINING).evidence] == ["a", "b"]


def test_days_left_count_today_and_end_with_the_year() -> None:
    assert days_left_in(2026, date(2026, 12, 31)) == 1
    assert days_left_in(2026, date(2026, 1, 1)) == 365
    assert days_left_in(2028, date(2028, 1, 1)) == 366
    assert days_left_in(2026, date(2027, 1, 1)) == 0
    assert days_left_in(2027, date(2026, 6, 1)) == 365


def test_a_past_year_is_closed_with_no_days_left() -> None:
    card = score(DeputyEvidence(1, 2025, False, ()), MID_YEAR)
    assert not card.open
    assert card.days_left == 0


def test_today_is_shanghais_day() -> None:
    # 31 December 2026, 16:30 UTC is 1 January 2027, 00:30 in Shanghai.
    assert shanghai_today(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == date(2027, 1, 1)
    assert shanghai_today(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == date(2026, 12, 31)


def card(deputy_id: int, street: int, *present: EvidenceKind, due: bool = False, flagged=False):
    evidence = tuple(
        ev(k, date(2026, 5, 1), f"{k}:{deputy_id}", flagged and k is K.BALLOT_PUBLISHED)
        for k in present
    )
    return score(DeputyEvidence(deputy_id, 2026, due, evidence, street), MID_YEAR)


def test_shortfalls_count_and_list_per_item_and_street() -> None:
    all_kinds = list(K)
    cards = [
        card(1, 10, *all_kinds, due=True),
        card(2, 10, K.TRAINING_ATTENDED, K.VISIT_RECORDED),
        card(3, 20, K.SUGGESTION_FOLLOWED, K.RESEARCH_REPORTED, K.VISIT_RECORDED, due=True),
        card(4, 20, *all_kinds, due=True, flagged=True),
    ]
    found = shortfalls(cards, 2026, MID_YEAR)
    by_item = {s.item: s.deputy_ids for s in found.items}
    assert by_item == {
        Item.TRAINING: (3,),
        Item.SUGGESTION: (2,),
        Item.RESEARCH: (2,),
        Item.DUTY_REPORT: (3,),
        Item.VISIT: (),
    }
    assert (found.deputies, found.complete, found.flagged) == (4, 2, (4,))
    assert found.days_left == 122
    street10 = {s.item: s.count for s in found.by_street[10].items}
    assert street10 == {
        Item.TRAINING: 0,
        Item.SUGGESTION: 1,
        Item.RESEARCH: 1,
        Item.DUTY_REPORT: 0,
        Item.VISIT: 0,
    }
    assert found.by_street[20].flagged == (4,)
    assert found.by_street[20].by_street == {}


kinds = st.sampled_from(list(EvidenceKind))
evidence_strategy = st.lists(
    st.builds(
        Evidence,
        kind=kinds,
        on=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
        ref=st.text(max_size=5),
        flagged=st.booleans(),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(evidence_strategy, st.booleans(), st.dates(date(2025, 1, 1), date(2028, 1, 1)))
def test_an_item_is_done_exactly_when_it_has_evidence_of_the_year(evidence, due, today) -> None:
    result: Scorecard = score(DeputyEvidence(7, 2026, due, tuple(evidence)), today)
    for item_result in result.items:
        if item_result.item is Item.DUTY_REPORT and not due:
            assert item_result.status is Status.NOT_DUE
            continue
        has = any(
            e.on.year == 2026 and e.kind.name.split("_")[0] == kind_prefix(item_result.item)
            for e in evidence
        )
        assert (item_result.status is Status.DONE) == has
    assert set(result.short) <= set(Item)


def kind_prefix(item: Item) -> str:
    return {
        Item.TRAINING: "TRAINING",
        Item.SUGGESTION: "SUGGESTION",
        Item.RESEARCH: "RESEARCH",
        Item.DUTY_REPORT: "BALLOT",
        Item.VISIT: "VISIT",
    }[item]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.sets(kinds, max_size=5), st.booleans()),
        max_size=25,
    )
)
def test_shortfalls_list_exactly_the_deputies_whose_cards_are_short(deputies) -> None:
    cards = [
        card(deputy_id, street, *sorted(present), due=due)
        for deputy_id, (street, present, due) in enumerate(deputies, start=1)
    ]
    found = shortfalls(cards, 2026, MID_YEAR)
    for item_short in found.items:
        assert item_short.deputy_ids == tuple(
            c.deputy_id for c in cards if item_short.item in c.short
        )
    assert found.complete == sum(1 for c in cards if not c.short)
    assert sum(part.deputies for part in found.by_street.values()) == found.deputies
    for street, part in found.by_street.items():
        for item_short in part.items:
            assert set(item_short.deputy_ids) <= {
                c.deputy_id for c in cards if c.street_id == street
            }

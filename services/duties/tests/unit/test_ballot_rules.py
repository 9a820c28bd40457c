"""The ballot's rules without I/O: codes (entropy, printing, forgiving
typing, hashes bound to their ballot), a paper's checks, the tally, the
minimum turnout and the re-nomination flag."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duties.ballot_rules import (
    ALPHABET,
    CODE_BITS,
    CODE_LENGTH,
    MAX_CODES_PER_BALLOT,
    MAX_CODES_PER_ISSUE,
    MAX_COMMENT_LENGTH,
    Choice,
    ResultRules,
    Tally,
    check_code_count,
    check_paper,
    code_hash,
    format_code,
    new_code,
    new_codes,
    normalise_code,
    shuffled,
)
from kit.errors import FailedPrecondition, InvalidArgument

canonical_codes = st.text(alphabet=ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)


def test_a_code_carries_80_random_bits_printed_in_four_groups() -> None:
    assert CODE_BITS == 80
    code = new_code()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert set("".join(groups)) <= set(ALPHABET)
    # No letter that reads as a digit or another letter is ever printed.
    assert not set(code) & set("ILOU")


def test_codes_issued_together_are_distinct_and_unpredictable() -> None:
    codes = new_codes(500)
    assert len(set(codes)) == 500
    # Every symbol turns up: the codes are drawn from the whole alphabet.
    assert set("".join(codes).replace("-", "")) == set(ALPHABET)


@given(canonical_codes)
def test_the_printed_code_reads_back_as_itself(canonical: str) -> None:
    printed = format_code(canonical)
    assert normalise_code(printed) == canonical
    assert normalise_code(printed.lower()) == canonical
    assert normalise_code(printed.replace("-", " ")) == canonical
    assert normalise_code(printed.replace("-", "")) == canonical


def test_typing_is_forgiving_of_look_alikes_and_full_width() -> None:
    assert normalise_code("o1il-0000-1111-AAAA") == "011100001111AAAA"
    full_width = "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ－ＰＱＲＳ"
    assert normalise_code(full_width) == "ABCDEFGHJKMNPQRS"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ABCD-EFGH-JKMN-PQR",
        "ABCD-EFGH-JKMN-PQRST",
        "ABCD-EFGH-JKMN-PQRU",
        "A" * 100,
        "码码码码",
    ],
)
def test_what_cannot_be_a_code_is_none(typed: str) -> None:
    assert normalise_code(typed) is None


def test_a_code_hash_is_bound_to_its_ballot() -> None:
    canonical = "ABCDEFGHJKMNPQRS"
    assert code_hash(1, canonical) != code_hash(2, canonical)
    assert code_hash(1, canonical) == code_hash(1, canonical)
    assert len(code_hash(1, canonical)) == 32
    assert canonical.encode() not in code_hash(1, canonical)


def test_an_issue_is_at_least_one_and_bounded() -> None:
    check_code_count(1, 0)
    check_code_count(MAX_CODES_PER_ISSUE, MAX_CODES_PER_BALLOT - MAX_CODES_PER_ISSUE)
    for count, issued in [
        (0, 0),
        (-3, 0),
        (MAX_CODES_PER_ISSUE + 1, 0),
        (2, MAX_CODES_PER_BALLOT - 1),
    ]:
        with pytest.raises(InvalidArgument) as caught:
            check_code_count(count, issued)
        assert [v.field for v in caught.value.violations] == ["count"]


def test_a_paper_names_its_bad_fields() -> None:
    paper = check_paper("basically_satisfied", "  more receptions, please  ")
    assert paper.choice is Choice.BASICALLY_SATISFIED
    assert paper.comment == "more receptions, please"
    assert check_paper("dissatisfied", "").comment == ""
    with pytest.raises(InvalidArgument) as caught:
        check_paper("happy", "x" * (MAX_COMMENT_LENGTH + 1))
    assert [v.field for v in caught.value.violations] == ["choice", "comment"]
    with pytest.raises(InvalidArgument) as caught:
        check_paper("satisfied", "a\x00b")
    assert [v.description for v in caught.value.violations] == ["holds a NUL character"]


def test_shuffled_keeps_every_item() -> None:
    items = list(range(1000))
    out = shuffled(items)
    assert sorted(out) == items
    assert out != items  # odds of the same order: 1 / 1000!


def test_the_tally_counts_and_shares() -> None:
    tally = Tally.of(["satisfied"] * 6 + ["basically_satisfied"] * 2 + ["dissatisfied"] * 4)
    assert (tally.satisfied, tally.basically_satisfied, tally.dissatisfied) == (6, 2, 4)
    assert tally.cast == 12
    assert math.isclose(tally.share, 8 / 12)
    assert Tally().share == 0.0


def test_nothing_is_shown_while_open_or_below_the_minimum_turnout() -> None:
    rules = ResultRules(min_turnout=10, reelection_share=0.6)
    with pytest.raises(FailedPrecondition, match="still open"):
        rules.require_shown(7, closed=False, cast=50)
    with pytest.raises(FailedPrecondition, match="fewer than the minimum turnout of 10"):
        rules.require_shown(7, closed=True, cast=9)
    rules.require_shown(7, closed=True, cast=10)


def test_a_share_strictly_below_the_threshold_flags_the_deputy() -> None:
    rules = ResultRules(min_turnout=10, reelection_share=0.6)
    at = Tally(satisfied=3, basically_satisfied=3, dissatisfied=4)  # 0.6 exactly
    below = Tally(satisfied=3, basically_satisfied=2, dissatisfied=5)
    assert not rules.flagged(at)
    assert rules.flagged(below)
    # Too few papers say nothing, either way.
    assert not rules.flagged(Tally(dissatisfied=9))


@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))
def test_the_flag_follows_the_share_whenever_shown(s: int, b: int, d: int) -> None:
    rules = ResultRules(min_turnout=10, reelection_share=0.6)
    tally = Tally(s, b, d)
    if tally.cast < 10:
        assert not rules.flagged(tally)
    else:
        assert rules.flagged(tally) == ((s + b) / (s + b + d) < 0.6)


@pytest.mark.parametrize("min_turnout, share", [(0, 0.6), (10, -0.1), (10, 1.5), (10, math.nan)])
def test_rules_that_cannot_be_are_refused(min_turnout: int, share: float) -> None:
    with pytest.raises(ValueError):
        ResultRules(min_turnout=min_turnout, reelection_share=share)

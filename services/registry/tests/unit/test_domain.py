"""The registry's rules in registry.domain: no database, no network."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.errors import FieldViolation
from registry import domain
from registry.domain import (
    BudgetCheck,
    CommunityTerms,
    Violations,
    check_contact,
    check_term,
    level_rank,
    match_community,
    normalise_tags,
)


def fields(v: Violations) -> list[str]:
    return [item.field for item in v.items]


# ---------------------------------------------------------------- Violations


def test_an_empty_violations_is_false_and_collects_every_problem() -> None:
    v = Violations()
    assert not v
    v.add("name", "is required")
    v.add("code", "is bad")
    assert v
    assert v.items == [FieldViolation("name", "is required"), FieldViolation("code", "is bad")]


@pytest.mark.parametrize("value", [None, "", "   ", 0])
def test_require_refuses_missing_values(value: object) -> None:
    v = Violations()
    v.require("street_id", value)
    assert v.items == [FieldViolation("street_id", "is required")]


@pytest.mark.parametrize("value", ["x", 7, "林和"])
def test_require_accepts_given_values(value: object) -> None:
    v = Violations()
    v.require("street_id", value)
    assert not v


@pytest.mark.parametrize(
    "code",
    ["linhe", "linhe-1", "D001", "a", "venue-linhe-1", "x.y_z-9", "A" * 64, "9lives"],
)
def test_good_codes(code: str) -> None:
    v = Violations()
    v.code("code", code)
    assert not v, v.items


@pytest.mark.parametrize(
    "code",
    ["-linhe", ".x", "_x", "林和", "lin he", "a/b", "a" * 65, "x@y", "linhe!"],
)
def test_bad_codes_are_named_with_the_rule(code: str) -> None:
    v = Violations()
    v.code("station.code", code)
    assert fields(v) == ["station.code"]
    assert "not a valid code" in v.items[0].description
    assert repr(code) in v.items[0].description


def test_an_empty_code_is_required() -> None:
    v = Violations()
    v.code("code", "")
    assert v.items == [FieldViolation("code", "is required")]


def test_iso_date_parses_a_date() -> None:
    v = Violations()
    assert v.iso_date("term_start", "2021-12-20") == date(2021, 12, 20)
    assert not v


@pytest.mark.parametrize(
    "text", ["2021-13-01", "2021-02-30", "20/12/2021", "soon", "2021年12月20日"]
)
def test_iso_date_names_a_bad_date(text: str) -> None:
    v = Violations()
    assert v.iso_date("term_end", text) is None
    assert fields(v) == ["term_end"]
    assert "YYYY-MM-DD" in v.items[0].description


def test_iso_date_empty_is_none_unless_required() -> None:
    v = Violations()
    assert v.iso_date("opened_on", "") is None
    assert not v
    assert v.iso_date("opened_on", "", required=True) is None
    assert v.items == [FieldViolation("opened_on", "is required")]


def test_one_of_accepts_an_allowed_value() -> None:
    v = Violations()
    v.one_of("gender", "女", domain.GENDERS)
    assert not v


def test_one_of_lists_the_allowed_values() -> None:
    v = Violations()
    v.one_of("kind", "salary", domain.BUDGET_KINDS)
    v.one_of("gender", "", domain.GENDERS)
    assert fields(v) == ["kind", "gender"]
    assert v.items[0].description == "salary is not one of: personnel, operations"
    assert v.items[1].description == "(empty) is not one of: 男, 女"


# ---------------------------------------------------------------- terms and contacts


def test_a_term_may_end_after_or_on_its_start() -> None:
    v = Violations()
    check_term(v, date(2021, 12, 20), date(2026, 12, 19))
    check_term(v, date(2021, 12, 20), date(2021, 12, 20))
    check_term(v, None, date(2021, 1, 1))
    check_term(v, date(2021, 1, 1), None)
    assert not v


def test_a_term_ending_before_its_start_names_term_end() -> None:
    v = Violations()
    check_term(v, date(2021, 12, 20), date(2021, 12, 19))
    assert fields(v) == ["term_end"]
    assert "2021-12-19" in v.items[0].description
    assert "2021-12-20" in v.items[0].description


@pytest.mark.parametrize(
    "phone",
    ["13812345678", "19912345678", "138 1234 5678", "020-87654321", "02087654321", "0755-1234567"],
)
def test_mobile_and_landline_numbers_are_accepted(phone: str) -> None:
    v = Violations()
    check_contact(v, phone, "")
    assert not v, v.items


@pytest.mark.parametrize(
    "phone",
    ["12812345678", "1381234567", "138123456789", "87654321", "020-876543", "+1 555 0100", "phone"],
)
def test_other_numbers_are_refused(phone: str) -> None:
    v = Violations()
    check_contact(v, phone, "")
    assert fields(v) == ["contact.phone"]


@pytest.mark.parametrize("email", ["d001.1234@example.com", "a@b.cn", "wang.wei@tianhe.gov.cn"])
def test_email_addresses_are_accepted(email: str) -> None:
    v = Violations()
    check_contact(v, "", email)
    assert not v


@pytest.mark.parametrize("email", ["nobody", "a@b", "a b@c.cn", "@example.com", "a@@b.cn"])
def test_bad_email_addresses_are_refused(email: str) -> None:
    v = Violations()
    check_contact(v, "", email)
    assert fields(v) == ["contact.email"]


def test_empty_contact_details_are_fine_and_both_problems_are_reported() -> None:
    v = Violations()
    check_contact(v, "", "")
    assert not v
    check_contact(v, "123", "no-at-sign")
    assert fields(v) == ["contact.phone", "contact.email"]


# ---------------------------------------------------------------- tags and levels


def test_normalise_tags_trims_and_deduplicates_in_order() -> None:
    assert normalise_tags([" 教育", "法律 ", "教育", "", "   ", "交通", "法律"]) == [
        "教育",
        "法律",
        "交通",
    ]
    assert normalise_tags([]) == []


def test_levels_rank_national_first_and_unknown_last() -> None:
    ranks = [level_rank(level) for level in ("national", "provincial", "city", "district")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4
    assert level_rank("national") == 0
    assert level_rank("township") > level_rank("district")
    levels = ["district", "city", "national", "district", "provincial"]
    assert sorted(levels, key=level_rank) == [
        "national",
        "provincial",
        "city",
        "district",
        "district",
    ]


# ---------------------------------------------------------------- budgets


def test_a_budget_at_the_minimum_meets_it() -> None:
    check = BudgetCheck(personnel=70_000, operations=300_000, minimum=370_000)
    assert check.total == 370_000
    assert check.meets_minimum
    assert check.shortfall == 0


def test_a_budget_below_the_minimum_has_a_shortfall() -> None:
    check = BudgetCheck(personnel=70_000, operations=270_000, minimum=370_000)
    assert check.total == 340_000
    assert not check.meets_minimum
    assert check.shortfall == 30_000


def test_a_budget_above_the_minimum_has_no_shortfall() -> None:
    check = BudgetCheck(personnel=70_000, operations=330_000, minimum=370_000)
    assert check.total == 400_000
    assert check.meets_minimum
    assert check.shortfall == 0


def test_one_yuan_short_is_short() -> None:
    check = BudgetCheck(personnel=0, operations=369_999, minimum=370_000)
    assert not check.meets_minimum
    assert check.shortfall == 1


# ---------------------------------------------------------------- addresses

LINHE_EAST = CommunityTerms(1, "林和东社区", ("林和东路", "天河北路"))
LINHE_WEST = CommunityTerms(2, "林和西社区", ("林和西路", "天河北路"))
SHIPAI = CommunityTerms(3, "石牌社区", ("石牌东路", "天河北路"))
HUAJING = CommunityTerms(4, "华景社区居委会", ("华景路",))
COMMUNITIES = [LINHE_EAST, LINHE_WEST, SHIPAI, HUAJING]


def test_a_full_community_name_beats_a_road_two_communities_share() -> None:
    assert match_community("广州市天河区天河北路233号林和东社区", COMMUNITIES) == [1]


def test_a_road_many_communities_share_is_ambiguous() -> None:
    assert match_community("天河区天河北路233号", COMMUNITIES) == [1, 2, 3]


def test_equally_long_matches_are_all_returned() -> None:
    assert match_community("林和东路与林和西路交界", COMMUNITIES) == [1, 2]


def test_a_name_without_the_community_suffix_matches() -> None:
    assert match_community("天河区林和西10号", COMMUNITIES) == [2]
    assert match_community("华景新城", COMMUNITIES) == [4]


def test_a_keyword_names_its_community() -> None:
    assert match_community("天河区 石牌 东路 1 号", COMMUNITIES) == [3]


def test_no_match_is_an_empty_list() -> None:
    assert match_community("越秀区北京路1号", COMMUNITIES) == []
    assert match_community("林和东路", []) == []


def test_a_suffix_is_not_stripped_down_to_one_character() -> None:
    # "东社区" without its suffix would be "东", which is in far too many addresses.
    assert match_community("东山口", [CommunityTerms(9, "东社区", ())]) == []


def _by_every_term(address: str, communities: list[CommunityTerms]) -> list[int]:
    """The matching rule read literally: each community's longest term found
    in the address; the communities whose longest is the longest of all."""
    address = "".join(address.split())
    best: dict[int, int] = {}
    for community in communities:
        variants = [community.name]
        for suffix in ("社区居委会", "居委会", "社区"):
            if community.name.endswith(suffix) and len(community.name) > len(suffix) + 1:
                variants.append(community.name[: -len(suffix)])
        found = [len(t) for t in (*variants, *community.keywords) if t and t in address]
        if found:
            best[community.community_id] = max(found)
    top = max(best.values(), default=0)
    return sorted(c for c, length in best.items() if length == top)


@given(
    st.lists(
        st.tuples(
            st.text("林和东西天河北路石牌华景社区居委会", min_size=1, max_size=7),
            st.lists(st.text("林和东西天河北路石牌华景", min_size=0, max_size=5), max_size=3),
        ),
        max_size=8,
    ),
    st.text("林和东西天河北路石牌华景社区居委会号 1", max_size=30),
)
def test_the_term_index_answers_as_every_term_tried_in_turn(
    named: list[tuple[str, list[str]]], address: str
) -> None:
    communities = [CommunityTerms(i + 1, n, tuple(k)) for i, (n, k) in enumerate(named)]
    assert match_community(address, communities) == _by_every_term(address, communities)

"""The demo district has the district's real figures and holds together."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from registry.demo_data import (
    DEPARTMENTS,
    EXPERTISE,
    MINIMUM_BUDGET_YUAN,
    PERSONNEL_YUAN,
    District,
    build_district,
    summary,
)
from registry.roster import GENDERS, LEVELS, ROLES, STATION_ROLES, STREET_ROLES

TIANHE_STREETS = "五山 员村 车陂 沙河 石牌 沙东 天河南 林和 兴华 棠下 天园 猎德 冼村 元岗 黄村 长兴 龙洞 凤凰 前进 珠吉 新塘"


@pytest.fixture(scope="module")
def district() -> District:
    return build_district()


def by_code(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    index = {r["code"]: r for r in records}
    assert len(index) == len(records), "codes must be unique"
    return index


def test_the_real_figures(district: District) -> None:
    counts = summary(district)
    assert counts["streets"] == 21
    assert counts["stations"] == 40
    assert counts["deputies"] == 350
    assert (
        counts["deputies_district"],
        counts["deputies_city"],
        counts["deputies_provincial"],
        counts["deputies_national"],
    ) == (279, 55, 13, 3)
    assert counts["committee_members"] == 83


def test_summary_counts_every_kind(district: District) -> None:
    counts = summary(district)
    for kind in ("streets", "areas", "communities", "venues", "stations", "units", "deputies"):
        assert counts[kind] == len(getattr(district, kind))
    assert counts["positions"] == len(district.positions)
    assert counts["budget_lines"] == len(district.budget_lines)


def test_streets_are_tianhes(district: District) -> None:
    assert [s["name"] for s in district.streets] == [f"{n}街道" for n in TIANHE_STREETS.split()]
    by_code(district.streets)


def test_the_first_station_is_linhe_1(district: District) -> None:
    first = district.stations[0]
    assert (first["code"], first["name"], first["street"]) == (
        "linhe-1",
        "林和街第一联络站",
        "linhe",
    )


def test_every_street_is_divided_into_areas_with_one_to_three_stations(district: District) -> None:
    per_area = Counter(s["area"] for s in district.stations)
    areas = by_code(district.areas)
    assert set(per_area) == set(areas), "every area has a station"
    assert all(1 <= n <= 3 for n in per_area.values()), per_area
    assert {a["street"] for a in district.areas} == {s["code"] for s in district.streets}
    for station in district.stations:
        assert areas[station["area"]]["street"] == station["street"]


def test_every_community_is_served_by_exactly_one_station(district: District) -> None:
    served = Counter(c for s in district.stations for c in s["communities"])
    assert set(served) == {c["code"] for c in district.communities}
    assert set(served.values()) == {1}
    communities = by_code(district.communities)
    for station in district.stations:
        assert station["communities"], station["code"]
        for code in station["communities"]:
            assert communities[code]["area"] == station["area"]
            assert communities[code]["street"] == station["street"]


def test_address_keywords_identify_one_community(district: District) -> None:
    keywords = [k for c in district.communities for k in c["address_keywords"]]
    assert all(k.endswith(("路", "街", "村", "园", "区", "院")) for k in keywords)
    assert len(keywords) == len(set(keywords))
    for keyword in keywords:
        assert [k for k in keywords if keyword in k] == [keyword], keyword


def test_every_reference_resolves(district: District) -> None:
    streets = by_code(district.streets)
    areas = by_code(district.areas)
    communities = by_code(district.communities)
    venues = by_code(district.venues)
    stations = by_code(district.stations)
    units = by_code(district.units)
    deputies = by_code(district.deputies)
    for record in [*district.areas, *district.communities, *district.venues, *district.stations]:
        assert record["street"] in streets
    for community in district.communities:
        assert community["area"] in areas
    for station in district.stations:
        assert station["venue"] in venues
        assert venues[station["venue"]]["street"] == station["street"]
    for unit in district.units:
        assert unit["parent"] is None or unit["parent"] in units
        assert unit["street"] is None or unit["street"] in streets
    for deputy in district.deputies:
        assert deputy["street"] in streets
        assert stations[deputy["station"]]["street"] == deputy["street"]
        assert all(c in communities for c in deputy["contact_communities"])
    for position in district.positions:
        assert position["street"] in streets
        if position["station"]:
            assert stations[position["station"]]["street"] == position["street"]
        if position["deputy"]:
            assert deputies[position["deputy"]]["name"] == position["holder_name"]
    for line in district.budget_lines:
        assert units[line["unit"]]["kind"] == "street_committee"


def test_units_form_the_organisation(district: District) -> None:
    kinds = Counter(u["kind"] for u in district.units)
    assert kinds["standing_committee"] == 1
    assert kinds["standing_committee_office"] == 1
    assert kinds["government_office"] == 1
    assert kinds["street_committee"] == 21
    assert kinds["street_office"] == 21
    assert kinds["working_body"] >= 5
    assert kinds["department"] >= 10
    names = {u["name"] for u in district.units}
    for body in ("联络工委", "法制工委", "财经工委", "城建环保工委", "社会建设工委"):
        assert any(body in name for name in names), body
    for department in ("住房和城乡建设局", "交通运输局", "城市管理和综合执法局", "卫生健康局", "教育局",
                       "民政局", "公安", "生态环境", "市场监督管理局", "人力资源和社会保障局", "水务局",
                       "规划和自然资源"):  # fmt: skip
        assert any(department in name for name in names), department
    units = by_code(district.units)
    for unit in district.units:
        if unit["kind"] == "department":
            assert units[unit["parent"]]["kind"] == "government_office"
            assert len(unit["responsibilities"]) > 10
        if unit["kind"] in ("working_body", "standing_committee_office", "street_committee"):
            assert units[unit["parent"]]["kind"] == "standing_committee"
        if unit["kind"] in ("street_committee", "street_office"):
            assert unit["street"]
    assert len(DEPARTMENTS) == kinds["department"]
    for street in district.streets:
        assert {u["kind"] for u in district.units if u["street"] == street["code"]} == {
            "street_committee",
            "street_office",
        }


def test_deputies_are_complete_and_realistic(district: District) -> None:
    phones = [d["phone"] for d in district.deputies]
    assert len(phones) == len(set(phones))
    for deputy in district.deputies:
        assert deputy["gender"] in GENDERS
        assert deputy["level"] in LEVELS
        assert deputy["term"].startswith("第") and deputy["term"].endswith("届")
        assert deputy["term_start"] < deputy["term_end"]
        assert deputy["profession"] and deputy["workplace"] and deputy["biography"]
        assert 1 <= len(deputy["expertise"]) <= 3
        assert set(deputy["expertise"]) <= set(EXPERTISE)
        assert len(set(deputy["expertise"])) == len(deputy["expertise"])
        assert 2 <= len(deputy["name"]) <= 4
    assert {d["gender"] for d in district.deputies} == set(GENDERS)
    assert len({d["profession"] for d in district.deputies}) >= 15


def test_some_deputies_are_fixed_contacts_for_their_stations_communities(
    district: District,
) -> None:
    stations = by_code(district.stations)
    contacts = [d for d in district.deputies if d["contact_communities"]]
    assert len(contacts) >= 40
    for deputy in contacts:
        assert set(deputy["contact_communities"]) <= set(stations[deputy["station"]]["communities"])


def test_every_station_has_deputies(district: District) -> None:
    per_station = Counter(d["station"] for d in district.deputies)
    assert set(per_station) == {s["code"] for s in district.stations}
    district_per_station = Counter(
        d["station"] for d in district.deputies if d["level"] == "district"
    )
    assert min(district_per_station.values()) >= 6


def test_street_committee_staff(district: District) -> None:
    for street in district.streets:
        held = Counter(
            p["role"]
            for p in district.positions
            if p["street"] == street["code"] and not p["station"]
        )
        assert held["street_director"] == 1
        assert held["street_full_time_deputy_director"] == 1
        assert held["street_committee_member"] >= 1
        assert held["street_paid_staff"] >= 1
        assert set(held) <= STREET_ROLES
    directors = [p for p in district.positions if p["role"] == "street_director"]
    assert {p["holder_title"] for p in directors} == {"街道党工委书记"}


def test_station_heads_are_deputies_of_their_station(district: District) -> None:
    deputies = by_code(district.deputies)
    for station in district.stations:
        held = [p for p in district.positions if p["station"] == station["code"]]
        assert {p["role"] for p in held} <= STATION_ROLES
        heads = [p for p in held if p["role"] == "station_head"]
        assert len(heads) == 1
        assert deputies[heads[0]["deputy"]]["station"] == station["code"]
        deputy_heads = [p for p in held if p["role"] == "station_deputy_head"]
        assert 1 <= len(deputy_heads) <= 2
        for deputy_head in deputy_heads:
            assert deputy_head["deputy"] == ""
            assert deputy_head["holder_title"].startswith("居委会")


def test_positions_are_current_and_use_known_roles(district: District) -> None:
    for position in district.positions:
        assert position["role"] in ROLES
        assert position["holder_name"] and position["holder_title"]
        assert position["started_on"] is not None and position["ended_on"] is None


def test_budgets_show_one_street_short_of_the_minimum(district: District) -> None:
    totals: Counter[str] = Counter()
    for line in district.budget_lines:
        totals[line["unit"]] += line["amount_yuan"]
        if line["kind"] == "personnel":
            assert line["amount_yuan"] == PERSONNEL_YUAN
    assert len(totals) == 21
    assert {line["kind"] for line in district.budget_lines} == {"personnel", "operations"}
    assert len({line["year"] for line in district.budget_lines}) == 1
    short = [unit for unit, total in totals.items() if total < MINIMUM_BUDGET_YUAN]
    assert len(short) == 1


def test_budget_year_can_be_chosen() -> None:
    assert {line["year"] for line in build_district(year=2014).budget_lines} == {2014}


def test_same_seed_same_district_other_seed_other_district(district: District) -> None:
    assert build_district(2014) == district
    other = build_district(7)
    assert other != district
    assert summary(other)["stations"] == 40 and summary(other)["deputies"] == 350
    assert summary(other)["committee_members"] == 83
    assert other.stations[0]["code"] == "linhe-1"


@pytest.mark.parametrize("seed", [0, 1, 99, 12345])
def test_the_figures_hold_for_any_seed(seed: int) -> None:
    other = build_district(seed)
    counts = summary(other)
    assert (counts["streets"], counts["stations"], counts["deputies"]) == (21, 40, 350)
    assert Counter(s["area"] for s in other.stations).most_common(1)[0][1] <= 3
    served = Counter(c for s in other.stations for c in s["communities"])
    assert set(served.values()) == {1} and len(served) == counts["communities"]

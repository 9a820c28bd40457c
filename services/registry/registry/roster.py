"""Rosters as spreadsheets: reading and writing deputies, stations,
communities and positions as CSV or XLSX.

The offices keep their rosters in spreadsheets, so headers are Chinese (with
English aliases accepted), cells may be whatever Excel made of them (numbers,
dates, GB18030 text), and a rejected file must say what is wrong with every
row at once. Only what can be checked without the database is checked here;
codes that must exist (streets, stations, communities, deputies) are resolved
by the caller.

`parse_roster` returns one `RosterRow` per data row whose `values` holds every
column of the kind under its English key: text as `str` ("" when empty),
dates as `datetime.date` (None when empty), lists as `list[str]`, level as
"national" | "provincial" | "city" | "district", role as the lower-case
`PositionRole` name without its prefix (e.g. "station_head"), gender as
"男" | "女".

A file comes from outside, so before it is parsed it is held to
`RosterLimits` (bytes; rows and columns; for an XLSX, a zip, what its
directory says its parts unzip to), its XML is parsed by defusedxml, and the
sheet is read row by row within those bounds. Exports never write a formula;
see `_shield`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils.datetime import from_excel

from kit.errors import FieldViolation, InvalidArgument, SettingsError, invalid
from kit.grpc_server import check_deadline
from registry import domain

KINDS: tuple[str, ...] = ("deputies", "stations", "communities", "positions")
FORMATS: tuple[str, ...] = ("csv", "xlsx")

# ---------------------------------------------------------------- vocabularies

LEVELS: dict[str, str] = {
    "national": "全国",
    "provincial": "省",
    "city": "市",
    "district": "区",
}

ROLES: dict[str, str] = {
    "street_director": "工委主任",
    "street_full_time_deputy_director": "专职副主任",
    "street_committee_member": "工委委员",
    "street_paid_staff": "工作人员",
    "station_head": "站长",
    "station_deputy_head": "副站长",
}
STREET_ROLES = frozenset(r for r in ROLES if r.startswith("street_"))
STATION_ROLES = frozenset(r for r in ROLES if r.startswith("station_"))

GENDERS: tuple[str, ...] = ("男", "女")


def _vocabulary(
    canonical: dict[str, str], enum_prefix: str, extra: dict[str, str]
) -> dict[str, str]:
    """Every accepted spelling (normalised) -> the canonical English value."""
    words: dict[str, str] = {}
    for english, chinese in canonical.items():
        words[english] = english
        words[f"{enum_prefix}{english}"] = english
        words[chinese] = english
    for spelling, english in extra.items():
        words[spelling] = english
    return {_norm(k): v for k, v in words.items()}


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).lower()


_LEVEL_WORDS = _vocabulary(
    LEVELS,
    "deputy_level_",
    {
        "全国人大代表": "national",
        "全国人大": "national",
        "省人大代表": "provincial",
        "省级": "provincial",
        "市人大代表": "city",
        "市级": "city",
        "区人大代表": "district",
        "区级": "district",
    },
)
_ROLE_WORDS = _vocabulary(
    ROLES,
    "position_role_",
    {
        "主任": "street_director",
        "街道工委主任": "street_director",
        "人大街道工委主任": "street_director",
        "工委专职副主任": "street_full_time_deputy_director",
        "街道工委专职副主任": "street_full_time_deputy_director",
        "委员": "street_committee_member",
        "专职工作人员": "street_paid_staff",
        "联络站站长": "station_head",
        "联络站副站长": "station_deputy_head",
    },
)
_GENDER_WORDS = {
    _norm(k): v
    for k, v in {
        "男": "男",
        "女": "女",
        "male": "男",
        "female": "女",
        "m": "男",
        "f": "女",
    }.items()
}

# Mainland mobile, optionally with the country code; or an area-code landline
# with an optional extension.
_LIST_SEPARATORS = re.compile(r"[、,，;；|｜]")
_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?"
)
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")

# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    """One column of a roster: its key, Chinese header and accepted aliases."""

    key: str
    header: str
    type: str = "text"  # text | code | date | list | level | gender | role | phone | email
    required: bool = False
    aliases: tuple[str, ...] = ()


COLUMNS: dict[str, tuple[Column, ...]] = {
    "deputies": (
        Column("code", "代表编号", "code", True, ("编号",)),
        Column("name", "姓名", required=True, aliases=("代表姓名",)),
        Column("gender", "性别", "gender", True),
        Column("level", "层级", "level", True, ("代表层级", "级别")),
        Column("term", "届次", required=True),
        Column("term_start", "任期开始", "date"),
        Column("term_end", "任期结束", "date"),
        Column("street", "街道", required=True, aliases=("所属街道", "联组")),
        Column("station", "联络站", "code", True, ("联络站编号", "所属联络站")),
        Column("profession", "职业"),
        Column("expertise", "专长", "list", aliases=("专业特长",)),
        Column("contact_communities", "定点联系社区", "list", aliases=("联系社区",)),
        Column("phone", "电话", "phone", aliases=("联系电话", "手机")),
        Column("email", "邮箱", "email", aliases=("电子邮箱",)),  # "E-mail" normalises to the key
        Column("workplace", "工作单位", aliases=("单位",)),
        Column("workplace_address", "单位地址", aliases=("工作单位地址",)),
        Column("biography", "简介", aliases=("个人简介",)),
    ),
    "stations": (
        Column("code", "联络站编号", "code", True, ("编号",)),
        Column("name", "联络站名称", required=True, aliases=("名称",)),
        Column("street", "街道", required=True, aliases=("所属街道",)),
        Column("area", "片区", "code", True, ("片区编号",)),
        Column("venue", "活动场所", "code", aliases=("场所", "场所编号")),
        Column("communities", "服务社区", "list", aliases=("社区",)),
        Column("opened_on", "启用日期", "date", aliases=("成立日期",)),
    ),
    "communities": (
        Column("code", "社区编号", "code", True, ("编号",)),
        Column("name", "社区名称", required=True, aliases=("名称",)),
        Column("street", "街道", required=True, aliases=("所属街道",)),
        Column("area", "片区", "code", aliases=("片区编号",)),
        Column("address_keywords", "地址关键词", "list", aliases=("关键词", "道路")),
    ),
    "positions": (
        Column("role", "岗位", "role", True, ("职务类别", "角色")),
        Column("street", "街道", aliases=("所属街道",)),
        Column("station", "联络站", "code", aliases=("联络站编号",)),
        Column("deputy", "代表编号", "code"),
        Column("holder_name", "姓名", aliases=("任职人",)),
        Column("holder_title", "职务", aliases=("职务名称",)),
        Column("started_on", "任职开始", "date", True, ("开始日期", "任职日期")),
        Column("ended_on", "任职结束", "date", aliases=("结束日期", "离任日期")),
    ),
}

_SHEET_TITLES = {
    "deputies": "代表名册",
    "stations": "联络站名册",
    "communities": "社区名册",
    "positions": "职务名册",
}

_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _header_key(text: str) -> str:
    """A header as typed, reduced to what identifies it: templates often mark
    required columns with * or （必填）, and English may come in any case."""
    text = re.sub(r"[（(]\s*必填\s*[)）]", "", text).replace("*", "")
    return _norm(text)


def _header_index(kind: str) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        for spelling in (column.header, column.key, *column.aliases):
            index[_header_key(spelling)] = column
    return index


_HEADERS = {kind: _header_index(kind) for kind in KINDS}

# ---------------------------------------------------------------- errors


@dataclass(frozen=True)
class RowError:
    """One problem of a roster file. `row` is the spreadsheet row (header = 1)."""

    row: int
    column: str
    reason: str


class RosterError(InvalidArgument):
    """A roster file with problems; `errors` lists every one of them."""

    errors: list[RowError]

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.row)
        bad_rows = len({e.row for e in self.errors})
        super().__init__(
            f"the roster has {bad_rows} bad row{'s' if bad_rows != 1 else ''} "
            f"({len(self.errors)} problem{'s' if len(self.errors) != 1 else ''}); "
            "nothing was imported",
            [FieldViolation(f"row {e.row}: {e.column}", e.reason) for e in self.errors],
        )


@dataclass
class RosterRow:
    """One data row: its spreadsheet row number and its typed values."""

    row: int
    values: dict[str, Any]
    # Column key -> the header as the file wrote it, to name columns in errors.
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, key: str) -> str:
        """The header naming `key` in this file (the standard one if it is absent)."""
        return self.headers.get(key) or header_of(self.kind_columns, key)

    kind_columns: tuple[Column, ...] = ()


def header_of(columns: tuple[Column, ...], key: str) -> str:
    for column in columns:
        if column.key == key:
            return column.header
    return key


# ---------------------------------------------------------------- cell values


def _cell_text(value: Any) -> str:
    """A cell as text. Excel turns codes and phone numbers into numbers
    (1001 -> 1001.0), which must come back without the decimal part."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _cell_text(value)
        # 20240115 typed as a number is read as text below; any other number
        # is a date cell that lost its format: an Excel serial day number.
        if not _DATE_COMPACT.fullmatch(text):
            if 1 <= value < 2958466:
                converted = from_excel(value)
                if isinstance(converted, dt.datetime):
                    return converted.date()
            raise ValueError(f"'{text}' is not a date; write it as YYYY-MM-DD")
    text = _cell_text(value)
    match = _DATE.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
    if not match:
        raise ValueError(f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2024-01-15")
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"'{text}' is not a real calendar date") from None


def _to_list(value: Any) -> list[str]:
    seen: dict[str, None] = {}
    for part in _LIST_SEPARATORS.split(_cell_text(value)):
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return list(seen)


def _from_words(words: dict[str, str], what: str, allowed: Iterable[str]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = _cell_text(value)
        found = words.get(_norm(text))
        if found is None:
            raise ValueError(f"'{text}' is not a known {what}; use one of {'、'.join(allowed)}")
        return found

    return convert


def _to_phone(value: Any) -> str:
    text = re.sub(r"\s+", "", _cell_text(value))
    if domain.is_phone(text):
        return text
    raise ValueError(
        f"'{text}' is not a phone number; write a mobile number like 13812345678 "
        "or a landline with its area code like 020-87654321"
    )


def _to_email(value: Any) -> str:
    text = _cell_text(value)
    if domain.is_email(text):
        return text
    raise ValueError(f"'{text}' is not an email address")


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _cell_text,
    "code": _cell_text,
    "date": _to_date,
    "list": _to_list,
    "level": _from_words(_LEVEL_WORDS, "deputy level", LEVELS.values()),
    "gender": _from_words(_GENDER_WORDS, "gender", GENDERS),
    "role": _from_words(_ROLE_WORDS, "position role", ROLES.values()),
    "phone": _to_phone,
    "email": _to_email,
}


def _empty(column: Column) -> Any:
    if column.type == "date":
        return None
    if column.type == "list":
        return []
    return ""


# ---------------------------------------------------------------- limits

KiB = 1024
MiB = 1024 * KiB

# What a roster file may hold, checked before it is parsed. The district has
# 350 deputies and 40 stations: these leave room for any real roster, and none
# for a file made to exhaust an api pod (its memory limit is 384 MiB).
MAX_BYTES = 16 * MiB  # the file as sent (the gateway admits 10 MiB)
MAX_ROWS = 20_000  # sheet rows, the header and blank rows included
MAX_COLUMNS = 64
MAX_UNZIPPED_BYTES = 50 * MiB  # all parts of an XLSX (a zip), unzipped
MAX_PART_BYTES = 40 * MiB  # one part, unzipped
MAX_COMPRESSION_RATIO = 100  # sheets compress about 10:1; a zip bomb 1000:1
MAX_ZIP_DIRECTORY_BYTES = 256 * KiB  # a workbook has a dozen parts, not thousands
# A part smaller than this cannot hurt, however well it compresses.
_RATIO_CHECKED_FROM = 1 * MiB
# Separators a CSV row may hold before the csv module splits it (quoted ones
# count too): far more than any real row, and a bound on the list it builds.
_SEPARATORS_PER_COLUMN = 64

_ENV_PREFIX = "LIAISON_REGISTRY_ROSTER_"


@dataclass(frozen=True)
class RosterLimits:
    """The caps a roster file is held to. Each can be set in the environment
    as LIAISON_REGISTRY_ROSTER_<NAME>, e.g. LIAISON_REGISTRY_ROSTER_MAX_ROWS."""

    max_bytes: int = MAX_BYTES
    max_rows: int = MAX_ROWS
    max_columns: int = MAX_COLUMNS
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES
    max_part_bytes: int = MAX_PART_BYTES
    max_compression_ratio: int = MAX_COMPRESSION_RATIO
    max_zip_directory_bytes: int = MAX_ZIP_DIRECTORY_BYTES

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RosterLimits:
        """The defaults, with every LIAISON_REGISTRY_ROSTER_<NAME> that is set
        (read by registry.settings)."""
        values: dict[str, int] = {}
        for cap in fields(cls):
            name = _ENV_PREFIX + cap.name.upper()
            text = environ.get(name, "").strip()
            if not text:
                continue
            if not text.isdigit() or int(text) < 1:
                raise SettingsError(f"{name} must be a whole number above 0, not {text!r}")
            values[cap.name] = int(text)
        return cls(**values)


DEFAULT_LIMITS = RosterLimits()


def _size(count: int) -> str:
    if count < KiB:
        return f"{count} bytes"
    if count < MiB:
        return f"{count / KiB:.1f} KiB"
    if count < 1024 * MiB:
        return f"{count / MiB:.1f} MiB"
    return f"{count / (1024 * MiB):.1f} GiB"


def _over(count: int, limit: int) -> str:
    """'<count>; the limit is <limit>', in bytes where rounding hides the gap."""
    shown, most = _size(count), _size(limit)
    if shown == most:
        shown, most = f"{count} bytes", f"{limit} bytes"
    return f"{shown}; the limit is {most}"


def _refuse(problem: str) -> InvalidArgument:
    """The file as a whole is refused: it is out of bounds or unsafe to read."""
    return InvalidArgument(
        f"content: {problem}; nothing was imported", [FieldViolation("content", problem)]
    )


# openpyxl parses XML through defusedxml when it can import it; a roster from
# outside must never be parsed by an XML parser that expands entities.
if not openpyxl.DEFUSEDXML:
    raise ImportError(
        "openpyxl is not using defusedxml: install defusedxml and leave OPENPYXL_DEFUSEDXML unset"
    )

# ---------------------------------------------------------------- formulas

# A text cell starting with one of these is a formula to a spreadsheet
# (OWASP's list for CSV injection).
_FORMULA_STARTS = "=+-@\t\r"
_TEXT_MARK = "'"


def _starts_formula(text: str) -> bool:
    return text[:1] != "" and text[0] in _FORMULA_STARTS


def _unshield(text: str) -> str:
    """A cell as exported before `_shield` marked it: one leading ' off, when
    it shields a formula start or another '."""
    if len(text) > 1 and text[0] == _TEXT_MARK and (_starts_formula(text[1:]) or text[1] == "'"):
        return text[1:]
    return text


def _shield(text: str, fmt: str) -> str:
    """A text cell as written. In CSV one that would start a formula gets a
    leading ' so spreadsheets show it as text (XLSX types such cells as text
    instead); a value that itself starts with ' gets one more, so that
    `_unshield` on import gives back exactly what was exported."""
    if (fmt == "csv" and _starts_formula(text)) or _unshield(text) != text:
        return _TEXT_MARK + text
    return text


# ---------------------------------------------------------------- reading


def _check_kind_and_format(kind: str, fmt: str) -> str:
    if kind not in COLUMNS:
        raise invalid("kind", f"'{kind}' is not a roster kind; use one of {', '.join(KINDS)}")
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise invalid("format", f"'{fmt}' is not a roster format; use csv or xlsx")
    return fmt


def _decode_csv(content: bytes) -> str:
    """CSV text from UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030
    (what Excel in China saves by default)."""
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8) :].decode("utf-8")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("gb18030")


def _bounded_record(number: int, record: list[Any], limits: RosterLimits) -> list[Any]:
    """Row `number` as read, held to the row and column caps, its cells with
    the export's formula shields taken off."""
    check_deadline(f"reading row {number} of the roster")
    if number > limits.max_rows:
        raise _refuse(
            f"the file goes past row {limits.max_rows}; the limit is {limits.max_rows} rows"
        )
    if len(record) > limits.max_columns:
        for position in range(limits.max_columns, len(record)):
            if _cell_text(record[position]):
                raise _refuse(
                    f"row {number} has a value in column {position + 1}; "
                    f"the limit is {limits.max_columns} columns"
                )
        del record[limits.max_columns :]
    if _empty_cells(record) == len(record):
        return record
    return [_unshield(cell) if isinstance(cell, str) else cell for cell in record]


def _empty_cells(record: list[Any]) -> int:
    # Counted in C: a sheet may pad thousands of rows with empty cells.
    return record.count(None) + record.count("")


def _csv_records(content: bytes, limits: RosterLimits) -> Iterator[list[Any]]:
    try:
        text = _decode_csv(content)
    except UnicodeDecodeError:
        raise RosterError(
            [RowError(1, "", "the file is not text in UTF-8 or GB18030; save it as CSV (UTF-8)")]
        ) from None
    line_end = text.find("\n")
    first_line = text if line_end < 0 else text[:line_end]
    # Excel's "Unicode text" export is tab separated.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    most_separators = limits.max_columns * _SEPARATORS_PER_COLUMN
    row = {"number": 1, "separators": 0}

    def lines() -> Iterator[str]:
        # The csv module builds a row's whole list of cells at once: count the
        # separators of the row's lines before it sees them.
        for line in io.StringIO(text, newline=""):
            row["separators"] += line.count(delimiter)
            if row["separators"] > most_separators:
                raise _refuse(
                    f"row {row['number']} holds more than {most_separators} '{delimiter}' "
                    f"separators; the limit is {limits.max_columns} columns"
                )
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    while True:
        try:
            record = next(reader, None)
        except csv.Error as error:
            raise RosterError([RowError(1, "", f"the file is not valid CSV: {error}")]) from None
        if record is None:
            return
        yield _bounded_record(row["number"], record, limits)
        row["number"] += 1
        row["separators"] = 0


_UNREADABLE_XLSX = "the file is not a readable XLSX workbook"


def _unreadable_xlsx() -> RosterError:
    return RosterError([RowError(1, "", _UNREADABLE_XLSX)])


def _xlsx_refusal(error: BaseException) -> InvalidArgument:
    """What to answer for an error openpyxl raised reading the workbook."""
    cause: BaseException | None = error
    while cause is not None:  # openpyxl wraps what the XML parser raised
        if isinstance(cause, DefusedXmlException):
            return _refuse("the workbook's XML declares entities, which a roster never needs")
        cause = cause.__cause__ or cause.__context__
    return _unreadable_xlsx()


def _check_zip(content: bytes, limits: RosterLimits) -> None:
    """Hold an XLSX (a zip) to the limits from its directory alone, before any
    part is unzipped. zipfile never gives more of a part than the directory
    declares (it stops there and fails the CRC check), so the declared sizes
    bound what openpyxl can unzip."""
    try:
        # The record by which ZipFile finds its directory: the directory's size
        # is known before ZipFile parses it into one object per part.
        end = zipfile._EndRecData(io.BytesIO(content))  # type: ignore[attr-defined]
    except (OSError, zipfile.BadZipFile):
        end = None
    if not end:
        raise _unreadable_xlsx()
    directory = int(end[zipfile._ECD_SIZE])  # type: ignore[attr-defined]
    if directory > limits.max_zip_directory_bytes:
        raise _refuse(
            "the workbook's zip directory (too many parts) is "
            + _over(directory, limits.max_zip_directory_bytes)
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (OSError, ValueError, zipfile.BadZipFile):
        raise _unreadable_xlsx() from None
    unzipped = 0
    for part in parts:
        if part.file_size > limits.max_part_bytes:
            raise _refuse(
                f"the workbook's part {part.filename} unzips to "
                f"{_over(part.file_size, limits.max_part_bytes)} a part"
            )
        if (
            part.file_size > _RATIO_CHECKED_FROM
            and part.file_size > limits.max_compression_ratio * max(part.compress_size, 1)
        ):
            ratio = part.file_size // max(part.compress_size, 1)
            raise _refuse(
                f"the workbook's part {part.filename} is compressed {ratio}:1; "
                f"the limit is {limits.max_compression_ratio}:1"
            )
        unzipped += part.file_size
    if unzipped > limits.max_unzipped_bytes:
        raise _refuse(f"the workbook unzips to {_over(unzipped, limits.max_unzipped_bytes)}")


def _xlsx_records(content: bytes, limits: RosterLimits) -> Iterator[list[Any]]:
    _check_zip(content, limits)
    try:
        # Read-only: rows stream from the XML instead of a grid of cells.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign file
        raise _xlsx_refusal(error) from None
    try:
        if not workbook.worksheets:
            raise _unreadable_xlsx()
        sheet = workbook.worksheets[0]
        # The size the sheet declares (<dimension ref="A1:Q351"/>), if any.
        declared_rows, declared_columns = sheet.max_row or 0, sheet.max_column or 0
        if declared_rows > limits.max_rows or declared_columns > limits.max_columns:
            shape = sheet.calculate_dimension()
            raise _refuse(
                f"the sheet declares cells up to row {declared_rows}, column "
                f"{declared_columns} ({shape}); the limit is {limits.max_rows} rows and "
                f"{limits.max_columns} columns"
            )
        # Explicit bounds, one past each cap so that going over shows: a sheet
        # that lies about its size still cannot make openpyxl build a grid.
        rows = sheet.iter_rows(
            max_row=limits.max_rows + 1, max_col=limits.max_columns + 1, values_only=True
        )
        number = 1
        while True:
            try:
                values = next(rows, None)
            except Exception as error:  # e.g. a part damaged past its directory entry
                raise _xlsx_refusal(error) from None
            if values is None:
                return
            yield _bounded_record(number, list(values), limits)
            number += 1
    finally:
        workbook.close()


def parse_roster(
    kind: str, fmt: str, content: bytes, limits: RosterLimits = DEFAULT_LIMITS
) -> list[RosterRow]:
    """Parse and check a roster file; raise RosterError listing every problem.

    A file beyond `limits`, or an XLSX whose XML declares entities, is refused
    as a whole (InvalidArgument on "content") before it is parsed. Between
    rows, a gRPC call whose deadline has passed stops with DeadlineExceeded.
    """
    fmt = _check_kind_and_format(kind, fmt)
    if len(content) > limits.max_bytes:
        raise _refuse(f"the file is {_over(len(content), limits.max_bytes)}")
    records = _csv_records(content, limits) if fmt == "csv" else _xlsx_records(content, limits)

    # Spreadsheet row numbers are 1-based; blank rows are skipped but counted.
    # The same pass notes every position holding a value in some row, so that
    # a column with values but no header is found in one pass over the cells.
    numbered: list[tuple[int, list[Any]]] = []
    filled: set[int] = set()
    for number, record in enumerate(records, start=1):
        if _empty_cells(record) == len(record):
            continue
        positions = [p for p, cell in enumerate(record) if _cell_text(cell) != ""]
        if positions:
            numbered.append((number, record))
            filled.update(positions)
    if not numbered:
        raise RosterError([RowError(1, "", "the file is empty: it has no header row")])
    header_row, header = numbered[0]
    data = numbered[1:]

    errors: list[RowError] = []
    columns: dict[int, tuple[Column, str]] = {}  # position -> column, header as written
    seen: dict[str, str] = {}
    for position, cell in enumerate(header):
        text = _cell_text(cell)
        if not text:
            if position in filled:
                errors.append(
                    RowError(
                        header_row, f"column {position + 1}", "this column has values but no header"
                    )
                )
            continue
        column = _HEADERS[kind].get(_header_key(text))
        if column is None:
            known = "、".join(c.header for c in COLUMNS[kind])
            errors.append(
                RowError(header_row, text, f"unknown column '{text}'; the columns are {known}")
            )
            continue
        if column.key in seen:
            errors.append(
                RowError(header_row, text, f"column '{text}' repeats column '{seen[column.key]}'")
            )
            continue
        seen[column.key] = text
        columns[position] = (column, text)
    for position in sorted(p for p in filled if p >= len(header)):
        errors.append(
            RowError(header_row, f"column {position + 1}", "this column has values but no header")
        )
    for column in COLUMNS[kind]:
        if column.required and column.key not in seen:
            errors.append(
                RowError(
                    header_row,
                    column.header,
                    f"required column '{column.header}' ({column.key}) is missing",
                )
            )

    label = {column.key: column.header for column in COLUMNS[kind]}
    label.update({column.key: text for column, text in columns.values()})
    first_seen_code: dict[str, int] = {}
    rows: list[RosterRow] = []
    for number, record in data:
        check_deadline(f"checking row {number} of the roster")
        values: dict[str, Any] = {column.key: _empty(column) for column in COLUMNS[kind]}
        bad: set[str] = set()
        for position, (column, text) in columns.items():
            cell = record[position] if position < len(record) else None
            if _cell_text(cell) == "":
                if column.required:
                    errors.append(RowError(number, text, f"'{text}' is required but empty"))
                    bad.add(column.key)
                continue
            try:
                values[column.key] = _CONVERTERS[column.type](cell)
            except ValueError as error:
                errors.append(RowError(number, text, str(error)))
                bad.add(column.key)
        errors.extend(
            RowError(number, label[key], reason) for key, reason in _row_rules(kind, values, bad)
        )
        code = values.get("code")
        if code:
            if code in first_seen_code:
                errors.append(
                    RowError(
                        number,
                        label["code"],
                        f"code '{code}' already appears in row {first_seen_code[code]}",
                    )
                )
            else:
                first_seen_code[code] = number
        rows.append(RosterRow(number, values, dict(seen), COLUMNS[kind]))

    if errors:
        # Within a row, problems read left to right as the columns stand.
        order = {text: position for position, (_, text) in columns.items()}
        errors.sort(key=lambda e: (e.row, order.get(e.column, len(header))))
        raise RosterError(errors)
    return rows


def _row_rules(kind: str, values: dict[str, Any], bad: set[str]) -> list[tuple[str, str]]:
    """Checks that involve more than one cell of a row: (column key, reason)."""
    problems: list[tuple[str, str]] = []

    def before(start: str, end: str, what: str) -> None:
        first, last = values.get(start), values.get(end)
        if first and last and start not in bad and end not in bad and last < first:
            problems.append(
                (end, f"{what} {last.isoformat()} is before its start {first.isoformat()}")
            )

    if kind == "deputies":
        before("term_start", "term_end", "the term's end")
    elif kind == "positions":
        before("started_on", "ended_on", "the end date")
        role = values["role"]
        if "role" not in bad and role:
            if role in STREET_ROLES and not values["street"]:
                problems.append(("street", f"a {ROLES[role]} ({role}) needs the street"))
            if role in STATION_ROLES and not values["station"]:
                problems.append(("station", f"a {ROLES[role]} ({role}) needs the station"))
            if role == "station_head" and not values["deputy"]:
                problems.append(
                    ("deputy", "a station head (站长) must be a deputy: give the deputy's code")
                )
        if not values["deputy"] and not values["holder_name"]:
            problems.append(("holder_name", "give the holder's name or the deputy's code"))
    return problems


# ---------------------------------------------------------------- writing


def _out_value(column: Column, value: Any, fmt: str) -> Any:
    """A value as it goes into a cell: Chinese words for levels and roles so a
    person can read the sheet, and real date cells in XLSX."""
    if value is None or value == "" or value == []:
        return None if fmt == "xlsx" else ""
    if column.type == "list":
        return "、".join(str(v) for v in value) if not isinstance(value, str) else value
    if column.type == "date":
        day = _to_date(value)
        return day if fmt == "xlsx" else day.isoformat()
    if column.type == "level":
        return LEVELS.get(_LEVEL_WORDS.get(_norm(str(value)), ""), str(value))
    if column.type == "role":
        return ROLES.get(_ROLE_WORDS.get(_norm(str(value)), ""), str(value))
    return _cell_text(value)


def write_roster(kind: str, fmt: str, rows: list[dict[str, Any]]) -> bytes:
    """The rows as a roster file with Chinese headers; keys not in the roster
    are left out, missing ones give empty cells. Re-imports unchanged.

    No cell is ever a formula: a text cell that starts like one ("=", "+",
    "-", "@", tab, carriage return) is written as text (see `_shield`)."""
    fmt = _check_kind_and_format(kind, fmt)
    columns = COLUMNS[kind]
    header = [column.header for column in columns]
    table = [[_shielded(_out_value(c, row.get(c.key), fmt), fmt) for c in columns] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(table)
        # With a BOM, Excel opens UTF-8 CSV without garbling the Chinese.
        return buffer.getvalue().encode("utf-8-sig")

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _SHEET_TITLES[kind]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row_number, values in enumerate(table, start=2):
        for column_number, value in enumerate(values, start=1):
            if value is None:
                continue
            if isinstance(value, str):
                # Characters XML cannot hold (C0 controls) never reach a cell:
                # a record stored before they were refused still exports.
                value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
            cell = sheet.cell(row=row_number, column=column_number, value=value)
            if isinstance(value, str):
                # openpyxl makes "=..." a formula and "#N/A" an error: text stays text.
                cell.data_type = "s"
                if _starts_formula(value):
                    cell.quotePrefix = True  # and stays text when edited in Excel
    for index, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        if column.type == "date":
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "yyyy-mm-dd"
        sheet.column_dimensions[letter].width = 14 if column.type != "list" else 24
    sheet.freeze_panes = "A2"
    buffer_bytes = io.BytesIO()
    workbook.save(buffer_bytes)
    return buffer_bytes.getvalue()


def _shielded(value: Any, fmt: str) -> Any:
    return _shield(value, fmt) if isinstance(value, str) else value


def content_type(fmt: str) -> str:
    """The MIME type of a roster file of this format."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in _CONTENT_TYPES:
        raise invalid("format", f"'{fmt}' is not a roster format; use csv or xlsx")
    return _CONTENT_TYPES[fmt]


def filename(kind: str, fmt: str) -> str:
    """The download name of an exported roster, e.g. "deputies.xlsx"."""
    fmt = _check_kind_and_format(kind, fmt)
    return f"{kind}.{fmt}"

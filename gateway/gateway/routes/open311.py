"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2:
the reception service's opinions as service requests, in JSON or XML by the
path's `.json` / `.xml` suffix, as the specification does.

- a service is an opinion category (`ListOpinionCategories`): its code is
  the category's name (`property`), realtime, without further attributes
  (`metadata` false);
- a service request is an opinion, its `service_request_id` the tracking
  code. What anyone sees of it is what tracking shows (`ListPublicOpinions`):
  category, status, the public timeline, its community and street, never the
  text nor who raised it;
- `POST requests` with an `api_key` (LIAISON_OPEN311_API_KEYS) raises an
  online opinion. The constituent's name, phone and e-mail go to the
  reception service and nowhere else: never echoed back, never logged.

Every error is the specification's list of `{code, description}` in the
request's format (`app.state.error_renderers`), with the HTTP status in
`code`: 400 for a bad request (never a 5xx for bad input), 403 for a bad key,
404 for an unknown service or request, 429 over the gateway's rate.
"""

from __future__ import annotations

import hmac
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import grpc
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, Field

from gateway.config import GatewaySettings
from gateway.directory.http import directory_of
from gateway.problems import FieldError, ProblemError, RowError
from gateway.upstream import UpstreamError, call_context, registry, service
from kit.errors import DomainError
from liaison.common.v1 import envelope_pb2
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import referral_pb2
from liaison.registry.v1 import registry_pb2 as rpb

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the endpoints below last changed (discovery's changeset).
CHANGESET = "2026-11-27T00:00:00Z"
FORMATS = {"json": "application/json", "xml": "text/xml"}
XML_MEDIA_TYPE = "text/xml; charset=utf-8"
GROUP = "社情民意"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_REQUESTS = 1000
MAX_SPAN = timedelta(days=90)
# The dates a query may name.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)
# Open311's statuses: an opinion handed on for referral is still being
# answered (by a referral letter); the others are final.
OPEN_STATUSES = (
    opb.OPINION_STATUS_RECORDED,
    opb.OPINION_STATUS_IN_PROGRESS,
    opb.OPINION_STATUS_HANDED_ON,
)
CLOSED_STATUSES = (
    opb.OPINION_STATUS_ANSWERED_ON_THE_SPOT,
    opb.OPINION_STATUS_MERGED,
    opb.OPINION_STATUS_DECLINED,
    opb.OPINION_STATUS_DONE,
)
# The reception service's fields, as the Open311 request names them.
FIELD_NAMES = {
    "category": "service_code",
    "content": "description",
    "community_id": "address_string",
    "raiser_name": "first_name/last_name",
    "raiser_phone": "phone",
    "raiser_contact": "email",
    "tracking_codes": "service_request_id",
    "categories": "service_code",
    "statuses": "status",
    "recorded_from": "start_date",
    "recorded_to": "end_date",
}

# What the registry answers an address naming no community, or several.
UNPLACED = (
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.INVALID_ARGUMENT,
)

Format = Annotated[Literal["json", "xml"], Path(description="`json` or `xml`.")]
Jurisdiction = Annotated[
    str | None,
    Query(
        max_length=100,
        pattern=r"^[A-Za-z0-9._ -]*$",
        description="Ignored: the endpoint serves one district.",
    ),
]
router = APIRouter(prefix=PREFIX, tags=["open311"])


# ---------------------------------------------------------------- the shapes, for OpenAPI


class Open311Error(BaseModel):
    code: int = Field(description="The HTTP status.")
    description: str


class Endpoint(BaseModel):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool = False
    type: Literal["realtime"] = "realtime"
    keywords: str = Field(description="Comma-separated.")
    group: str


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[dict[str, Any]] = Field(description="Always empty: no service has metadata.")


class ServiceRequest(BaseModel):
    service_request_id: str = Field(description="The opinion's tracking code.")
    status: Literal["open", "closed"]
    status_notes: str | None = Field(description="The newest entry of its public timeline.")
    service_name: str
    service_code: str
    description: None = Field(description="Never given: an opinion's text is not public.")
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None = Field(
        description="For an opinion handed on: its referral letter's legal deadline (an "
        "answer within three months of the handling unit's receipt), while it is open."
    )
    address: str | None = Field(description="The street and community; never a person's.")
    address_id: None
    zipcode: None
    lat: None
    long: None
    media_url: None


class CreatedRequest(BaseModel):
    service_request_id: str
    service_notice: str | None
    account_id: None


class TokenAnswer(BaseModel):
    service_request_id: str
    token: str


def _documented(model: Any, description: str) -> dict[int | str, dict[str, Any]]:
    xml = {"schema": {"type": "string", "description": "The same, as the specification's XML."}}
    error = {
        "model": list[Open311Error],
        "content": {"text/xml": xml},
        "description": "The specification's list of errors, `code` the HTTP status.",
    }
    return {
        200: {"model": model, "description": description, "content": {"text/xml": xml}},
        400: {**error, "description": "A bad request: each error names the parameter."},
        403: {**error, "description": "No valid `api_key`."},
        404: {**error, "description": "No such service or service request."},
        429: {**error, "description": "Too many requests; retry after `Retry-After` seconds."},
        503: {**error, "description": "A service behind the gateway is unavailable."},
    }


# ---------------------------------------------------------------- rendering


def _format_of(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


def _xml(root: str, item: str, rows: Iterable[dict[str, Any]]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        _fill(ET.SubElement(top, item), row)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


def _fill(element: ET.Element, row: dict[str, Any]) -> None:
    for key, value in row.items():
        child = ET.SubElement(element, key)
        if isinstance(value, list):  # endpoints, formats
            for entry in value:
                if isinstance(entry, dict):
                    _fill(ET.SubElement(child, key.removesuffix("s")), entry)
                else:
                    ET.SubElement(child, key.removesuffix("s")).text = str(entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)


def _answer(
    fmt: str, root: str, item: str, rows: list[dict[str, Any]], status: int = 200
) -> Response:
    if fmt == "xml":
        return Response(_xml(root, item, rows), status_code=status, media_type=XML_MEDIA_TYPE)
    return JSONResponse(rows, status_code=status)


def render_errors(
    request: Request,
    status: int,
    detail: str,
    errors: list[FieldError | RowError],
    headers: dict[str, str] | None,
) -> Response:
    """Every error under PREFIX: the specification's list of {code, description}.
    The gateway's 422 (a request it or a service finds invalid) and 409 (a
    rule across records) are Open311's 400."""
    code = 400 if status in (409, 422) else status
    fields = [e for e in errors if isinstance(e, FieldError)]
    rows = [
        {"code": code, "description": f"{_open311_field(e.field)}: {e.message}"} for e in fields
    ] or [{"code": code, "description": detail}]
    response = _answer(_format_of(request.url.path), "errors", "error", rows, code)
    response.headers.update(headers or {})
    return response


def _open311_field(field: str) -> str:
    name = field.split(".")[-1]
    return FIELD_NAMES.get(name, name)


def bad_request(field: str, message: str) -> ProblemError:
    return ProblemError(
        400, f"{field}: {message}", errors=[FieldError(field=field, message=message)]
    )


# ---------------------------------------------------------------- discovery and services


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


@router.get(
    "/discovery.{format}",
    response_model=None,
    responses=_documented(Discovery, "Where the endpoint is and what it speaks."),
    summary="Discovery: the endpoint, its specification and formats",
    operation_id="open311_discovery",
)
async def discovery(request: Request, format: Format) -> Response:
    settings = _settings(request)
    endpoint = {
        "specification": SPECIFICATION,
        "url": str(request.base_url).rstrip("/") + PREFIX,
        "changeset": CHANGESET,
        "type": "production" if settings.is_production else "test",
        "formats": list(FORMATS.values()),
    }
    body = {
        "changeset": CHANGESET,
        "contact": settings.open311_contact,
        "key_service": settings.open311_key_service,
        "endpoints": [endpoint],
    }
    if format == "xml":
        top = ET.Element("discovery")
        _fill(top, body)
        xml = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
        return Response(xml, media_type=XML_MEDIA_TYPE)
    return JSONResponse(body)


async def _categories(request: Request) -> list[opb.OpinionCategoryInfo]:
    reply = await service(request, "reception").call(
        "ListOpinionCategories", opb.ListOpinionCategoriesRequest(), call_context(request)
    )
    return list(reply.categories)


def _service(category: opb.OpinionCategoryInfo) -> dict[str, Any]:
    return {
        "service_code": category.name,
        "service_name": category.label,
        "description": category.description,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": GROUP,
    }


@router.get(
    "/services.{format}",
    response_model=None,
    responses=_documented(list[Service], "Every opinion category, as a service."),
    summary="The services: the opinion categories",
    operation_id="open311_services",
)
async def services(request: Request, format: Format) -> Response:
    rows = [_service(c) for c in await _categories(request)]
    return _answer(format, "services", "service", rows)


ServiceCode = Annotated[str, Path(max_length=64, description="e.g. `property`.")]


@router.get(
    "/services/{service_code}.{format}",
    response_model=None,
    responses=_documented(ServiceDefinition, "The service's definition: no attributes."),
    summary="A service's definition (no service has attributes: metadata is false)",
    operation_id="open311_service_definition",
)
async def service_definition(
    request: Request, service_code: ServiceCode, format: Format
) -> Response:
    codes = {c.name for c in await _categories(request)}
    if service_code not in codes:
        raise ProblemError(404, f"service_code: no service has the code {service_code[:64]!r}")
    body: dict[str, Any] = {"service_code": service_code, "attributes": []}
    if format == "xml":
        top = ET.Element("service_definition")
        ET.SubElement(top, "service_code").text = service_code
        ET.SubElement(top, "attributes")
        xml = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
        return Response(xml, media_type=XML_MEDIA_TYPE)
    return JSONResponse(body)


# ---------------------------------------------------------------- reading requests


def _w3c(value: str, field: str, *, end: bool) -> datetime:
    """A W3C date-time (e.g. 2010-01-01T00:00:00Z) or date; a time without an
    offset, and a date, are Asia/Shanghai's."""
    text = value.strip()
    try:
        if len(text) == 10:
            at = datetime.combine(date.fromisoformat(text), time.max if end else time.min, SHANGHAI)
        else:
            at = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(
            field, "is not a W3C date-time (e.g. 2010-01-01T00:00:00Z or 2010-01-01)"
        ) from None
    at = at if at.tzinfo is not None else at.replace(tzinfo=SHANGHAI)
    if not EARLIEST <= at <= LATEST:
        raise bad_request(field, "is out of range (1970 to 2999)")
    return at


def _listed(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _stamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at.astimezone(UTC))
    return stamp


def _when(stamp: Timestamp) -> str:
    return stamp.ToDatetime(UTC).astimezone(SHANGHAI).isoformat(timespec="seconds")


async def _places(request: Request) -> tuple[dict[int, str], dict[int, str]]:
    """Street names and each street's committee (the agency responsible),
    by street id: the public directory's streets when loaded, the
    registry's public lists otherwise."""
    ctx = call_context(request)
    directory = directory_of(request)
    if directory is not None:
        streets = {i: s.name for i, s in directory.streets.items()}
    else:
        listed = await registry(request).call(
            "ListStreets",
            rpb.ListStreetsRequest(page=_page()),
            ctx,
        )
        streets = {s.id: s.name for s in listed.streets}
    units = await registry(request).call(
        "ListUnits",
        rpb.ListUnitsRequest(kind=rpb.UNIT_KIND_STREET_COMMITTEE, page=_page()),
        ctx,
    )
    committees = {u.street_id: u.name for u in units.units if u.street_id}
    return streets, committees


def _page() -> envelope_pb2.PageRequest:
    return envelope_pb2.PageRequest(page_size=200)


# A letter at these stages has its written answer: the request is closed
# (a reopened letter is open again).
ANSWERED_STAGES = frozenset(
    {
        referral_pb2.LETTER_STAGE_ANSWERED,
        referral_pb2.LETTER_STAGE_FED_BACK,
        referral_pb2.LETTER_STAGE_CLOSED,
    }
)


def _request_row(
    opinion: opb.PublicOpinion,
    streets: dict[int, str],
    committees: dict[int, str],
    letter: referral_pb2.PublicLetter | None = None,
    handlers: dict[tuple[int, int], str] | None = None,
) -> dict[str, Any]:
    street = streets.get(opinion.street_id, "")
    notes = opinion.timeline[-1].text if opinion.timeline else None
    status = "open" if opinion.status in OPEN_STATUSES else "closed"
    agency = committees.get(opinion.street_id) or opinion.station_name or None
    expected = None
    if letter is not None:
        status = "closed" if letter.stage in ANSWERED_STAGES else "open"
        if letter.HasField("handler"):
            key = (letter.handler.kind, letter.handler.id)
            agency = (handlers or {}).get(key) or agency
        if letter.HasField("deadline") and status == "open":
            expected = _when(letter.deadline.ends_at)
    return {
        "service_request_id": opinion.tracking_code,
        "status": status,
        "status_notes": notes,
        "service_name": opinion.category_name,
        "service_code": opb.OpinionCategory.Name(opinion.category)
        .removeprefix("OPINION_CATEGORY_")
        .lower(),
        "description": None,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": _when(opinion.recorded_at),
        "updated_datetime": _when(opinion.updated_at),
        "expected_datetime": expected,
        "address": f"{street}{opinion.community_name}" or None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


async def _letters(request: Request, codes: list[str]) -> dict[str, referral_pb2.PublicLetter]:
    """The referral letters of the opinions handed on, by tracking code."""
    if not codes:
        return {}
    reply = await service(request, "referral").call(
        "TrackLetters",
        referral_pb2.TrackLettersRequest(tracking_codes=codes),
        call_context(request),
    )
    return {letter.tracking_code: letter for letter in reply.letters}


async def _handlers(request: Request) -> dict[tuple[int, int], str]:
    """The names of the units that handle letters (the registry's street
    offices, by street, and departments, by unit id), keyed as a letter's
    handler is: (its unit kind, its id)."""
    ctx = call_context(request)
    names: dict[tuple[int, int], str] = {}
    for kind, letter_kind in (
        (rpb.UNIT_KIND_DEPARTMENT, referral_pb2.UNIT_KIND_DEPARTMENT),
        (rpb.UNIT_KIND_STREET_OFFICE, referral_pb2.UNIT_KIND_STREET_OFFICE),
    ):
        listed = await registry(request).call(
            "ListUnits", rpb.ListUnitsRequest(kind=kind, page=_page()), ctx
        )
        for unit in listed.units:
            key = unit.street_id if letter_kind == referral_pb2.UNIT_KIND_STREET_OFFICE else unit.id
            names[(letter_kind, key)] = unit.name
    return names


async def _requests(request: Request, query: opb.ListPublicOpinionsRequest) -> list[dict[str, Any]]:
    reply = await service(request, "reception").call(
        "ListPublicOpinions", query, call_context(request)
    )
    if not reply.opinions:
        return []
    streets, committees = await _places(request)
    handed_on = [
        o.tracking_code for o in reply.opinions if o.status == opb.OPINION_STATUS_HANDED_ON
    ]
    letters = await _letters(request, handed_on)
    handlers = (
        await _handlers(request) if any(x.HasField("handler") for x in letters.values()) else {}
    )
    return [
        _request_row(o, streets, committees, letters.get(o.tracking_code), handlers)
        for o in reply.opinions
    ]


def _category_numbers(codes: Sequence[str], known: dict[str, int]) -> list[int]:
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise bad_request("service_code", f"no service has the code {unknown[0][:64]!r}")
    return [known[c] for c in codes]


@router.get(
    "/requests.{format}",
    response_model=None,
    responses=_documented(list[ServiceRequest], "The service requests, the newest first."),
    summary="Service requests: opinions as the public sees them",
    description="`service_request_id` (comma-separated tracking codes) overrides every "
    "other filter. Without dates, the last 90 days; a range may not span more than 90 "
    "days; at most 1000 requests.",
    operation_id="open311_requests",
)
async def list_requests(
    request: Request,
    format: Format,
    # Tracking codes and service codes are ASCII: a URL of 1000 codes stays
    # well within what the HTTP server reads (some 32 KB).
    service_request_id: Annotated[
        str | None, Query(max_length=20000, pattern=r"^[A-Za-z0-9, -]*$")
    ] = None,
    service_code: Annotated[
        str | None, Query(max_length=1000, pattern=r"^[A-Za-z0-9_, -]*$")
    ] = None,
    start_date: Annotated[str | None, Query(max_length=40, pattern=r"^[0-9A-Za-z:.+ -]*$")] = None,
    end_date: Annotated[str | None, Query(max_length=40, pattern=r"^[0-9A-Za-z:.+ -]*$")] = None,
    status: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z, ]*$")] = None,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    ids = _listed(service_request_id)
    if len(ids) > MAX_REQUESTS:
        raise bad_request("service_request_id", f"may name at most {MAX_REQUESTS} requests")
    if ids:
        query = opb.ListPublicOpinionsRequest(tracking_codes=ids, limit=MAX_REQUESTS)
        return _answer(format, "service_requests", "request", await _requests(request, query))
    statuses: list[int] = []
    for name in _listed(status):
        if name not in ("open", "closed"):
            raise bad_request("status", "must be open, closed or both, comma-separated")
        statuses.extend(OPEN_STATUSES if name == "open" else CLOSED_STATUSES)
    start = _w3c(start_date, "start_date", end=False) if start_date else None
    end = _w3c(end_date, "end_date", end=True) if end_date else None
    if start is None and end is None:
        end = datetime.now(UTC)
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise bad_request("end_date", "is before start_date")
    if end - start > MAX_SPAN:
        raise bad_request("end_date", "the range may not span more than 90 days")
    categories: list[int] = []
    codes = _listed(service_code)
    if codes:
        known = {c.name: int(c.category) for c in await _categories(request)}
        categories = _category_numbers(codes, known)
    query = opb.ListPublicOpinionsRequest(
        categories=categories,  # type: ignore[arg-type]
        statuses=sorted(set(statuses)),  # type: ignore[arg-type]
        recorded_from=_stamp(start),
        recorded_to=_stamp(end),
        limit=MAX_REQUESTS,
    )
    return _answer(format, "service_requests", "request", await _requests(request, query))


RequestId = Annotated[
    str, Path(max_length=40, description="The tracking code, e.g. TH-2026-000123.")
]


async def _one(request: Request, code: str) -> dict[str, Any]:
    query = opb.ListPublicOpinionsRequest(tracking_codes=[code], limit=1)
    found = await _requests(request, query)
    if not found:
        raise ProblemError(404, f"service_request_id: no service request has the id {code[:40]!r}")
    return found[0]


@router.get(
    "/requests/{service_request_id}.{format}",
    response_model=None,
    responses=_documented(list[ServiceRequest], "The one service request, in a list."),
    summary="One service request: an opinion by its tracking code",
    operation_id="open311_request",
)
async def one_request(
    request: Request,
    service_request_id: RequestId,
    format: Format,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    row = await _one(request, service_request_id)
    return _answer(format, "service_requests", "request", [row])


@router.get(
    "/tokens/{token}.{format}",
    response_model=None,
    responses=_documented(list[TokenAnswer], "The service request the token stands for."),
    summary="The service request of a token",
    description="Every service is realtime: POST answers the service_request_id at once, "
    "and the token of a request is its service_request_id (the tracking code).",
    operation_id="open311_token",
)
async def token(
    request: Request,
    token: Annotated[str, Path(max_length=40, description="A service_request_id.")],
    format: Format,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    row = await _one(request, token)
    answer = {"service_request_id": row["service_request_id"], "token": token}
    return _answer(format, "service_requests", "request", [answer])


# ---------------------------------------------------------------- raising an opinion


def _key_is_valid(request: Request, key: str | None) -> bool:
    given = (key or "").encode()
    return any(hmac.compare_digest(given, k.encode()) for k in _settings(request).open311_api_keys)


def _coordinate(value: str | None, field: str, bound: float) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        raise bad_request(field, "is not a number") from None
    if not -bound <= number <= bound:
        raise bad_request(field, f"must be between -{bound:g} and {bound:g}")
    return number


def _name(first: str | None, last: str | None) -> str:
    """The constituent's name as the reception service keeps it: a Chinese
    name family name first, without a space."""
    first, last = (first or "").strip(), (last or "").strip()
    if any(ord(c) > 0x2E7F for c in first + last):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)


async def _community(request: Request, address: str) -> int:
    """The community an address names: the public directory's index, else
    the registry. An address naming none, or more than one, is a 400 in the
    registry's words (they name communities, never the address given)."""
    message = rpb.FindStationRequest(address=address)
    directory = directory_of(request)
    try:
        if directory is not None and directory.index is not None:
            return int(directory.index.community_for(message))
        reply = await registry(request).call("FindStation", message, call_context(request))
    except DomainError as error:
        raise bad_request("address_string", error.message) from error
    except UpstreamError as error:
        if error.error.code() in UNPLACED:
            raise bad_request(
                "address_string", error.error.details() or "names no community"
            ) from error
        raise
    return int(reply.community.id)


@router.post(
    "/requests.{format}",
    response_model=None,
    status_code=201,
    responses={
        **{k: v for k, v in _documented(list[CreatedRequest], "").items() if k != 200},
        201: {
            "model": list[CreatedRequest],
            "description": "The opinion raised: its tracking code is the service_request_id.",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        },
    },
    summary="Raise an opinion online (an API key is required)",
    description="Form-encoded. `address_string` places the opinion (the district's "
    "communities have no coordinates yet: `lat`/`long` are checked, not used). The "
    "constituent's `first_name`, `last_name`, `phone` and `email` go to the reception "
    "service only: never answered back, never logged.",
    operation_id="open311_create_request",
)
async def create_request(
    request: Request,
    format: Format,
    api_key: Annotated[str | None, Form(max_length=200)] = None,
    service_code: Annotated[str | None, Form(max_length=64)] = None,
    lat: Annotated[str | None, Form(max_length=40)] = None,
    long: Annotated[str | None, Form(max_length=40)] = None,
    address_string: Annotated[str | None, Form(max_length=300)] = None,
    address_id: Annotated[str | None, Form(max_length=100)] = None,
    description: Annotated[str | None, Form(max_length=4000)] = None,
    first_name: Annotated[str | None, Form(max_length=100)] = None,
    last_name: Annotated[str | None, Form(max_length=100)] = None,
    phone: Annotated[str | None, Form(max_length=40)] = None,
    email: Annotated[str | None, Form(max_length=300)] = None,
    device_id: Annotated[str | None, Form(max_length=200)] = None,
    account_id: Annotated[str | None, Form(max_length=200)] = None,
    media_url: Annotated[str | None, Form(max_length=2000)] = None,
    jurisdiction_id: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    if not _key_is_valid(request, api_key):
        raise ProblemError(
            403, "api_key: not a valid key: ask for one (see discovery's key_service)"
        )
    if not (service_code or "").strip():
        raise bad_request("service_code", "is required")
    known = {c.name: int(c.category) for c in await _categories(request)}
    (category,) = _category_numbers([service_code.strip()], known)  # type: ignore[union-attr]
    latitude = _coordinate(lat, "lat", 90)
    longitude = _coordinate(long, "long", 180)
    if (latitude is None) != (longitude is None):
        raise bad_request("lat", "lat and long are given together")
    address = (address_string or "").strip()
    if not address:
        raise bad_request(
            "address_string",
            "is required: the district's communities are found by address, not by "
            "coordinates (lat/long) nor address_id",
        )
    if len(address) < 2:
        raise bad_request("address_string", "is too short to name a community")
    community_id = await _community(request, address)
    message = opb.RecordOpinionRequest(
        source=opb.OPINION_SOURCE_ONLINE,
        category=category,  # type: ignore[arg-type]
        content=description or "",
        community_id=community_id,
        raiser_name=_name(first_name, last_name),
        raiser_phone=(phone or "").strip(),
        raiser_contact=(email or "").strip(),
    )
    recorded = await service(request, "reception").call(
        "RecordOpinion", message, call_context(request)
    )
    notice = recorded.timeline[0].text if recorded.timeline else None
    row = {
        "service_request_id": recorded.tracking_code,
        "service_notice": notice,
        "account_id": None,
    }
    response = _answer(format, "service_requests", "request", [row], status=201)
    response.headers["Location"] = f"{PREFIX}/requests/{recorded.tracking_code}.{format}"
    return response

"""Roster spreadsheets: upload (all or nothing) and download, CSV or XLSX."""

from pathlib import PurePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response

from gateway import schemas as s
from gateway.auth import Principal, Role, require_principal
from gateway.convert import enum_from_name
from gateway.problems import (
    AUTH_ERRORS,
    UPSTREAM_ERRORS,
    VALIDATION,
    ProblemError,
    invalid_field,
    problem_doc,
    responses,
)
from gateway.upstream import call_context, registry
from liaison.registry.v1 import registry_pb2

router = APIRouter(prefix="/api/v1/rosters", tags=["rosters"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPES = {"text/csv", "application/csv", "text/comma-separated-values"}
MEDIA_TYPES = {s.RosterFormat.CSV: "text/csv; charset=utf-8", s.RosterFormat.XLSX: XLSX_TYPE}

# Roster rows may span streets, which the gateway cannot check row by row, so
# only district offices import; street committees download their own street.
# Early refusals only: the registry checks every row's street itself.
IMPORTERS = frozenset({Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.STREET_COMMITTEE})
EXPORTERS = IMPORTERS

Kind = Annotated[s.RosterKind, Path(description="Which roster.")]
# Under the router's prefix; the app gives this route its own body limit.
IMPORT_PATH = "/{kind:segment}:import"


def _format_of(upload: UploadFile) -> s.RosterFormat:
    suffix = PurePath(upload.filename or "").suffix.lower()
    if suffix == ".csv":
        return s.RosterFormat.CSV
    if suffix == ".xlsx":
        return s.RosterFormat.XLSX
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type in CSV_TYPES:
        return s.RosterFormat.CSV
    if content_type == XLSX_TYPE:
        return s.RosterFormat.XLSX
    raise invalid_field("file", "must be a .csv or .xlsx file")


def _proto_enum(enum_type: Any, value: str) -> int:
    return enum_from_name(enum_type.DESCRIPTOR, value)


@router.post(
    IMPORT_PATH,
    response_model=s.RosterImportResult,
    responses=responses(
        VALIDATION,
        AUTH_ERRORS,
        UPSTREAM_ERRORS,
        # A kind with a colon in it is no path this route has: a colon starts
        # the custom method (`:import`).
        {404: problem_doc("No such path: the kind is not one segment before `:import`.")},
    ),
    summary="Import a roster (all or nothing; a 422 lists every bad row)",
    operation_id="import_roster",
)
async def import_roster(
    request: Request,
    kind: Kind,
    principal: Annotated[Principal, Depends(require_principal)],
    file: Annotated[
        UploadFile,
        File(
            description="A .csv (UTF-8, header row) or .xlsx file.",
            json_schema_extra={"minLength": 1},
        ),
    ],
) -> Any:
    if principal.role not in IMPORTERS:
        raise ProblemError(403, f"role {principal.role.value} may not import rosters")
    roster_format = _format_of(file)
    # The body limit (LIAISON_GATEWAY_MAX_UPLOAD_BYTES) stopped a larger file
    # before it was spooled.
    content = await file.read()
    if not content:
        raise invalid_field("file", "is empty")
    message = registry_pb2.ImportRosterRequest(
        kind=_proto_enum(registry_pb2.RosterKind, kind),
        format=_proto_enum(registry_pb2.RosterFormat, roster_format),
        content=content,
        filename=file.filename or "",
    )
    # A whole roster is checked and stored row by row in one transaction:
    # far longer than a read, so it has a deadline of its own.
    deadline = request.app.state.settings.import_deadline_seconds
    reply = await registry(request).call(
        "ImportRoster", message, call_context(request), deadline=deadline
    )
    return s.RosterImportResult(created=reply.created, updated=reply.updated)


@router.get(
    "/{kind:segment}",
    response_class=Response,
    responses=responses(
        {
            200: {
                "description": "The roster as a spreadsheet.",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        },
        VALIDATION,
        AUTH_ERRORS,
        UPSTREAM_ERRORS,
        # A kind with a colon in it is no path this route has (a colon starts
        # a custom method).
        {404: problem_doc("No such path: the kind is not one segment.")},
    ),
    summary="Download a roster",
    operation_id="export_roster",
)
async def export_roster(
    request: Request,
    kind: Kind,
    principal: Annotated[Principal, Depends(require_principal)],
    format: Annotated[s.RosterFormat, Query()] = s.RosterFormat.CSV,
    street_id: Annotated[
        s.IdParam | None, Query(description="One street; the whole district when absent.")
    ] = None,
) -> Response:
    if principal.role not in EXPORTERS:
        raise ProblemError(403, f"role {principal.role.value} may not download rosters")
    if principal.role is Role.STREET_COMMITTEE:
        # Rosters carry private contact details: a street committee sees its own street.
        if street_id is not None and street_id != principal.street_id:
            raise ProblemError(403, "a street committee may download only its own street")
        street_id = principal.street_id
    message = registry_pb2.ExportRosterRequest(
        kind=_proto_enum(registry_pb2.RosterKind, kind),
        format=_proto_enum(registry_pb2.RosterFormat, format),
        street_id=street_id or 0,
    )
    reply = await registry(request).call("ExportRoster", message, call_context(request))
    filename = reply.filename or f"{kind.value}.{format.value}"
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(
        content=reply.content,
        media_type=reply.content_type or MEDIA_TYPES[format],
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
            )
        },
    )

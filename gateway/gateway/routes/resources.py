"""CRUD routes over the registry's records, one spec per resource.

The endpoints are built from `ResourceSpec`s so the nine resources behave the
same way (pagination, update masks, deactivation); each spec names its own
pydantic models, so OpenAPI still documents a schema per resource.

Who may change which record is the registry's decision: it checks the
forwarded token's role and street for the record and every record the
command names. The gateway only refuses early what the token can never do
(a role that never writes the registry, a street committee naming another
street outright), without calling the registry to find out.
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoint
# annotations set at runtime by `_typed` below.

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from google.protobuf import field_mask_pb2
from google.protobuf.message import Message
from pydantic import BaseModel

from gateway import schemas as s
from gateway.auth import (
    DISTRICT_WRITERS,
    REGISTRY_WRITERS,
    STAFF_READERS,
    Principal,
    authentication_required,
    optional_principal,
    require_principal,
)
from gateway.convert import fill_message, message_to_dict, page_reply
from gateway.directory.http import public_answer
from gateway.problems import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    ProblemError,
    invalid_field,
    responses,
)
from gateway.upstream import CallContext, call_context, registry
from liaison.common.v1 import envelope_pb2
from liaison.registry.v1 import registry_pb2

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class ResourceSpec:
    path: str  # URL segment, e.g. "budget-lines"
    singular: str  # in RPC names, e.g. "BudgetLine"
    plural: str  # e.g. "BudgetLines"
    message_field: str  # field of Create/Update requests, e.g. "budget_line"
    list_field: str  # field of the List response, e.g. "budget_lines"
    out: type[BaseModel]
    create: type[BaseModel]
    update: type[BaseModel]
    query: type[BaseModel]
    public_read: bool = True
    # Streets are district-level: only district writers create or retire them.
    district_only_create: bool = False
    create_rpc: str = ""
    page: type[BaseModel] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "page", s.page_model(self.out, f"{self.singular}Page"))

    @property
    def create_method(self) -> str:
        return self.create_rpc or f"Create{self.singular}"

    @property
    def tag(self) -> str:
        return self.path


SPECS: tuple[ResourceSpec, ...] = (
    ResourceSpec("streets", "Street", "Streets", "street", "streets",
                 s.Street, s.StreetCreate, s.StreetUpdate, s.StreetQuery,
                 district_only_create=True),
    ResourceSpec("areas", "Area", "Areas", "area", "areas",
                 s.Area, s.AreaCreate, s.AreaUpdate, s.AreaQuery),
    ResourceSpec("communities", "Community", "Communities", "community", "communities",
                 s.Community, s.CommunityCreate, s.CommunityUpdate, s.CommunityQuery),
    ResourceSpec("venues", "Venue", "Venues", "venue", "venues",
                 s.Venue, s.VenueCreate, s.VenueUpdate, s.VenueQuery),
    ResourceSpec("stations", "Station", "Stations", "station", "stations",
                 s.Station, s.StationCreate, s.StationUpdate, s.StationQuery),
    ResourceSpec("units", "Unit", "Units", "unit", "units",
                 s.Unit, s.UnitCreate, s.UnitUpdate, s.UnitQuery),
    ResourceSpec("deputies", "Deputy", "Deputies", "deputy", "deputies",
                 s.Deputy, s.DeputyCreate, s.DeputyUpdate, s.DeputyQuery),
    ResourceSpec("positions", "Position", "Positions", "position", "positions",
                 s.Position, s.PositionCreate, s.PositionUpdate, s.PositionQuery,
                 public_read=False,
                 create_rpc="FillPosition"),
    ResourceSpec("budget-lines", "BudgetLine", "BudgetLines", "budget_line", "budget_lines",
                 s.BudgetLine, s.BudgetLineCreate, s.BudgetLineUpdate, s.BudgetLineQuery,
                 public_read=False),
)  # fmt: skip


def _typed(fn: Callable[..., Any], **annotations: Any) -> Callable[..., Any]:
    """Give a generic endpoint its resource's concrete types, for FastAPI."""
    fn.__annotations__.update(annotations)
    return fn


def _record_out(spec: ResourceSpec, record: Message) -> BaseModel:
    # The registry sends only the fields the caller may see.
    return spec.out.model_validate(message_to_dict(record))


def _refuse_early(
    spec: ResourceSpec,
    principal: Principal,
    *,
    payload: dict[str, Any] | None = None,
    district_level: bool = False,
) -> None:
    """Refuse, without a call, what this token can never do. The registry
    checks everything else, for the record and every record it references."""
    if principal.role not in REGISTRY_WRITERS:
        raise ProblemError(403, f"role {principal.role.value} may not change the registry")
    if principal.role in DISTRICT_WRITERS:
        return
    if district_level:
        raise ProblemError(403, f"only district offices may do this to {spec.path}")
    street = (payload or {}).get("street_id")
    if street and street != principal.street_id:
        raise ProblemError(
            403, f"a street committee may change only records of street {principal.street_id}"
        )


def _location(spec: ResourceSpec, record_id: int) -> str:
    return f"{API_PREFIX}/{spec.path}/{record_id}"


def build_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for spec in SPECS:
        _add_routes(router, spec)
    return router


def _add_routes(router: APIRouter, spec: ResourceSpec) -> None:  # noqa: C901
    reader_errors = responses(VALIDATION, UPSTREAM_ERRORS)
    if not spec.public_read:
        reader_errors = responses(reader_errors, AUTH_ERRORS)
    else:
        # A malformed or expired token is refused even on public reads.
        reader_errors = responses(reader_errors, {401: AUTH_ERRORS[401]})
    writer_errors = responses(VALIDATION, AUTH_ERRORS, CONFLICT, UPSTREAM_ERRORS)

    async def reader(request: Request) -> Principal | None:
        principal = await optional_principal(request)
        if spec.public_read:
            return principal
        if principal is None:
            raise authentication_required()
        if principal.role not in STAFF_READERS:
            raise ProblemError(403, f"role {principal.role.value} may not read {spec.path}")
        return principal

    Reader = Annotated[Principal | None, Depends(reader)]
    Writer = Annotated[Principal, Depends(require_principal)]
    RecordId = Annotated[s.IdParam, Path(description="The record's id.")]

    async def list_records(request: Request, principal: Reader, query: Any) -> Any:
        client = registry(request)

        async def listed(ctx: CallContext) -> BaseModel:
            filters = query.model_dump(exclude_none=True)
            message = getattr(registry_pb2, f"List{spec.plural}Request")()
            message.page.CopyFrom(
                envelope_pb2.PageRequest(
                    page_size=filters.pop("page_size", 0),
                    page_token=filters.pop("page_token", ""),
                )
            )
            fill_message(message, filters)
            reply = await client.call(f"List{spec.plural}", message, ctx)
            items = [_record_out(spec, r) for r in getattr(reply, spec.list_field)]
            return page_reply(spec.page, items, reply.page)

        if spec.public_read:  # asked anonymously: once per data version
            asked = tuple(sorted(query.model_dump(mode="json", exclude_none=True).items()))
            kept = await public_answer(
                request, ("list", spec.path, asked), lambda: listed(CallContext())
            )
            if kept is not None:
                return kept
        return await listed(call_context(request))

    router.add_api_route(
        f"/{spec.path}",
        _typed(list_records, query=Annotated[spec.query, Query()]),
        methods=["GET"],
        response_model=spec.page,
        responses=reader_errors,
        tags=[spec.tag],
        summary=f"List {spec.path}",
        operation_id=f"list_{spec.list_field}",
    )

    async def get_record(request: Request, principal: Reader, id: RecordId) -> Any:
        client = registry(request)

        async def got(ctx: CallContext) -> BaseModel:
            record = await client.call(f"Get{spec.singular}", registry_pb2.GetRequest(id=id), ctx)
            return _record_out(spec, record)

        if spec.public_read:  # asked anonymously: once per data version
            kept = await public_answer(request, ("get", spec.path, id), lambda: got(CallContext()))
            if kept is not None:
                return kept
        return await got(call_context(request))

    router.add_api_route(
        f"/{spec.path}/{{id:segment}}",
        get_record,
        methods=["GET"],
        response_model=spec.out,
        responses=responses(reader_errors, NOT_FOUND),
        tags=[spec.tag],
        summary=f"Get one of {spec.path}",
        operation_id=f"get_{spec.message_field}",
    )

    async def create_record(
        request: Request, response: Response, principal: Writer, body: Any
    ) -> Any:
        client = registry(request)
        ctx = call_context(request)
        values = body.model_dump(mode="json", exclude_none=True)
        _refuse_early(spec, principal, payload=values, district_level=spec.district_only_create)
        message = getattr(registry_pb2, f"{spec.create_method}Request")()
        fill_message(getattr(message, spec.message_field), values)
        record = await client.call(spec.create_method, message, ctx)
        response.headers["Location"] = _location(spec, record.id)
        return _record_out(spec, record)

    router.add_api_route(
        f"/{spec.path}",
        _typed(create_record, body=Annotated[spec.create, Body()]),
        methods=["POST"],
        status_code=201,
        response_model=spec.out,
        responses=responses(writer_errors, NOT_FOUND),
        tags=[spec.tag],
        summary=f"Create one of {spec.path}" if spec.singular != "Position" else "Fill a position",
        operation_id=f"create_{spec.message_field}",
    )

    async def update_record(request: Request, principal: Writer, id: RecordId, body: Any) -> Any:
        client = registry(request)
        ctx = call_context(request)
        values = body.model_dump(mode="json", exclude_unset=True)
        if not values:
            raise invalid_field("body", "name at least one field to change")
        _refuse_early(spec, principal, payload=values)
        message = getattr(registry_pb2, f"Update{spec.singular}Request")()
        target = getattr(message, spec.message_field)
        target.id = id
        fill_message(target, values)
        message.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=sorted(values)))
        record = await client.call(f"Update{spec.singular}", message, ctx)
        return _record_out(spec, record)

    router.add_api_route(
        f"/{spec.path}/{{id:segment}}",
        _typed(update_record, body=Annotated[spec.update, Body()]),
        methods=["PATCH"],
        response_model=spec.out,
        responses=responses(writer_errors, NOT_FOUND),
        tags=[spec.tag],
        summary=f"Change one of {spec.path}; the update mask is the set of keys given",
        operation_id=f"update_{spec.message_field}",
    )

    if spec.singular == "Position":

        async def vacate(request: Request, principal: Writer, id: RecordId, body: s.Vacate) -> Any:
            client = registry(request)
            ctx = call_context(request)
            _refuse_early(spec, principal)
            message = registry_pb2.VacatePositionRequest(
                id=id,
                ended_on=body.ended_on.isoformat() if body.ended_on else "",
                reason=body.reason,
            )
            record = await client.call("VacatePosition", message, ctx)
            return _record_out(spec, record)

        router.add_api_route(
            f"/{spec.path}/{{id:segment}}:vacate",
            vacate,
            methods=["POST"],
            response_model=spec.out,
            responses=responses(writer_errors, NOT_FOUND),
            tags=[spec.tag],
            summary="Vacate a position (the record stays as history)",
            operation_id="vacate_position",
        )
        return

    async def deactivate(
        request: Request, principal: Writer, id: RecordId, body: s.Deactivate
    ) -> Any:
        client = registry(request)
        ctx = call_context(request)
        _refuse_early(spec, principal, district_level=spec.district_only_create)
        message = registry_pb2.DeactivateRequest(id=id, reason=body.reason)
        record = await client.call(f"Deactivate{spec.singular}", message, ctx)
        return _record_out(spec, record)

    router.add_api_route(
        f"/{spec.path}/{{id:segment}}:deactivate",
        deactivate,
        methods=["POST"],
        response_model=spec.out,
        responses=responses(writer_errors, NOT_FOUND),
        tags=[spec.tag],
        summary=f"Deactivate one of {spec.path} (nothing is hard-deleted)",
        operation_id=f"deactivate_{spec.message_field}",
    )

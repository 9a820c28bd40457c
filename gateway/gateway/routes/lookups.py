"""Read-only views over the registry: public profiles, "find my station",
and the street committees' budget checks."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway import schemas as s
from gateway.auth import OptionalPrincipal, StaffReader
from gateway.convert import message_to_dict
from gateway.directory.feed import DirectoryFeed
from gateway.problems import (
    AUTH_ERRORS,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    FieldError,
    ProblemError,
    RowError,
    problem_from_domain_error,
    responses,
)
from gateway.upstream import call_context, registry
from kit.errors import DomainError
from liaison.registry.v1 import registry_pb2
from registry.lookup import PublicDirectory as Directory

router = APIRouter(prefix="/api/v1")
_PUBLIC_ERRORS = responses(
    VALIDATION,
    {401: AUTH_ERRORS[401]},
    UPSTREAM_ERRORS,
    {304: {"description": "The copy named by If-None-Match is current."}},
)
# Public data that changes a few times a day: caches may keep it a minute,
# and check it again by its ETag (the directory's data version).
CACHE_CONTROL = "public, max-age=60"


def _json(model: BaseModel) -> bytes:
    """The body FastAPI would send for `model`, made once per directory version."""
    return bytes(JSONResponse(jsonable_encoder(model)).body)


def _directory(request: Request) -> Directory | None:
    feed: DirectoryFeed | None = request.app.state.directory
    return feed.current if feed is not None else None


def _cached(request: Request, response: Response, directory: Directory) -> bool:
    """Set the headers of an answer from the public directory; True when the
    client's copy (If-None-Match) is of this version already."""
    etag = f'"directory-{directory.version}"'
    feed: DirectoryFeed = request.app.state.directory
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Directory-Version"] = str(directory.version)
    # How far behind the registry this answer may be (0 while following its events).
    response.headers["Age"] = str(int(feed.age_seconds()))
    asked = request.headers.get("if-none-match", "")
    return etag in {tag.strip() for tag in asked.split(",")} or asked.strip() == "*"


@router.get(
    "/deputies/{id}/profile",
    response_model=s.DeputyProfile,
    responses=responses(_PUBLIC_ERRORS, NOT_FOUND),
    tags=["deputies"],
    summary="A deputy's public profile",
    operation_id="get_deputy_profile",
)
async def deputy_profile(
    request: Request,
    response: Response,
    principal: OptionalPrincipal,
    id: Annotated[s.IdParam, Path()],
) -> Any:
    directory = _directory(request)
    profile = directory.deputy_profile(id) if directory is not None else None
    if directory is not None and profile is not None:
        if _cached(request, response, directory):
            return Response(status_code=304, headers=dict(response.headers))
        body = directory.prepared(
            ("profile", id), lambda: _json(s.DeputyProfile.model_validate(message_to_dict(profile)))
        )
        return Response(body, media_type="application/json", headers=dict(response.headers))
    # A deputy no longer in office is the registry's to answer.
    reply = await registry(request).call(
        "GetDeputyProfile", registry_pb2.GetRequest(id=id), call_context(request)
    )
    return s.DeputyProfile.model_validate(message_to_dict(reply))


@router.get(
    "/find-station",
    response_model=s.FindStationResult,
    responses=responses(_PUBLIC_ERRORS, NOT_FOUND),
    tags=["public"],
    summary="Find my station and my deputies",
    description="Give exactly one of `community_id`, `community_code` or `address`.",
    operation_id="find_station",
)
async def find_station(
    request: Request,
    response: Response,
    principal: OptionalPrincipal,
    community_id: Annotated[s.IdParam | None, Query()] = None,
    community_code: Annotated[s.ProtoText | None, Query(min_length=1, max_length=64)] = None,
    address: Annotated[s.ProtoText | None, Query(min_length=2, max_length=300)] = None,
) -> Any:
    given = {
        name: value
        for name, value in (
            ("community_id", community_id),
            ("community_code", community_code),
            ("address", address),
        )
        if value is not None
    }
    if len(given) != 1:
        names = ["community_id", "community_code", "address"]
        errors: list[FieldError | RowError] = [
            FieldError(field=f"query.{n}", message="give exactly one of these") for n in names
        ]
        raise ProblemError(
            422, "give exactly one of community_id, community_code, address", errors=errors
        )
    message = registry_pb2.FindStationRequest(**given)
    directory = _directory(request)
    if directory is None:  # not loaded yet, or turned off: the registry answers
        reply = await registry(request).call("FindStation", message, call_context(request))
        return s.FindStationResult.model_validate(message_to_dict(reply))
    if _cached(request, response, directory):
        return Response(status_code=304, headers=dict(response.headers))
    try:
        community_id = directory.index.community_for(message)
    except DomainError as error:
        problem = problem_from_domain_error(error)
        problem.headers = {**(problem.headers or {}), "X-Directory-Version": str(directory.version)}
        raise problem from error

    def render() -> bytes:
        try:
            answer = directory.station_answer(community_id)
        except DomainError as error:  # no station serves it: the same answer every time
            raise problem_from_domain_error(error) from error
        return _json(s.FindStationResult.model_validate(message_to_dict(answer)))

    try:
        body = directory.prepared(("find-station", community_id), render)
    except ProblemError as problem:
        problem.headers = {**(problem.headers or {}), "X-Directory-Version": str(directory.version)}
        raise
    return Response(body, media_type="application/json", headers=dict(response.headers))


@router.get(
    "/budget-checks",
    response_model=s.BudgetChecks,
    responses=responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS),
    tags=["budget-lines"],
    summary="Each street committee's yearly budget against the minimum",
    operation_id="check_budgets",
)
async def budget_checks(
    request: Request,
    principal: StaffReader,
    year: Annotated[int, Query(ge=2000, le=2100)],
    unit_id: Annotated[s.IdParam | None, Query(description="One street committee.")] = None,
) -> Any:
    message = registry_pb2.CheckBudgetsRequest(year=year, unit_id=unit_id or 0)
    reply = await registry(request).call("CheckBudgets", message, call_context(request))
    return s.BudgetChecks.model_validate(message_to_dict(reply))

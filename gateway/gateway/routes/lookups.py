"""Read-only views over the registry: public profiles, "find my station",
and the street committees' budget checks."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from gateway import schemas as s
from gateway.auth import OptionalPrincipal, StaffReader
from gateway.convert import message_to_dict
from gateway.directory.http import body_response, directory_of, edge_headers, not_modified, render
from gateway.problems import (
    AUTH_ERRORS,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    FieldError,
    ProblemError,
    RowError,
    problem_doc,
    problem_from_domain_error,
    responses,
)
from gateway.upstream import call_context, registry
from kit.errors import DomainError
from liaison.registry.v1 import registry_pb2

router = APIRouter(prefix="/api/v1")
_PUBLIC_ERRORS = responses(
    VALIDATION,
    {401: AUTH_ERRORS[401]},
    UPSTREAM_ERRORS,
    {304: {"description": "The copy named by If-None-Match is current."}},
)


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
    directory = directory_of(request)
    profile = directory.deputy_profile(id) if directory is not None else None
    if directory is not None and profile is not None:
        if edge_headers(request, response, directory):
            return not_modified(response)
        body = directory.prepared(
            ("profile", id),
            lambda: render(s.DeputyProfile.model_validate(message_to_dict(profile))),
        )
        return body_response(body, response)
    # A deputy no longer in office is the registry's to answer.
    reply = await registry(request).call(
        "GetDeputyProfile", registry_pb2.GetRequest(id=id), call_context(request)
    )
    return s.DeputyProfile.model_validate(message_to_dict(reply))


_AMBIGUOUS = {
    409: problem_doc(
        "The address names more than one community: the detail lists them; "
        "add the community or estate name."
    )
}


@router.get(
    "/find-station",
    response_model=s.FindStationResult,
    responses=responses(_PUBLIC_ERRORS, NOT_FOUND, _AMBIGUOUS),
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
    directory = directory_of(request)
    if directory is None:  # not loaded yet, or turned off: the registry answers
        reply = await registry(request).call("FindStation", message, call_context(request))
        return s.FindStationResult.model_validate(message_to_dict(reply))
    if edge_headers(request, response, directory):
        return not_modified(response)
    try:
        assert directory.index is not None
        community_id = directory.index.community_for(message)
    except DomainError as error:
        problem = problem_from_domain_error(error)
        problem.headers = {**(problem.headers or {}), "X-Directory-Version": str(directory.version)}
        raise problem from error

    def answer_body() -> bytes:
        try:
            answer = directory.station_answer(community_id, keep=False)
        except DomainError as error:  # no station serves it: the same answer every time
            raise problem_from_domain_error(error) from error
        return render(s.FindStationResult.model_validate(message_to_dict(answer)))

    try:
        body = directory.prepared(("find-station", community_id), answer_body)
    except ProblemError as problem:
        problem.headers = {**(problem.headers or {}), "X-Directory-Version": str(directory.version)}
        raise
    return body_response(body, response)


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

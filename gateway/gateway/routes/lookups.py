"""Read-only views over the registry: public profiles, "find my station",
and the street committees' budget checks."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from gateway import schemas as s
from gateway.auth import OptionalPrincipal, StaffReader
from gateway.convert import message_to_dict
from gateway.problems import (
    AUTH_ERRORS,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    FieldError,
    ProblemError,
    RowError,
    responses,
)
from gateway.upstream import call_context, registry
from liaison.registry.v1 import registry_pb2

router = APIRouter(prefix="/api/v1")
_PUBLIC_ERRORS = responses(VALIDATION, {401: AUTH_ERRORS[401]}, UPSTREAM_ERRORS)


@router.get(
    "/deputies/{id}/profile",
    response_model=s.DeputyProfile,
    responses=responses(_PUBLIC_ERRORS, NOT_FOUND),
    tags=["deputies"],
    summary="A deputy's public profile",
    operation_id="get_deputy_profile",
)
async def deputy_profile(
    request: Request, principal: OptionalPrincipal, id: Annotated[s.IdParam, Path()]
) -> Any:
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
    reply = await registry(request).call("FindStation", message, call_context(request))
    return s.FindStationResult.model_validate(message_to_dict(reply))


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

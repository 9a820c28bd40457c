"""The duty-report plan (履职报告) and learning materials (学习教育), served by
the duties service's ScorecardService.

The standing committee office plans a term's three-year cycle of duty
reports (each deputy once, a third of the district and of every street
each year) and extends it as deputies join and leave; the district's
offices read the whole plan, street staff their street's, a deputy their
own year. The district's offices and street committees publish learning
materials; deputies read them and mark them read; staff see who has read
what.

A deputy's five-ones scorecard is public; who is short of which is for
staff. Both read the duty record's entries.

Who may do and read what is the duties service's decision (role, then the
street, the deputy); the gateway only refuses early a role that never may."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gateway import schemas as s
from gateway.auth import OptionalPrincipal, Principal, Role, require_roles
from gateway.convert import fill_message, message_to_dict, page_reply, page_request
from gateway.problems import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    responses,
)
from gateway.upstream import caller
from liaison.duties.v1 import scorecard_pb2 as pb
from liaison.duties.v1 import scorecard_pb2_grpc as pb_grpc

router = APIRouter(prefix="/api/v1", tags=["duties"])

OFFICES = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.WORKING_BODY)
STREET_STAFF = (Role.STREET_COMMITTEE, Role.STATION_STAFF)
Planner = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE))]
Reader = Annotated[Principal, Depends(require_roles(*OFFICES, *STREET_STAFF, Role.DEPUTY))]
Publisher = Annotated[Principal, Depends(require_roles(*OFFICES, Role.STREET_COMMITTEE))]
Staff = Annotated[Principal, Depends(require_roles(*OFFICES, *STREET_STAFF))]
Deputy = Annotated[Principal, Depends(require_roles(Role.DEPUTY))]
CycleYear = Annotated[s.PlanYear, Path(description="Any year of the cycle.")]
MaterialId = Annotated[s.IdParam, Path(description="The learning material's id.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)


_call = caller("duties", pb_grpc.ScorecardServiceStub)


def _plan(message: Any) -> s.ReportPlan:
    return s.ReportPlan.model_validate(message_to_dict(message))


def _material(message: Any) -> s.Material:
    return s.Material.model_validate(message_to_dict(message))


# ---------------------------------------------------------------- the report plan


@router.post(
    "/report-plans",
    status_code=201,
    response_model=s.ReportPlan,
    responses=_WRITE,
    summary="Plan a cycle's duty reports (履职报告)",
    description="The standing committee office: every active deputy of the registry gets one "
    "year of the three, a third (±1) of the district and of every street each year. A cycle "
    "that overlaps a planned one is refused (409).",
    operation_id="make_report_plan",
)
async def make_report_plan(
    request: Request,
    response: Response,
    principal: Planner,
    body: Annotated[s.ReportPlanNew, Body()],
) -> Any:
    made = await _call(
        request, "MakeReportPlan", pb.MakeReportPlanRequest(first_year=body.first_year)
    )
    response.headers["Location"] = f"/api/v1/report-plans/{made.first_year}"
    return _plan(made)


@router.post(
    "/report-plans/{year:segment}:extend",
    response_model=s.ReportPlan,
    responses=_WRITE,
    summary="Place joiners and free leavers' slots",
    description="The standing committee office: deputies who joined since the plan was made "
    "each take the least loaded remaining year of their street; the slots of deputies who no "
    "longer serve are freed; nobody else moves.",
    operation_id="extend_report_plan",
)
async def extend_report_plan(
    request: Request,
    principal: Planner,
    year: CycleYear,
    body: Annotated[s.ReportPlanExtension, Body()],
) -> Any:
    message = pb.ExtendReportPlanRequest(year=year, joined_in=body.joined_in or 0)
    return _plan(await _call(request, "ExtendReportPlan", message))


@router.get(
    "/report-plans/{year:segment}",
    response_model=s.ReportPlan,
    responses=_READ,
    summary="The duty-report plan of the cycle holding a year",
    description="The district's offices the whole plan; street committees and station staff "
    "their street's; a deputy their own year.",
    operation_id="get_report_plan",
)
async def get_report_plan(
    request: Request,
    principal: Reader,
    year: CycleYear,
    query: Annotated[s.ReportPlanQuery, Query()],
) -> Any:
    message = pb.GetReportPlanRequest(
        year=year, street_id=query.street_id or 0, deputy_id=query.deputy_id or 0
    )
    return _plan(await _call(request, "GetReportPlan", message))


# ---------------------------------------------------------------- learning materials


@router.post(
    "/learning-materials",
    status_code=201,
    response_model=s.Material,
    responses=_WRITE,
    summary="Publish a learning material (学习教育)",
    description="The district's offices for the district (or one street); a street committee "
    "for its own street. A document or an article needs its text, a video its https link.",
    operation_id="publish_material",
)
async def publish_material(
    request: Request,
    response: Response,
    principal: Publisher,
    body: Annotated[s.MaterialNew, Body()],
) -> Any:
    message = fill_message(
        pb.PublishMaterialRequest(), body.model_dump(mode="json", exclude_none=True)
    )
    made = await _call(request, "PublishMaterial", message)
    response.headers["Location"] = f"/api/v1/learning-materials/{made.id}"
    return _material(made)


@router.get(
    "/learning-materials",
    response_model=s.MaterialPage,
    responses=_READ,
    summary="Learning materials",
    description="The district's offices all; street staff the district's and their street's; "
    "a deputy those meant for them, each with when they read it.",
    operation_id="list_materials",
)
async def list_materials(
    request: Request, principal: Reader, query: Annotated[s.MaterialQuery, Query()]
) -> Any:
    message = pb.ListMaterialsRequest(
        page=page_request(query),
        street_id=query.street_id or 0,
        unread_only=query.unread_only,
    )
    reply = await _call(request, "ListMaterials", message)
    return page_reply(s.MaterialPage, [_material(m) for m in reply.materials], reply.page)


@router.get(
    "/learning-materials/{id:segment}",
    response_model=s.Material,
    responses=_READ,
    summary="One learning material",
    operation_id="get_material",
)
async def get_material(request: Request, principal: Reader, id: MaterialId) -> Any:
    return _material(await _call(request, "GetMaterial", pb.GetMaterialRequest(id=id)))


@router.post(
    "/learning-materials/{id:segment}:read",
    response_model=s.Material,
    responses=_WRITE,
    summary="Mark a learning material read",
    description="The deputy themself, of a material meant for them; marking it again keeps "
    "the first time.",
    operation_id="mark_material_read",
)
async def mark_material_read(request: Request, principal: Deputy, id: MaterialId) -> Any:
    return _material(await _call(request, "MarkMaterialRead", pb.MarkMaterialReadRequest(id=id)))


@router.get(
    "/learning-materials/{id:segment}/readership",
    response_model=s.MaterialReadership,
    responses=_READ,
    summary="Who of the deputies a material is meant for has read it",
    description="The district's offices; street committees and station staff among their "
    "street's deputies.",
    operation_id="get_material_readership",
)
async def get_material_readership(
    request: Request,
    principal: Staff,
    id: MaterialId,
    query: Annotated[s.ReadershipQuery, Query()],
) -> Any:
    message = pb.GetMaterialReadershipRequest(id=id, street_id=query.street_id or 0)
    return s.MaterialReadership.model_validate(
        message_to_dict(await _call(request, "GetMaterialReadership", message))
    )


# ---------------------------------------------------------------- the five-ones scorecard


@router.get(
    "/deputies/{id:segment}/scorecard",
    response_model=s.Scorecard,
    responses=_READ,
    summary="A deputy's five ones in a year (五个一)",
    description="Public: each of the five with its evidence and status (done, short, not "
    "due), and the days left before the year ends. A ballot below the share is flagged only "
    "for the district's offices, the deputy's street staff and the deputy.",
    operation_id="get_scorecard",
)
async def get_scorecard(
    request: Request,
    principal: OptionalPrincipal,
    id: Annotated[s.IdParam, Path(description="The deputy's id.")],
    query: Annotated[s.ScorecardQuery, Query()],
) -> Any:
    message = pb.GetScorecardRequest(deputy_id=id, year=query.year or 0)
    return s.Scorecard.model_validate(
        message_to_dict(await _call(request, "GetScorecard", message))
    )


@router.get(
    "/scorecard/shortfalls",
    response_model=s.Shortfalls,
    responses=_READ,
    summary="Who is short of which of the five ones",
    description="Counts and lists per item, of the district and per street, with the days "
    "left, so staff can act before the year ends: the district's offices any street or the "
    "district, street committees and station staff their street.",
    operation_id="list_shortfalls",
)
async def list_shortfalls(
    request: Request, principal: Staff, query: Annotated[s.ShortfallQuery, Query()]
) -> Any:
    message = pb.ListShortfallsRequest(year=query.year or 0, street_id=query.street_id or 0)
    return s.Shortfalls.model_validate(
        message_to_dict(await _call(request, "ListShortfalls", message))
    )

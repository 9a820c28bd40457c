"""Deputies' activities between sessions (代表活动, trainings included),
self-chosen research (自主选题调研) and the street committees' visits to
their deputies (走访), served by the duties service's ActivityService.

A street committee, a station's staff or the standing committee office
schedules an activity, invites deputies (a street's organiser only its
street's), each invited deputy signs up, and the organiser records who
attended. A deputy proposes a research topic, their street committee funds
it from its budget line, the deputy reports, the standing committee office
acknowledges. A street committee records its visits to its deputies, with
follow-ups and their answers added later.

Who may do and read what is the duties service's decision (role, then the
street, the deputy, the budget line); the gateway only refuses early a
role that never may."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gateway import schemas as s
from gateway.auth import Principal, Role, require_roles
from gateway.convert import fill_message, list_request, message_to_dict, page_reply
from gateway.problems import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    responses,
)
from gateway.upstream import caller
from liaison.duties.v1 import activities_pb2 as pb
from liaison.duties.v1 import activities_pb2_grpc as pb_grpc

router = APIRouter(prefix="/api/v1", tags=["duties"])

DISTRICT = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE)
STREET_STAFF = (Role.STREET_COMMITTEE, Role.STATION_STAFF)
ActivityReader = Annotated[Principal, Depends(require_roles(*DISTRICT, *STREET_STAFF, Role.DEPUTY))]
Organiser = Annotated[
    Principal, Depends(require_roles(Role.STANDING_COMMITTEE_OFFICE, *STREET_STAFF))
]
FiguresReader = Annotated[Principal, Depends(require_roles(*DISTRICT, *STREET_STAFF))]
Reader = Annotated[Principal, Depends(require_roles(*DISTRICT, Role.STREET_COMMITTEE, Role.DEPUTY))]
CoverageReader = Annotated[Principal, Depends(require_roles(*DISTRICT, Role.STREET_COMMITTEE))]
Deputy = Annotated[Principal, Depends(require_roles(Role.DEPUTY))]
Committee = Annotated[Principal, Depends(require_roles(Role.STREET_COMMITTEE))]
Office = Annotated[Principal, Depends(require_roles(Role.STANDING_COMMITTEE_OFFICE))]
ActivityId = Annotated[s.IdParam, Path(description="The activity's id.")]
ResearchId = Annotated[s.IdParam, Path(description="The research's id.")]
VisitId = Annotated[s.IdParam, Path(description="The visit's id.")]
FollowUpId = Annotated[s.IdParam, Path(description="The follow-up's id.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)


_call = caller("duties", pb_grpc.ActivityServiceStub)


def _activity(message: Any) -> s.Activity:
    return s.Activity.model_validate(message_to_dict(message))


def _research(message: Any) -> s.Research:
    return s.Research.model_validate(message_to_dict(message))


def _visit(message: Any) -> s.Visit:
    return s.Visit.model_validate(message_to_dict(message))


# ---------------------------------------------------------------- activities


@router.get(
    "/activities",
    response_model=s.ActivityPage,
    responses=_READ,
    summary="Deputies' activities between sessions (代表活动)",
    description="The district's offices see all; street committees and station staff their "
    "street's; a deputy those they are invited to and the district's.",
    operation_id="list_activities",
)
async def list_activities(
    request: Request, principal: ActivityReader, query: Annotated[s.ActivityQuery, Query()]
) -> Any:
    reply = await _call(request, "ListActivities", list_request(pb.ListActivitiesRequest(), query))
    return page_reply(s.ActivityPage, [_activity(m) for m in reply.activities], reply.page)


@router.post(
    "/activities",
    status_code=201,
    response_model=s.Activity,
    responses=_WRITE,
    summary="Schedule an activity: a training, an inspection, a forum...",
    description="A street committee for its street, a station's staff for their station, the "
    "standing committee office for the district.",
    operation_id="schedule_activity",
)
async def schedule_activity(
    request: Request,
    response: Response,
    principal: Organiser,
    body: Annotated[s.ActivityNew, Body()],
) -> Any:
    message = fill_message(
        pb.ScheduleActivityRequest(), body.model_dump(mode="json", exclude_none=True)
    )
    made = await _call(request, "ScheduleActivity", message)
    response.headers["Location"] = f"/api/v1/activities/{made.id}"
    return _activity(made)


@router.get(
    "/activity-figures",
    response_model=s.ActivityFigures,
    responses=_READ,
    summary="A year's activities and person-times by kind, street and district",
    description="Street staff: their street's; the district's offices: every street, or one.",
    operation_id="get_activity_figures",
)
async def get_activity_figures(
    request: Request, principal: FiguresReader, query: Annotated[s.ActivityFiguresQuery, Query()]
) -> Any:
    message = pb.GetActivityFiguresRequest(year=query.year, street_id=query.street_id or 0)
    reply = await _call(request, "GetActivityFigures", message)
    return s.ActivityFigures.model_validate(message_to_dict(reply))


@router.get(
    "/activities/{id:segment}",
    response_model=s.Activity,
    responses=_READ,
    summary="One activity, with its invitations and attendance",
    operation_id="get_activity",
)
async def get_activity(request: Request, principal: ActivityReader, id: ActivityId) -> Any:
    return _activity(await _call(request, "GetActivity", pb.GetActivityRequest(id=id)))


@router.post(
    "/activities/{id}/invitations",
    response_model=s.Activity,
    responses=_WRITE,
    summary="Invite deputies",
    description="The organiser, within its scope: a street's organiser its street's serving "
    "deputies only. Deputies already invited stay as they are.",
    operation_id="invite_deputies",
)
async def invite_deputies(
    request: Request,
    principal: Organiser,
    id: ActivityId,
    body: Annotated[s.ActivityInvitations, Body()],
) -> Any:
    message = pb.InviteDeputiesRequest(activity_id=id, deputy_ids=body.deputy_ids)
    return _activity(await _call(request, "InviteDeputies", message))


@router.post(
    "/activities/{id:segment}:sign-up",
    response_model=s.Activity,
    responses=_WRITE,
    summary="An invited deputy signs up",
    description="Until the activity's first day.",
    operation_id="sign_up_for_activity",
)
async def sign_up(request: Request, principal: Deputy, id: ActivityId) -> Any:
    return _activity(await _call(request, "SignUp", pb.SignUpRequest(activity_id=id)))


@router.post(
    "/activities/{id}/attendance",
    response_model=s.Activity,
    responses=_WRITE,
    summary="Record who attended",
    description="The organiser, from the first day on, for invited deputies: attended, absent "
    "with leave or absent. Final once recorded.",
    operation_id="record_attendance",
)
async def record_attendance(
    request: Request,
    principal: Organiser,
    id: ActivityId,
    body: Annotated[s.ActivityAttendance, Body()],
) -> Any:
    message = fill_message(pb.RecordAttendanceRequest(activity_id=id), body.model_dump(mode="json"))
    return _activity(await _call(request, "RecordAttendance", message))


# ---------------------------------------------------------------- research


@router.get(
    "/research",
    response_model=s.ResearchPage,
    responses=_READ,
    summary="Self-chosen research topics (自主选题调研)",
    description="The district's offices see all; a street committee its street's deputies'; a "
    "deputy their own.",
    operation_id="list_research",
)
async def list_research(
    request: Request, principal: Reader, query: Annotated[s.ResearchQuery, Query()]
) -> Any:
    reply = await _call(request, "ListResearch", list_request(pb.ListResearchRequest(), query))
    return page_reply(s.ResearchPage, [_research(m) for m in reply.research], reply.page)


@router.post(
    "/research",
    status_code=201,
    response_model=s.Research,
    responses=_WRITE,
    summary="A deputy proposes a research topic",
    operation_id="propose_research",
)
async def propose_research(
    request: Request, response: Response, principal: Deputy, body: Annotated[s.ResearchNew, Body()]
) -> Any:
    message = fill_message(pb.ProposeResearchRequest(), body.model_dump(exclude_none=True))
    made = await _call(request, "ProposeResearch", message)
    response.headers["Location"] = f"/api/v1/research/{made.id}"
    return _research(made)


@router.get(
    "/research/{id:segment}",
    response_model=s.Research,
    responses=_READ,
    summary="One research topic",
    operation_id="get_research",
)
async def get_research(request: Request, principal: Reader, id: ResearchId) -> Any:
    return _research(await _call(request, "GetResearch", pb.GetResearchRequest(id=id)))


@router.post(
    "/research/{id:segment}:approve",
    response_model=s.Research,
    responses=_WRITE,
    summary="Fund the research from the street's budget line",
    description="The deputy's street committee, against an operations line of its own for the "
    "year: at most the amount requested and what the line has left (409 naming it).",
    operation_id="approve_research",
)
async def approve_research(
    request: Request,
    principal: Committee,
    id: ResearchId,
    body: Annotated[s.ResearchApproval, Body()],
) -> Any:
    message = pb.ApproveResearchRequest(
        id=id, budget_line_id=body.budget_line_id, amount_yuan=body.amount_yuan
    )
    return _research(await _call(request, "ApproveResearch", message))


@router.post(
    "/research/{id:segment}:decline",
    response_model=s.Research,
    responses=_WRITE,
    summary="Decline the research, with a reason",
    description="The deputy's street committee.",
    operation_id="decline_research",
)
async def decline_research(
    request: Request,
    principal: Committee,
    id: ResearchId,
    body: Annotated[s.ResearchDecline, Body()],
) -> Any:
    message = pb.DeclineResearchRequest(id=id, reason=body.reason)
    return _research(await _call(request, "DeclineResearch", message))


# A report the schema allows must fit the body limit however it is encoded:
# JSON may escape each of its characters as \uXXXX\uXXXX (12 bytes), past
# the gateway's default limit (app.py gives this route its own).
REPORT_PATH = "/research/{id:segment}:report"
REPORT_BODY_BYTES = 12 * s.RESEARCH_REPORT_MAX + 64 * 1024


@router.post(
    REPORT_PATH,
    response_model=s.Research,
    responses=_WRITE,
    summary="Submit the research report to the standing committee",
    description="The deputy who proposed it, once funded.",
    operation_id="report_research",
)
async def report_research(
    request: Request, principal: Deputy, id: ResearchId, body: Annotated[s.ResearchReport, Body()]
) -> Any:
    message = pb.ReportResearchRequest(id=id, text=body.text)
    return _research(await _call(request, "ReportResearch", message))


@router.post(
    "/research/{id:segment}:acknowledge",
    response_model=s.Research,
    responses=_WRITE,
    summary="The standing committee office acknowledges the report",
    operation_id="acknowledge_research",
)
async def acknowledge_research(request: Request, principal: Office, id: ResearchId) -> Any:
    message = pb.AcknowledgeResearchRequest(id=id)
    return _research(await _call(request, "AcknowledgeResearch", message))


# ---------------------------------------------------------------- visits


@router.get(
    "/visits",
    response_model=s.VisitPage,
    responses=_READ,
    summary="The street committees' visits to deputies (走访)",
    description="The district's offices see all; a street committee its street's; a deputy "
    "the visits to them.",
    operation_id="list_visits",
)
async def list_visits(
    request: Request, principal: Reader, query: Annotated[s.VisitQuery, Query()]
) -> Any:
    reply = await _call(request, "ListVisits", list_request(pb.ListVisitsRequest(), query))
    return page_reply(s.VisitPage, [_visit(m) for m in reply.visits], reply.page)


@router.post(
    "/visits",
    status_code=201,
    response_model=s.Visit,
    responses=_WRITE,
    summary="Record a visit to a deputy at their workplace",
    description="The street committee, to a deputy of its own street (403 for another's).",
    operation_id="record_visit",
)
async def record_visit(
    request: Request, response: Response, principal: Committee, body: Annotated[s.VisitNew, Body()]
) -> Any:
    message = fill_message(pb.RecordVisitRequest(), body.model_dump(mode="json"))
    made = await _call(request, "RecordVisit", message)
    response.headers["Location"] = f"/api/v1/visits/{made.id}"
    return _visit(made)


@router.get(
    "/visits/{id:segment}",
    response_model=s.Visit,
    responses=_READ,
    summary="One visit, with its follow-ups",
    operation_id="get_visit",
)
async def get_visit(request: Request, principal: Reader, id: VisitId) -> Any:
    return _visit(await _call(request, "GetVisit", pb.GetVisitRequest(id=id)))


@router.post(
    "/visits/{id}/follow-ups",
    status_code=201,
    response_model=s.Visit,
    responses=_WRITE,
    summary="Add a follow-up to a visit",
    description="The street committee of the visit's street; appended, never edited.",
    operation_id="add_visit_follow_up",
)
async def add_follow_up(
    request: Request, principal: Committee, id: VisitId, body: Annotated[s.FollowUpNew, Body()]
) -> Any:
    message = pb.AddFollowUpRequest(visit_id=id, text=body.text)
    return _visit(await _call(request, "AddFollowUp", message))


@router.post(
    "/visits/{id}/follow-ups/{follow_up_id:segment}:answer",
    response_model=s.Visit,
    responses=_WRITE,
    summary="Add a follow-up's answer (once)",
    description="The street committee of the visit's street.",
    operation_id="answer_visit_follow_up",
)
async def answer_follow_up(
    request: Request,
    principal: Committee,
    id: VisitId,
    follow_up_id: FollowUpId,
    body: Annotated[s.FollowUpAnswer, Body()],
) -> Any:
    message = pb.AnswerFollowUpRequest(visit_id=id, follow_up_id=follow_up_id, answer=body.answer)
    return _visit(await _call(request, "AnswerFollowUp", message))


@router.get(
    "/visit-coverage",
    response_model=s.VisitCoverage,
    responses=_READ,
    summary="A street's deputies not yet visited in a year",
    description="Each deputy is visited at least once a year. A street committee: its own "
    "street; the district's offices: the street named.",
    operation_id="get_visit_coverage",
)
async def get_visit_coverage(
    request: Request, principal: CoverageReader, query: Annotated[s.VisitCoverageQuery, Query()]
) -> Any:
    message = pb.GetVisitCoverageRequest(year=query.year, street_id=query.street_id or 0)
    return s.VisitCoverage.model_validate(
        message_to_dict(await _call(request, "GetVisitCoverage", message))
    )

"""Deputies' suggestions (议案建议) and meetings with agency heads (约见), served
by the referral service's SuggestionService.

A deputy registers their suggestion at a session (or their street's staff,
or the standing committee office, for them); the standing committee office
assigns it to a lead department and co-handling departments; the lead
department acknowledges it (its three months start) and answers in
writing, co-handlers add their opinions; the proposing deputy rates the
answer. A deputy asks, through the street committee, to meet an agency's
head; the street committee schedules the meeting and keeps its minutes.

Who may do and read what is the referral service's decision (role, then
the street, the deputy, the department); the gateway only refuses early a
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
from liaison.referral.v1 import suggestions_pb2 as pb
from liaison.referral.v1 import suggestions_pb2_grpc as pb_grpc

router = APIRouter(prefix="/api/v1", tags=["referral"])

DISTRICT = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.WORKING_BODY, Role.GOVERNMENT_OFFICE)
STREET_STAFF = (Role.STREET_COMMITTEE, Role.STATION_STAFF)
Reader = Annotated[
    Principal, Depends(require_roles(*DISTRICT, *STREET_STAFF, Role.DEPUTY, Role.DEPARTMENT))
]
Checker = Annotated[Principal, Depends(require_roles(*DISTRICT))]
Proposer = Annotated[
    Principal,
    Depends(require_roles(Role.DEPUTY, *STREET_STAFF, Role.STANDING_COMMITTEE_OFFICE)),
]
Office = Annotated[Principal, Depends(require_roles(Role.STANDING_COMMITTEE_OFFICE))]
Department = Annotated[Principal, Depends(require_roles(Role.DEPARTMENT))]
Deputy = Annotated[Principal, Depends(require_roles(Role.DEPUTY))]
Asker = Annotated[Principal, Depends(require_roles(Role.DEPUTY, *STREET_STAFF))]
Committee = Annotated[Principal, Depends(require_roles(Role.STREET_COMMITTEE))]
Canceller = Annotated[Principal, Depends(require_roles(Role.STREET_COMMITTEE, Role.DEPUTY))]
SuggestionId = Annotated[s.IdParam, Path(description="The suggestion's id.")]
MeetingId = Annotated[s.IdParam, Path(description="The meeting's id.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)


_call = caller("referral", pb_grpc.SuggestionServiceStub)


def _suggestion(message: Any) -> s.Suggestion:
    return s.Suggestion.model_validate(message_to_dict(message))


def _meeting(message: Any) -> s.Meeting:
    return s.Meeting.model_validate(message_to_dict(message))


# ---------------------------------------------------------------- suggestions


@router.get(
    "/suggestions",
    response_model=s.SuggestionPage,
    responses=_READ,
    summary="Deputies' suggestions (议案建议)",
    description="The district's offices see all; street committees and station staff their "
    "street's deputies' (to follow each one); a deputy those they proposed or co-signed; a "
    "department those it leads or co-handles.",
    operation_id="list_suggestions",
)
async def list_suggestions(
    request: Request, principal: Reader, query: Annotated[s.SuggestionQuery, Query()]
) -> Any:
    reply = await _call(
        request, "ListSuggestions", list_request(pb.ListSuggestionsRequest(), query)
    )
    return page_reply(s.SuggestionPage, [_suggestion(m) for m in reply.suggestions], reply.page)


@router.post(
    "/suggestions",
    status_code=201,
    response_model=s.Suggestion,
    responses=_WRITE,
    summary="Register a deputy's suggestion at a session",
    description="A deputy their own (with their street as the registry has it); their street's "
    "staff or the standing committee office for a deputy named in `proposer_id`.",
    operation_id="register_suggestion",
)
async def register_suggestion(
    request: Request,
    response: Response,
    principal: Proposer,
    body: Annotated[s.SuggestionNew, Body()],
) -> Any:
    message = fill_message(
        pb.RegisterSuggestionRequest(), body.model_dump(mode="json", exclude_none=True)
    )
    made = await _call(request, "RegisterSuggestion", message)
    response.headers["Location"] = f"/api/v1/suggestions/{made.id}"
    return _suggestion(made)


@router.get(
    "/suggestions/summary",
    response_model=s.SessionSummary,
    responses=_READ,
    summary="How a session's suggestions stand",
    description="By stage, overdue, and the proposers' ratings, of the suggestions the caller "
    "may read.",
    operation_id="summarize_suggestions",
)
async def summarize_suggestions(
    request: Request, principal: Reader, query: Annotated[s.SessionSummaryQuery, Query()]
) -> Any:
    reply = await _call(
        request, "SummarizeSession", pb.SummarizeSessionRequest(session_code=query.session_code)
    )
    return s.SessionSummary.model_validate(message_to_dict(reply))


@router.get(
    "/suggestions/{id:segment}",
    response_model=s.Suggestion,
    responses=_READ,
    summary="One suggestion, with its deadline's supervision",
    operation_id="get_suggestion",
)
async def get_suggestion(request: Request, principal: Reader, id: SuggestionId) -> Any:
    return _suggestion(await _call(request, "GetSuggestion", pb.GetSuggestionRequest(id=id)))


@router.post(
    "/suggestions/{id:segment}:assign",
    response_model=s.Suggestion,
    responses=_WRITE,
    summary="Assign to a lead department and co-handling departments (交办)",
    description="The standing committee office.",
    operation_id="assign_suggestion",
)
async def assign_suggestion(
    request: Request,
    principal: Office,
    id: SuggestionId,
    body: Annotated[s.SuggestionAssign, Body()],
) -> Any:
    message = pb.AssignSuggestionRequest(
        id=id, lead_department_id=body.lead_department_id, co_handler_ids=body.co_handler_ids
    )
    return _suggestion(await _call(request, "AssignSuggestion", message))


@router.post(
    "/suggestions/{id:segment}:acknowledge",
    response_model=s.Suggestion,
    responses=_WRITE,
    summary="The lead department's receipt: its three months start",
    operation_id="acknowledge_suggestion",
)
async def acknowledge_suggestion(request: Request, principal: Department, id: SuggestionId) -> Any:
    message = pb.AcknowledgeSuggestionRequest(id=id)
    return _suggestion(await _call(request, "AcknowledgeSuggestion", message))


@router.post(
    "/suggestions/{id:segment}:opinion",
    response_model=s.Suggestion,
    responses=_WRITE,
    summary="A co-handling department's opinion",
    operation_id="add_suggestion_opinion",
)
async def add_suggestion_opinion(
    request: Request,
    principal: Department,
    id: SuggestionId,
    body: Annotated[s.SuggestionOpinion, Body()],
) -> Any:
    message = pb.AddCoHandlerOpinionRequest(id=id, opinion=body.opinion)
    return _suggestion(await _call(request, "AddCoHandlerOpinion", message))


@router.post(
    "/suggestions/{id:segment}:answer",
    response_model=s.Suggestion,
    responses=_WRITE,
    summary="The lead department's written answer",
    operation_id="answer_suggestion",
)
async def answer_suggestion(
    request: Request,
    principal: Department,
    id: SuggestionId,
    body: Annotated[s.SuggestionAnswer, Body()],
) -> Any:
    message = pb.AnswerSuggestionRequest(id=id, answer=body.answer)
    return _suggestion(await _call(request, "AnswerSuggestion", message))


@router.post(
    "/suggestions/{id:segment}:rate",
    response_model=s.Suggestion,
    responses=_WRITE,
    summary="The proposing deputy rates the answer",
    description="Satisfied, basically satisfied or dissatisfied (满意、基本满意、不满意), once.",
    operation_id="rate_suggestion",
)
async def rate_suggestion(
    request: Request,
    principal: Deputy,
    id: SuggestionId,
    body: Annotated[s.SuggestionRating, Body()],
) -> Any:
    message = fill_message(
        pb.RateSuggestionRequest(id=id), body.model_dump(mode="json", exclude_none=True)
    )
    return _suggestion(await _call(request, "RateSuggestion", message))


async def _trail_check(request: Request, message: Any) -> s.TrailCheck:
    values = message_to_dict(await _call(request, "VerifySuggestionTrail", message))
    if values.get("intact"):
        values.pop("break_position", None)
    return s.TrailCheck.model_validate(values)


@router.get(
    "/suggestions/{id}/trail-check",
    response_model=s.TrailCheck,
    responses=_READ,
    summary="Check a suggestion's audit trail",
    description="For the district's offices.",
    operation_id="check_suggestion_trail",
)
async def check_suggestion_trail(request: Request, principal: Checker, id: SuggestionId) -> Any:
    return await _trail_check(request, pb.VerifySuggestionTrailRequest(suggestion_id=id))


# ---------------------------------------------------------------- meetings


@router.get(
    "/meetings",
    response_model=s.MeetingPage,
    responses=_READ,
    summary="Meetings with agency heads (约见)",
    description="The district's offices see all; street staff their street's; a deputy those "
    "they asked for; a department those with its head.",
    operation_id="list_meetings",
)
async def list_meetings(
    request: Request, principal: Reader, query: Annotated[s.MeetingQuery, Query()]
) -> Any:
    reply = await _call(request, "ListMeetings", list_request(pb.ListMeetingsRequest(), query))
    return page_reply(s.MeetingPage, [_meeting(m) for m in reply.meetings], reply.page)


@router.post(
    "/meetings",
    status_code=201,
    response_model=s.Meeting,
    responses=_WRITE,
    summary="Ask to meet an agency's head",
    description="A deputy, or their street's staff for them; about a suggestion, the department "
    "leads or co-handles it.",
    operation_id="request_meeting",
)
async def request_meeting(
    request: Request, response: Response, principal: Asker, body: Annotated[s.MeetingNew, Body()]
) -> Any:
    message = fill_message(pb.RequestMeetingRequest(), body.model_dump(exclude_none=True))
    made = await _call(request, "RequestMeeting", message)
    response.headers["Location"] = f"/api/v1/meetings/{made.id}"
    return _meeting(made)


@router.get(
    "/meetings/{id:segment}",
    response_model=s.Meeting,
    responses=_READ,
    summary="One meeting",
    operation_id="get_meeting",
)
async def get_meeting(request: Request, principal: Reader, id: MeetingId) -> Any:
    return _meeting(await _call(request, "GetMeeting", pb.GetMeetingRequest(id=id)))


@router.post(
    "/meetings/{id:segment}:schedule",
    response_model=s.Meeting,
    responses=_WRITE,
    summary="Schedule (or move) the meeting: when and where",
    description="The street committee of the deputy's street.",
    operation_id="schedule_meeting",
)
async def schedule_meeting(
    request: Request,
    principal: Committee,
    id: MeetingId,
    body: Annotated[s.MeetingSchedule, Body()],
) -> Any:
    message = fill_message(pb.ScheduleMeetingRequest(id=id), body.model_dump())
    return _meeting(await _call(request, "ScheduleMeeting", message))


@router.post(
    "/meetings/{id:segment}:record",
    response_model=s.Meeting,
    responses=_WRITE,
    summary="Record the meeting held: who came, the minutes",
    description="The street committee of the deputy's street.",
    operation_id="record_meeting",
)
async def record_meeting(
    request: Request, principal: Committee, id: MeetingId, body: Annotated[s.MeetingRecord, Body()]
) -> Any:
    message = fill_message(pb.RecordMeetingRequest(id=id), body.model_dump())
    return _meeting(await _call(request, "RecordMeeting", message))


@router.post(
    "/meetings/{id:segment}:cancel",
    response_model=s.Meeting,
    responses=_WRITE,
    summary="Cancel the meeting, with a reason",
    description="The street committee, or the deputy who asked.",
    operation_id="cancel_meeting",
)
async def cancel_meeting(
    request: Request, principal: Canceller, id: MeetingId, body: Annotated[s.MeetingCancel, Body()]
) -> Any:
    message = pb.CancelMeetingRequest(id=id, reason=body.reason)
    return _meeting(await _call(request, "CancelMeeting", message))


@router.get(
    "/meetings/{id}/trail-check",
    response_model=s.TrailCheck,
    responses=_READ,
    summary="Check a meeting's audit trail",
    description="For the district's offices.",
    operation_id="check_meeting_trail",
)
async def check_meeting_trail(request: Request, principal: Checker, id: MeetingId) -> Any:
    return await _trail_check(request, pb.VerifySuggestionTrailRequest(meeting_id=id))

"""Duty reports to voters (履职报告) and their secret ballot, served by the
duties service's BallotService (docs/BALLOTS.md).

The street committee schedules a deputy's report meeting, records the
questions and answers, and opens the meeting's ballot; staff issue one-time
codes (answered once, to be printed) and close the ballot; voters vote with
a code and no sign-in; the result is shown after closing and only above the
minimum turnout, the comments go to the deputy and their street committee;
publishing puts the result in the deputy's duty record.

Who may do and read what is the duties service's decision (role, then the
deputy's street, or the deputy); the gateway only refuses early a role that
never may. The vote is public: the code is the credential, and the
gateway's write limit (per address without a token) caps guessing. No
answer carrying codes, a result or comments is cached."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gateway import schemas as s
from gateway.auth import OptionalPrincipal, Principal, Role, require_roles
from gateway.convert import enum_from_name, list_request, message_to_dict, page_reply
from gateway.problems import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    responses,
)
from gateway.upstream import caller
from liaison.duties.v1 import ballots_pb2 as pb
from liaison.duties.v1 import ballots_pb2_grpc as pb_grpc

router = APIRouter(prefix="/api/v1", tags=["duties"])

DISTRICT = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE)
Organiser = Annotated[Principal, Depends(require_roles(Role.STREET_COMMITTEE, *DISTRICT))]
PollStaff = Annotated[
    Principal, Depends(require_roles(Role.STREET_COMMITTEE, Role.STATION_STAFF, *DISTRICT))
]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.STREET_COMMITTEE, Role.STATION_STAFF, Role.DEPUTY, Role.WORKING_BODY, *DISTRICT
        )
    ),
]
CommentReader = Annotated[Principal, Depends(require_roles(Role.DEPUTY, Role.STREET_COMMITTEE))]
MeetingId = Annotated[s.IdParam, Path(description="The report meeting's id.")]
BallotId = Annotated[s.IdParam, Path(description="The ballot's id.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)
_RESULT = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)
NO_STORE = "no-store"


_call = caller("duties", pb_grpc.BallotServiceStub)


def _meeting(message: Any) -> s.ReportMeeting:
    return s.ReportMeeting.model_validate(message_to_dict(message))


def _ballot(message: Any) -> s.Ballot:
    return s.Ballot.model_validate(message_to_dict(message))


# ---------------------------------------------------------------- report meetings


@router.post(
    "/report-meetings",
    status_code=201,
    response_model=s.ReportMeeting,
    responses=_WRITE,
    summary="Schedule a deputy's report meeting (履职报告会)",
    description="The street committee of the deputy's street (the registry tells it), the "
    "standing committee office, admins. A deputy the registry does not know is 404; one who "
    "no longer serves, 409.",
    operation_id="schedule_report_meeting",
)
async def schedule_meeting(
    request: Request,
    response: Response,
    principal: Organiser,
    body: Annotated[s.ReportMeetingNew, Body()],
) -> Any:
    message = pb.ScheduleReportMeetingRequest(
        deputy_id=body.deputy_id, held_on=body.held_on.isoformat(), venue=body.venue
    )
    made = await _call(request, "ScheduleReportMeeting", message)
    response.headers["Location"] = f"/api/v1/report-meetings/{made.id}"
    return _meeting(made)


@router.get(
    "/report-meetings",
    response_model=s.ReportMeetingPage,
    responses=_READ,
    summary="Report meetings",
    description="The district's offices see all; street committees and station staff their "
    "street's; a deputy their own.",
    operation_id="list_report_meetings",
)
async def list_meetings(
    request: Request, principal: Reader, query: Annotated[s.ReportMeetingQuery, Query()]
) -> Any:
    message = list_request(pb.ListReportMeetingsRequest(), query)
    reply = await _call(request, "ListReportMeetings", message)
    return page_reply(s.ReportMeetingPage, [_meeting(m) for m in reply.meetings], reply.page)


@router.get(
    "/report-meetings/{id:segment}",
    response_model=s.ReportMeeting,
    responses=_READ,
    summary="A report meeting, with its questions and answers",
    operation_id="get_report_meeting",
)
async def get_meeting(request: Request, principal: Reader, id: MeetingId) -> Any:
    return _meeting(await _call(request, "GetReportMeeting", pb.GetReportMeetingRequest(id=id)))


@router.post(
    "/report-meetings/{id:segment}:record-answers",
    response_model=s.ReportMeeting,
    responses=_WRITE,
    summary="Record the questions asked at the meeting and the answers given on the spot",
    description="Added after those recorded before. The street committee of the deputy's street.",
    operation_id="record_report_answers",
)
async def record_answers(
    request: Request,
    principal: Organiser,
    id: MeetingId,
    body: Annotated[s.ReportAnswers, Body()],
) -> Any:
    message = pb.RecordAnswersRequest(
        id=id,
        questions=[pb.ReportQuestion(question=q.question, answer=q.answer) for q in body.questions],
    )
    return _meeting(await _call(request, "RecordAnswers", message))


@router.post(
    "/report-meetings/{id}/ballot",
    status_code=201,
    response_model=s.Ballot,
    responses=_WRITE,
    summary="Open the meeting's secret ballot",
    description="One per meeting (a second is 409), from the meeting's day on (before it, 409).",
    operation_id="open_ballot",
)
async def open_ballot(
    request: Request, response: Response, principal: Organiser, id: MeetingId
) -> Any:
    made = await _call(request, "OpenBallot", pb.OpenBallotRequest(meeting_id=id))
    response.headers["Location"] = f"/api/v1/ballots/{made.id}"
    return _ballot(made)


# ---------------------------------------------------------------- ballots


@router.get(
    "/ballots/{id:segment}",
    response_model=s.Ballot,
    responses=_READ,
    summary="A ballot: its status and how many codes were issued",
    description="`papers_cast` is 0 while the ballot is open: nothing is counted before closing.",
    operation_id="get_ballot",
)
async def get_ballot(request: Request, principal: Reader, id: BallotId) -> Any:
    return _ballot(await _call(request, "GetBallot", pb.GetBallotRequest(id=id)))


@router.post(
    "/ballots/{id}/codes",
    status_code=201,
    response_model=s.BallotCodes,
    responses=_WRITE,
    summary="Issue one-time ballot codes for the voters present",
    description="The codes are in this answer only (print them now): the service keeps their "
    "hashes. The staff of the deputy's street (street committee, station staff), the standing "
    "committee office, admins; while the ballot is open.",
    operation_id="issue_ballot_codes",
)
async def issue_codes(
    request: Request,
    response: Response,
    principal: PollStaff,
    id: BallotId,
    body: Annotated[s.BallotCodesNew, Body()],
) -> Any:
    message = pb.IssueBallotCodesRequest(ballot_id=id, count=body.count)
    reply = await _call(request, "IssueBallotCodes", message)
    response.headers["Cache-Control"] = NO_STORE
    return s.BallotCodes.model_validate(message_to_dict(reply))


@router.post(
    "/ballots/{id}/votes",
    status_code=201,
    response_model=s.VoteCounted,
    responses=_WRITE,
    summary="Vote with a ballot code (public: no sign-in)",
    description="The code is the credential and votes once. A code already used is 409; one "
    "that is not this ballot's, or not a code at all, 422 naming `code`; a closed ballot, 409. "
    "The answer says only that the vote was counted: there is no receipt.",
    operation_id="cast_vote",
)
async def cast_vote(
    request: Request,
    response: Response,
    principal: OptionalPrincipal,
    id: BallotId,
    body: Annotated[s.VoteNew, Body()],
) -> Any:
    message = pb.CastVoteRequest(
        ballot_id=id,
        code=body.code,
        choice=enum_from_name(pb.BallotChoice.DESCRIPTOR, body.choice.value),  # type: ignore[arg-type]
        comment=body.comment,
    )
    reply = await _call(request, "CastVote", message)
    response.headers["Cache-Control"] = NO_STORE
    return s.VoteCounted(ballot_id=reply.ballot_id)


@router.post(
    "/ballots/{id:segment}:close",
    response_model=s.Ballot,
    responses=_WRITE,
    summary="Close the ballot: no more votes; the papers are counted",
    description="The staff of the deputy's street, the standing committee office, admins.",
    operation_id="close_ballot",
)
async def close_ballot(request: Request, principal: PollStaff, id: BallotId) -> Any:
    return _ballot(await _call(request, "CloseBallot", pb.CloseBallotRequest(id=id)))


@router.post(
    "/ballots/{id:segment}:publish",
    response_model=s.Ballot,
    responses=_WRITE,
    summary="Publish a closed ballot's result into the deputy's duty record",
    description="Emits `ballot_published` (counts, share, flagged; `withheld` below the "
    "minimum turnout); from then on the result is public.",
    operation_id="publish_ballot",
)
async def publish_ballot(request: Request, principal: Organiser, id: BallotId) -> Any:
    return _ballot(await _call(request, "PublishBallot", pb.PublishBallotRequest(id=id)))


@router.get(
    "/ballots/{id}/result",
    response_model=s.BallotResult,
    responses=_RESULT,
    summary="A ballot's result",
    description="Once closed, for whoever reads the ballot; once published, for anyone. While "
    "open, or when fewer papers than the minimum turnout were cast, 409.",
    operation_id="get_ballot_result",
)
async def get_result(
    request: Request, response: Response, principal: OptionalPrincipal, id: BallotId
) -> Any:
    reply = await _call(request, "GetBallotResult", pb.GetBallotResultRequest(id=id))
    response.headers["Cache-Control"] = NO_STORE
    return s.BallotResult.model_validate(message_to_dict(reply))


@router.get(
    "/ballots/{id}/comments",
    response_model=s.BallotComments,
    responses=_RESULT,
    summary="The voters' comments, for the deputy",
    description="The deputy and the street committee of their street, once the ballot is "
    "closed with the minimum turnout; in a random order, without times.",
    operation_id="list_ballot_comments",
)
async def list_comments(
    request: Request, response: Response, principal: CommentReader, id: BallotId
) -> Any:
    reply = await _call(request, "ListBallotComments", pb.ListBallotCommentsRequest(id=id))
    response.headers["Cache-Control"] = NO_STORE
    return s.BallotComments.model_validate(message_to_dict(reply))

"""A deputy's public duty record and constituents' ratings, served by the
duties service's DutyRecordService.

Anyone reads a deputy's duty record (what they did in a year, from every
service's events: public facts only) and their ratings (counts by level per
year, the published comments, never who rated), without a token. A
signed-in constituent rates a deputy once a year; anyone signed in reports
an abusive comment; the street committee of the deputy's street, the
standing committee office and admins moderate.

Who may do what is the duties service's decision (role, then the deputy's
street); the gateway only refuses early a role that never may."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gateway import schemas as s
from gateway.auth import STAFF_READERS, Principal, Role, require_roles
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
from liaison.duties.v1 import record_pb2 as pb
from liaison.duties.v1 import record_pb2_grpc as pb_grpc

router = APIRouter(prefix="/api/v1", tags=["duties"])

Constituent = Annotated[Principal, Depends(require_roles(Role.CONSTITUENT))]
SignedIn = Annotated[Principal, Depends(require_roles(Role.CONSTITUENT, *STAFF_READERS))]
Moderator = Annotated[
    Principal,
    Depends(require_roles(Role.STREET_COMMITTEE, Role.STANDING_COMMITTEE_OFFICE, Role.ADMIN)),
]
DeputyId = Annotated[s.IdParam, Path(description="The deputy's id in the registry.")]
RatingId = Annotated[s.IdParam, Path(description="The rating's id.")]
_PUBLIC = responses(VALIDATION, NOT_FOUND, UPSTREAM_ERRORS)
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)


_call = caller("duties", pb_grpc.DutyRecordServiceStub)


def _paged(values: dict[str, Any]) -> dict[str, Any]:
    info = values.pop("page") or {}
    return values | {
        "next_page_token": info.get("next_page_token") or None,
        "total_size": info.get("total_size") or 0,
    }


@router.get(
    "/deputies/{id}/duty-record",
    response_model=s.DutyRecord,
    responses=_PUBLIC,
    summary="A deputy's public duty record of a year",
    description="Counts by kind (each with how many are completed) and the entries, paged in "
    "the order they were recorded: receptions attended, opinions taken, referral letters and "
    "suggestions followed to their answer, activities (trainings) attended, research reported, "
    "the street committee's visits, duty reports' ballot results. Public facts only: never who "
    "raised an opinion, never its text. No token.",
    operation_id="get_duty_record",
)
async def get_duty_record(
    request: Request, id: DeputyId, query: Annotated[s.DutyRecordQuery, Query()]
) -> Any:
    message = pb.GetDutyRecordRequest(
        deputy_id=id, year=query.year or 0, kind=query.kind or "", page=page_request(query)
    )
    reply = await _call(request, "GetDutyRecord", message)
    return s.DutyRecord.model_validate(_paged(message_to_dict(reply)))


@router.get(
    "/deputies/{id}/ratings",
    response_model=s.DeputyRatings,
    responses=_PUBLIC,
    summary="Constituents' ratings of a deputy",
    description="Counts by level (满意、基本满意、不满意) per year, newest first, and the "
    "published comments (paged); never who rated. No token.",
    operation_id="get_deputy_ratings",
)
async def get_deputy_ratings(
    request: Request, id: DeputyId, query: Annotated[s.DeputyRatingsQuery, Query()]
) -> Any:
    message = pb.GetDeputyRatingsRequest(
        deputy_id=id, year=query.year or 0, page=page_request(query)
    )
    reply = await _call(request, "GetDeputyRatings", message)
    return s.DeputyRatings.model_validate(_paged(message_to_dict(reply)))


@router.post(
    "/deputies/{id}/ratings",
    status_code=201,
    response_model=s.DeputyRatingGiven,
    responses=_WRITE,
    summary="A signed-in constituent rates a deputy",
    description="Satisfied, basically satisfied or dissatisfied, with an optional comment; "
    "one rating per deputy a year (a second is 409, nothing changed).",
    operation_id="rate_deputy",
)
async def rate_deputy(
    request: Request,
    response: Response,
    principal: Constituent,
    id: DeputyId,
    body: Annotated[s.DeputyRatingNew, Body()],
) -> Any:
    message = fill_message(
        pb.RateDeputyRequest(deputy_id=id), body.model_dump(mode="json", exclude_none=True)
    )
    made = await _call(request, "RateDeputy", message)
    response.headers["Location"] = f"/api/v1/deputies/{id}/ratings"
    return s.DeputyRatingGiven.model_validate(message_to_dict(made))


@router.post(
    "/deputy-ratings/{id}/reports",
    status_code=201,
    response_model=s.RatingReport,
    responses=_WRITE,
    summary="Report a rating's comment as abusive",
    description="Anyone signed in, once per rating; the moderators see the reasons.",
    operation_id="report_rating_comment",
)
async def report_rating_comment(
    request: Request,
    principal: SignedIn,
    id: RatingId,
    body: Annotated[s.RatingReportNew, Body()],
) -> Any:
    message = pb.ReportRatingCommentRequest(rating_id=id, reason=body.reason)
    return s.RatingReport.model_validate(
        message_to_dict(await _call(request, "ReportRatingComment", message))
    )


@router.get(
    "/deputy-ratings/reported",
    response_model=s.ModeratedCommentPage,
    responses=_READ,
    summary="Reported rating comments to moderate",
    description="The street committee of the deputies' street, the standing committee office "
    "and admins: comments reported since their last moderation (or every reported one), "
    "hidden ones too, with the reports' reasons; never who rated or reported.",
    operation_id="list_reported_comments",
)
async def list_reported_comments(
    request: Request, principal: Moderator, query: Annotated[s.ReportedCommentsQuery, Query()]
) -> Any:
    message = pb.ListReportedCommentsRequest(
        deputy_id=query.deputy_id or 0,
        include_moderated=query.include_moderated,
        page=page_request(query),
    )
    reply = await _call(request, "ListReportedComments", message)
    return page_reply(
        s.ModeratedCommentPage, [message_to_dict(c) for c in reply.comments], reply.page
    )


@router.post(
    "/deputy-ratings/{id:segment}:moderate",
    response_model=s.ModeratedComment,
    responses=_WRITE,
    summary="Hide or restore a rating's comment, with a reason",
    description="The street committee of the deputy's street, the standing committee office "
    "and admins; audited.",
    operation_id="moderate_rating_comment",
)
async def moderate_rating_comment(
    request: Request,
    principal: Moderator,
    id: RatingId,
    body: Annotated[s.CommentModerationNew, Body()],
) -> Any:
    message = fill_message(
        pb.ModerateRatingCommentRequest(rating_id=id),
        body.model_dump(mode="json", exclude_none=True),
    )
    return s.ModeratedComment.model_validate(
        message_to_dict(await _call(request, "ModerateRatingComment", message))
    )

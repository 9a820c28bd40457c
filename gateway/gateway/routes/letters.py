"""Referral letters (转办函): one opened by the referral service from each
opinion handed on; read by the district's offices, the letter's street and
the deputy who took its opinion, never with who raised it; each letter's
audit trail checked by the district's offices.

Each step of a letter's workflow is a POST to `/letters/{id}:<action>`,
with its body; whose turn it is, and what the letter awaits, is the
referral service's decision (referral.routing), as is who may read a letter
(role, then the letter's street, deputy or handling unit); the gateway only
refuses early a role that never may."""

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response

from gateway import schemas as s
from gateway.auth import Principal, Role, require_roles
from gateway.convert import enum_from_name, fill_message, message_to_dict
from gateway.problems import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    ProblemError,
    responses,
)
from gateway.upstream import call_context, service
from liaison.common.v1 import envelope_pb2
from liaison.referral.v1 import referral_pb2

router = APIRouter(prefix="/api/v1", tags=["referral"])

DISTRICT_READERS = (
    Role.ADMIN,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.WORKING_BODY,
    Role.GOVERNMENT_OFFICE,
)
READERS = (
    *DISTRICT_READERS,
    Role.STREET_COMMITTEE,
    Role.STATION_STAFF,
    Role.DEPUTY,
    Role.DEPARTMENT,
    Role.CONSTITUENT,  # the letters of what they raised online, signed in
)
# Who takes a letter's steps (which one, and when, the service decides).
ACTORS = (
    Role.STREET_COMMITTEE,
    Role.DEPUTY,
    Role.WORKING_BODY,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.GOVERNMENT_OFFICE,
    Role.DEPARTMENT,
    Role.CONSTITUENT,  # rates the answer to what they raised online
)
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Actor = Annotated[Principal, Depends(require_roles(*ACTORS))]
Checker = Annotated[Principal, Depends(require_roles(*DISTRICT_READERS))]
LetterId = Annotated[s.IdParam, Path(description="The letter's id.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_ACT = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)


async def _call(request: Request, method: str, message: Any) -> Any:
    return await service(request, "referral").call(method, message, call_context(request))


def _letter(message: Any) -> s.Letter:
    return s.Letter.model_validate(message_to_dict(message))


@router.get(
    "/letters",
    response_model=s.LetterPage,
    responses=_READ,
    summary="Referral letters",
    description="The district's offices see every street's; street committees and station "
    "staff their street's; a deputy the letters of the opinions they took.",
    operation_id="list_letters",
)
async def list_letters(
    request: Request, principal: Reader, query: Annotated[s.LetterQuery, Query()]
) -> Any:
    filters = query.model_dump(mode="json", exclude_none=True)
    message = referral_pb2.ListLettersRequest()
    message.page.CopyFrom(
        envelope_pb2.PageRequest(
            page_size=filters.pop("page_size", 0), page_token=filters.pop("page_token", "")
        )
    )
    fill_message(message, filters)
    reply = await _call(request, "ListLetters", message)
    return s.LetterPage.model_validate(
        {
            "items": [_letter(m) for m in reply.letters],
            "next_page_token": reply.page.next_page_token or None,
            "total_size": reply.page.total_size,
        }
    )


@router.get(
    "/letter-figures",
    response_model=s.LetterFigures,
    responses=responses(VALIDATION, UPSTREAM_ERRORS),
    summary="A year's referral letters in figures",
    description="Received, referred, answered, in hand and overdue, by street, by handling "
    "unit (with days to answer) and by month; open letters by stage; satisfaction. Public "
    "aggregates: no record, no person.",
    operation_id="get_letter_figures",
)
async def get_letter_figures(
    request: Request, query: Annotated[s.LetterFiguresQuery, Query()]
) -> Any:
    message = referral_pb2.GetLetterFiguresRequest(year=query.year, street_id=query.street_id or 0)
    return s.LetterFigures.model_validate(
        message_to_dict(await _call(request, "GetLetterFigures", message))
    )


@router.get(
    "/opinions/track/{code}/letter",
    response_model=s.PublicLetter,
    responses=responses(VALIDATION, NOT_FOUND, UPSTREAM_ERRORS),
    summary="Follow an opinion's referral letter by the opinion's tracking code",
    description="Every hop with its receipt, the deadline to answer, the answers and the "
    "ratings; never the letter's content, comments, reasons or who acted. No token.",
    operation_id="track_letter",
)
async def track_letter(
    request: Request,
    code: Annotated[s.TrackingCode, Path(description="e.g. TH-2026-000123.")],
) -> Any:
    reply = await _call(
        request, "TrackLetters", referral_pb2.TrackLettersRequest(tracking_codes=[code])
    )
    if not reply.letters:
        raise ProblemError(404, f"no referral letter for {code}: it was not handed on")
    return s.PublicLetter.model_validate(message_to_dict(reply.letters[0]))


@router.get(
    "/letters/{id:segment}",
    response_model=s.Letter,
    responses=_READ,
    summary="One referral letter",
    operation_id="get_letter",
)
async def get_letter(request: Request, principal: Reader, id: LetterId) -> Any:
    return _letter(await _call(request, "GetLetter", referral_pb2.GetLetterRequest(id=id)))


@router.get(
    "/letters/{id}/trail-check",
    response_model=s.TrailCheck,
    responses=_READ,
    summary="Check a letter's audit trail",
    description="Every entry's hash, the chain of hashes and the newest hash the letter keeps. "
    "For the district's offices.",
    operation_id="check_letter_trail",
)
async def check_letter_trail(request: Request, principal: Checker, id: LetterId) -> Any:
    reply = await _call(request, "VerifyTrail", referral_pb2.VerifyTrailRequest(letter_id=id))
    values = message_to_dict(reply)
    if values.get("intact"):
        values.pop("break_position", None)
    return s.TrailCheck.model_validate(values)


# ---------------------------------------------------------------- answers' files

ATTACHMENTS_PATH = "/letters/{id}/attachments"
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The file's SHA-256.")]


@router.post(
    ATTACHMENTS_PATH,
    response_model=s.LetterAttachment,
    status_code=201,
    responses=_ACT,
    summary="Attach a file to the answer, before answering",
    description="The unit handling the letter, while it is in hand; the answer then names the "
    "file by its SHA-256. At most LIAISON_GATEWAY_MAX_UPLOAD_BYTES here and the referral "
    "service's own limit.",
    operation_id="upload_letter_attachment",
)
async def upload_attachment(
    request: Request,
    principal: Actor,
    id: LetterId,
    file: Annotated[UploadFile, File(description="The file.", json_schema_extra={"minLength": 1})],
) -> Any:
    content = await file.read()
    message = referral_pb2.UploadAttachmentRequest(
        letter_id=id,
        filename=file.filename or "",
        content_type=file.content_type or "application/octet-stream",
        content=content,
    )
    return s.LetterAttachment.model_validate(
        message_to_dict(await _call(request, "UploadAttachment", message))
    )


@router.get(
    ATTACHMENTS_PATH + "/{sha256}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file."},
        **_READ,
    },
    summary="One of a letter's files",
    operation_id="get_letter_attachment",
)
async def get_attachment(request: Request, principal: Reader, id: LetterId, sha256: Sha256) -> Any:
    reply = await _call(
        request, "GetAttachment", referral_pb2.GetAttachmentRequest(letter_id=id, sha256=sha256)
    )
    meta = reply.attachment
    return Response(
        content=reply.content,
        media_type=meta.content_type or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=0",
        },
    )


# ---------------------------------------------------------------- the workflow's steps


def _step(
    action: str,
    method: str,
    body_model: type[Any],
    build: Callable[[int, Any], Any],
    summary: str,
    description: str,
) -> None:
    """Route POST /letters/{id}:<action> to the referral service's `method`."""

    async def step(
        request: Request,
        principal: Actor,
        id: LetterId,
        body: Annotated[body_model, Body()],  # type: ignore[valid-type]
    ) -> Any:
        return _letter(await _call(request, method, build(id, body)))

    router.post(
        f"/letters/{{id:segment}}:{action}",
        response_model=s.Letter,
        responses=_ACT,
        summary=summary,
        description=description,
        operation_id=f"{action.replace('-', '_')}_letter",
    )(step)


def _enum(enum: Any, value: Any) -> int:
    """The proto enum's number of a schema enum's value (same names)."""
    return enum_from_name(enum.DESCRIPTOR, value.value)


_step(
    "decide-jurisdiction",
    "DecideJurisdiction",
    s.JurisdictionDecision,
    lambda id, b: referral_pb2.DecideJurisdictionRequest(
        letter_id=id, route=_enum(referral_pb2.Route, b.route)
    ),
    "Decide jurisdiction: the street's powers or the district's",
    "The street committee of the letter's street.",
)
_step(
    "sign-off",
    "SignOff",
    s.LetterSignOff,
    lambda id, b: referral_pb2.SignOffRequest(letter_id=id, comment=b.comment),
    "Sign off, with a comment",
    "The deputy, then the street committee's full-time deputy director, then its director; "
    "after the director's the letter goes to the street office.",
)
_step(
    "refuse-sign-off",
    "RefuseSignOff",
    s.LetterRefusal,
    lambda id, b: referral_pb2.RefuseSignOffRequest(letter_id=id, reason=b.reason),
    "Refuse to sign off, with a reason",
    "The letter goes back one step.",
)
_step(
    "review",
    "ReviewLetter",
    s.LetterReview,
    lambda id, b: referral_pb2.ReviewLetterRequest(letter_id=id, accept=b.accept, reason=b.reason),
    "The working body's review: accept, or return with a reason",
    "The district congress's working body.",
)
_step(
    "dispatch",
    "DispatchLetter",
    s.LetterNoBody,
    lambda id, b: referral_pb2.DispatchLetterRequest(letter_id=id),
    "Send to the district government office",
    "The standing committee office.",
)
_step(
    "assign",
    "AssignLetter",
    s.LetterAssignment,
    lambda id, b: referral_pb2.AssignLetterRequest(
        letter_id=id, lead_department_id=b.lead_department_id, co_handler_ids=b.co_handler_ids
    ),
    "Assign a lead department and co-handling departments",
    "The district government office.",
)
_step(
    "acknowledge",
    "AcknowledgeLetter",
    s.LetterNoBody,
    lambda id, b: referral_pb2.AcknowledgeLetterRequest(letter_id=id),
    "Acknowledge receipt",
    "The handling unit (its receipt starts the three months) or a co-handling department.",
)
_step(
    "answer",
    "AnswerLetter",
    s.LetterAnswerBody,
    lambda id, b: referral_pb2.AnswerLetterRequest(
        letter_id=id, text=b.text, attachments=b.attachments
    ),
    "Answer in writing",
    "The handling unit; the answer goes to the street committee, copied to the standing "
    "committee office.",
)
_step(
    "request-extension",
    "RequestExtension",
    s.ExtensionRequest,
    lambda id, b: referral_pb2.RequestExtensionRequest(
        letter_id=id, reason=b.reason, requested_last_day=b.requested_last_day.isoformat()
    ),
    "Ask for more time",
    "The handling unit; at most six months from receipt.",
)
_step(
    "decide-extension",
    "DecideExtension",
    s.ExtensionDecision,
    lambda id, b: referral_pb2.DecideExtensionRequest(
        letter_id=id, approve=b.approve, comment=b.comment
    ),
    "Approve or refuse an extension",
    "The street committee on the street's route, the standing committee office on the district's.",
)
_step(
    "feed-back",
    "FeedBack",
    s.LetterFeedBack,
    lambda id, b: referral_pb2.FeedBackRequest(letter_id=id, comment=b.comment),
    "Feed the answer back to the deputy and the constituent",
    "The street committee.",
)
_step(
    "rate",
    "RateAnswer",
    s.LetterRatingBody,
    lambda id, b: referral_pb2.RateAnswerRequest(
        letter_id=id,
        rater=_enum(referral_pb2.Rater, b.rater),
        satisfaction=_enum(referral_pb2.Satisfaction, b.satisfaction),
        reopen=b.reopen,
    ),
    "Rate the answer; dissatisfied may reopen it once",
    "The deputy; the constituent who raised it online, signed in; or the street committee "
    "recording the constituent's rating.",
)

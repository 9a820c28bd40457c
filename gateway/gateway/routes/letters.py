"""Referral letters (转办函): one opened by the referral service from each
opinion handed on; read by the district's offices, the letter's street and
the deputy who took its opinion, never with who raised it; each letter's
audit trail checked by the district's offices.

Who may read a letter is the referral service's decision (role, then the
letter's street or deputy); the gateway only refuses early a role that
never may."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from gateway import schemas as s
from gateway.auth import Principal, Role, require_roles
from gateway.convert import fill_message, message_to_dict
from gateway.problems import AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS, VALIDATION, responses
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
READERS = (*DISTRICT_READERS, Role.STREET_COMMITTEE, Role.STATION_STAFF, Role.DEPUTY)
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Checker = Annotated[Principal, Depends(require_roles(*DISTRICT_READERS))]
LetterId = Annotated[s.IdParam, Path(description="The letter's id.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)


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
    "/letters/{id}",
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

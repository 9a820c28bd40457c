"""Opinions (社情民意): sent online by anyone (answered with a public tracking
code), followed by the code, triaged by the street's staff; reception
records and the public figures.

What each caller may do is the reception service's decision (role, then
the opinion's street, the session's rota, who took the opinion); the
gateway only refuses early a role that never may. Who raised an opinion
comes back only in GET /opinions/{id}, and only to those who may see it."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gateway import schemas as s
from gateway.auth import (
    DISTRICT_WRITERS,
    OptionalPrincipal,
    Principal,
    Role,
    require_principal,
    require_roles,
)
from gateway.convert import fill_message, message_to_dict
from gateway.problems import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    responses,
)
from gateway.upstream import call_context, service
from liaison.reception.v1 import opinions_pb2

router = APIRouter(prefix="/api/v1", tags=["reception"])

TRIAGE = (*DISTRICT_WRITERS, Role.STATION_STAFF, Role.STREET_COMMITTEE)
Triage = Annotated[Principal, Depends(require_roles(*TRIAGE))]
# Transitions: the street's staff; a deputy for the few that are theirs.
Changer = Annotated[Principal, Depends(require_roles(*TRIAGE, Role.DEPUTY))]
Caller = Annotated[Principal, Depends(require_principal)]
OpinionId = Annotated[s.IdParam, Path(description="The opinion's id.")]
SessionId = Annotated[s.IdParam, Path(description="The reception session's id.")]
_PUBLIC = responses(VALIDATION, {401: AUTH_ERRORS[401]}, NOT_FOUND, UPSTREAM_ERRORS)
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)
_RECORD = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)


def reception(request: Request) -> Any:
    return service(request, "reception")


def _opinion(message: Any) -> s.Opinion:
    return s.Opinion.model_validate(message_to_dict(message))


async def _call(request: Request, method: str, message: Any) -> Any:
    return await reception(request).call(method, message, call_context(request))


@router.post(
    "/opinions",
    status_code=201,
    response_model=s.Opinion,
    responses=_RECORD,
    summary="Raise an opinion (社情民意); the answer holds its tracking code",
    description="Online without a token too (the rate is limited per client). At a reception "
    "(`source: reception`, with `session_id`): the station's staff and the deputies on the "
    "session's rota. Orders (`source: order`): the street committee. `Location` is the "
    "opinion's public tracking page.",
    operation_id="record_opinion",
)
async def record_opinion(
    request: Request,
    response: Response,
    principal: OptionalPrincipal,
    body: Annotated[s.OpinionNew, Body()],
) -> Any:
    message = fill_message(
        opinions_pb2.RecordOpinionRequest(), body.model_dump(mode="json", exclude_none=True)
    )
    recorded = await _call(request, "RecordOpinion", message)
    response.headers["Location"] = f"/api/v1/opinions/track/{recorded.tracking_code}"
    return _opinion(recorded)


@router.get(
    "/opinions/track/{code}",
    response_model=s.OpinionTrack,
    responses=_PUBLIC,
    summary="Follow an opinion by its tracking code",
    description="Its category, status, station and public timeline; never who raised it.",
    operation_id="track_opinion",
)
async def track_opinion(
    request: Request,
    principal: OptionalPrincipal,
    code: Annotated[s.TrackingCode, Path(description="e.g. TH-2026-000123.")],
) -> Any:
    message = opinions_pb2.TrackOpinionRequest(tracking_code=code)
    reply = await _call(request, "TrackOpinion", message)
    return s.OpinionTrack.model_validate(message_to_dict(reply))


@router.get(
    "/opinions",
    response_model=s.OpinionPage,
    responses=_READ,
    summary="The triage queue of opinions",
    description="Station staff and street committees see their street's; the district every "
    "street's; a deputy the opinions they took. Recorded and in-progress ones unless `status` "
    "says otherwise. Never who raised them.",
    operation_id="list_opinions",
)
async def list_opinions(
    request: Request,
    principal: Annotated[Principal, Depends(require_roles(*TRIAGE, Role.DEPUTY))],
    query: Annotated[s.OpinionQuery, Query()],
) -> Any:
    values = query.model_dump(mode="json", exclude_none=True)
    values["statuses"] = values.pop("status", [])
    message = fill_message(opinions_pb2.ListOpinionsRequest(), values)
    reply = await _call(request, "ListOpinions", message)
    return s.OpinionPage(
        items=[_opinion(m) for m in reply.opinions], next_page_token=reply.next_page_token or None
    )


@router.get(
    "/opinions/{id:segment}",
    response_model=s.Opinion,
    responses=_READ,
    summary="One opinion, with its timeline",
    description="Who raised it only for those who may see it: the street's staff, the "
    "district, the session's rota deputies, the deputy who took it, and the signed-in "
    "constituent who sent it.",
    operation_id="get_opinion",
)
async def get_opinion(request: Request, principal: Caller, id: OpinionId) -> Any:
    return _opinion(await _call(request, "GetOpinion", opinions_pb2.GetOpinionRequest(id=id)))


async def _change(request: Request, method: str, message: Any) -> s.Opinion:
    return _opinion(await _call(request, method, message))


@router.post(
    "/opinions/{id:segment}:answer",
    response_model=s.Opinion,
    responses=_WRITE,
    summary="Answered on the spot",
    operation_id="answer_opinion",
)
async def answer_opinion(
    request: Request, principal: Changer, id: OpinionId, body: Annotated[s.OpinionAnswer, Body()]
) -> Any:
    message = opinions_pb2.AnswerOpinionRequest(id=id, answer=body.answer)
    return await _change(request, "AnswerOpinion", message)


@router.post(
    "/opinions/{id:segment}:hand-on",
    response_model=s.Opinion,
    responses=_WRITE,
    summary="Hand on for referral (转办)",
    description="The referral service opens a letter from the event it emits.",
    operation_id="hand_on_opinion",
)
async def hand_on_opinion(
    request: Request, principal: Triage, id: OpinionId, body: Annotated[s.OpinionHandOn, Body()]
) -> Any:
    message = opinions_pb2.HandOnOpinionRequest(id=id, note=body.note)
    return await _change(request, "HandOnOpinion", message)


@router.post(
    "/opinions/{id:segment}:merge",
    response_model=s.Opinion,
    responses=_WRITE,
    summary="Merge into another opinion of the same street",
    operation_id="merge_opinion",
)
async def merge_opinion(
    request: Request, principal: Triage, id: OpinionId, body: Annotated[s.OpinionMerge, Body()]
) -> Any:
    message = opinions_pb2.MergeOpinionRequest(id=id, into_id=body.into_id)
    return await _change(request, "MergeOpinion", message)


@router.post(
    "/opinions/{id:segment}:decline",
    response_model=s.Opinion,
    responses=_WRITE,
    summary="Decline, with a reason",
    operation_id="decline_opinion",
)
async def decline_opinion(
    request: Request, principal: Triage, id: OpinionId, body: Annotated[s.OpinionDecline, Body()]
) -> Any:
    message = opinions_pb2.DeclineOpinionRequest(id=id, reason=body.reason)
    return await _change(request, "DeclineOpinion", message)


@router.post(
    "/opinions/{id:segment}:assign",
    response_model=s.Opinion,
    responses=_WRITE,
    summary="Hand to a deputy (包干到户), or take it as a deputy",
    operation_id="assign_opinion",
)
async def assign_opinion(
    request: Request, principal: Changer, id: OpinionId, body: Annotated[s.OpinionAssign, Body()]
) -> Any:
    message = opinions_pb2.AssignOpinionRequest(id=id, deputy_id=body.deputy_id or 0)
    return await _change(request, "AssignOpinion", message)


@router.post(
    "/opinions/{id:segment}:done",
    response_model=s.Opinion,
    responses=_WRITE,
    summary="An order done, with what was done",
    operation_id="complete_opinion",
)
async def complete_opinion(
    request: Request, principal: Changer, id: OpinionId, body: Annotated[s.OpinionAnswer, Body()]
) -> Any:
    message = opinions_pb2.CompleteOpinionRequest(id=id, answer=body.answer)
    return await _change(request, "CompleteOpinion", message)


@router.get(
    "/opinions/{id:segment}/suggested-deputies",
    response_model=s.SuggestedDeputies,
    responses=_READ,
    summary="Deputies of the street whose expertise fits, best first, with the reason",
    operation_id="suggest_deputies",
)
async def suggest_deputies(
    request: Request,
    principal: Triage,
    id: OpinionId,
    limit: Annotated[int, Query(ge=1, le=50, description="5 when absent.")] = 5,
) -> Any:
    message = opinions_pb2.SuggestDeputiesRequest(id=id, limit=limit)
    reply = await _call(request, "SuggestDeputies", message)
    return s.SuggestedDeputies(
        items=[s.SuggestedDeputy.model_validate(message_to_dict(d)) for d in reply.deputies]
    )


@router.put(
    "/sessions/{id:segment}/record",
    response_model=s.ReceptionRecord,
    responses=_WRITE,
    summary="Write a session's reception record (until it is locked)",
    description="The deputies present (of the station) and the people received.",
    operation_id="put_reception_record",
)
async def put_record(
    request: Request,
    principal: Triage,
    id: SessionId,
    body: Annotated[s.ReceptionRecordSet, Body()],
) -> Any:
    message = fill_message(
        opinions_pb2.PutReceptionRecordRequest(session_id=id), body.model_dump(mode="json")
    )
    reply = await _call(request, "PutReceptionRecord", message)
    return s.ReceptionRecord.model_validate(message_to_dict(reply))


@router.get(
    "/sessions/{id:segment}/record",
    response_model=s.ReceptionRecord,
    responses=_READ,
    summary="A session's reception record",
    description="The street's staff, the district and the deputies on the session's rota.",
    operation_id="get_reception_record",
)
async def get_record(request: Request, principal: Caller, id: SessionId) -> Any:
    message = opinions_pb2.GetReceptionRecordRequest(session_id=id)
    reply = await _call(request, "GetReceptionRecord", message)
    return s.ReceptionRecord.model_validate(message_to_dict(reply))


@router.get(
    "/reception-figures",
    response_model=s.ReceptionFigures,
    responses=_PUBLIC,
    summary="Reception figures of a station, a street or the district",
    description="Public aggregates for a year or a month: sessions recorded, deputy-activity "
    "and reception person-times, opinions collected by category, outcome and source.",
    operation_id="get_reception_figures",
)
async def figures(
    request: Request, principal: OptionalPrincipal, query: Annotated[s.FiguresQuery, Query()]
) -> Any:
    message = fill_message(
        opinions_pb2.GetReceptionFiguresRequest(), query.model_dump(mode="json", exclude_none=True)
    )
    reply = await _call(request, "GetReceptionFigures", message)
    return s.ReceptionFigures.model_validate(message_to_dict(reply))

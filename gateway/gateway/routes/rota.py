"""The rota: which deputies receive at which session (public), drawing and
setting rotas (the station's calendar writers), deputies' unavailability and
swaps between deputies (the deputies themselves, or the station's staff on
their behalf).

Who may do what to which record is the reception service's decision (role,
the station's street, the deputy's own token); the gateway only refuses
early a role that never may."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gateway import schemas as s
from gateway.auth import OptionalPrincipal, Principal, Role, require_roles
from gateway.convert import message_to_dict
from gateway.problems import AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS, VALIDATION, responses
from gateway.routes.reception import _PUBLIC, _WRITE, CALENDAR_WRITERS, CalendarWriter, reception
from gateway.upstream import call_context
from liaison.reception.v1 import rota_pb2

router = APIRouter(prefix="/api/v1", tags=["reception"])

RotaActor = Annotated[Principal, Depends(require_roles(*CALENDAR_WRITERS, Role.DEPUTY))]
SessionId = Annotated[s.IdParam, Path(description="The reception session's id.")]
DeputyId = Annotated[s.IdParam, Path(description="The deputy's registry id.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)


def _rota(message: Any) -> s.SessionRota:
    return s.SessionRota.model_validate(message_to_dict(message))


def _swap(message: Any) -> s.RotaSwapOut:
    return s.RotaSwapOut.model_validate(message_to_dict(message))


def _away(message: Any) -> s.UnavailabilityOut:
    return s.UnavailabilityOut.model_validate(message_to_dict(message))


async def _call(request: Request, method: str, message: Any) -> Any:
    return await reception(request).call(method, message, call_context(request))


@router.get(
    "/sessions/{id}/rota",
    response_model=s.SessionRota,
    responses=_PUBLIC,
    summary="A session's rota: which deputies receive there",
    description="Deputies' names and levels are public. `status` says whether the rota is "
    "complete, has gaps (see `gaps`), or is not drawn yet (needs_rota).",
    operation_id="get_session_rota",
)
async def get_rota(request: Request, principal: OptionalPrincipal, id: SessionId) -> Any:
    return _rota(await _call(request, "GetRota", rota_pb2.GetRotaRequest(session_id=id)))


@router.put(
    "/sessions/{id}/rota",
    response_model=s.SessionRota,
    responses=_WRITE,
    summary="Set a session's rota by hand",
    description="The whole rota, a station head or deputy head among them; each a deputy of "
    "the session's station, in office and not declared unavailable that day. Only sessions "
    "ahead and not cancelled (409 otherwise). Fewer deputies than the minimum are kept, "
    "flagged too_few_deputies.",
    operation_id="set_session_rota",
)
async def set_rota(
    request: Request, principal: CalendarWriter, id: SessionId, body: Annotated[s.RotaSet, Body()]
) -> Any:
    message = rota_pb2.SetRotaRequest(
        session_id=id,
        deputies=[rota_pb2.RotaPick(deputy_id=p.deputy_id, lead=p.lead) for p in body.deputies],
    )
    return _rota(await _call(request, "SetRota", message))


@router.post(
    "/stations/{id}/rota:generate",
    response_model=s.RotaGenerated,
    responses=_WRITE,
    summary="Draw and publish the rotas of a station's sessions",
    description="Idempotent: a session with a rota keeps it, unless `regenerate` asks to draw "
    "again those of future sessions.",
    operation_id="generate_station_rota",
)
async def generate(
    request: Request,
    principal: CalendarWriter,
    id: Annotated[s.IdParam, Path(description="The station's id.")],
    body: Annotated[s.RotaGenerate, Body()],
) -> Any:
    message = rota_pb2.GenerateRotaRequest(
        station_id=id,
        from_month=body.from_month or "",
        months=body.months or 0,
        regenerate=body.regenerate,
    )
    reply = await reception(request).call(
        "GenerateRota", message, call_context(request), deadline=60
    )
    return s.RotaGenerated(
        published=reply.published, kept=reply.kept, rotas=[_rota(r) for r in reply.rotas]
    )


@router.post(
    "/rota-swaps",
    status_code=201,
    response_model=s.RotaSwapOut,
    responses=_WRITE,
    summary="Propose a swap of sessions to a deputy of the same station",
    description="A deputy proposes as themself; the station's staff on a deputy's behalf.",
    operation_id="propose_rota_swap",
)
async def propose(
    request: Request, response: Response, principal: RotaActor, body: Annotated[s.SwapIn, Body()]
) -> Any:
    message = rota_pb2.ProposeSwapRequest(
        proposer_id=body.proposer_id,
        session_id=body.session_id,
        counterpart_id=body.counterpart_id,
        counterpart_session_id=body.counterpart_session_id or 0,
    )
    swap = await _call(request, "ProposeSwap", message)
    response.headers["Location"] = f"/api/v1/rota-swaps?deputy_id={swap.proposer_id}"
    return _swap(swap)


@router.post(
    "/rota-swaps/{id:segment}:accept",
    response_model=s.RotaSwapOut,
    responses=_WRITE,
    summary="Accept a swap (the counterpart) or approve it (the station's staff)",
    description="Both rotas change together, or nothing does (409 when the swap can no "
    "longer be made, e.g. it would leave a session without a head).",
    operation_id="accept_rota_swap",
)
async def accept(request: Request, principal: RotaActor, id: Annotated[s.IdParam, Path()]) -> Any:
    return _swap(await _call(request, "AcceptSwap", rota_pb2.DecideSwapRequest(id=id)))


@router.post(
    "/rota-swaps/{id:segment}:decline",
    response_model=s.RotaSwapOut,
    responses=_WRITE,
    summary="Decline a swap (the counterpart), withdraw it (the proposer) or refuse it (staff)",
    operation_id="decline_rota_swap",
)
async def decline(request: Request, principal: RotaActor, id: Annotated[s.IdParam, Path()]) -> Any:
    return _swap(await _call(request, "DeclineSwap", rota_pb2.DecideSwapRequest(id=id)))


@router.get(
    "/rota-swaps",
    response_model=s.RotaSwaps,
    responses=_READ,
    summary="The swaps of a deputy or of a station",
    description="Name one: `deputy_id` (the deputy themself, or the station's staff) or "
    "`station_id` (its staff).",
    operation_id="list_rota_swaps",
)
async def list_swaps(
    request: Request,
    principal: RotaActor,
    deputy_id: Annotated[s.IdParam | None, Query()] = None,
    station_id: Annotated[s.IdParam | None, Query()] = None,
) -> Any:
    message = rota_pb2.ListSwapsRequest(deputy_id=deputy_id or 0, station_id=station_id or 0)
    reply = await _call(request, "ListSwaps", message)
    return s.RotaSwaps(items=[_swap(m) for m in reply.swaps])


@router.post(
    "/deputies/{id}/unavailability",
    status_code=201,
    response_model=s.UnavailabilityOut,
    responses=_WRITE,
    summary="Declare days a deputy cannot receive",
    description="The deputy themself, or the staff of the deputy's station. Their sessions "
    "ahead in the range are handed to other deputies (or flagged).",
    operation_id="declare_unavailability",
)
async def declare(
    request: Request,
    principal: RotaActor,
    id: DeputyId,
    body: Annotated[s.UnavailabilityIn, Body()],
) -> Any:
    message = rota_pb2.DeclareUnavailabilityRequest(
        deputy_id=id,
        first_day=body.first_day.isoformat(),
        last_day=body.last_day.isoformat(),
        reason=body.reason,
    )
    return _away(await _call(request, "DeclareUnavailability", message))


@router.get(
    "/deputies/{id}/unavailability",
    response_model=s.Unavailabilities,
    responses=_READ,
    summary="A deputy's declared unavailability, with reasons",
    description="The deputy themself, or the staff of the deputy's station.",
    operation_id="list_unavailability",
)
async def list_away(
    request: Request,
    principal: RotaActor,
    id: DeputyId,
    include_withdrawn: Annotated[bool, Query()] = False,
) -> Any:
    message = rota_pb2.ListUnavailabilityRequest(deputy_id=id, include_withdrawn=include_withdrawn)
    reply = await _call(request, "ListUnavailability", message)
    return s.Unavailabilities(items=[_away(m) for m in reply.items])


@router.delete(
    "/deputies/{id}/unavailability/{unavailability_id}",
    response_model=s.UnavailabilityOut,
    responses=_WRITE,
    summary="Withdraw a declared unavailability (the record stays, marked)",
    operation_id="withdraw_unavailability",
)
async def withdraw(
    request: Request,
    principal: RotaActor,
    id: DeputyId,
    unavailability_id: Annotated[s.IdParam, Path()],
) -> Any:
    message = rota_pb2.WithdrawUnavailabilityRequest(deputy_id=id, id=unavailability_id)
    return _away(await _call(request, "WithdrawUnavailability", message))

"""The reception calendar: sessions and iCalendar feeds (public), and the
staff's station rules, scheduling, extra sessions and cancellations.

Who may change a station's calendar is the reception service's decision
(role, then the station's street); the gateway only refuses early a role
that never may."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gateway import schemas as s
from gateway.auth import (
    DISTRICT_WRITERS,
    OptionalPrincipal,
    Principal,
    Role,
    StaffReader,
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
from liaison.reception.v1 import reception_pb2

router = APIRouter(prefix="/api/v1", tags=["reception"])

CALENDAR_WRITERS = (*DISTRICT_WRITERS, Role.STATION_STAFF, Role.STREET_COMMITTEE)
CalendarWriter = Annotated[Principal, Depends(require_roles(*CALENDAR_WRITERS))]
StationId = Annotated[s.IdParam, Path(description="The station's id.")]
_PUBLIC = responses(VALIDATION, {401: AUTH_ERRORS[401]}, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)
_ICAL = {200: {"content": {"text/calendar": {"schema": {"type": "string"}}},
               "description": "An iCalendar (RFC 5545) feed."}}  # fmt: skip


def reception(request: Request) -> Any:
    return service(request, "reception")


def _session(message: Any) -> s.ReceptionSession:
    return s.ReceptionSession.model_validate(message_to_dict(message))


def _ics(feed: reception_pb2.CalendarFeed) -> Response:
    return Response(
        content=feed.content.encode("utf-8"),
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{feed.filename}"',
            "Cache-Control": "public, max-age=300",
        },
    )


@router.get(
    "/stations/{id}/sessions",
    response_model=s.ReceptionSessions,
    responses=_PUBLIC,
    summary="A station's reception sessions between two dates",
    description="Cancelled sessions are included, with their reason. At most 400 days.",
    operation_id="list_station_sessions",
)
async def list_sessions(
    request: Request,
    principal: OptionalPrincipal,
    id: StationId,
    from_: Annotated[date, Query(alias="from", description="First day (Asia/Shanghai).")],
    to: Annotated[date, Query(description="Last day, inclusive.")],
) -> Any:
    message = reception_pb2.ListSessionsRequest(station_id=id, to=to.isoformat())
    setattr(message, "from", from_.isoformat())  # noqa: B010 - `from` is a Python keyword
    reply = await reception(request).call("ListSessions", message, call_context(request))
    return s.ReceptionSessions(items=[_session(m) for m in reply.sessions])


@router.get(
    "/sessions/{id:segment}",
    response_model=s.ReceptionSession,
    responses=_PUBLIC,
    summary="One reception session",
    operation_id="get_reception_session",
)
async def get_session(
    request: Request, principal: OptionalPrincipal, id: Annotated[s.IdParam, Path()]
) -> Any:
    message = reception_pb2.GetSessionRequest(id=id)
    return _session(await reception(request).call("GetSession", message, call_context(request)))


@router.get(
    "/stations/{id}/calendar.ics",
    response_class=Response,
    responses=responses(_ICAL, _PUBLIC),
    summary="A station's reception calendar (iCalendar)",
    operation_id="get_station_calendar",
)
async def station_calendar(request: Request, principal: OptionalPrincipal, id: StationId) -> Any:
    message = reception_pb2.GetStationCalendarRequest(station_id=id)
    return _ics(await reception(request).call("GetStationCalendar", message, call_context(request)))


@router.get(
    "/deputies/{id}/calendar.ics",
    response_class=Response,
    responses=responses(_ICAL, _PUBLIC),
    summary="A deputy's reception calendar (iCalendar)",
    description="The sessions the deputy is on the rota of.",
    operation_id="get_deputy_calendar",
)
async def deputy_calendar(
    request: Request, principal: OptionalPrincipal, id: Annotated[s.IdParam, Path()]
) -> Any:
    message = reception_pb2.GetDeputyCalendarRequest(deputy_id=id)
    return _ics(await reception(request).call("GetDeputyCalendar", message, call_context(request)))


@router.get(
    "/stations/{id}/reception-rule",
    response_model=s.StationRule,
    responses=responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS),
    summary="A station's reception rule",
    operation_id="get_station_rule",
)
async def get_rule(request: Request, principal: StaffReader, id: StationId) -> Any:
    message = reception_pb2.GetStationRuleRequest(station_id=id)
    reply = await reception(request).call("GetStationRule", message, call_context(request))
    return s.StationRule.model_validate(message_to_dict(reply))


@router.put(
    "/stations/{id}/reception-rule",
    response_model=s.StationRule,
    responses=_WRITE,
    summary="Set a station's reception rule",
    description="Sessions already scheduled stay as they are; the rule applies to those "
    "scheduled after.",
    operation_id="set_station_rule",
)
async def set_rule(
    request: Request,
    principal: CalendarWriter,
    id: StationId,
    body: Annotated[s.StationRuleSet, Body()],
) -> Any:
    rule = fill_message(
        reception_pb2.StationRule(station_id=id), body.model_dump(mode="json", exclude_none=True)
    )
    message = reception_pb2.SetStationRuleRequest(rule=rule)
    reply = await reception(request).call("SetStationRule", message, call_context(request))
    return s.StationRule.model_validate(message_to_dict(reply))


@router.post(
    "/sessions:schedule",
    response_model=s.ScheduledSessions,
    responses=_WRITE,
    summary="Schedule (publish) regular sessions months ahead",
    description="Idempotent: a month's session of a station is created once.",
    operation_id="schedule_sessions",
)
async def schedule(
    request: Request, principal: CalendarWriter, body: Annotated[s.ScheduleSessions, Body()]
) -> Any:
    message = fill_message(
        reception_pb2.ScheduleSessionsRequest(), body.model_dump(mode="json", exclude_none=True)
    )
    reply = await reception(request).call(
        "ScheduleSessions", message, call_context(request), deadline=60
    )
    return s.ScheduledSessions(
        created=reply.created,
        existing=reply.existing,
        sessions=[_session(m) for m in reply.sessions],
    )


@router.post(
    "/stations/{id}/sessions",
    status_code=201,
    response_model=s.ReceptionSession,
    responses=_WRITE,
    summary="Add an extra session, with its reason",
    operation_id="add_session",
)
async def add_session(
    request: Request,
    response: Response,
    principal: CalendarWriter,
    id: StationId,
    body: Annotated[s.ExtraSession, Body()],
) -> Any:
    message = fill_message(
        reception_pb2.AddSessionRequest(station_id=id),
        body.model_dump(mode="json", exclude_none=True),
    )
    added = await reception(request).call("AddSession", message, call_context(request))
    response.headers["Location"] = f"/api/v1/sessions/{added.id}"
    return _session(added)


@router.post(
    "/sessions/{id:segment}:cancel",
    response_model=s.ReceptionSession,
    responses=_WRITE,
    summary="Cancel a session, with its reason (the record stays)",
    operation_id="cancel_session",
)
async def cancel_session(
    request: Request,
    principal: CalendarWriter,
    id: Annotated[s.IdParam, Path()],
    body: Annotated[s.CancelSession, Body()],
) -> Any:
    message = reception_pb2.CancelSessionRequest(id=id, reason=body.reason)
    return _session(await reception(request).call("CancelSession", message, call_context(request)))

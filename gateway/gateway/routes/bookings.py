"""Bookings at reception sessions: places at a slot, the waitlist, walk-ins.

Booking, a session's availability and cancelling with a cancel code are
public; a signed-in constituent's bookings are tied to the token's subject
(`GET /me/bookings`). Who books is personal data: a session's bookings,
walk-ins and attendance are for the staff of its station and the deputies
on its rota, which the reception service decides; the gateway only refuses
early a role that never may.

Abuse: every route here is under the gateway's per-client write limit
(`gateway.ratelimit`: a token's subject, else the address; 120 writes a
minute by default), and the service keeps one live booking per phone and
session, so one phone cannot fill a slot."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request, Response

from gateway import schemas as s
from gateway.auth import STAFF_READERS, OptionalPrincipal, Principal, Role, require_roles
from gateway.convert import enum_from_name, message_to_dict
from gateway.problems import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    responses,
)
from gateway.upstream import call_context, service
from liaison.reception.v1 import bookings_pb2

router = APIRouter(prefix="/api/v1", tags=["reception", "bookings"])

SessionStaff = Annotated[Principal, Depends(require_roles(*STAFF_READERS))]
Constituent = Annotated[Principal, Depends(require_roles(Role.CONSTITUENT))]
SessionId = Annotated[s.IdParam, Path(description="The reception session's id.")]
BookingId = Annotated[s.IdParam, Path(description="The booking's id.")]
_PUBLIC_READ = responses(VALIDATION, {401: AUTH_ERRORS[401]}, NOT_FOUND, UPSTREAM_ERRORS)
_PUBLIC_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)
_STAFF_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)


def reception(request: Request) -> Any:
    return service(request, "reception")


def _booking(message: Any) -> s.Booking:
    return s.Booking.model_validate(message_to_dict(message))


@router.post(
    "/sessions/{id}/bookings",
    status_code=201,
    response_model=s.BookingCreated,
    responses=_PUBLIC_WRITE,
    summary="Book a place at a session's slot",
    description="Public. A full slot answers 409 'slot X is full; join the waitlist' unless "
    "`waitlist` is true; a cancelled session, a slot that has begun and a phone with a booking "
    "at the session already are 409 too. A phone that is not a Chinese mobile or landline, or "
    "a community the station does not serve, is 422. The cancel code in the answer is shown "
    "once.",
    operation_id="book_slot",
)
async def book(
    request: Request,
    response: Response,
    principal: OptionalPrincipal,
    id: SessionId,
    body: Annotated[s.BookingCreate, Body()],
) -> Any:
    message = bookings_pb2.BookSlotRequest(session_id=id, **body.model_dump(mode="json"))
    reply = await reception(request).call("BookSlot", message, call_context(request))
    response.headers["Cache-Control"] = "no-store"
    return s.BookingCreated(booking=_booking(reply.booking), cancel_code=reply.cancel_code)


@router.get(
    "/sessions/{id}/availability",
    response_model=s.Availability,
    responses=_PUBLIC_READ,
    summary="A session's places per slot (counts only)",
    operation_id="get_session_availability",
)
async def availability(request: Request, principal: OptionalPrincipal, id: SessionId) -> Any:
    message = bookings_pb2.GetAvailabilityRequest(session_id=id)
    reply = await reception(request).call("GetAvailability", message, call_context(request))
    return s.Availability.model_validate(message_to_dict(reply))


@router.get(
    "/sessions/{id}/bookings",
    response_model=s.SessionBookings,
    responses=_STAFF_READ,
    summary="A session's bookings and walk-ins, with who they are",
    description="The staff of the session's station and the deputies on its rota.",
    operation_id="list_session_bookings",
)
async def session_bookings(request: Request, principal: SessionStaff, id: SessionId) -> Any:
    message = bookings_pb2.ListSessionBookingsRequest(session_id=id)
    reply = await reception(request).call("ListSessionBookings", message, call_context(request))
    return s.SessionBookings.model_validate(message_to_dict(reply))


@router.post(
    "/bookings/{id:segment}:cancel",
    response_model=s.Booking,
    responses=_PUBLIC_WRITE,
    summary="Cancel a booking",
    description="Until its slot begins: its owner (the constituent who booked signed in), "
    "anyone with its cancel code, or the staff of its station. A freed place goes to the first "
    "on the waitlist.",
    operation_id="cancel_booking",
)
async def cancel(
    request: Request,
    principal: OptionalPrincipal,
    id: BookingId,
    body: Annotated[s.BookingCancel | None, Body()] = None,
) -> Any:
    code = body.cancel_code if body is not None and body.cancel_code else ""
    message = bookings_pb2.CancelBookingRequest(booking_id=id, cancel_code=code)
    return _booking(await reception(request).call("CancelBooking", message, call_context(request)))


@router.get(
    "/me/bookings",
    response_model=s.MyBookings,
    responses=responses(VALIDATION, AUTH_ERRORS, UPSTREAM_ERRORS),
    summary="The signed-in constituent's bookings, newest first",
    operation_id="list_my_bookings",
)
async def my_bookings(request: Request, principal: Constituent) -> Any:
    message = bookings_pb2.ListMyBookingsRequest()
    reply = await reception(request).call("ListMyBookings", message, call_context(request))
    return s.MyBookings(items=[_booking(b) for b in reply.bookings])


@router.post(
    "/sessions/{id}/walk-ins",
    status_code=201,
    response_model=s.WalkIn,
    responses=_PUBLIC_WRITE,
    summary="Record a constituent received without a booking",
    description="From the session's day on; the staff of its station and the deputies on its rota.",
    operation_id="record_walk_in",
)
async def walk_in(
    request: Request,
    principal: SessionStaff,
    id: SessionId,
    body: Annotated[s.WalkInCreate, Body()],
) -> Any:
    message = bookings_pb2.RecordWalkInRequest(session_id=id, **body.model_dump(mode="json"))
    reply = await reception(request).call("RecordWalkIn", message, call_context(request))
    return s.WalkIn.model_validate(message_to_dict(reply))


@router.post(
    "/bookings/{id:segment}:attend",
    response_model=s.Booking,
    responses=_PUBLIC_WRITE,
    summary="Mark a booking attended or no-show",
    description="From the session's day on; the staff of its station and the deputies on its rota.",
    operation_id="mark_attendance",
)
async def attend(
    request: Request,
    principal: SessionStaff,
    id: BookingId,
    body: Annotated[s.AttendanceMark, Body()],
) -> Any:
    attendance = enum_from_name(bookings_pb2.Attendance.DESCRIPTOR, body.attendance.value)
    message = bookings_pb2.MarkAttendanceRequest(booking_id=id, attendance=attendance)  # type: ignore[arg-type]
    return _booking(await reception(request).call("MarkAttendance", message, call_context(request)))

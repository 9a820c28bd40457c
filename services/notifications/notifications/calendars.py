"""iCalendar (.ics) attachments of emails about a reception session.

A message of an event that names a session and the slot a constituent holds
(`SESSION_EVENTS`: a booking confirmed, a booking promoted off the waitlist,
the reminder the day before)
is remembered with those ids by the fan-out (`remember`, table
`notifications_message_sessions`). When its email goes, `SessionCalendars`
asks reception for the session as it is then, through its public reads
(`GetSession`: the station, venue and its address, whether it is
cancelled; `GetAvailability`: the slot's start and end), no token needed,
and makes a calendar (the `icalendar` library, RFC 5545, METHOD:PUBLISH)
with one event: the booked slot, in UTC (every calendar shows it in its own
time zone), at the station's venue. Its UID is the session's and slot's, so
the confirmation, a later promotion and the reminder the day before are one
entry in a calendar.

No personal data goes in it (not the booker's name, phone or topic): only
the session's public facts. When reception does not answer (unavailable,
past the deadline) the email goes without the attachment, logged with the
session's id: the message itself matters more than its calendar. A session
or slot reception does not know (NOT_FOUND, a slot gone) gives none either.
Not built yet: a reminder (VALARM), and a CANCEL sent when a booking or a
session is cancelled.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol

import grpc
import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from liaison.reception.v1 import bookings_pb2 as bpb
from liaison.reception.v1 import reception_pb2 as pb
from notifications.calendar_models import MessageSession
from notifications.message_models import Message

log = logging.getLogger(__name__)

SESSION_EVENTS = (
    "reception.booking_confirmed",
    "reception.booking_promoted",
    "reception.booking_reminder_due",
)
PRODID = "-//Deputy Liaison Platform//notifications//ZH"
UID_DOMAIN = "notifications.liaison"
# Per language: the title, the cancelled mark before it, and the word.
TITLES = {
    "zh-CN": ("人大代表接待选民", "【已取消】", "已取消"),
    "en": ("Deputies' reception of constituents", "[Cancelled] ", "Cancelled"),
}


def remember(session: Session, message_id: int, event_type: str, payload: dict[str, Any]) -> bool:
    """Note the session and slot of a message about one (the fan-out's, in its
    unit of work); whether there was one."""
    if event_type not in SESSION_EVENTS:
        return False
    try:
        session_id, slot_id = int(payload.get("session_id") or 0), int(payload.get("slot_id") or 0)
    except (TypeError, ValueError):
        return False
    if session_id <= 0 or slot_id <= 0:
        return False
    session.add(MessageSession(message_id=message_id, session_id=session_id, slot_id=slot_id))
    session.flush()
    return True


class Reception(Protocol):
    """The reception service's public reads this asks (its gRPC stub)."""

    def GetSession(self, request: pb.GetSessionRequest) -> pb.Session: ...  # noqa: N802

    def GetAvailability(self, request: bpb.GetAvailabilityRequest) -> bpb.Availability: ...  # noqa: N802


def _utc(ts: Any) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)  # type: ignore[no-any-return]


def calendar(session: pb.Session, slot: bpb.SlotAvailability, locale: str) -> bytes:
    """The calendar of one booked slot of `session`."""
    title, mark, cancelled_word = TITLES.get(locale, TITLES["zh-CN"])
    cancelled = session.status == pb.SESSION_STATUS_CANCELLED
    ical = icalendar.Calendar()
    ical.add("prodid", PRODID)
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"session-{session.id}-slot-{slot.slot_id}@{UID_DOMAIN}")
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", _utc(slot.starts_at))
    event.add("dtend", _utc(slot.ends_at))
    label = f"（{slot.label}）" if slot.label else ""
    event.add("summary", f"{mark if cancelled else ''}{title} · {session.station_name}{label}")
    where = "，".join(p for p in (session.venue_name, session.venue_address) if p)
    if where:
        event.add("location", where)
    lines = [session.station_name]
    if session.reason:
        lines.append(session.reason)
    if cancelled and session.cancellation_reason:
        lines.append(f"{cancelled_word}: {session.cancellation_reason}")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    ical.add_component(event)
    return bytes(ical.to_ical())


class SessionCalendars:
    """`Sender.calendar_of`: the calendar of the session a message is about."""

    def __init__(self, reception: Reception) -> None:
        self.reception = reception

    def calendar_of(self, session: Session, message: Message) -> bytes | None:
        about = session.scalars(
            select(MessageSession).where(MessageSession.message_id == message.id)
        ).one_or_none()
        if about is None:
            return None
        try:
            found = self.reception.GetSession(pb.GetSessionRequest(id=about.session_id))
            places = self.reception.GetAvailability(
                bpb.GetAvailabilityRequest(session_id=about.session_id)
            )
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else None
            if code != grpc.StatusCode.NOT_FOUND:
                log.warning(
                    "message %d goes without its calendar: reception answered %s for session %d",
                    message.id,
                    code.name if code is not None else "nothing",
                    about.session_id,
                )
            return None
        slot = next((s for s in places.slots if s.slot_id == about.slot_id), None)
        if slot is None:
            return None
        return calendar(found, slot, message.locale)

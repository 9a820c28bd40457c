"""Bookings: constituents' places at a session's slots, the waitlist, walk-ins.

- Anyone may book a place at a slot of a session that is not cancelled and
  whose slot has not begun (name, phone, a community the station serves, a
  topic). A signed-in constituent's booking is tied to the token's subject;
  every booking gets a cancel code, returned once and kept only as its
  SHA-256. One live booking (booked or waitlisted) per phone and session.
- A slot takes as many bookings as its capacity: the venue's when the
  session was scheduled, or, when the venue's is not known (0),
  `default_capacity` (LIAISON_RECEPTION_DEFAULT_SLOT_CAPACITY). A full slot
  refuses (FAILED_PRECONDITION "slot X is full; join the waitlist") unless
  the booker asked for the waitlist. Every change of a slot's bookings takes
  the slot's row lock first (SELECT ... FOR UPDATE), so of two bookers of
  the last place exactly one gets it, and the waitlist's order stays whole.
- Cancelling (the owner, the cancel code, or the station's staff), until
  the slot begins, frees the place; the first on the waitlist takes it in the same transaction
  (`booking_promoted`), and those behind move up.
- Walk-ins (received without a booking) are recorded from the session's day
  on, and booked constituents marked attended or no-show, by the staff of
  the station and the deputies on the session's rota
  (`reception.access.may_see_personal`), who alone see the personal data.
- Events and audit entries carry ids only, never a name, phone or topic;
  nothing here logs them.

The day before a session, the worker's reminder sweep publishes one
`booking_reminder_due` per booking holding a place (`reception.reminders`).

Not built yet: bookings of a session cancelled later stay as they are, for
the staff to call the bookers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any, cast

import phonenumbers
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import Principal, Role, require
from kit.convert import EnumNames, timestamp
from kit.db import Database, UnitOfWork
from kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Violations,
    invalid,
)
from kit.records import MAX_ID
from liaison.reception.v1 import bookings_pb2 as bpb
from liaison.reception.v1 import events_pb2 as ev
from reception import access, domain, models
from reception.lookup import load

BOOKED, WAITLISTED, CANCELLED = "booked", "waitlisted", "cancelled"
ATTENDED, NO_SHOW = "attended", "no_show"
LIVE = (BOOKED, WAITLISTED)
# What holds a place in a slot: a booking, and one the day has come for
# (PLACES_AND_PHONE spells both out again).
HOLDS_A_PLACE = (BOOKED, ATTENDED, NO_SHOW)
STATUS = EnumNames(bpb.BookingStatus, "BOOKING_STATUS")
ATTENDANCE = EnumNames(bpb.Attendance, "ATTENDANCE")

DEFAULT_SLOT_CAPACITY = 20
MAX_NAME = 50
MAX_TOPIC = 500
MAX_CODE = 100
PHONE_INDEX = "uq_bookings_session_phone_live"
# Who books without a token, as the audit names them.
BOOKINGS = cast(Table, models.Booking.__table__)
# A slot's places held and waiting, and whether the phone has a live booking
# at the session, in one statement under the slot's lock. The statuses are
# written out (not parameters) so that the planner may use the partial
# unique index of live bookings by phone.
PLACES_AND_PHONE = text(
    """
    SELECT
      count(*) FILTER (WHERE slot_id = :slot AND status IN ('booked', 'attended', 'no_show')),
      count(*) FILTER (WHERE slot_id = :slot AND status = 'waitlisted'),
      count(*) FILTER (
        WHERE session_id = :session AND phone = :phone AND status IN ('booked', 'waitlisted'))
    FROM bookings
    WHERE slot_id = :slot
       OR (session_id = :session AND phone = :phone AND status IN ('booked', 'waitlisted'))
    """
)
ANONYMOUS = Principal(sub="anonymous", role=Role.CONSTITUENT, kind="anonymous")


# ---------------------------------------------------------------- checks of input


def _refused_character(c: str, multiline: bool) -> bool:
    if multiline and c in "\n\t":
        return False
    return unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co")


def clean_text(v: Violations, field: str, text: str, limit: int, *, required: bool) -> str:
    """`text` stripped; a violation when missing, too long, or holding a
    control character (newlines and tabs only in a topic)."""
    value = text.strip()
    if not value:
        if required:
            v.add(field, "is required")
    elif len(value) > limit:
        v.add(field, f"is longer than {limit} characters")
    elif any(_refused_character(c, field == "topic") for c in value):
        v.add(field, "holds a control character")
    return value


def china_phone(v: Violations, field: str, text: str) -> str:
    """A Chinese mobile or landline number in E.164 (+8613800138000), read
    with libphonenumber's rules (a landline needs its area code)."""
    if not text.strip():
        v.add(field, "is required")
        return ""
    if len(text) > 40:
        v.add(field, "is not a phone number")
        return ""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        v.add(field, "is not a phone number")
        return ""
    if phonenumbers.region_code_for_number(number) != "CN":
        v.add(field, "is not a Chinese phone number (mainland mobile or landline)")
        return ""
    kind = phonenumbers.number_type(number)
    fixed_or_mobile = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if not phonenumbers.is_valid_number(number) or kind not in fixed_or_mobile:
        v.add(
            field,
            "is not a valid Chinese mobile or landline number "
            "(a mobile has 11 digits; a landline needs its area code, e.g. 020-12345678)",
        )
        return ""
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _positive(v: Violations, field: str, value: int) -> None:
    if value <= 0:
        v.add(field, "is required")
    elif value > MAX_ID:
        v.add(field, "is out of range")


# ---------------------------------------------------------------- views


def booking_pb(b: models.Booking) -> bpb.Booking:
    return bpb.Booking(
        id=b.id,
        session_id=b.session_id,
        slot_id=b.slot_id,
        status=STATUS.number(b.status),  # type: ignore[arg-type]
        waitlist_position=b.waitlist_position,
        name=b.name,
        phone=b.phone,
        community_id=b.community_id,
        topic=b.topic,
        signed_in=b.owner_sub is not None,
        created_at=timestamp(b.created_at),
        updated_at=timestamp(b.updated_at),
        cancelled_at=timestamp(b.cancelled_at),
    )


def walk_in_pb(w: models.WalkIn) -> bpb.WalkIn:
    return bpb.WalkIn(
        id=w.id,
        session_id=w.session_id,
        name=w.name,
        community_id=w.community_id,
        topic=w.topic,
        recorded_at=timestamp(w.recorded_at),
    )


def _ids(b: models.Booking) -> dict[str, Any]:
    """What a booking's events carry: ids, its status and the booker's
    pseudonymous account id when they were signed in; nothing personal."""
    return {
        "booking_id": b.id,
        "session_id": b.session_id,
        "slot_id": b.slot_id,
        "status": STATUS.number(b.status),
        "owner_sub": b.owner_sub or "",
    }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Bookings:
    """The booking use cases, over the reception service's Database."""

    def __init__(self, db: Database, *, default_capacity: int = DEFAULT_SLOT_CAPACITY) -> None:
        self.db = db
        self.default_capacity = default_capacity

    # -- what every use case needs

    def _session(self, session: Session, session_id: int) -> models.ReceptionSession:
        return load(session, models.ReceptionSession, session_id, "session", "session_id")  # type: ignore[no-any-return]

    def _booking(self, session: Session, booking_id: int) -> models.Booking:
        return load(session, models.Booking, booking_id, "booking", "booking_id")  # type: ignore[no-any-return]

    @staticmethod
    def _station(session: Session, row: models.ReceptionSession) -> models.RegistryStation:
        station = session.get(models.RegistryStation, row.station_id)
        if station is None:  # the read model lost it: nobody's street can be told
            raise FailedPrecondition(f"the station of session {row.id} is not known")
        return station

    @staticmethod
    def _check_served(session: Session, station_id: int, community_id: int) -> None:
        """INVALID_ARGUMENT unless the station serves the community (the read model's)."""
        served_by = models.RegistryStationCommunity
        query = select(served_by.community_id).where(served_by.station_id == station_id)
        if session.scalar(query.where(served_by.community_id == community_id)) is not None:
            return
        listed = ", ".join(str(c) for c in session.scalars(query.order_by(served_by.community_id)))
        raise invalid(
            "community_id",
            f"community {community_id} is not served by station {station_id} "
            f"(it serves: {listed or 'none'})",
        )

    def capacity(self, slot: models.SessionSlot) -> int:
        """The places of a slot: the venue's, or the default when unknown (0)."""
        return slot.capacity if slot.capacity > 0 else self.default_capacity

    @staticmethod
    def _locked_slot(session: Session, slot_id: int) -> models.SessionSlot:
        """The slot, its row locked until the commit: every change of its
        bookings goes through here first."""
        query = select(models.SessionSlot).where(models.SessionSlot.id == slot_id).with_for_update()
        return session.scalars(query).one()

    @staticmethod
    def _counts(session: Session, slot_ids: list[int]) -> dict[tuple[int, str], int]:
        query = (
            select(models.Booking.slot_id, models.Booking.status, func.count())
            .where(models.Booking.slot_id.in_(slot_ids))
            .group_by(models.Booking.slot_id, models.Booking.status)
        )
        return {(slot, status): count for slot, status, count in session.execute(query)}

    def _taken(self, session: Session, slot_id: int) -> tuple[int, int]:
        counts = self._counts(session, [slot_id])
        held = sum(counts.get((slot_id, s), 0) for s in HOLDS_A_PLACE)
        return held, counts.get((slot_id, WAITLISTED), 0)

    @staticmethod
    def _waitlist(session: Session, slot_id: int) -> list[models.Booking]:
        query = (
            select(models.Booking)
            .where(models.Booking.slot_id == slot_id, models.Booking.status == WAITLISTED)
            .order_by(models.Booking.waitlist_position, models.Booking.id)
        )
        return list(session.scalars(query))

    def _personal(
        self, session: Session, who: Principal | None, row: models.ReceptionSession, doing: str
    ) -> Principal:
        """The caller when it may see (and record) the session's personal data."""
        if who is None:
            raise Unauthenticated(f"a bearer token is required to {doing}")
        station = self._station(session, row)
        if not access.may_see_personal(session, who, station, row.id):
            raise PermissionDenied(
                f"only the staff of station {station.id} and the deputies on the rota of "
                f"session {row.id} may {doing}"
            )
        return who

    @staticmethod
    def _from_the_day(row: models.ReceptionSession, doing: str) -> None:
        if row.status == domain.CANCELLED:
            raise FailedPrecondition(f"session {row.id} was cancelled")
        if row.session_date > domain.today():
            raise FailedPrecondition(
                f"session {row.id} is on {row.session_date.isoformat()}: {doing} from that day on"
            )

    # -- booking

    def book(self, request: bpb.BookSlotRequest, actor: Principal | None) -> bpb.BookSlotResponse:
        v = Violations()
        _positive(v, "slot_id", request.slot_id)
        name = clean_text(v, "name", request.name, MAX_NAME, required=True)
        phone = china_phone(v, "phone", request.phone)
        _positive(v, "community_id", request.community_id)
        topic = clean_text(v, "topic", request.topic, MAX_TOPIC, required=True)
        v.raise_if_any("the booking is not valid")
        who = actor or ANONYMOUS
        code = secrets.token_urlsafe(18)
        session_id, slot_id = request.session_id, request.slot_id
        if not 0 < session_id <= MAX_ID:
            raise invalid("session_id", "must be a positive number")
        sessions, slots, bookings = models.ReceptionSession, models.SessionSlot, BOOKINGS
        with self.db.unit_of_work() as uow:
            s = uow.session
            # The hot path of the service: columns, not records, and as few
            # round trips as the rules allow.
            found = s.execute(
                select(sessions.station_id, sessions.status).where(sessions.id == session_id)
            ).first()
            if found is None:
                raise NotFound(f"no session has id {session_id}")
            self._check_served(s, found.station_id, request.community_id)
            if found.status == domain.CANCELLED:
                raise FailedPrecondition(
                    f"session {session_id} was cancelled: it takes no bookings"
                )
            # The slot's row lock (as `_locked_slot`), held until the commit.
            slot = s.execute(
                select(
                    slots.id, slots.starts_at, slots.capacity, slots.local_start, slots.local_end
                )
                .where(slots.id == slot_id, slots.session_id == session_id)
                .with_for_update()
            ).first()
            if slot is None:
                listed = s.scalars(select(slots.id).where(slots.session_id == session_id))
                raise invalid(
                    "slot_id",
                    f"is not a slot of session {session_id} (its slots: "
                    f"{', '.join(str(i) for i in listed) or 'none'})",
                )
            if _aware(slot.starts_at) <= datetime.now(UTC):
                raise FailedPrecondition(
                    f"slot {slot_id} of session {session_id} has begun or is past: it takes no "
                    "bookings (come and be received as a walk-in)"
                )
            held, queued, same_phone = s.execute(
                PLACES_AND_PHONE, {"slot": slot_id, "session": session_id, "phone": phone}
            ).one()
            if same_phone:
                raise AlreadyExists(
                    f"this phone number has a booking at session {session_id} already"
                )
            capacity = slot.capacity if slot.capacity > 0 else self.default_capacity
            if held < capacity:
                status, position = BOOKED, 0
            elif request.waitlist:
                status, position = WAITLISTED, queued + 1
            else:
                raise FailedPrecondition(
                    f"slot {slot_id} ({slot.local_start}-{slot.local_end}) is full; "
                    "join the waitlist"
                )
            now = datetime.now(UTC)
            booking = models.Booking(
                session_id=session_id,
                slot_id=slot_id,
                status=status,
                waitlist_position=position,
                name=name,
                phone=phone,
                community_id=request.community_id,
                topic=topic,
                owner_sub=who.sub if actor is not None and actor.role is Role.CONSTITUENT else None,
                cancel_code_hash=code_hash(code),
                created_at=now,
                updated_at=now,
            )
            values = {c.key: getattr(booking, c.key) for c in bookings.columns if c.key != "id"}
            try:
                booking.id = s.execute(
                    insert(bookings).values(values).returning(bookings.c.id)
                ).scalar_one()
            except IntegrityError as exc:  # the same phone, at another slot, at the same time
                if PHONE_INDEX in str(exc.orig):
                    raise AlreadyExists(
                        f"this phone number has a booking at session {session_id} already"
                    ) from None
                raise
            if status == BOOKED:
                uow.emit(ev.BookingConfirmed(**_ids(booking)))
            else:
                uow.emit(ev.BookingWaitlisted(**_ids(booking), waitlist_position=position))
            audit.record(
                s,
                who,
                status,
                "booking",
                booking.id,
                ["session_id", "slot_id", "name", "phone", "community_id", "topic"],
            )
            return bpb.BookSlotResponse(booking=booking_pb(booking), cancel_code=code)

    # -- cancelling, and the waitlist moving up

    def _may_cancel(
        self,
        session: Session,
        who: Principal | None,
        booking: models.Booking,
        row: models.ReceptionSession,
        code: str,
    ) -> Principal:
        if code:
            if len(code) <= MAX_CODE and hmac.compare_digest(
                code_hash(code), booking.cancel_code_hash
            ):
                return who or ANONYMOUS
            raise PermissionDenied(f"the cancel code is not the one of booking {booking.id}")
        if who is None:
            raise Unauthenticated(
                f"cancelling booking {booking.id} needs a bearer token or its cancel code"
            )
        if booking.owner_sub is not None and who.sub == booking.owner_sub:
            return who
        station = self._station(session, row)
        if access.is_station_staff(who, station):
            return who
        raise PermissionDenied(
            f"only the constituent who booked, the holder of its cancel code or the staff of "
            f"station {station.id} may cancel booking {booking.id}"
        )

    def _renumber(self, session: Session, slot_id: int) -> None:
        for position, waiting in enumerate(self._waitlist(session, slot_id), start=1):
            if waiting.waitlist_position != position:
                waiting.waitlist_position = position

    def _promote(self, uow: UnitOfWork, who: Principal, slot: models.SessionSlot) -> None:
        """Give the slot's free places to the first on its waitlist; those
        behind move up."""
        held, _ = self._taken(uow.session, slot.id)
        free = self.capacity(slot) - held
        for promoted in self._waitlist(uow.session, slot.id)[: max(0, free)]:
            promoted.status = BOOKED
            promoted.waitlist_position = 0
            uow.session.flush()
            uow.emit(ev.BookingPromoted(**_ids(promoted)))
            audit.record(
                uow.session,
                who,
                "promoted",
                "booking",
                promoted.id,
                ["status", "waitlist_position"],
            )
        self._renumber(uow.session, slot.id)

    def cancel(self, booking_id: int, code: str, actor: Principal | None) -> bpb.Booking:
        with self.db.unit_of_work() as uow:
            s = uow.session
            booking = self._booking(s, booking_id)
            row = self._session(s, booking.session_id)
            who = self._may_cancel(s, actor, booking, row, code)
            slot = self._locked_slot(s, booking.slot_id)
            s.refresh(booking)  # as it is now that its slot is locked
            if booking.status not in LIVE:
                raise FailedPrecondition(f"booking {booking.id} is {booking.status}: not cancelled")
            if _aware(slot.starts_at) <= datetime.now(UTC):
                # Nobody could take the place now: the day's staff mark it.
                raise FailedPrecondition(
                    f"slot {slot.id} has begun: booking {booking.id} is marked attended or "
                    "no-show, not cancelled"
                )
            previous = booking.status
            booking.status = CANCELLED
            booking.waitlist_position = 0
            booking.cancelled_at = datetime.now(UTC)
            s.flush()
            uow.emit(
                ev.BookingCancelled(
                    **_ids(booking),
                    previous_status=STATUS.number(previous),  # type: ignore[arg-type]
                )
            )
            audit.record(
                s, who, "cancelled", "booking", booking.id, ["status", "waitlist_position"]
            )
            self._promote(uow, who, slot)
            return booking_pb(booking)

    # -- reads

    def availability(self, session_id: int) -> bpb.Availability:
        """Public: each slot's places, counts only."""
        with self.db.read() as s:
            row = self._session(s, session_id)
            counts = self._counts(s, [slot.id for slot in row.slots])
            now = datetime.now(UTC)
            slots = []
            for slot in row.slots:
                held = sum(counts.get((slot.id, st), 0) for st in HOLDS_A_PLACE)
                capacity = self.capacity(slot)
                slots.append(
                    bpb.SlotAvailability(
                        slot_id=slot.id,
                        label=slot.label,
                        starts_at=timestamp(slot.starts_at),
                        ends_at=timestamp(slot.ends_at),
                        local_start=slot.local_start,
                        local_end=slot.local_end,
                        capacity=capacity,
                        capacity_known=slot.capacity > 0,
                        booked=held,
                        waitlisted=counts.get((slot.id, WAITLISTED), 0),
                        available=max(0, capacity - held),
                        open=row.status != domain.CANCELLED and _aware(slot.starts_at) > now,
                    )
                )
            return bpb.Availability(
                session_id=row.id,
                station_id=row.station_id,
                date=row.session_date.isoformat(),
                cancelled=row.status == domain.CANCELLED,
                slots=slots,
            )

    def session_bookings(
        self, session_id: int, actor: Principal | None
    ) -> bpb.ListSessionBookingsResponse:
        with self.db.read() as s:
            row = self._session(s, session_id)
            self._personal(s, actor, row, "see who booked this session")
            order = {BOOKED: 0, ATTENDED: 0, NO_SHOW: 0, WAITLISTED: 1, CANCELLED: 2}
            bookings = sorted(
                s.scalars(select(models.Booking).where(models.Booking.session_id == row.id)),
                key=lambda b: (b.slot_id, order.get(b.status, 3), b.waitlist_position, b.id),
            )
            walk_ins = s.scalars(
                select(models.WalkIn)
                .where(models.WalkIn.session_id == row.id)
                .order_by(models.WalkIn.id)
            )
            return bpb.ListSessionBookingsResponse(
                bookings=[booking_pb(b) for b in bookings],
                walk_ins=[walk_in_pb(w) for w in walk_ins],
            )

    def my_bookings(self, actor: Principal | None) -> bpb.ListMyBookingsResponse:
        who = require(actor, Role.CONSTITUENT, doing="list their own bookings")
        with self.db.read() as s:
            query = (
                select(models.Booking)
                .where(models.Booking.owner_sub == who.sub)
                .order_by(models.Booking.created_at.desc(), models.Booking.id.desc())
                .limit(200)
            )
            return bpb.ListMyBookingsResponse(bookings=[booking_pb(b) for b in s.scalars(query)])

    # -- on the day

    def record_walk_in(
        self, request: bpb.RecordWalkInRequest, actor: Principal | None
    ) -> bpb.WalkIn:
        if actor is None:
            raise Unauthenticated("a bearer token is required to record walk-ins")
        v = Violations()
        name = clean_text(v, "name", request.name, MAX_NAME, required=False)
        _positive(v, "community_id", request.community_id)
        topic = clean_text(v, "topic", request.topic, MAX_TOPIC, required=True)
        v.raise_if_any("the walk-in is not valid")
        with self.db.unit_of_work() as uow:
            s = uow.session
            row = self._session(s, request.session_id)
            who = self._personal(s, actor, row, "record walk-ins at this session")
            self._check_served(s, row.station_id, request.community_id)
            self._from_the_day(row, "walk-ins are recorded")
            walk_in = models.WalkIn(
                session_id=row.id,
                name=name,
                community_id=request.community_id,
                topic=topic,
                recorded_by=who.sub,
            )
            s.add(walk_in)
            s.flush()
            uow.emit(ev.WalkInRecorded(walk_in_id=walk_in.id, session_id=row.id))
            audit.record(
                s, who, "recorded", "walk_in", walk_in.id, ["name", "community_id", "topic"]
            )
            return walk_in_pb(walk_in)

    def mark_attendance(
        self, booking_id: int, attendance: int, actor: Principal | None
    ) -> bpb.Booking:
        if actor is None:
            raise Unauthenticated("a bearer token is required to mark attendance")
        outcome = ATTENDANCE.name(attendance, "attendance")
        with self.db.unit_of_work() as uow:
            s = uow.session
            booking = self._booking(s, booking_id)
            row = self._session(s, booking.session_id)
            who = self._personal(s, actor, row, "mark attendance at this session")
            self._from_the_day(row, "attendance is marked")
            self._locked_slot(s, booking.slot_id)
            s.refresh(booking)
            if booking.status not in HOLDS_A_PLACE:
                raise FailedPrecondition(
                    f"booking {booking.id} is {booking.status}: only a booked place is "
                    "marked attended or no-show"
                )
            if booking.status == outcome:
                return booking_pb(booking)
            booking.status = outcome
            s.flush()
            uow.emit(ev.BookingAttendanceMarked(**_ids(booking)))
            audit.record(s, who, outcome, "booking", booking.id, ["status"])
            return booking_pb(booking)

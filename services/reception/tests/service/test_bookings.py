"""Bookings over gRPC, on PostgreSQL: places within a slot's capacity, the
waitlist moving up when a place is freed, cancelling by owner, code or staff,
walk-ins and attendance on the day, who sees the personal data, bad input
refused whole, and a race for the last place that exactly one booker wins."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import func, select

from kit import audit
from kit.tables import outbox_events
from liaison.reception.v1 import bookings_pb2 as bpb
from reception import models
from reception.testing import (
    DEPUTY_A1,
    DEPUTY_A2,
    STREET_A,
    STREET_B,
    put_on_rota,
    seed_session,
)

pytestmark = pytest.mark.postgres

BOOKED = bpb.BOOKING_STATUS_BOOKED
WAITLISTED = bpb.BOOKING_STATUS_WAITLISTED
CANCELLED = bpb.BOOKING_STATUS_CANCELLED
COMMUNITY_A1 = 501  # served by station A1
FICTIONAL_NAME = "测试选民甲"

_phones = iter(range(10_000_000))


def phone() -> str:
    """A mobile number of its own for each booking (a test range, fictional)."""
    return f"1390000{next(_phones):04d}"


def request(session_id: int, slot_id: int, **fields: Any) -> bpb.BookSlotRequest:
    values = {
        "name": FICTIONAL_NAME,
        "phone": phone(),
        "community_id": COMMUNITY_A1,
        "topic": "小区加装电梯",
    }
    return bpb.BookSlotRequest(session_id=session_id, slot_id=slot_id, **(values | fields))


def code_of(call: Any, message: Any) -> grpc.StatusCode:
    try:
        call(message, timeout=30)
    except grpc.RpcError as error:
        return error.code()  # type: ignore[attr-defined,no-any-return]
    return grpc.StatusCode.OK


def refusal(call: Any, message: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(message, timeout=30)
    return caught.value


def fields(error: Any) -> set[str]:
    """The fields an INVALID_ARGUMENT names in its BadRequest detail."""
    status = rpc_status.from_call(error)
    assert status is not None
    named: set[str] = set()
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            named |= {v.field for v in bad.field_violations}
    return named


def staff(street: int = STREET_A) -> dict[str, Any]:
    return {"sub": f"test:staff-{street}", "role": "station_staff", "street_id": street}


def deputy(deputy_id: int) -> dict[str, Any]:
    return {"sub": f"test:deputy-{deputy_id}", "role": "deputy", "deputy_id": deputy_id}


def constituent(name: str) -> dict[str, Any]:
    return {"sub": f"test:{name}", "role": "constituent"}


def events(api: Any, *types: str) -> list[dict[str, Any]]:
    with api.db.read() as session:
        rows = session.execute(
            select(outbox_events.c.type, outbox_events.c.body).order_by(outbox_events.c.sequence)
        ).all()
    return [json.loads(b)["payload"] | {"type": t} for t, b in rows if t in types]


def traces(api: Any) -> tuple[int, ...]:
    with api.db.read() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in (
                outbox_events,
                audit.audit_entries,
                models.Booking.__table__,
                models.WalkIn.__table__,
            )
        )


def test_a_booking_takes_a_place_and_tells_ids_only(api: Any) -> None:
    session_id, slots = seed_session(api.db)
    booked = api.anonymous.BookSlot(
        request(session_id, slots[0], phone="138 0013 8000", name=" 测试选民乙 ")
    )
    b = booked.booking
    assert (b.status, b.phone, b.name, b.signed_in) == (
        BOOKED,
        "+8613800138000",
        "测试选民乙",
        False,
    )
    assert len(booked.cancel_code) >= 20
    with api.db.read() as session:
        row = session.get(models.Booking, b.id)
        assert row is not None and booked.cancel_code not in row.cancel_code_hash
    (event,) = [e for e in events(api, "booking_confirmed") if e["booking_id"] == str(b.id)]
    assert set(event) == {"booking_id", "session_id", "slot_id", "status", "type"}
    with api.db.read() as session:
        (entry,) = session.execute(
            select(audit.audit_entries).where(
                audit.audit_entries.c.record_kind == "booking",
                audit.audit_entries.c.record_id == b.id,
            )
        ).all()
    assert entry.actor_subject == "anonymous" and "phone" in entry.changed_fields
    seen = api.anonymous.GetAvailability(bpb.GetAvailabilityRequest(session_id=session_id))
    first = seen.slots[0]
    assert (first.capacity, first.booked, first.available, first.open) == (2, 1, 1, True)


def test_landlines_are_numbers_and_other_things_are_not(api: Any) -> None:
    session_id, slots = seed_session(api.db, capacity=10)
    landline = api.anonymous.BookSlot(request(session_id, slots[0], phone="020-8523 1234"))
    assert landline.booking.phone == "+862085231234"
    before = traces(api)
    for bad in ("12345", "+1 202 555 0143", "020-1", "电话", "1" * 50):
        error = refusal(api.anonymous.BookSlot, request(session_id, slots[0], phone=bad))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, bad  # type: ignore[attr-defined]
        assert fields(error) == {"phone"}, bad
    assert traces(api) == before


def test_bad_input_is_refused_whole_naming_each_field(api: Any) -> None:
    session_id, slots = seed_session(api.db)
    before = traces(api)
    error = refusal(
        api.anonymous.BookSlot,
        request(session_id, slots[0], name="张\x1b[31m三", topic="x" * 501, phone="1"),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert fields(error) == {"name", "topic", "phone"}
    for message, field in (
        (request(session_id, slots[0], name="\u202e反转"), "name"),
        (request(session_id, slots[0], community_id=503), "community_id"),  # street B's
        (request(session_id, 999_999), "slot_id"),
        (request(session_id, slots[0], topic="  "), "topic"),
    ):
        error = refusal(api.anonymous.BookSlot, message)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, field  # type: ignore[attr-defined]
        assert fields(error) == {field}
    assert traces(api) == before


def test_cancelled_past_and_unknown_sessions_take_no_bookings(api: Any) -> None:
    cancelled, slots_c = seed_session(api.db, cancelled=True)
    begun, slots_b = seed_session(api.db, begun=True, slots=1)
    past, slots_p = seed_session(api.db, days_ahead=-3)
    before = traces(api)
    for session_id, slot_id, words in (
        (cancelled, slots_c[0], "cancelled"),
        (begun, slots_b[0], "has begun"),
        (past, slots_p[0], "has begun or is past"),
    ):
        error = refusal(api.anonymous.BookSlot, request(session_id, slot_id))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
        assert words in error.details()  # type: ignore[attr-defined]
    assert code_of(api.anonymous.BookSlot, request(987_654, 1)) == grpc.StatusCode.NOT_FOUND
    assert traces(api) == before


def test_a_full_slot_offers_the_waitlist_which_moves_up(api: Any) -> None:
    session_id, (slot, other) = seed_session(api.db, capacity=1)
    first = api.anonymous.BookSlot(request(session_id, slot))
    before = traces(api)
    error = refusal(api.anonymous.BookSlot, request(session_id, slot))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
    assert error.details() == f"slot {slot} (09:00-11:00) is full; join the waitlist"  # type: ignore[attr-defined]
    assert traces(api) == before
    second = api.anonymous.BookSlot(request(session_id, slot, waitlist=True)).booking
    third = api.anonymous.BookSlot(request(session_id, slot, waitlist=True)).booking
    assert [(b.status, b.waitlist_position) for b in (second, third)] == [
        (WAITLISTED, 1),
        (WAITLISTED, 2),
    ]
    # The other slot has its own places.
    assert api.anonymous.BookSlot(request(session_id, other)).booking.status == BOOKED

    cancelled = api.anonymous.CancelBooking(
        bpb.CancelBookingRequest(booking_id=first.booking.id, cancel_code=first.cancel_code)
    )
    assert cancelled.status == CANCELLED
    seen = {
        b.id: (b.status, b.waitlist_position)
        for b in api.as_(staff())
        .ListSessionBookings(bpb.ListSessionBookingsRequest(session_id=session_id))
        .bookings
    }
    assert seen[second.id] == (BOOKED, 0)
    assert seen[third.id] == (WAITLISTED, 1)
    promoted = events(api, "booking_promoted")
    assert promoted[-1]["booking_id"] == str(second.id)
    # Leaving the waitlist moves those behind up as well.
    api.as_(staff()).CancelBooking(bpb.CancelBookingRequest(booking_id=third.id))
    availability = api.anonymous.GetAvailability(bpb.GetAvailabilityRequest(session_id=session_id))
    assert (availability.slots[0].booked, availability.slots[0].waitlisted) == (1, 0)


def test_one_live_booking_per_phone_and_session(api: Any) -> None:
    session_id, (slot, other) = seed_session(api.db)
    api.anonymous.BookSlot(request(session_id, slot, phone="13900001111"))
    before = traces(api)
    error = refusal(api.anonymous.BookSlot, request(session_id, other, phone="+86 139 0000 1111"))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS  # type: ignore[attr-defined]
    assert "13900001111" not in error.details()  # type: ignore[attr-defined]
    assert traces(api) == before


def test_who_may_cancel(api: Any) -> None:
    session_id, (slot, _) = seed_session(api.db, capacity=20)
    mine = api.as_(constituent("zhang")).BookSlot(request(session_id, slot)).booking
    assert mine.signed_in
    # The booker's account (a pseudonymous subject) travels with the event,
    # so that the notifications service tells them; never a name or phone.
    (event,) = [e for e in events(api, "booking_confirmed") if e["booking_id"] == str(mine.id)]
    assert event["owner_sub"] == "test:zhang"
    assert set(event) == {"booking_id", "session_id", "slot_id", "status", "owner_sub", "type"}
    anonymous = api.anonymous.BookSlot(request(session_id, slot))
    before = traces(api)
    for who, message, expected in (
        (None, bpb.CancelBookingRequest(booking_id=mine.id), grpc.StatusCode.UNAUTHENTICATED),
        (
            None,
            bpb.CancelBookingRequest(booking_id=anonymous.booking.id, cancel_code="guess"),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (
            constituent("li"),
            bpb.CancelBookingRequest(booking_id=mine.id),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (
            staff(STREET_B),
            bpb.CancelBookingRequest(booking_id=mine.id),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (
            deputy(DEPUTY_A1),
            bpb.CancelBookingRequest(booking_id=mine.id),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
    ):
        stub = api.anonymous if who is None else api.as_(who)
        assert code_of(stub.CancelBooking, message) == expected, (who, message)
    assert traces(api) == before
    owner = api.as_(constituent("zhang"))
    assert owner.CancelBooking(bpb.CancelBookingRequest(booking_id=mine.id)).status == CANCELLED
    again = refusal(owner.CancelBooking, bpb.CancelBookingRequest(booking_id=mine.id))
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
    by_staff = api.as_(staff()).CancelBooking(
        bpb.CancelBookingRequest(booking_id=anonymous.booking.id)
    )
    assert by_staff.status == CANCELLED


def test_personal_data_only_for_the_station_staff_and_the_sessions_deputies(api: Any) -> None:
    session_id, (slot, _) = seed_session(api.db)
    put_on_rota(api.db, session_id, DEPUTY_A1)
    api.anonymous.BookSlot(request(session_id, slot, name="测试选民丙"))
    listing = bpb.ListSessionBookingsRequest(session_id=session_id)
    for who in (staff(), deputy(DEPUTY_A1), "admin", "standing-committee-office"):
        (booking,) = api.as_(who).ListSessionBookings(listing).bookings
        assert booking.name == "测试选民丙"
    for who, expected in (
        (deputy(DEPUTY_A2), grpc.StatusCode.PERMISSION_DENIED),  # not on this session's rota
        (staff(STREET_B), grpc.StatusCode.PERMISSION_DENIED),
        (constituent("zhang"), grpc.StatusCode.PERMISSION_DENIED),
        ("working-body", grpc.StatusCode.PERMISSION_DENIED),
    ):
        assert code_of(api.as_(who).ListSessionBookings, listing) == expected, who
    assert code_of(api.anonymous.ListSessionBookings, listing) == grpc.StatusCode.UNAUTHENTICATED
    # Counts only, for everyone.
    public = api.anonymous.GetAvailability(bpb.GetAvailabilityRequest(session_id=session_id))
    assert "测试选民丙" not in str(public)
    # No event of any booking carries a name, a phone or a topic.
    with api.db.read() as session:
        bodies = " ".join(session.scalars(select(outbox_events.c.body)))
    assert "测试选民" not in bodies and "+86" not in bodies and "电梯" not in bodies


def test_a_constituent_lists_their_own_bookings(api: Any) -> None:
    session_id, (slot, _) = seed_session(api.db)
    me = api.as_(constituent("wang"))
    mine = me.BookSlot(request(session_id, slot)).booking
    api.as_(constituent("zhao")).BookSlot(request(session_id, slot))
    listed = me.ListMyBookings(bpb.ListMyBookingsRequest()).bookings
    assert [b.id for b in listed] == [mine.id]
    assert code_of(api.as_(staff()).ListMyBookings, bpb.ListMyBookingsRequest()) == (
        grpc.StatusCode.PERMISSION_DENIED
    )


def test_an_unknown_capacity_takes_the_default(api: Any) -> None:
    session_id, (slot, _) = seed_session(api.db, capacity=0)
    seen = api.anonymous.GetAvailability(bpb.GetAvailabilityRequest(session_id=session_id))
    default = api.reception.bookings.default_capacity
    assert (seen.slots[0].capacity, seen.slots[0].capacity_known) == (default, False)


def test_walk_ins_and_attendance_on_the_day(api: Any) -> None:
    today, (slot, _) = seed_session(api.db)
    ahead, (slot_ahead, _) = seed_session(api.db, days_ahead=5)
    put_on_rota(api.db, today, DEPUTY_A1)
    booked = api.anonymous.BookSlot(request(today, slot)).booking
    booked_ahead = api.anonymous.BookSlot(request(ahead, slot_ahead)).booking
    walk_in = bpb.RecordWalkInRequest(session_id=today, community_id=COMMUNITY_A1, topic="停车难")
    recorded = api.as_(deputy(DEPUTY_A1)).RecordWalkIn(walk_in)
    assert (recorded.name, recorded.topic) == ("", "停车难")
    assert events(api, "walk_in_recorded")[-1] == {
        "walk_in_id": str(recorded.id),
        "session_id": str(today),
        "type": "walk_in_recorded",
    }
    attend = bpb.MarkAttendanceRequest(booking_id=booked.id, attendance=bpb.ATTENDANCE_ATTENDED)
    assert api.as_(staff()).MarkAttendance(attend).status == bpb.BOOKING_STATUS_ATTENDED
    no_show = bpb.MarkAttendanceRequest(booking_id=booked.id, attendance=bpb.ATTENDANCE_NO_SHOW)
    assert api.as_(deputy(DEPUTY_A1)).MarkAttendance(no_show).status == (bpb.BOOKING_STATUS_NO_SHOW)
    before = traces(api)
    for who, call, message, expected in (
        (
            deputy(DEPUTY_A2),
            "RecordWalkIn",
            walk_in,
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (
            staff(),
            "RecordWalkIn",
            bpb.RecordWalkInRequest(session_id=ahead, community_id=COMMUNITY_A1, topic="噪音"),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
        (
            staff(),
            "MarkAttendance",
            bpb.MarkAttendanceRequest(
                booking_id=booked_ahead.id, attendance=bpb.ATTENDANCE_ATTENDED
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
        (
            staff(),
            "RecordWalkIn",
            bpb.RecordWalkInRequest(session_id=today, community_id=503, topic="噪音"),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            staff(),
            "MarkAttendance",
            bpb.MarkAttendanceRequest(booking_id=booked.id),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ):
        assert code_of(getattr(api.as_(who), call), message) == expected, (who, call)
    assert traces(api) == before
    listed = api.as_(staff()).ListSessionBookings(bpb.ListSessionBookingsRequest(session_id=today))
    assert [w.id for w in listed.walk_ins] == [recorded.id]


@pytest.mark.parametrize("waitlist", [False, True])
def test_a_race_for_the_last_place_has_exactly_one_winner(api: Any, waitlist: bool) -> None:
    session_id, (slot, _) = seed_session(api.db, capacity=3)
    for _ in range(2):
        api.anonymous.BookSlot(request(session_id, slot))
    racers = 12
    start = threading.Barrier(racers)
    results: list[Any] = [None] * racers
    messages = [request(session_id, slot, waitlist=waitlist) for _ in range(racers)]

    def race(i: int) -> None:
        start.wait()
        try:
            results[i] = api.anonymous.BookSlot(messages[i], timeout=60).booking
        except grpc.RpcError as error:
            results[i] = error

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    won = [r for r in results if isinstance(r, bpb.Booking) and r.status == BOOKED]
    assert len(won) == 1
    if waitlist:
        positions = sorted(r.waitlist_position for r in results if r is not None and r not in won)
        assert positions == list(range(1, racers))
    else:
        lost = [r for r in results if isinstance(r, grpc.RpcError)]
        assert len(lost) == racers - 1
        assert {r.code() for r in lost} == {grpc.StatusCode.FAILED_PRECONDITION}
        assert all("is full; join the waitlist" in r.details() for r in lost)
    with api.db.read() as session:
        held = session.scalar(
            select(func.count())
            .select_from(models.Booking)
            .where(models.Booking.slot_id == slot, models.Booking.status == "booked")
        )
    assert held == 3


def test_the_session_is_the_one_asked_for(api: Any) -> None:
    """A slot of another session is refused by name."""
    one, (slot_one, _) = seed_session(api.db)
    other, _ = seed_session(api.db)
    error = refusal(api.anonymous.BookSlot, request(other, slot_one))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert f"is not a slot of session {other}" in error.details()  # type: ignore[attr-defined]


def test_a_slot_that_has_begun_is_marked_not_cancelled(api: Any) -> None:
    session_id, (slot, _) = seed_session(api.db)
    made = api.anonymous.BookSlot(request(session_id, slot))
    with api.db.unit_of_work() as uow:
        row = uow.session.get(models.SessionSlot, slot)
        assert row is not None
        row.starts_at = datetime.now(UTC) - timedelta(minutes=5)
    before = traces(api)
    error = refusal(
        api.anonymous.CancelBooking,
        bpb.CancelBookingRequest(booking_id=made.booking.id, cancel_code=made.cancel_code),
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
    assert "has begun" in error.details()  # type: ignore[attr-defined]
    assert traces(api) == before

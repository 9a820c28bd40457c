"""The reminders of bookings the day before their session, on PostgreSQL,
with a controlled clock: one `booking_reminder_due` per booking holding a
place at a session tomorrow (Asia/Shanghai), whether the sweep runs again
or two workers sweep at the same moment; none for a cancelled booking or
session, a waitlisted booking, or a session after tomorrow."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import func, select

from kit.tables import outbox_events
from liaison.reception.v1 import bookings_pb2 as bpb
from liaison.reception.v1 import events_pb2 as ev
from reception import domain, models
from reception.reminders import Reminders, tomorrow
from reception.testing import STATION_A1, seed_session

pytestmark = pytest.mark.postgres

_numbers = count()


def book(api: Any, session_id: int, slot_id: int, owner: str = "") -> int:
    """A booking by a constituent signed in as `owner` (nobody when ""): its id."""
    stub = api.as_({"sub": owner, "role": "constituent"}) if owner else api.anonymous
    made = stub.BookSlot(
        bpb.BookSlotRequest(
            session_id=session_id,
            slot_id=slot_id,
            name="测试选民丙",
            phone=f"1390001{next(_numbers):04d}",
            community_id=501,  # served by station A1
            topic="小区停车",
            waitlist=True,
        )
    )
    return int(made.booking.id)


def reminded(api: Any, *booking_ids: int) -> list[dict[str, Any]]:
    """The payloads of the reminders of `booking_ids` in the outbox, oldest first."""
    with api.db.read() as session:
        bodies = session.scalars(
            select(outbox_events.c.body)
            .where(outbox_events.c.type == "booking_reminder_due")
            .order_by(outbox_events.c.sequence)
        ).all()
    found = [json.loads(body)["payload"] for body in bodies]
    return [p for p in found if int(p["booking_id"]) in booking_ids]


def the_day_before(days_ahead: int) -> datetime:
    """A moment of the day before the session `days_ahead` days from today."""
    now = datetime.now(UTC) + timedelta(days=days_ahead - 1)
    assert tomorrow(now) == domain.today() + timedelta(days=days_ahead)
    return now


def test_each_booking_holding_a_place_tomorrow_is_reminded_once(api: Any) -> None:
    session_id, (slot, other) = seed_session(api.db, days_ahead=2, capacity=2)
    signed_in = book(api, session_id, slot, owner="test:reminded")
    anonymous = book(api, session_id, slot)
    waitlisted = book(api, session_id, slot, owner="test:waiting")
    cancelled = book(api, session_id, other, owner="test:cancelled")
    api.as_({"sub": "test:cancelled", "role": "constituent"}).CancelBooking(
        bpb.CancelBookingRequest(booking_id=cancelled)
    )
    ours = (signed_in, anonymous, waitlisted, cancelled)
    sweep = Reminders(api.db)
    # Two days before: not yet.
    assert sweep.sweep(the_day_before(days_ahead=1)).reminded == 0
    assert reminded(api, *ours) == []
    # The day before, however often the sweep runs: once each.
    now = the_day_before(days_ahead=2)
    first = sweep.sweep(now)
    assert first.day == domain.today() + timedelta(days=2) and first.reminded == 2
    for later in (now, now + timedelta(hours=5)):
        assert sweep.sweep(later).reminded == 0
    events = reminded(api, *ours)
    assert sorted(int(e["booking_id"]) for e in events) == sorted([signed_in, anonymous])
    (mine,) = [e for e in events if int(e["booking_id"]) == signed_in]
    with api.db.read() as session:
        slot_row = session.get(models.SessionSlot, slot)
        assert slot_row is not None
        starts_at = slot_row.starts_at
    expected = ev.BookingReminderDue(
        booking_id=signed_in,
        session_id=session_id,
        slot_id=slot,
        status=bpb.BOOKING_STATUS_BOOKED,
        owner_sub="test:reminded",
        station_id=STATION_A1,
        session_date=first.day.isoformat(),
        local_start="09:00",
        local_end="11:00",
    )
    expected.starts_at.FromDatetime(starts_at.astimezone(UTC))
    # Ids, the account's pseudonym and the session's public facts: no name, phone or topic.
    assert set(mine) == {f.name for f in ev.BookingReminderDue.DESCRIPTOR.fields}
    assert (mine["owner_sub"], mine["station_id"], mine["session_date"]) == (
        "test:reminded",
        str(expected.station_id),
        expected.session_date,
    )
    assert (mine["local_start"], mine["local_end"]) == ("09:00", "11:00")
    assert mine["starts_at"] == expected.starts_at.ToJsonString()
    assert "测试选民丙" not in json.dumps(events, ensure_ascii=False)
    (other_one,) = [e for e in events if int(e["booking_id"]) == anonymous]
    assert other_one.get("owner_sub", "") == ""


def test_a_booking_made_after_the_sweep_is_reminded_by_the_next(api: Any) -> None:
    session_id, (slot, _) = seed_session(api.db, days_ahead=3, capacity=5)
    early = book(api, session_id, slot, owner="test:early")
    now = the_day_before(days_ahead=3)
    assert Reminders(api.db).sweep(now).reminded == 1
    late = book(api, session_id, slot, owner="test:late")
    assert Reminders(api.db).sweep(now + timedelta(minutes=15)).reminded == 1
    assert [int(e["booking_id"]) for e in reminded(api, early, late)] == [early, late]
    # On the session's day it is too late: the sweep reminds of the day after.
    on_the_day = book(api, session_id, slot, owner="test:on-the-day")
    assert Reminders(api.db).sweep(now + timedelta(days=1)).reminded == 0
    assert reminded(api, on_the_day) == []


def test_a_cancelled_session_reminds_nobody(api: Any) -> None:
    session_id, (slot, _) = seed_session(api.db, days_ahead=4, capacity=5)
    booking = book(api, session_id, slot, owner="test:of-a-cancelled-session")
    with api.db.unit_of_work() as uow:
        row = uow.session.get(models.ReceptionSession, session_id)
        assert row is not None
        row.status = domain.CANCELLED
    assert Reminders(api.db).sweep(the_day_before(days_ahead=4)).reminded == 0
    assert reminded(api, booking) == []


def test_a_booking_cancelled_while_the_sweep_runs_is_not_reminded(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id, (slot, _) = seed_session(api.db, days_ahead=6, capacity=5)
    booking = book(api, session_id, slot, owner="test:changed-mind")
    sweep = Reminders(api.db)
    fire = sweep._fire

    def cancelled_first(booking_ids: list[int], day: Any, now: datetime) -> int:
        # The sweep read the booking as booked; its booker cancels before it fires.
        api.as_({"sub": "test:changed-mind", "role": "constituent"}).CancelBooking(
            bpb.CancelBookingRequest(booking_id=booking)
        )
        return fire(booking_ids, day, now)

    monkeypatch.setattr(sweep, "_fire", cancelled_first)
    assert sweep.sweep(the_day_before(days_ahead=6)).reminded == 0
    assert reminded(api, booking) == []


def test_two_workers_sweeping_at_once_remind_each_booking_once(api: Any) -> None:
    session_id, slots = seed_session(api.db, days_ahead=5, capacity=10, slots=3)
    bookings = [
        book(api, session_id, slot, owner=f"test:race-{i}") for i in range(3) for slot in slots
    ]
    now = the_day_before(days_ahead=5)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def work() -> None:
        barrier.wait()
        results.append(Reminders(api.db).sweep(now).reminded)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Both sweeps ran through (neither tripped on the other's marks).
    assert len(results) == 2 and sum(results) == len(bookings)
    events = reminded(api, *bookings)
    assert sorted(int(e["booking_id"]) for e in events) == sorted(bookings)
    with api.db.read() as session:
        marks = session.scalar(
            select(func.count())
            .select_from(models.BookingReminder)
            .where(models.BookingReminder.session_id == session_id)
        )
    assert marks == len(bookings)

"""Reminders to bookers the day before their session.

Run by every worker on a timer (`reception.worker`). For each booking that
holds a place (`booked`) at a session that is not cancelled and falls
tomorrow in Asia/Shanghai, it publishes one `booking_reminder_due` through
the outbox: the booking's ids and its booker's pseudonymous account id (as
its other events), the station, the session's date and the slot's hours.
Never a name, phone or topic; nothing here logs them.

A reminder is a row of `booking_reminders` (keyed by the booking) and its
event, committed together; the bookings due are reminded FIRE_BATCH at a
time, one unit of work each, which first locks their rows (in id order) and
keeps only those still booked at a session still tomorrow and not
cancelled, so a booking cancelled while the sweep ran is not reminded. Two
workers sweeping at once both try; the second's insert waits for the
first's commit and then finds the rows (`ON CONFLICT DO NOTHING`): each
booking is reminded exactly once, however often the sweep runs that day. A
booking made after a sweep is reminded by the next one, as long as its
session is still tomorrow.

Not sent: a reminder for a waitlisted booking (it holds no place; promoted
before the day, it is reminded then), for a session the sweep first sees on
its day (a booking made after the last sweep of the day before, or a worker
down all that day), and again when a session is moved (sessions keep their
date once scheduled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kit.convert import timestamp
from kit.db import Database
from kit.workdays import SHANGHAI
from liaison.reception.v1 import events_pb2 as ev
from reception import domain, models
from reception.bookings import BOOKED, STATUS

# Bookings read per query of the sweep.
BATCH = 1000
# Bookings reminded per unit of work (their rows locked meanwhile).
FIRE_BATCH = 200
_reminders = cast(Table, models.BookingReminder.__table__)


@dataclass
class SweepResult:
    day: date  # the sessions' day the sweep reminded of (tomorrow, Asia/Shanghai)
    reminded: int = 0  # events published by this sweep (not those another sweep did first)


def tomorrow(now: datetime) -> date:
    """The day after `now`'s, in Asia/Shanghai."""
    return now.astimezone(SHANGHAI).date() + timedelta(days=1)


_b, _s, _slot = models.Booking, models.ReceptionSession, models.SessionSlot
# What a reminder's event carries.
_EVENT_COLUMNS = (
    _b.id,
    _b.session_id,
    _b.slot_id,
    _b.owner_sub,
    _s.station_id,
    _s.session_date,
    _slot.local_start,
    _slot.local_end,
    _slot.starts_at,
    _slot.ends_at,
)


def _due(day: date, *columns: Any) -> Any:
    """`columns` of the bookings to remind of the sessions on `day`: booked,
    the session not cancelled, no reminder yet."""
    b, s, slot = _b, _s, _slot
    return (
        select(*columns)
        .select_from(b)
        .join(s, s.id == b.session_id)
        .join(slot, slot.id == b.slot_id)
        .outerjoin(_reminders, _reminders.c.booking_id == b.id)
        .where(
            s.session_date == day,
            s.status != domain.CANCELLED,
            b.status == BOOKED,
            _reminders.c.booking_id.is_(None),
        )
    )


def _insert(session: Session) -> Any:
    dialect = session.bind.dialect.name  # type: ignore[union-attr]
    return (postgresql if dialect == "postgresql" else sqlite).insert


class Reminders:
    def __init__(self, db: Database) -> None:
        self.db = db

    def sweep(self, now: datetime | None = None) -> SweepResult:
        """Remind every booking of tomorrow's sessions not reminded yet."""
        now = now or datetime.now(UTC)
        result = SweepResult(day=tomorrow(now))
        after = 0
        while True:
            with self.db.read() as session:
                ids = list(
                    session.scalars(
                        _due(result.day)
                        .with_only_columns(models.Booking.id)
                        .where(models.Booking.id > after)
                        .order_by(models.Booking.id)
                        .limit(BATCH)
                    )
                )
            for start in range(0, len(ids), FIRE_BATCH):
                result.reminded += self._fire(ids[start : start + FIRE_BATCH], result.day, now)
            if len(ids) < BATCH:
                return result
            after = ids[-1]

    def _fire(self, booking_ids: list[int], day: date, now: datetime) -> int:
        """Remind `booking_ids` in one unit of work; how many this did."""
        with self.db.unit_of_work() as uow:
            s = uow.session
            # Lock the bookings (a cancel waits, or is waited for and then
            # seen) and read them again as they are now.
            rows = s.execute(
                _due(day, *_EVENT_COLUMNS)
                .where(models.Booking.id.in_(booking_ids))
                .order_by(models.Booking.id)
                .with_for_update(of=models.Booking)
            ).all()
            if not rows:
                return 0
            inserted = set(
                s.scalars(
                    _insert(s)(_reminders)
                    .on_conflict_do_nothing()
                    .returning(_reminders.c.booking_id),
                    [
                        {"booking_id": r.id, "session_id": r.session_id, "reminded_at": now}
                        for r in rows
                    ],
                )
            )
            for row in rows:
                if row.id in inserted:
                    uow.emit(_event(row))
            return len(inserted)


def _event(row: Any) -> ev.BookingReminderDue:
    return ev.BookingReminderDue(
        booking_id=row.id,
        session_id=row.session_id,
        slot_id=row.slot_id,
        status=STATUS.number(BOOKED),  # type: ignore[arg-type]
        owner_sub=row.owner_sub or "",
        station_id=row.station_id,
        session_date=row.session_date.isoformat(),
        local_start=row.local_start,
        local_end=row.local_end,
        starts_at=timestamp(row.starts_at),
        ends_at=timestamp(row.ends_at),
    )

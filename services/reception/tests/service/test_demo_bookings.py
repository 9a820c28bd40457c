"""The demo's bookings, on PostgreSQL: a full first slot with its waitlist
moved up by a cancellation, the demo constituent's own booking, walk-ins at
a past session; loading twice adds nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kit.auth import Principal
from liaison.reception.v1 import bookings_pb2 as bpb
from reception import domain
from reception.demo_data import DEMO_CONSTITUENT, load_demo_bookings
from reception.testing import STATION_A1, STATION_B1

pytestmark = pytest.mark.postgres

ADMIN = Principal.system("test")


def test_the_demo_books_waitlists_and_records_walk_ins_once(api: Any) -> None:
    today = domain.today()
    first = today.replace(day=1) - timedelta(days=40)
    api.reception.schedule(0, f"{first.year}-{first.month:02d}", 4, ADMIN)
    done = load_demo_bookings(api.reception, [STATION_A1, STATION_B1], today)
    assert done.waitlisted == 2 + 2 and done.walk_ins == 3 + 3
    # Venue A1 holds 30, B1 20: each first slot full, 3 more in the second.
    assert done.booked == 30 + 3 + 20 + 3
    mine = api.reception.bookings.my_bookings(DEMO_CONSTITUENT).bookings
    assert len(mine) == 2 and all(b.name.startswith("演示选民") for b in mine)
    again = load_demo_bookings(api.reception, [STATION_A1, STATION_B1], today)
    assert (again.booked, again.waitlisted, again.walk_ins) == (0, 0, 0)
    session_id = mine[0].session_id
    listed = api.reception.bookings.session_bookings(session_id, ADMIN).bookings
    statuses = [b.status for b in listed]
    assert statuses.count(bpb.BOOKING_STATUS_CANCELLED) == 1
    assert statuses.count(bpb.BOOKING_STATUS_WAITLISTED) == 1  # one moved up

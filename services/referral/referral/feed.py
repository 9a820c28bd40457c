"""The feed of letters sent to each unit for handling: what a department's
system watches (`DepartmentService.WatchAssignedLetters`).

Each row of `referral_handling_units` (a letter sent to a department, as
lead or co-handler, or to a street office) gets a position, `seq`: the
highest so far plus one, taken while the unit of work holds a lock that it
keeps until it commits (PostgreSQL: a transaction-level advisory lock;
SQLite: its one writer at a time). Positions are therefore given in the
order the rows become visible: a reader that sees position n has already
been able to see every lower position that will ever exist. So a client
that resumes after the last position it handled misses no letter and gets
none twice, whatever commits concurrently (a sequence would not do: its
numbers are taken in one order and committed in another, and a reader
could pass a number whose row is not committed yet). Sending letters to
units is rare (an assignment, a director's sign-off), so taking turns
costs nothing noticeable; every other action of the workflow takes no
such lock.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral import models

# The advisory lock's key (any int64 the service uses for nothing else):
# "rfeed" in ASCII.
FEED_LOCK = 0x7266656564


def next_position(session: Session) -> int:
    """The position of the next row sent, in `session`'s unit of work,
    which holds the feed's lock from now until it ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(FEED_LOCK)))
    highest = session.scalar(select(func.max(models.HandlingUnit.seq)))
    return int(highest or 0) + 1

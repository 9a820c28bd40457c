"""The defaults and the fan-out on SQLite, the local run's database (`make
up`): the defaults load once, and an event handled twice makes one message
and one delivery per channel there too (SQLite's own ON CONFLICT DO NOTHING)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from kit.db import Database
from kit.events import new_envelope
from kit.migrations import upgrade
from liaison.reception.v1 import events_pb2 as rev
from notifications.bootstrap import MIGRATIONS
from notifications.fanout import FanOut, Told
from notifications.message_models import Delivery, Message
from notifications.rules import DEFAULT_RULES
from notifications.rules_service import RuleBook


def test_the_fanout_is_once_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'notifications.db'}", "notifications")
    try:
        upgrade(db, MIGRATIONS)
        book = RuleBook(db)
        assert book.load_defaults().rules == len(DEFAULT_RULES)
        assert book.load_defaults().rules == 0
        fanout = FanOut(book)
        event = new_envelope("reception", rev.BookingConfirmed(booking_id=1, owner_sub="demo:c"))
        for expected in (Told(1, 4), Told()):
            with db.unit_of_work() as uow:
                assert fanout.handle(uow, "reception", event.message(), event) == expected
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Message)) == 1
            assert session.scalar(select(func.count()).select_from(Delivery)) == 4
    finally:
        db.dispose()

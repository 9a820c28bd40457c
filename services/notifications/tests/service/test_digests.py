"""Daily digests against real processes: PostgreSQL and the project's SMTP
server (`notifications.mail_server`). A recipient who takes bookings as a
daily digest by email gets, at the hour, one email holding every booking's
message (each still in the inbox on its own, the digest not), sent once;
two senders gathering at once put each held delivery in exactly one digest."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kit.db import Database
from kit.events import Envelope, new_envelope
from liaison.notifications.v1 import inbox_pb2 as ipb
from liaison.reception.v1 import events_pb2 as rev
from notifications import digests
from notifications.channels import EmailChannel
from notifications.delivery import Sender
from notifications.fanout import FanOut
from notifications.message_models import DIGEST_KIND, Delivery, Message
from notifications.preference_models import AddressPreferences, KindPreferences
from notifications.rules_service import RuleBook
from notifications.sending_testrun import Book, Clock, MailProcess, mail_server, set_aside_due
from notifications.settings import ChannelSettings

pytestmark = pytest.mark.postgres

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def db(ruled_db: Database) -> Database:
    return ruled_db


@pytest.fixture(scope="module")
def mail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailProcess]:
    with mail_server(tmp_path_factory.mktemp("digests")) as process:
        yield process


@pytest.fixture(autouse=True)
def nothing_else_due(db: Database) -> None:
    set_aside_due(db)


def takes_a_digest(db: Database, sub: str, email: str, hour: int) -> str:
    """`user:<sub>` takes bookings by email as a daily digest at `hour`; the address."""
    address = f"user:{sub}"
    with db.unit_of_work() as uow:
        uow.session.add(AddressPreferences(address=address, email=email))
        uow.session.add(
            KindPreferences(
                address=address, kind="bookings", channels="email", muted=False, digest_hour=hour
            )
        )
    return address


def booked(owner: str, booking_id: int) -> Envelope:
    return new_envelope(
        "reception",
        rev.BookingConfirmed(booking_id=booking_id, session_id=7, slot_id=3, owner_sub=owner),
    )


def email_deliveries(db: Database, address: str) -> list[SimpleNamespace]:
    """`address`'s email deliveries, as they stand."""
    columns = ("state", "in_digest", "not_before", "digest_id", "message_id")
    with db.read() as session:
        return [
            SimpleNamespace(**{c: getattr(d, c) for c in columns})
            for d in session.scalars(
                select(Delivery)
                .join(Message, Message.id == Delivery.message_id)
                .where(Message.recipient == address, Delivery.channel == "email")
                .order_by(Delivery.id)
            )
        ]


def test_held_bookings_go_as_one_digest_email_at_the_hour_and_only_once(
    db: Database, mail: MailProcess, api: Any
) -> None:
    sub = f"digest-{uuid.uuid4().hex[:8]}"
    hour = (datetime.now(SHANGHAI) + timedelta(hours=2)).hour
    address = takes_a_digest(db, sub, f"{sub}@example.org", hour)
    fanout = FanOut(RuleBook(db))
    for booking_id in (101, 102, 103):
        event = booked(sub, booking_id)
        with db.unit_of_work() as uow:
            fanout.handle(uow, "reception", event.message(), event)

    held = email_deliveries(db, address)
    assert [(d.state, d.in_digest) for d in held] == [("queued", True)] * 3
    due = held[0].not_before
    assert due is not None and due.astimezone(SHANGHAI).hour == hour
    assert {d.not_before for d in held} == {due}

    clock = Clock()
    settings = ChannelSettings(smtp_port=mail.port, provider_timeout=5.0, lease_seconds=60.0)
    sender = Sender(
        db,
        {"email": EmailChannel(settings)},
        Book({(address, "email"): f"{sub}@example.org"}),
        settings,
        clock=clock,
    )
    early = sender.send_due()
    assert (early.digests, early.sent) == (0, 0), "nothing goes before the hour"

    clock.advance((due - datetime.now(UTC)).total_seconds() + 60)
    at_the_hour = sender.send_due()
    again = sender.send_due()
    assert (at_the_hour.digests, at_the_hour.sent) == (1, 1)
    assert (again.digests, again.sent) == (0, 0)

    mails = [m for m in mail.recorded() if m["rcpt_tos"] == [f"{sub}@example.org"]]
    assert len(mails) == 1, "one email for the three bookings"
    assert mails[0]["subject"] == "每日摘要：3 条消息"
    parsed = message_from_bytes(mails[0]["raw"].encode(), policy=default)
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    for number in (101, 102, 103):
        assert f"预约号 {number}" in text and f"预约号 {number}" in html

    gathered = email_deliveries(db, address)
    members = [d for d in gathered if d.state == "digested"]
    (digest_delivery,) = [d for d in gathered if d.state == "sent"]
    assert len(members) == 3 and {d.digest_id for d in members} == {digest_delivery.message_id}
    with db.read() as session:
        digest = session.get(Message, digest_delivery.message_id)
        assert digest is not None and digest.kind == DIGEST_KIND
        digest_id = digest.id

    # The inbox holds the three bookings' messages, each on its own; not the digest.
    inbox = api.inbox({"sub": sub, "role": "constituent", "name": "测试"})
    listed = inbox.ListInbox(ipb.ListInboxRequest()).messages
    assert len(listed) == 3 and digest_id not in {m.id for m in listed}
    assert inbox.GetUnreadCount(ipb.GetUnreadCountRequest()).unread == 3


def test_two_senders_gathering_at_once_put_each_delivery_in_exactly_one_digest(
    db: Database,
) -> None:
    now = datetime.now(UTC)
    recipients = [f"user:race-{uuid.uuid4().hex[:6]}" for _ in range(3)]
    with db.unit_of_work() as uow:
        for n in range(60):
            message = Message(
                event_id=uuid.uuid4().hex,
                event_type="reception.booking_confirmed",
                rule_key="booking_confirmed.booker",
                recipient=recipients[n % 3],
                kind="bookings",
                urgent=False,
                locale="en",
                subject=f"Booking {n} <confirmed>",
                body_text=f"Booking {n}.",
                body_html=f"<p>Booking {n}.</p>",
                link="/#/bookings",
            )
            uow.session.add(message)
            uow.session.flush()
            uow.session.add(
                Delivery(
                    message_id=message.id,
                    channel="email",
                    state="queued",
                    in_digest=True,
                    not_before=now - timedelta(minutes=1),
                )
            )

    barrier = threading.Barrier(2)
    made: list[int] = []

    def gather() -> None:
        barrier.wait()
        made.append(digests.gather(db, "email", now))

    threads = [threading.Thread(target=gather) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with db.read() as session:
        members = session.scalars(
            select(Delivery)
            .join(Message, Message.id == Delivery.message_id)
            .where(Message.recipient.in_(recipients), Message.kind == "bookings")
        ).all()
        assert Counter(d.state for d in members) == {"digested": 60}
        digest_ids = {d.digest_id for d in members}
        digest_rows = session.scalars(select(Message).where(Message.id.in_(digest_ids))).all()
        assert sum(made) == len(digest_rows) >= 3
        # Each digest's own delivery: one, queued.
        own = session.scalars(select(Delivery).where(Delivery.message_id.in_(digest_ids))).all()
        assert sorted(d.message_id for d in own) == sorted(digest_ids)
        assert {d.state for d in own} == {"queued"}
        # Every member is told once, in its recipient's digest.
        by_id = {row.id: row for row in digest_rows}
        for d in members:
            assert by_id[d.digest_id].recipient in recipients
        per_digest = Counter(d.digest_id for d in members)
        for digest_id, count in per_digest.items():
            assert by_id[digest_id].subject == f"Your daily digest: {count} messages"

"""Emails' unsubscribe links and session calendars, without a network:
the headers RFC 8058 asks for and the footers of both bodies, in the
message's language; the portal's public address as settings read it; the
calendar of a booked slot; the fan-out noting which session a message is
about (on SQLite, the local run's database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from kit.db import Database
from kit.errors import SettingsError
from kit.events import new_envelope
from kit.migrations import upgrade
from liaison.reception.v1 import bookings_pb2 as bpb
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import reception_pb2 as pb
from notifications import calendars
from notifications.bootstrap import MIGRATIONS
from notifications.calendar_models import MessageSession
from notifications.channels import EmailChannel, Outgoing
from notifications.fanout import FanOut
from notifications.message_models import Message
from notifications.rules_service import RuleBook
from notifications.settings import ChannelSettings, NotificationsSettings, _public_url
from notifications.unsubscribe import LinkMaker, UnsubscribeTokens

TOKENS = UnsubscribeTokens("a-secret-of-the-unit-tests-0123456789")
LINKS = LinkMaker(TOKENS, "https://liaison.example.org/")


EMAIL = Outgoing(
    41,
    "email",
    "alice@example.org",
    "预约已确认",
    "您的接待预约已确认。\n",
    html="<p>您的接待预约已确认。</p>",
    kind="bookings",
    unsubscribe=LINKS.links("user:alice", "bookings", "email"),
)


def outgoing(**changes: Any) -> Outgoing:
    return replace(EMAIL, **changes)


def test_the_links_are_under_the_public_address_and_name_address_kind_and_channel() -> None:
    links = LINKS.links("user:alice", "bookings", "email")
    token = links.one_click.rsplit("/", 1)[1]
    assert links.one_click == f"https://liaison.example.org/api/v1/unsubscribe/{token}"
    assert links.page == f"https://liaison.example.org/#/unsubscribe/{token}"
    read = TOKENS.read(token)
    assert (read.address, read.kind, read.channel) == ("user:alice", "bookings", "email")
    with pytest.raises(ValueError, match="kind"):
        LINKS.links("user:alice", "no-such-kind", "email")


def test_an_email_carries_rfc_8058_headers_and_a_footer_in_both_bodies() -> None:
    message = outgoing()
    assert message.unsubscribe is not None
    mail = EmailChannel(ChannelSettings()).compose(message)
    assert mail["List-Unsubscribe"] == f"<{message.unsubscribe.one_click}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",))
    body_html = mail.get_body(("html",))
    assert text is not None and body_html is not None
    plain = text.get_content()  # type: ignore[attr-defined]
    assert plain.startswith("您的接待预约已确认。")
    assert plain.rstrip().endswith(f"退订：{message.unsubscribe.page}")
    marked = body_html.get_content()  # type: ignore[attr-defined]
    assert f'<a href="{message.unsubscribe.page}">退订</a>' in marked
    assert marked.startswith("<p>您的接待预约已确认。</p>")


def test_the_footer_speaks_the_message_s_language_and_adds_no_html_body() -> None:
    mail = EmailChannel(ChannelSettings()).compose(
        outgoing(locale="en", text="Your booking is confirmed.", html="")
    )
    assert mail.get_content_type() == "text/plain"
    assert "Unsubscribe: https://liaison.example.org/#/unsubscribe/u1." in mail.get_content()  # type: ignore[attr-defined]


def test_an_email_without_links_has_no_unsubscribe_header_or_footer() -> None:
    mail = EmailChannel(ChannelSettings()).compose(outgoing(unsubscribe=None))
    assert mail["List-Unsubscribe"] is None and mail["List-Unsubscribe-Post"] is None
    text = mail.get_body(("plain",))
    assert text is not None and "退订" not in text.get_content()  # type: ignore[attr-defined]


def test_the_public_address_defaults_to_the_local_gateway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIAISON_NOTIFICATIONS_PUBLIC_URL", raising=False)
    monkeypatch.setenv("LIAISON_ENV", "test")
    monkeypatch.setenv("LIAISON_GATEWAY_PORT", "8123")
    assert _public_url() == "http://127.0.0.1:8123"
    monkeypatch.setenv("LIAISON_NOTIFICATIONS_PUBLIC_URL", "https://liaison.example.org/")
    assert _public_url() == "https://liaison.example.org"
    loaded = NotificationsSettings.load("notifications", "worker")
    assert loaded.public_url == "https://liaison.example.org"


@pytest.mark.parametrize(
    ("env", "url", "problem"),
    [
        ("production", "", "must be set to the portal's https:// address in production"),
        ("production", "http://liaison.example.org", "must be an https:// address"),
        ("test", "liaison.example.org", "must be an http:// or https:// address"),
        ("test", "https://liaison.example.org/?a=1", "without a query or fragment"),
    ],
)
def test_a_public_address_that_cannot_be_used_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, env: str, url: str, problem: str
) -> None:
    monkeypatch.setenv("LIAISON_ENV", env)
    monkeypatch.setenv("LIAISON_NOTIFICATIONS_PUBLIC_URL", url)
    with pytest.raises(SettingsError, match="LIAISON_NOTIFICATIONS_PUBLIC_URL") as refused:
        _public_url()
    assert problem in str(refused.value)


def _ts(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def session_of(status: int = pb.SESSION_STATUS_SCHEDULED) -> pb.Session:
    return pb.Session(
        id=7,
        station_name="东湖街道代表联络站",
        date="2026-12-15",
        status=status,  # type: ignore[arg-type]
        venue_name="社区活动中心",
        venue_address="东湖路1号",
        cancellation_reason="场地维修" if status == pb.SESSION_STATUS_CANCELLED else "",
    )


SLOT = bpb.SlotAvailability(
    slot_id=9,
    label="上午",
    starts_at=_ts(datetime(2026, 12, 15, 1, 0, tzinfo=UTC)),
    ends_at=_ts(datetime(2026, 12, 15, 4, 0, tzinfo=UTC)),
)


def test_the_calendar_of_a_booked_slot_holds_its_time_place_and_station() -> None:
    parsed = icalendar.Calendar.from_ical(calendars.calendar(session_of(), SLOT, "zh-CN"))
    assert str(parsed["method"]) == "PUBLISH"
    [event] = parsed.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 12, 15, 1, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 12, 15, 4, 0, tzinfo=UTC)
    assert str(event["uid"]) == "session-7-slot-9@notifications.liaison"
    assert str(event["summary"]) == "人大代表接待选民 · 东湖街道代表联络站（上午）"
    assert str(event["location"]) == "社区活动中心，东湖路1号"
    assert str(event["status"]) == "CONFIRMED"


def test_the_calendar_of_a_cancelled_session_says_so_in_english_too() -> None:
    raw = calendars.calendar(session_of(pb.SESSION_STATUS_CANCELLED), SLOT, "en")
    [event] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert str(event["summary"]) == (
        "[Cancelled] Deputies' reception of constituents · 东湖街道代表联络站（上午）"
    )
    assert "场地维修" in str(event["description"])


def test_the_fanout_notes_the_session_and_slot_of_a_booking_only(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'notifications.db'}", "notifications")
    try:
        upgrade(db, MIGRATIONS)
        book = RuleBook(db)
        book.load_defaults()
        fanout = FanOut(book)
        events = [
            rev.BookingConfirmed(booking_id=1, session_id=7, slot_id=9, owner_sub="demo:c"),
            rev.BookingPromoted(booking_id=2, session_id=8, slot_id=11, owner_sub="demo:c"),
            rev.BookingConfirmed(booking_id=4, session_id=0, slot_id=0, owner_sub="demo:c"),
        ]
        for event in events:
            envelope = new_envelope("reception", event)
            with db.unit_of_work() as uow:
                assert fanout.handle(uow, "reception", envelope.message(), envelope).messages == 1
        with db.read() as session:
            noted = session.execute(
                select(Message.event_type, MessageSession.session_id, MessageSession.slot_id)
                .join(MessageSession, MessageSession.message_id == Message.id)
                .order_by(Message.id)
            ).all()
        assert [tuple(row) for row in noted] == [
            ("reception.booking_confirmed", 7, 9),
            ("reception.booking_promoted", 8, 11),
        ]
        # A waitlisted booking holds no place: nothing for a calendar (no rule tells it either).
        with db.unit_of_work() as uow:
            payload = {"session_id": "8", "slot_id": "11"}
            assert not calendars.remember(uow.session, 1, "reception.booking_waitlisted", payload)
    finally:
        db.dispose()

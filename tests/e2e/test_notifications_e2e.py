"""A booking to an email received, on the running platform (every service,
its workers, the gateway, and the notifications' companions: the mail relay
that records what it is given). The demo constituent gives an email address
in their notification settings and books a slot through the gateway signed
in: reception publishes booking_confirmed, the notifications worker fans it
out to the booker's inbox and email, its sender sends the email through the
relay. Exactly one email reaches that address about that booking, with its
unsubscribe links (RFC 8058's List-Unsubscribe one-click URL under the
gateway's address, a footer in both bodies) and the session's calendar (the
booked slot's start and end, from reception); the inbox shows the message.
The one-click POST, without a token, stops bookings by email: the next
booking's email delivery is suppressed, in the delivery log the admin
reads, and no second email is sent."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from typing import Any, TypeVar

import icalendar
import pytest

from kit.testrun import Platform
from tests.e2e import test_authorization_e2e as matrix
from tests.e2e.test_authorization_e2e import World

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]
platform = matrix.platform
world = matrix.world

T = TypeVar("T")
WAIT = 60.0


def eventually(find: Callable[[], T | None], what: str, seconds: float = WAIT) -> T:
    """What `find` finds within `seconds`, asked every half second."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"within {seconds:g}s: {what}")


def emails_about(platform: Platform, address: str, booking_id: int) -> list[EmailMessage]:
    """Every email the mail companion was given for `address` about the
    booking (the demo's own bookings of the constituent may be told too)."""
    record = platform.companions["notifications-mail"].record
    assert record is not None
    if not record.exists():
        return []
    found = []
    for line in record.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if address not in entry["rcpt_tos"]:
            continue
        parsed = message_from_string(entry["raw"], policy=default)
        assert isinstance(parsed, EmailMessage)
        text = parsed.get_body(("plain",))
        if text is not None and f"预约号 {booking_id}，" in text.get_content():  # type: ignore[attr-defined]
            found.append(parsed)
    return found


def book(world: World, session_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The constituent's booking of the session's first slot, and that slot."""
    seen = world.http.get(f"/api/v1/sessions/{session_id}/availability")
    assert seen.status_code == 200, seen.text
    slot = seen.json()["slots"][0]
    station = world.http.get(f"/api/v1/stations/{world.station_id}").json()
    made = world.http.post(
        f"/api/v1/sessions/{session_id}/bookings",
        json={
            "slot_id": slot["slot_id"],
            "name": "测试选民",
            "phone": f"1371{uuid.uuid4().int % 10**7:07d}",
            "community_id": station["community_ids"][0],
            "topic": "小区停车难",
        },
        headers=world.headers["constituent"],
    )
    assert made.status_code == 201, made.text
    return made.json()["booking"], slot


def inbox_message(world: World, booking_id: int) -> dict[str, Any] | None:
    """The constituent's inbox message about `booking_id`, once there."""
    page = world.http.get(
        "/api/v1/inbox", params={"page_size": 100}, headers=world.headers["constituent"]
    )
    assert page.status_code == 200, page.text
    wanted = f"预约号 {booking_id}，"
    return next((m for m in page.json()["items"] if wanted in m["body_text"]), None)


def email_delivery(world: World, address: str, message_id: int) -> dict[str, Any] | None:
    """The email delivery of inbox message `message_id`, once it left "queued"."""
    page = world.http.get(
        "/api/v1/notification-deliveries",
        params={"recipient": address, "channel": "email", "page_size": 100},
        headers=world.admin(),
    )
    assert page.status_code == 200, page.text
    found = next((d for d in page.json()["items"] if d["message_id"] == message_id), None)
    return found if found and found["state"] not in ("queued", "sending") else None


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_a_booking_sends_one_email_with_its_links_and_calendar_then_unsubscribe_stops_it(
    platform: Platform, world: World
) -> None:
    me = world.headers["constituent"]
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.org"
    changed = world.http.patch(
        "/api/v1/notification-preferences", json={"contacts": {"email": email}}, headers=me
    )
    assert changed.status_code == 200, changed.text
    address = changed.json()["address"]
    assert changed.json()["contacts"]["email"] == email

    booking, slot = book(world, matrix._ahead(world))

    [mail] = eventually(
        lambda: emails_about(platform, email, booking["id"]), f"an email to {email}"
    )
    text, body_html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and body_html is not None
    plain: str = text.get_content()  # type: ignore[attr-defined]
    assert str(mail["Subject"]) == "预约成功：人大代表接待"
    # Its unsubscribe links, under the gateway's address.
    header = str(mail["List-Unsubscribe"])
    one_click_prefix = f"<{platform.base_url}/api/v1/unsubscribe/"
    assert header.startswith(one_click_prefix) and header.endswith(">"), header
    assert str(mail["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    token = header[len(one_click_prefix) : -1]
    page = f"{platform.base_url}/#/unsubscribe/{token}"
    assert plain.rstrip().endswith(page)
    assert f'href="{page}"' in body_html.get_content()  # type: ignore[attr-defined]
    # The session's calendar: the booked slot.
    [calendar] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert calendar.get_filename() == "invite.ics"
    [event] = icalendar.Calendar.from_ical(calendar.get_content()).walk("VEVENT")
    assert event.decoded("dtstart") == _utc(slot["starts_at"])
    assert event.decoded("dtend") == _utc(slot["ends_at"])
    assert "测试选民" not in calendar.get_content()  # no personal data in it

    shown = eventually(lambda: inbox_message(world, booking["id"]), "the message in the inbox")
    assert shown["event_type"] == "reception.booking_confirmed"
    assert shown["kind"] == "bookings"
    sent = eventually(lambda: email_delivery(world, address, shown["id"]), "the email delivery")
    assert sent["state"] == "sent", sent

    # The one-click POST a mail client makes: no token, the link alone.
    done = world.http.post(
        f"/api/v1/unsubscribe/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200, done.text
    assert done.json() == done.json() | {
        "kind": "bookings",
        "channel": "email",
        "unsubscribed": True,
    }

    second, _ = book(world, matrix._ahead(world))
    again = eventually(lambda: inbox_message(world, second["id"]), "the second booking's message")
    suppressed = eventually(
        lambda: email_delivery(world, address, again["id"]), "the second email delivery"
    )
    assert suppressed["state"] == "suppressed", suppressed
    assert suppressed["last_error"], suppressed
    time.sleep(6)  # a sending pass or more: nothing more goes out
    assert emails_about(platform, email, second["id"]) == []
    assert len(emails_about(platform, email, booking["id"])) == 1

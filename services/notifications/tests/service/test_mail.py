"""Emails as the worker's sender sends them, against real processes:
PostgreSQL, the project's SMTP server (`notifications.mail_server`) and a
gRPC server standing in for reception's public reads of a session. Every
email carries its unsubscribe links (RFC 8058's headers, a footer in both
bodies) whose token stops that kind by email for its recipient; an email
about a booked slot carries the session's calendar; reception not answering
or not knowing the session sends the email without one."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import grpc
import icalendar
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from kit.db import Database
from kit.grpc_client import channel
from kit.testrun import free_port
from liaison.reception.v1 import bookings_pb2 as bpb
from liaison.reception.v1 import reception_pb2 as pb
from liaison.reception.v1 import reception_pb2_grpc
from notifications.calendar_models import MessageSession
from notifications.calendars import SessionCalendars
from notifications.channels import EmailChannel, message_id
from notifications.delivery import Sender
from notifications.sending_testrun import (
    Book,
    MailProcess,
    delivery,
    mail_server,
    queue,
    set_aside_due,
)
from notifications.settings import ChannelSettings, NotificationsSettings
from notifications.unsubscribe import LinkMaker, UnsubscribeTokens

pytestmark = pytest.mark.postgres

ALICE = "user:mail-alice"
EMAIL = "mail-alice@example.org"
PUBLIC = "https://liaison.example.org"
TOKENS = UnsubscribeTokens("a-secret-of-the-mail-tests-0123456789")


def _ts(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


@dataclass
class FakeReception(reception_pb2_grpc.ReceptionServiceServicer):
    """Reception's two public reads of sessions, of session 7 only."""

    calls: list[str] = field(default_factory=list)

    def GetSession(self, request: pb.GetSessionRequest, context: Any) -> pb.Session:  # noqa: N802
        self.calls.append(f"GetSession {request.id}")
        if request.id != 7:
            context.abort(grpc.StatusCode.NOT_FOUND, f"session {request.id} was not found")
        return pb.Session(
            id=7,
            station_name="东湖街道代表联络站",
            date="2026-12-15",
            status=pb.SESSION_STATUS_SCHEDULED,
            venue_name="社区活动中心",
            venue_address="东湖路1号",
        )

    def GetAvailability(  # noqa: N802
        self, request: bpb.GetAvailabilityRequest, context: Any
    ) -> bpb.Availability:
        self.calls.append(f"GetAvailability {request.session_id}")
        if request.session_id != 7:
            context.abort(grpc.StatusCode.NOT_FOUND, f"session {request.session_id} was not found")
        return bpb.Availability(
            session_id=7,
            slots=[
                bpb.SlotAvailability(
                    slot_id=slot_id,
                    label=label,
                    starts_at=_ts(datetime(2026, 12, 15, hour, 0, tzinfo=UTC)),
                    ends_at=_ts(datetime(2026, 12, 15, hour + 3, 0, tzinfo=UTC)),
                )
                for slot_id, label, hour in ((9, "上午", 1), (10, "下午", 6))
            ],
        )


@pytest.fixture(scope="module")
def mail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailProcess]:
    with mail_server(tmp_path_factory.mktemp("mail")) as process:
        yield process


@pytest.fixture(scope="module")
def reception() -> Iterator[tuple[FakeReception, str]]:
    fake = FakeReception()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    reception_pb2_grpc.add_ReceptionServiceServicer_to_server(fake, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, f"127.0.0.1:{port}"
    server.stop(None)


@pytest.fixture(autouse=True)
def nothing_else_due(db: Database) -> None:
    """Each test sends only its own deliveries."""
    set_aside_due(db)


def sender_for(db: Database, mail: MailProcess, reception_target: str) -> Sender:
    settings = ChannelSettings(smtp_port=mail.port, provider_timeout=5.0, lease_seconds=60.0)
    stub = reception_pb2_grpc.ReceptionServiceStub(
        channel(reception_target, NotificationsSettings.load("notifications", "worker"))
    )
    return Sender(
        db,
        {"email": EmailChannel(settings)},
        Book({(ALICE, "email"): EMAIL}),
        settings,
        calendar_of=SessionCalendars(stub).calendar_of,
        unsubscribe_links=LinkMaker(TOKENS, PUBLIC).links,
    )


def queue_email(db: Database, *, kind: str = "bookings", about: tuple[int, int] | None) -> int:
    """A booking's message to ALICE, its email queued (about a session's slot, or not)."""
    delivery_id = queue(db, "email", recipient=ALICE, kind=kind)
    if about is not None:
        with db.unit_of_work() as uow:
            message_row = delivery(db, delivery_id).message_id
            uow.session.add(
                MessageSession(message_id=message_row, session_id=about[0], slot_id=about[1])
            )
    return delivery_id


def received(mail: MailProcess, delivery_id: int) -> tuple[dict[str, Any], EmailMessage]:
    wanted = message_id(delivery_id, "liaison.local")
    [entry] = [m for m in mail.recorded() if m["message_id"] == wanted]
    parsed = message_from_string(entry["raw"], policy=default)
    assert isinstance(parsed, EmailMessage)
    return entry, parsed


def calendars_in(parsed: EmailMessage) -> list[icalendar.Calendar]:
    return [
        icalendar.Calendar.from_ical(part.get_content())
        for part in parsed.walk()
        if part.get_content_type() == "text/calendar"
    ]


def test_an_email_carries_its_unsubscribe_links_whose_token_stops_that_kind_by_email(
    db: Database, mail: MailProcess, reception: tuple[FakeReception, str]
) -> None:
    delivery_id = queue_email(db, about=None)

    assert sender_for(db, mail, reception[1]).send_due().sent == 1

    entry, parsed = received(mail, delivery_id)
    assert entry["rcpt_tos"] == [EMAIL]
    header = str(parsed["List-Unsubscribe"])
    assert header.startswith(f"<{PUBLIC}/api/v1/unsubscribe/u1.") and header.endswith(">")
    assert str(parsed["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    token = header[1:-1].rsplit("/", 1)[1]
    stops = TOKENS.read(token)
    assert (stops.address, stops.kind, stops.channel) == (ALICE, "bookings", "email")
    page = f"{PUBLIC}/#/unsubscribe/{token}"
    text, body_html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text is not None and body_html is not None
    assert text.get_content().rstrip().endswith(f"退订：{page}")  # type: ignore[attr-defined]
    assert f'<a href="{page}">退订</a>' in body_html.get_content()  # type: ignore[attr-defined]
    assert calendars_in(parsed) == []  # about no session


def test_an_email_about_a_booked_slot_carries_the_session_s_calendar(
    db: Database, mail: MailProcess, reception: tuple[FakeReception, str]
) -> None:
    fake, target = reception
    delivery_id = queue_email(db, about=(7, 10))

    assert sender_for(db, mail, target).send_due().sent == 1

    _, parsed = received(mail, delivery_id)
    [ics] = calendars_in(parsed)
    [event] = ics.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 12, 15, 6, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    assert str(event["location"]) == "社区活动中心，东湖路1号"
    assert str(event["summary"]) == "人大代表接待选民 · 东湖街道代表联络站（下午）"
    assert EMAIL not in ics.to_ical().decode()
    assert {"GetSession 7", "GetAvailability 7"} <= set(fake.calls)
    # The unsubscribe links are there too.
    assert str(parsed["List-Unsubscribe"]).startswith(f"<{PUBLIC}/api/v1/unsubscribe/")


@pytest.mark.parametrize("about", [(8, 9), (7, 99)], ids=["unknown session", "unknown slot"])
def test_a_session_or_slot_reception_does_not_know_sends_the_email_without_a_calendar(
    db: Database, mail: MailProcess, reception: tuple[FakeReception, str], about: tuple[int, int]
) -> None:
    delivery_id = queue_email(db, about=about)

    assert sender_for(db, mail, reception[1]).send_due().sent == 1

    _, parsed = received(mail, delivery_id)
    assert calendars_in(parsed) == []
    assert delivery(db, delivery_id).state == "sent"


def test_reception_not_answering_sends_the_email_without_a_calendar(
    db: Database, mail: MailProcess, caplog: pytest.LogCaptureFixture
) -> None:
    delivery_id = queue_email(db, about=(7, 9))

    done = sender_for(db, mail, f"127.0.0.1:{free_port()}").send_due()

    assert done.sent == 1
    _, parsed = received(mail, delivery_id)
    assert calendars_in(parsed) == []
    assert "goes without its calendar: reception answered UNAVAILABLE for session 7" in caplog.text


def test_a_kind_one_cannot_unsubscribe_from_sends_the_email_without_links(
    db: Database, mail: MailProcess, reception: tuple[FakeReception, str], tmp_path: Path
) -> None:
    delivery_id = queue_email(db, kind="not-a-kind", about=None)

    assert sender_for(db, mail, reception[1]).send_due().sent == 1

    _, parsed = received(mail, delivery_id)
    assert parsed["List-Unsubscribe"] is None

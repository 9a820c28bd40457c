"""Sending deliveries against real processes: PostgreSQL, the project's SMTP
server (`notifications.mail_server`) and provider server
(`notifications.provider_server`) over real sockets. Each delivery is sent
once, retried with backoff while its provider fails, dead when its attempts
run out, sent once by two senders at once, and sent once when its sender is
killed while the provider holds its request."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_string
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from kit.db import Database
from notifications.channels import EmailChannel, ProviderChannel, message_id
from notifications.delivery import Sender
from notifications.sending_testrun import (
    Book,
    Clock,
    MailProcess,
    ProviderProcess,
    delivery,
    mail_server,
    provider_server,
    queue,
    set_aside_due,
)
from notifications.settings import ChannelSettings

pytestmark = pytest.mark.postgres

ALICE = "user:alice"
CONTACTS = {
    (ALICE, "email"): "alice@example.org",
    (ALICE, "sms"): "+8613800000001",
    (ALICE, "wechat"): "o-alice-openid",
}


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sending")


@pytest.fixture(scope="module")
def mail(records: Path) -> Iterator[MailProcess]:
    with mail_server(records) as process:
        yield process


@pytest.fixture
def provider(records: Path) -> Iterator[ProviderProcess]:
    with provider_server(records, key="test-key") as process:
        yield process


@pytest.fixture(autouse=True)
def nothing_else_due(db: Database) -> None:
    """Each test sends only its own deliveries: earlier tests' are set aside."""
    set_aside_due(db)


def settings_for(
    mail: MailProcess | None, provider: ProviderProcess | None, **changes: Any
) -> ChannelSettings:
    values: dict[str, Any] = {
        "smtp_port": mail.port if mail else 2525,
        "sms_url": provider.url if provider else "",
        "wechat_url": provider.url if provider else "",
        "sms_key": "test-key",
        "wechat_key": "test-key",
        "provider_timeout": 5.0,
        "lease_seconds": 60.0,
        "send_attempts": 3,
        "backoff_seconds": 30.0,
        "backoff_max_seconds": 600.0,
        "email_rate": 1000.0,
        "sms_rate": 1000.0,
        "wechat_rate": 1000.0,
    }
    return ChannelSettings(**(values | changes))


def sender_for(
    db: Database, settings: ChannelSettings, clock: Clock | None = None, book: Book | None = None
) -> Sender:
    channels = {
        "email": EmailChannel(settings),
        "sms": ProviderChannel(
            "sms", settings.sms_url, settings.sms_key, settings.provider_timeout
        ),
        "wechat": ProviderChannel(
            "wechat", settings.wechat_url, settings.wechat_key, settings.provider_timeout
        ),
    }
    return Sender(db, channels, book or Book(CONTACTS), settings, clock=clock or Clock())


def mails_of(mail: MailProcess, delivery_id: int) -> list[dict[str, Any]]:
    wanted = message_id(delivery_id, "liaison.local")
    return [m for m in mail.recorded() if m["message_id"] == wanted]


def test_an_email_is_sent_once_with_its_text_html_and_stable_message_id(
    db: Database, mail: MailProcess
) -> None:
    sender = sender_for(db, settings_for(mail, None))
    delivery_id = queue(db, "email")

    first = sender.send_due()
    again = sender.send_due()

    assert (first.sent, again.sent) == (1, 0)
    [received] = mails_of(mail, delivery_id)
    assert received["rcpt_tos"] == ["alice@example.org"]
    assert received["subject"] == "预约已确认"
    parsed = message_from_string(received["raw"], policy=default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    sent = delivery(db, delivery_id)
    assert (sent.state, sent.attempts, sent.lease_until) == ("sent", 1, None)
    assert sent.provider_message_id == f"<delivery-{delivery_id}@liaison.local>"
    assert sent.sent_at is not None


def test_an_email_carries_the_calendar_of_its_message(db: Database, mail: MailProcess) -> None:
    sender = sender_for(db, settings_for(mail, None))
    sender.calendar_of = lambda session, message: (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
        if message.event_type == "reception.booking_confirmed"
        else None
    )
    delivery_id = queue(db, "email")

    assert sender.send_due().sent == 1

    [received] = mails_of(mail, delivery_id)
    parsed = message_from_string(received["raw"], policy=default)
    [calendar] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert calendar.get_filename() == "invite.ics"
    assert "BEGIN:VCALENDAR" in calendar.get_content()


@pytest.mark.parametrize("channel", ["sms", "wechat"])
def test_sms_and_wechat_go_once_through_the_provider_with_the_delivery_as_key(
    db: Database, provider: ProviderProcess, channel: str
) -> None:
    sender = sender_for(db, settings_for(None, provider))
    delivery_id = queue(db, channel)

    assert sender.send_due().sent == 1
    assert sender.send_due().sent == 0

    [recorded] = provider.recorded()
    assert recorded["idempotency_key"] == str(delivery_id)
    assert recorded["channel"] == channel
    assert recorded["to"] == CONTACTS[(ALICE, channel)]
    assert recorded["params"]["subject"] == "预约已确认"
    assert provider.received()["calls"] == {str(delivery_id): 1}
    sent = delivery(db, delivery_id)
    assert (sent.state, sent.provider, sent.provider_message_id) == (
        "sent",
        f"{channel}-http",
        recorded["id"],
    )


def test_a_recipient_without_a_contact_on_the_channel_is_suppressed_with_why(
    db: Database, provider: ProviderProcess
) -> None:
    sender = sender_for(db, settings_for(None, provider))
    delivery_id = queue(db, "sms", recipient="deputy:7")

    assert sender.send_due().suppressed == 1

    suppressed = delivery(db, delivery_id)
    assert suppressed.state == "suppressed"
    assert suppressed.last_error == "no sms contact for deputy:7"
    assert provider.recorded() == []


def test_a_provider_answering_500_is_retried_with_backoff_and_then_sent(
    db: Database, provider: ProviderProcess
) -> None:
    clock = Clock()
    sender = sender_for(db, settings_for(None, provider), clock)
    delivery_id = queue(db, "sms")
    provider.mode("error", times=2)

    assert sender.send_due().failed == 1
    failed = delivery(db, delivery_id)
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert "answered 500" in failed.last_error
    assert failed.next_attempt_at is not None
    wait = (failed.next_attempt_at - clock()).total_seconds()
    assert 14 <= wait <= 30  # between half and all of the first backoff
    assert sender.send_due().total == 0  # not due yet

    clock.advance(31)
    assert sender.send_due().failed == 1
    second = delivery(db, delivery_id)
    assert second.next_attempt_at is not None
    assert 29 <= (second.next_attempt_at - clock()).total_seconds() <= 60  # doubled

    clock.advance(61)
    assert sender.send_due().sent == 1
    sent = delivery(db, delivery_id)
    assert (sent.state, sent.attempts, sent.last_error) == ("sent", 3, "")
    assert len(provider.recorded()) == 1
    assert provider.received()["calls"] == {str(delivery_id): 3}


def test_a_provider_failing_every_time_leaves_the_delivery_dead_after_its_attempts(
    db: Database, provider: ProviderProcess
) -> None:
    clock = Clock()
    sender = sender_for(db, settings_for(None, provider), clock)
    delivery_id = queue(db, "wechat")
    provider.mode("throttle")

    outcomes = []
    for _ in range(5):
        done = sender.send_due()
        outcomes.append((done.failed, done.dead))
        clock.advance(700)

    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]
    dead = delivery(db, delivery_id)
    assert (dead.state, dead.attempts, dead.next_attempt_at) == ("dead", 3, None)
    assert "answered 429" in dead.last_error
    assert provider.received()["calls"] == {str(delivery_id): 3}


def test_a_provider_that_does_not_answer_in_time_is_a_transient_failure(
    db: Database, provider: ProviderProcess
) -> None:
    sender = sender_for(db, settings_for(None, provider, provider_timeout=0.5, lease_seconds=5))
    delivery_id = queue(db, "sms")
    provider.mode("timeout", delay=3)

    assert sender.send_due().failed == 1

    failed = delivery(db, delivery_id)
    assert failed.state == "failed"
    assert failed.last_error == "sms-http did not answer within 0.5s"
    provider.release()


def test_a_provider_refusing_the_key_is_a_permanent_failure_dead_at_once(
    db: Database, provider: ProviderProcess
) -> None:
    sender = sender_for(db, settings_for(None, provider, sms_key="wrong"))
    delivery_id = queue(db, "sms")

    assert sender.send_due().dead == 1

    dead = delivery(db, delivery_id)
    assert (dead.state, dead.attempts) == ("dead", 1)
    assert "refused it (401)" in dead.last_error
    assert provider.recorded() == []


def test_a_delivery_held_for_later_is_not_sent_before_its_time(
    db: Database, provider: ProviderProcess
) -> None:
    clock = Clock()
    sender = sender_for(db, settings_for(None, provider), clock)
    delivery_id = queue(db, "sms")
    from sqlalchemy import update

    from notifications.message_models import Delivery

    with db.unit_of_work() as uow:
        uow.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(not_before=clock() + timedelta(hours=8))
        )

    assert sender.send_due().total == 0
    clock.advance(8 * 3600 + 1)
    assert sender.send_due().sent == 1


def test_two_senders_at_once_send_each_delivery_exactly_once(
    db: Database, mail: MailProcess, provider: ProviderProcess
) -> None:
    settings = settings_for(mail, provider, send_batch=3)
    emails = [queue(db, "email") for _ in range(12)]
    texts = [queue(db, "sms") for _ in range(12)]
    start = threading.Barrier(2)
    passes: list[int] = []

    def run() -> None:
        sender = sender_for(db, settings)
        start.wait()
        passes.append(sender.send_due().sent)

    senders = [threading.Thread(target=run) for _ in range(2)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(60)

    assert sum(passes) == 24
    for delivery_id in emails:
        assert len(mails_of(mail, delivery_id)) == 1
        assert delivery(db, delivery_id).state == "sent"
    calls = provider.received()["calls"]
    assert {int(key): n for key, n in calls.items()} == dict.fromkeys(texts, 1)
    assert len(provider.recorded()) == 12


def test_a_sender_killed_while_the_provider_holds_its_request_is_sent_exactly_once(
    db: Database, provider: ProviderProcess, notifications_url: str
) -> None:
    delivery_id = queue(db, "sms")
    provider.mode("hold", delay=60)
    contacts = {f"{ALICE} sms": CONTACTS[(ALICE, "sms")]}
    killed = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "notifications.sending_testrun",
            "--database",
            notifications_url,
            "--channel",
            "sms",
            "--url",
            provider.url,
            "--contacts",
            json.dumps(contacts),
            "--key",
            "test-key",
            "--lease",
            "61",
            "--timeout",
            "30",
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not provider.recorded() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(provider.recorded()) == 1, "the provider never received the message"
    finally:
        killed.kill()
        killed.wait()
    provider.release()
    held = delivery(db, delivery_id)
    assert (held.state, held.attempts) == ("sending", 1)
    assert held.lease_until is not None

    clock = Clock()
    sender = sender_for(db, settings_for(None, provider), clock)
    assert sender.send_due().total == 0  # its lease still holds
    clock.advance(62)
    assert sender.send_due().sent == 1

    [recorded] = provider.recorded()
    assert provider.received()["calls"] == {str(delivery_id): 2}
    sent = delivery(db, delivery_id)
    assert (sent.state, sent.attempts, sent.provider_message_id) == ("sent", 2, recorded["id"])


def test_a_sender_whose_lease_ran_out_records_nothing_over_the_sender_that_took_it(
    db: Database, provider: ProviderProcess
) -> None:
    settings = settings_for(None, provider)
    slow_clock, clock = Clock(), Clock()
    slow = sender_for(db, settings, slow_clock)
    delivery_id = queue(db, "sms")
    [claim] = slow.claim("sms", 5)
    clock.advance(61)  # past the first lease
    other = sender_for(db, settings, clock)
    assert other.send_due().sent == 1

    assert slow.send(claim) == "lost"  # sent again, through the same idempotency key

    sent = delivery(db, delivery_id)
    assert (sent.state, sent.attempts) == ("sent", 2)
    assert len(provider.recorded()) == 1
    assert provider.received()["calls"] == {str(delivery_id): 2}


def test_a_claim_whose_lease_would_run_out_mid_send_is_given_back_unsent(
    db: Database, provider: ProviderProcess
) -> None:
    clock = Clock()
    sender = sender_for(db, settings_for(None, provider), clock)
    delivery_id = queue(db, "sms")
    [claim] = sender.claim("sms", 5)
    clock.advance(56)  # 4s of the lease left, under the 5s timeout

    assert sender.send(claim) == "sending"

    given_back = delivery(db, delivery_id)
    assert (given_back.state, given_back.attempts, given_back.lease_until) == ("queued", 0, None)
    assert provider.received()["calls"] == {}
    assert sender.send_due().sent == 1


def test_a_delivery_whose_last_attempts_sender_was_lost_is_dead_not_sent_again(
    db: Database, provider: ProviderProcess
) -> None:
    from sqlalchemy import update

    from notifications.message_models import Delivery

    clock = Clock()
    sender = sender_for(db, settings_for(None, provider), clock)
    delivery_id = queue(db, "sms")
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(state="sending", attempts=3, lease_until=clock() - timedelta(seconds=1))
        )

    assert sender.send_due().dead == 1

    dead = delivery(db, delivery_id)
    assert (dead.state, dead.last_error) == ("dead", "attempts ran out mid-send")
    assert provider.received()["calls"] == {}

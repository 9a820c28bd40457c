"""The fan-out on PostgreSQL: an event into one message per recipient and
rule, rendered, with one delivery per channel (the inbox's delivered at
once, the others queued); a redelivered event, and the same event handled by
two consumers at once, make exactly one of each."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.protobuf.message import Message as ProtoMessage
from sqlalchemy import select

from kit.db import Database
from kit.events import Envelope, new_envelope
from kit.inbox import DUPLICATE, HANDLED, DeadLetterPublisher, Inbox
from liaison.duties.v1 import activities_pb2 as apb
from liaison.duties.v1 import activity_events_pb2 as aev
from liaison.duties.v1 import ballot_events_pb2 as bev
from liaison.duties.v1 import ballots_pb2 as bpb
from liaison.reception.v1 import events_pb2 as rev
from liaison.referral.v1 import events_pb2 as fev
from liaison.referral.v1 import referral_pb2 as fpb
from notifications.calendar_models import MessageSession
from notifications.fanout import FanOut, Told
from notifications.message_models import Delivery, Message
from notifications.preference_models import AddressPreferences, KindPreferences
from notifications.rule_models import RuleRow
from notifications.rules_service import RuleBook

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def db(ruled_db: Database) -> Database:
    return ruled_db


@pytest.fixture(scope="module")
def fanout(db: Database) -> FanOut:
    return FanOut(RuleBook(db))


def fan(db: Database, fanout: FanOut, source: str, envelope: Envelope) -> Told:
    with db.unit_of_work() as uow:
        return fanout.handle(uow, source, envelope.message(), envelope)


def told(db: Database, envelope: Envelope) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(rule key, recipient, [(channel, state)]) of each message of the event."""
    with db.read() as session:
        messages = session.scalars(
            select(Message).where(Message.event_id == envelope.event_id).order_by(Message.id)
        ).all()
        return [
            (
                m.rule_key,
                m.recipient,
                [
                    (d.channel, d.state)
                    for d in session.scalars(
                        select(Delivery)
                        .where(Delivery.message_id == m.id)
                        .order_by(Delivery.channel)
                    )
                ],
            )
            for m in messages
        ]


def envelope_of(source: str, message: ProtoMessage) -> Envelope:
    return new_envelope(source, message)


def booked(owner: str = "test:zhang") -> Envelope:
    return envelope_of(
        "reception",
        rev.BookingConfirmed(booking_id=41, session_id=7, slot_id=3, owner_sub=owner),
    )


def test_a_booking_tells_its_booker_once_per_channel(db: Database, fanout: FanOut) -> None:
    event = booked()
    made = fan(db, fanout, "reception", event)
    assert made == Told(messages=1, deliveries=4)
    assert told(db, event) == [
        (
            "booking_confirmed.booker",
            "user:test:zhang",
            # Nothing but the inbox reaches a booker who gave no contacts.
            [
                ("email", "suppressed"),
                ("inbox", "delivered"),
                ("sms", "suppressed"),
                ("wechat", "suppressed"),
            ],
        )
    ]
    with db.read() as session:
        message = session.scalar(select(Message).where(Message.event_id == event.event_id))
        assert message is not None
        assert (message.kind, message.locale, message.link) == ("bookings", "zh-CN", "/")
        assert "预约号 41" in message.body_text and message.subject == "预约成功：人大代表接待"
        assert "<p>" in message.body_html


def prefer(db: Database, address: str, **chosen: Any) -> None:
    """`address`'s preferences, as its holder would set them (kinds: {kind: (channels, muted, digest)})."""
    kinds = chosen.pop("kinds", {})
    with db.unit_of_work() as uow:
        uow.session.add(AddressPreferences(address=address, **chosen))
        for kind, (channels, muted, digest) in kinds.items():
            uow.session.add(
                KindPreferences(
                    address=address, kind=kind, channels=channels, muted=muted, digest_hour=digest
                )
            )
        uow.commit()


def deliveries_of(db: Database, event: Envelope) -> dict[str, Delivery]:
    with db.read() as session:
        message = session.scalar(select(Message).where(Message.event_id == event.event_id))
        assert message is not None
        found = {
            d.channel: d
            for d in session.scalars(select(Delivery).where(Delivery.message_id == message.id))
        }
        session.expunge_all()
        return found


def test_the_booker_is_told_on_the_channels_they_chose_in_their_language(
    db: Database, fanout: FanOut
) -> None:
    prefer(
        db,
        "user:test:li",
        email="li@example.org",
        phone="+8613800138000",
        locale="en",
        kinds={"bookings": ("inbox,email,wechat", False, None)},
    )
    event = booked("test:li")
    fan(db, fanout, "reception", event)
    found = deliveries_of(db, event)
    assert {c: d.state for c, d in found.items()} == {
        "inbox": "delivered",
        "email": "queued",
        "sms": "suppressed",
        "wechat": "suppressed",
    }
    assert "does not take bookings by sms" in found["sms"].last_error
    assert "no contact" in found["wechat"].last_error
    assert found["email"].not_before is None  # quiet hours are off until set
    with db.read() as session:
        message = session.scalar(select(Message).where(Message.event_id == event.event_id))
        assert message is not None and message.locale == "en"


def test_a_muted_kind_reaches_the_inbox_only_and_quiet_hours_hold_the_rest(
    db: Database, fanout: FanOut
) -> None:
    prefer(db, "user:test:muted", email="m@example.org", kinds={"bookings": ("", True, None)})
    muted = booked("test:muted")
    fan(db, fanout, "reception", muted)
    assert {c: d.state for c, d in deliveries_of(db, muted).items()}["email"] == "suppressed"
    # Quiet from an hour ago to an hour from now (Asia/Shanghai): what is not
    # urgent waits for their end.
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    prefer(
        db,
        "user:test:night",
        email="n@example.org",
        quiet_enabled=True,
        quiet_start=(local - timedelta(hours=1)).strftime("%H:%M"),
        quiet_end=(local + timedelta(hours=1)).strftime("%H:%M"),
    )
    held = booked("test:night")
    fan(db, fanout, "reception", held)
    email = deliveries_of(db, held)["email"]
    assert email.state == "queued" and email.not_before is not None
    waited = email.not_before - datetime.now(UTC)
    assert timedelta(minutes=55) < waited <= timedelta(hours=1), waited


def test_a_booking_made_without_signing_in_tells_nobody(db: Database, fanout: FanOut) -> None:
    event = booked(owner="")
    assert fan(db, fanout, "reception", event) == Told()
    assert told(db, event) == []


def reminder(owner: str) -> Envelope:
    return envelope_of(
        "reception",
        rev.BookingReminderDue(
            booking_id=42,
            session_id=8,
            slot_id=5,
            owner_sub=owner,
            station_id=11,
            session_date="2026-12-15",
            local_start="14:30",
            local_end="17:30",
        ),
    )


def test_the_reminder_the_day_before_tells_its_booker_once_with_the_session_s_calendar(
    db: Database, fanout: FanOut
) -> None:
    event = reminder("test:reminded")
    assert fan(db, fanout, "reception", event) == Told(messages=1, deliveries=4)
    assert fan(db, fanout, "reception", event) == Told()  # redelivered: nothing more
    ((rule, recipient, deliveries),) = told(db, event)
    assert (rule, recipient) == ("booking_reminder.booker", "user:test:reminded")
    assert [channel for channel, _ in deliveries] == ["email", "inbox", "sms", "wechat"]
    with db.read() as session:
        message = session.scalar(select(Message).where(Message.event_id == event.event_id))
        assert message is not None
        assert (message.kind, message.link, message.urgent) == ("bookings", "/", False)
        assert message.subject == "明天接待提醒：2026年12月15日 14:30"
        assert "14:30—17:30" in message.body_text and "预约号 42" in message.body_text
        # Its email will carry the calendar of the booked slot.
        noted = session.get(MessageSession, message.id)
        assert noted is not None and (noted.session_id, noted.slot_id) == (8, 5)
    # A booking made without signing in has nobody to remind.
    anonymous = reminder("")
    assert fan(db, fanout, "reception", anonymous) == Told()
    assert told(db, anonymous) == []


def test_a_redelivered_event_makes_nothing_more(db: Database, fanout: FanOut) -> None:
    event = booked("test:redelivered")
    fan(db, fanout, "reception", event)
    first = told(db, event)
    assert fan(db, fanout, "reception", event) == Told()
    assert told(db, event) == first and len(first) == 1 and len(first[0][2]) == 4


def test_two_consumers_at_once_make_one_message_per_recipient_and_channel(
    db: Database, fanout: FanOut
) -> None:
    """The same event through kit's inbox by two handlers (two consumers'
    queues), racing: the inbox lets both apply it, the unique keys keep one."""
    event = booked("test:raced")
    inbox = Inbox(db, max_retries=3, dead_letters=DeadLetterPublisher("memory://"))
    start = threading.Barrier(2)

    def consume(handler: str) -> str:
        start.wait()
        return inbox.handle(
            event.to_body(),
            handler=handler,
            queue=f"evt-reception-booking_confirmed--{handler}",
            effect=lambda uow, env: fanout.handle(uow, "reception", env.message(), env),
        )

    for _ in range(2):  # the second round: both are redeliveries
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(consume, ["notifications.one", "notifications.two"]))
        assert outcomes in ([HANDLED, HANDLED], [DUPLICATE, DUPLICATE])
    (only,) = told(db, event)
    assert only[1] == "user:test:raced" and len(only[2]) == 4


def letter_moved(kind: str, *, raiser: str = "test:raiser") -> Envelope:
    return envelope_of(
        "referral",
        fev.LetterMoved(
            kind=kind,
            unit=fpb.Unit(kind=fpb.UNIT_KIND_STREET_COMMITTEE, id=1),
            raiser_sub=raiser,
            letter=fpb.Letter(
                id=90,
                tracking_code="TH-2026-000090",
                street_id=1,
                deputy_id=1,
                round=1,
                handler=fpb.Unit(kind=fpb.UNIT_KIND_DEPARTMENT, id=52),
            ),
        ),
    )


def test_a_letter_answered_tells_the_committee_the_deputy_and_the_raiser(
    db: Database, fanout: FanOut
) -> None:
    event = letter_moved("answered")
    fan(db, fanout, "referral", event)
    found = {(rule, recipient): len(channels) for rule, recipient, channels in told(db, event)}
    assert found == {
        ("letter_answered.committee", "role:street_committee@street:1"): 4,
        ("letter_answered.deputy", "deputy:1"): 4,
        ("letter_answered.raiser", "user:test:raiser"): 2,
    }
    with db.read() as session:
        links = set(session.scalars(select(Message.link).where(Message.event_id == event.event_id)))
    assert links == {"/console/#/letters/90", "/?track=TH-2026-000090"}


def test_a_message_s_bodies_link_to_the_portal_s_address_and_it_keeps_the_path(
    db: Database,
) -> None:
    """Mail clients and texts open the whole address; the inbox opens the path."""
    event = letter_moved("answered")
    fan(db, FanOut(RuleBook(db), public_url="https://liaison.example.org/"), "referral", event)
    with db.read() as session:
        raiser = session.scalar(
            select(Message).where(
                Message.event_id == event.event_id, Message.recipient == "user:test:raiser"
            )
        )
        assert raiser is not None and raiser.link == "/?track=TH-2026-000090"
        assert raiser.body_text.rstrip().endswith(
            "https://liaison.example.org/?track=TH-2026-000090"
        )
        assert 'href="https://liaison.example.org/?track=TH-2026-000090"' in raiser.body_html


def test_a_condition_picks_the_moves_and_a_disabled_rule_tells_nobody(
    db: Database, fanout: FanOut
) -> None:
    sent = letter_moved("sent")
    fan(db, fanout, "referral", sent)
    assert [(r, a) for r, a, _ in told(db, sent)] == [
        ("letter_received.unit", "role:street_committee@street:1")
    ]
    copied = letter_moved("copied")
    assert fan(db, fanout, "referral", copied) == Told()
    with db.unit_of_work() as uow:
        row = uow.session.scalar(select(RuleRow).where(RuleRow.key == "letter_received.unit"))
        assert row is not None
        row.enabled = False
    try:
        again = letter_moved("sent")
        assert fan(db, fanout, "referral", again) == Told()
    finally:
        with db.unit_of_work() as uow:
            row = uow.session.scalar(select(RuleRow).where(RuleRow.key == "letter_received.unit"))
            assert row is not None
            row.enabled = True


def test_a_template_that_no_longer_renders_skips_its_rule_only(
    db: Database, fanout: FanOut, caplog: Any
) -> None:
    from notifications.template_models import TemplateRow

    with db.unit_of_work() as uow:
        row = uow.session.scalar(
            select(TemplateRow).where(
                TemplateRow.key == "letter_answered_raiser", TemplateRow.locale == "zh-CN"
            )
        )
        assert row is not None
        kept, row.subject = row.subject, "{{ letter.no_such_field }}"
    try:
        event = letter_moved("answered")
        fan(db, fanout, "referral", event)
        assert {r for r, _, _ in told(db, event)} == {
            "letter_answered.committee",
            "letter_answered.deputy",
        }
        assert "letter_answered.raiser skipped" in caplog.text
        assert "unknown variable" in caplog.text
    finally:
        with db.unit_of_work() as uow:
            row = uow.session.scalar(
                select(TemplateRow).where(
                    TemplateRow.key == "letter_answered_raiser", TemplateRow.locale == "zh-CN"
                )
            )
            assert row is not None
            row.subject = kept


def test_a_link_that_renders_to_another_site_is_dropped(db: Database, fanout: FanOut) -> None:
    """A rule's link is a path of this site whatever the event's data holds."""
    with db.unit_of_work() as uow:
        row = uow.session.scalar(select(RuleRow).where(RuleRow.key == "letter_received.unit"))
        assert row is not None
        kept, row.link = row.link, "/{{ letter.content }}"
    try:
        event = envelope_of(
            "referral",
            fev.LetterMoved(
                kind="sent",
                unit=fpb.Unit(kind=fpb.UNIT_KIND_STREET_COMMITTEE, id=1),
                letter=fpb.Letter(id=91, tracking_code="TH-2026-000091", content="/evil.example"),
            ),
        )
        fan(db, fanout, "referral", event)
        with db.read() as session:
            links = session.scalars(select(Message.link).where(Message.event_id == event.event_id))
            assert list(links) == [""]
    finally:
        with db.unit_of_work() as uow:
            row = uow.session.scalar(select(RuleRow).where(RuleRow.key == "letter_received.unit"))
            assert row is not None
            row.link = kept


def test_a_template_without_the_recipient_s_locale_is_rendered_in_the_one_it_has(
    db: Database, fanout: FanOut
) -> None:
    from notifications.template_models import TemplateRow

    with db.unit_of_work() as uow:
        uow.session.add(
            TemplateRow(
                key="english_only",
                locale="en",
                subject="Booked {{ booking_id }}",
                text_body="t",
                html_body="",
                description="",
                is_default=False,
            )
        )
        uow.session.add(
            RuleRow(
                key="booking_confirmed.english",
                event_type="reception.booking_confirmed",
                audience="booker",
                template_key="english_only",
                channels="inbox",
                kind="bookings",
                urgent=False,
                enabled=True,
                conditions="{}",
                link="",
                description="",
                is_default=False,
            )
        )
    event = booked("test:english")
    fan(db, fanout, "reception", event)
    with db.read() as session:
        told_in = session.execute(
            select(Message.subject, Message.locale).where(
                Message.event_id == event.event_id, Message.rule_key == "booking_confirmed.english"
            )
        ).one()
    assert tuple(told_in) == ("Booked 41", "en")


def test_an_invitation_to_a_training_tells_each_deputy_it_names(
    db: Database, fanout: FanOut
) -> None:
    event = envelope_of(
        "duties",
        aev.ActivityInvitationSent(
            activity_id=31,
            kind=apb.ACTIVITY_KIND_TRAINING,
            title="代表履职能力培训",
            starts_on="2026-12-15",
            ends_on="2026-12-16",
            street_id=1,
            deputy_ids=[3, 4],
        ),
    )
    assert fan(db, fanout, "duties", event) == Told(messages=2, deliveries=6)
    # Inbox, email and sms only; a deputy who gave no contacts gets the inbox.
    assert told(db, event) == [
        (
            "activity_invited.deputies",
            f"deputy:{d}",
            [("email", "suppressed"), ("inbox", "delivered"), ("sms", "suppressed")],
        )
        for d in (3, 4)
    ]
    with db.read() as session:
        message = session.scalar(
            select(Message).where(
                Message.event_id == event.event_id, Message.recipient == "deputy:3"
            )
        )
        assert message is not None
        assert (message.kind, message.link) == ("duties", "/console/#/activities/31")
        assert message.subject == "活动邀请：代表履职能力培训"
        assert "集中学习培训" in message.body_text and "2026年12月16日" in message.body_text


def test_a_scheduled_report_meeting_invites_the_station_staff_of_its_street(
    db: Database, fanout: FanOut
) -> None:
    event = envelope_of(
        "duties",
        bev.ReportMeetingScheduled(
            meeting=bpb.ReportMeeting(
                id=12,
                deputy_id=3,
                street_id=2,
                held_on="2026-12-15",
                venue="林和街人大代表联络站",
            ),
            station_id=5,
        ),
    )
    fan(db, fanout, "duties", event)
    assert {(rule, recipient) for rule, recipient, _ in told(db, event)} == {
        ("report_meeting_scheduled.deputy", "deputy:3"),
        ("report_meeting_invitation.staff", "role:station_staff@street:2"),
    }
    with db.read() as session:
        message = session.scalar(
            select(Message).where(
                Message.event_id == event.event_id,
                Message.rule_key == "report_meeting_invitation.staff",
            )
        )
        assert message is not None
        assert message.link == "/console/#/reports/12"
        assert "2026年12月15日" in message.subject and "测评码" in message.body_text

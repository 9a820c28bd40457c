"""The catalogue of event types: every event of the events protos, under
the routing key it is published with, each with a sample that parses."""

from __future__ import annotations

import pytest

from kit.events import event_type_of
from liaison.duties.v1 import record_events_pb2
from liaison.reception.v1 import events_pb2 as reception_events
from liaison.referral.v1 import events_pb2 as referral_events
from notifications import catalog


def test_every_event_of_the_three_services_is_catalogued_by_its_routing_key() -> None:
    names = set(catalog.EVENT_TYPES)
    assert "reception.booking_confirmed" in names
    assert "referral.letter_moved" in names and "referral.suggestion_answered" in names
    assert "duties.deputy_rated" in names and "duties.report_meeting_scheduled" in names
    for message in (reception_events.RotaChanged, referral_events.LetterOverdue):
        assert catalog.name_of(message.DESCRIPTOR.file.package.split(".")[1], message) in names
    assert catalog.event_type("duties.deputy_rated").message is record_events_pb2.DeputyRated
    # A part of events, never published on its own, is not an event type.
    assert "reception.opinion_facts" not in names
    for event in catalog.EVENT_TYPES.values():
        assert event.name == f"{event.service}.{event_type_of(event.message)}"


def test_each_sample_is_its_message_with_every_field_set() -> None:
    for event in catalog.EVENT_TYPES.values():
        sample = event.sample()
        assert isinstance(sample, event.message)
        payload = catalog.payload_of(sample)
        assert set(payload) == {f.name for f in event.message.DESCRIPTOR.fields}
    due = catalog.payload_of(catalog.event_type("referral.letter_due_soon").sample())
    assert due["tracking_code"] == "TH-2026-000123" and due["days_before"] == 7
    reminder = catalog.payload_of(catalog.event_type("reception.booking_reminder_due").sample())
    assert reminder["owner_sub"] == "demo:constituent" and reminder["session_date"] == "2026-12-15"


def test_an_unknown_event_type_is_named_in_its_error() -> None:
    with pytest.raises(catalog.UnknownEventType, match="'reception.booking_made' is not an event"):
        catalog.event_type("reception.booking_made")

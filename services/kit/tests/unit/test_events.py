"""Event envelopes: types, bodies and payloads, without I/O."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import timestamp_pb2

from kit.events import (
    SCHEMA_VERSION,
    Envelope,
    UnprocessableEvent,
    event_type_of,
    new_envelope,
)
from kit.logging import correlation_scope
from liaison.registry.v1 import events_pb2, registry_pb2


def street_changed() -> events_pb2.StreetChanged:
    created = timestamp_pb2.Timestamp()
    created.FromDatetime(datetime(2024, 3, 15, 8, 30, tzinfo=UTC))
    return events_pb2.StreetChanged(
        street=registry_pb2.Street(
            id=12, code="linhe", name="林和街道", active=True, created_at=created
        ),
        change="renamed",
        changed_fields=["name", "code"],
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (events_pb2.StreetChanged, "street_changed"),
        (events_pb2.DeputyRegistered, "deputy_registered"),
        (events_pb2.BudgetLineChanged, "budget_line_changed"),
        (events_pb2.PositionVacated(), "position_vacated"),
    ],
)
def test_event_type_is_the_snake_case_message_name(message, expected):
    assert event_type_of(message) == expected


def test_new_envelope_frames_the_message():
    with correlation_scope("corr-42"):
        envelope = new_envelope("registry", street_changed())
    assert uuid.UUID(envelope.event_id).version == 4
    assert envelope.type == "street_changed"
    assert envelope.source == "registry"
    assert envelope.correlation_id == "corr-42"
    assert envelope.schema_version == SCHEMA_VERSION
    assert envelope.payload_type == "liaison.registry.v1.StreetChanged"
    assert envelope.occurred_at.tzinfo is not None
    assert abs(datetime.now(UTC) - envelope.occurred_at) < timedelta(minutes=1)
    # The JSON mapping of the message, with the proto's field names.
    assert envelope.payload["street"]["code"] == "linhe"
    assert envelope.payload["changed_fields"] == ["name", "code"]
    assert envelope.payload["street"]["created_at"] == "2024-03-15T08:30:00Z"


def test_new_envelope_takes_an_explicit_type_and_correlation_id():
    envelope = new_envelope(
        "registry", street_changed(), event_type="street_renamed", correlation_id="c-1"
    )
    assert envelope.type == "street_renamed"
    assert envelope.correlation_id == "c-1"
    other = new_envelope("registry", street_changed())
    assert other.event_id != envelope.event_id
    assert other.correlation_id == ""


def test_body_round_trips_as_dict_str_and_bytes():
    envelope = new_envelope("registry", street_changed(), correlation_id="c-7")
    body = envelope.to_body()
    assert set(body) == {
        "event_id",
        "type",
        "occurred_at",
        "source",
        "correlation_id",
        "schema_version",
        "payload_type",
        "payload",
    }
    assert json.loads(envelope.to_json()) == body
    assert "林和街道" in envelope.to_json()  # not escaped
    for form in (body, envelope.to_json(), envelope.to_json().encode()):
        assert Envelope.from_body(form) == envelope


def test_body_times_are_utc_whatever_the_zone_of_occurred_at():
    shanghai = timezone(timedelta(hours=8))
    envelope = Envelope(
        event_id="e-1",
        type="street_changed",
        occurred_at=datetime(2024, 5, 1, 9, 0, tzinfo=shanghai),
        source="registry",
        correlation_id="",
        schema_version=1,
        payload_type="liaison.registry.v1.StreetChanged",
    )
    assert envelope.to_body()["occurred_at"] == "2024-05-01T01:00:00+00:00"
    assert Envelope.from_body(envelope.to_body()).occurred_at == envelope.occurred_at


def test_from_body_fills_defaults_and_reads_naive_times_as_utc():
    envelope = Envelope.from_body(
        {
            "event_id": "e-2",
            "type": "street_changed",
            "occurred_at": "2024-05-01T01:00:00",
            "source": "registry",
        }
    )
    assert envelope.occurred_at == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
    assert envelope.correlation_id == ""
    assert envelope.schema_version == SCHEMA_VERSION
    assert envelope.payload == {}


@pytest.mark.parametrize("missing", ["event_id", "type", "occurred_at", "source"])
def test_from_body_refuses_a_body_without_a_required_field(missing):
    body = new_envelope("registry", street_changed()).to_body()
    del body[missing]
    with pytest.raises(ValueError, match=missing):
        Envelope.from_body(body)
    body[missing] = ""
    with pytest.raises(ValueError, match=missing):
        Envelope.from_body(body)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("[1, 2]", ValueError),
        (b"42", ValueError),
        ("not json", ValueError),
        (None, ValueError),
    ],
)
def test_from_body_refuses_what_is_not_an_object(body, error):
    with pytest.raises(error):
        Envelope.from_body(body)


def test_from_body_lists_every_missing_field():
    with pytest.raises(ValueError, match="event_id, type, occurred_at, source"):
        Envelope.from_body({"payload": {}})


def test_message_decodes_the_payload_back_to_the_protobuf():
    original = street_changed()
    received = Envelope.from_body(new_envelope("registry", original).to_json())
    decoded = received.message()
    assert isinstance(decoded, events_pb2.StreetChanged)
    assert decoded == original
    assert decoded.street.created_at.ToDatetime(tzinfo=UTC) == datetime(
        2024, 3, 15, 8, 30, tzinfo=UTC
    )


def test_message_ignores_fields_a_newer_producer_added():
    body = new_envelope("registry", street_changed()).to_body()
    body["payload"]["added_in_v2"] = "something"
    decoded = Envelope.from_body(body).message()
    assert decoded.street.code == "linhe"


def test_message_of_an_unknown_payload_type_raises():
    body = new_envelope("registry", street_changed()).to_body()
    body["payload_type"] = "liaison.nowhere.v1.Unknown"
    with pytest.raises(KeyError):
        Envelope.from_body(body).message()


def test_payload_as_parses_into_the_consumers_message_and_ignores_new_fields():
    body = new_envelope("registry", street_changed()).to_body()
    body["payload"]["added_in_v2"] = "something"
    body["payload"]["street"]["added_in_v2"] = {"nested": True}
    parsed = Envelope.from_body(body).payload_as(events_pb2.StreetChanged)
    assert isinstance(parsed, events_pb2.StreetChanged)
    assert parsed == street_changed()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda b: b["payload"]["street"].update(id="twelve"), "not a valid"),
        (lambda b: b["payload"].update(street=[1]), "not a valid"),
        (lambda b: b["payload"].update(change=5), "not a valid"),
        (lambda b: b["payload"].update(changed_fields={"a": 1}), "not a valid"),
        (
            lambda b: b.update(payload_type="liaison.registry.v1.DeputyRegistered"),
            "is a liaison.registry.v1.DeputyRegistered, not a liaison.registry.v1.StreetChanged",
        ),
    ],
    ids=["wrong-scalar", "list-for-message", "number-for-text", "map-for-list", "other-message"],
)
def test_payload_as_refuses_a_payload_that_is_not_the_message(change, said):
    body = new_envelope("registry", street_changed()).to_body()
    change(body)
    with pytest.raises(UnprocessableEvent, match=said):
        Envelope.from_body(body).payload_as(events_pb2.StreetChanged)

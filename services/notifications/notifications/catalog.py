"""Every event of the platform a rule may name, as "<service>.<type>".

Built from the events protos' descriptors (reception's, referral's and its
suggestions', duties' four), so an event added to a proto is catalogued
without a line here: its type is `kit.events.event_type_of` of its message
class, exactly the routing key it is published under. Each has a SAMPLE
payload, made from the descriptor with plain sample values (and a few
realistic ones by field name), for template previews and tests.

Messages of an events file that are parts of events rather than events
(reception's `OpinionFacts`) are left out by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from kit.events import event_type_of
from liaison.duties.v1 import (
    activity_events_pb2,
    ballot_events_pb2,
    record_events_pb2,
    scorecard_events_pb2,
)
from liaison.reception.v1 import events_pb2 as reception_events_pb2
from liaison.referral.v1 import events_pb2 as referral_events_pb2
from liaison.referral.v1 import suggestion_events_pb2

SOURCES: tuple[tuple[str, ModuleType], ...] = (
    ("reception", reception_events_pb2),
    ("referral", referral_events_pb2),
    ("referral", suggestion_events_pb2),
    ("duties", activity_events_pb2),
    ("duties", ballot_events_pb2),
    ("duties", record_events_pb2),
    ("duties", scorecard_events_pb2),
)
# Parts of events, never published on their own.
NOT_EVENTS = frozenset({"liaison.reception.v1.OpinionFacts"})

# Sample values by field name, where a plain one would read oddly in a preview.
_SAMPLE_STRINGS = {
    "tracking_code": "TH-2026-000123",
    "station_name": "林和街第一联络站",
    "community_name": "林和社区",
    "venue_name": "林和街人大代表联络站",
    "venue_address": "林和中路 1 号",
    "content": "小区电梯经常停运，物业不理会",
    "answer": "已约物业公司面谈，本月底前完成检修",
    "note": "请街道研究办理",
    "reason": "同一事项已在办理中",
    "detail": "同意延期一个月",
    "label": "林和街道办事处",
    "name": "示例代表",
    "level": "district",
    "title": "关于加装电梯的建议",
    "topic": "老旧小区加装电梯",
    "place": "区人大常委会会议室",
    "venue": "林和街人大代表联络站",
    "local_start": "09:00",
    "local_end": "12:00",
    "cause": "set_by_hand",
    "awaits": "the handling unit's answer",
    "actor_role": "department",
    "merged_into_code": "TH-2026-000100",
}
_SAMPLE_NUMBERS = {
    "round": 1,
    "level": 1,
    "days_before": 7,
    "waitlist_position": 1,
    "min_deputies": 2,
    "person_times": 12,
    "papers_cast": 40,
}
_SAMPLE_DATE = "2026-12-15"
_SAMPLE_TIME = "2026-12-15T01:00:00Z"
_SAMPLE_BY_TYPE: dict[str, dict[str, Any]] = {
    # A letter's move: an answer, by the lead department.
    "referral.letter_moved": {"kind": "answered", "detail": "已书面答复"},
    "referral.letter_due_soon": {"days_before": 7, "round": 1},
    "referral.letter_overdue": {"level": 1, "round": 1},
    "reception.booking_confirmed": {"owner_sub": "demo:constituent"},
    "reception.booking_promoted": {"owner_sub": "demo:constituent"},
    "reception.booking_cancelled": {"owner_sub": "demo:constituent"},
    "reception.booking_reminder_due": {"owner_sub": "demo:constituent"},
    "reception.booking_waitlisted": {"owner_sub": "demo:constituent", "waitlist_position": 2},
    "reception.opinion_recorded": {"raiser_sub": "demo:constituent"},
    "reception.opinion_answered": {"raiser_sub": "demo:constituent"},
    "reception.opinion_handed_on": {"raiser_sub": "demo:constituent"},
    "reception.opinion_declined": {"raiser_sub": "demo:constituent"},
    "reception.opinion_done": {"raiser_sub": "demo:constituent"},
    # A two-day training of a street's deputies, three of them invited.
    "duties.activity_invitation_sent": {
        "title": "代表履职能力培训",
        "ends_on": "2026-12-16",
        "deputy_ids": ["1", "2", "3"],
    },
}


class UnknownEventType(ValueError):
    """A name that is not an event type of the catalogue."""


@dataclass(frozen=True)
class EventType:
    name: str  # "<service>.<type>"
    service: str
    routing_key: str  # the type: snake_case of the message's name
    message: type[Message]

    def sample(self) -> Message:
        """A sample payload of this event (a fresh message each call)."""
        return json_format.ParseDict(self.sample_json(), self.message())

    def sample_json(self) -> dict[str, Any]:
        """The sample payload as its JSON mapping (proto field names)."""
        data = _sample(self.message.DESCRIPTOR, depth=0)
        return data | _SAMPLE_BY_TYPE.get(self.name, {})


def _sample_scalar(field: FieldDescriptor, index: int) -> Any:
    name = field.name
    if field.type == FieldDescriptor.TYPE_STRING:
        if name in _SAMPLE_STRINGS:
            return _SAMPLE_STRINGS[name]
        if name.endswith(("date", "_day", "_on")) or name in ("date", "last_day", "first_day"):
            return _SAMPLE_DATE
        if name.endswith("_sub"):
            return "demo:constituent"
        return f"示例{name}"
    if field.type == FieldDescriptor.TYPE_BOOL:
        return False
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 0.5
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum = field.enum_type
        assert enum is not None
        values = [v for v in enum.values if v.number != 0]
        return (values[0] if values else enum.values[0]).name
    if name == "year":
        return 2026
    if name in _SAMPLE_NUMBERS:
        return _SAMPLE_NUMBERS[name]
    if field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64):
        return str(index + 1)  # int64 is text in the JSON mapping
    return index + 1


def _sample(descriptor: Any, *, depth: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for index, field in enumerate(descriptor.fields):
        value: Any
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            inner = field.message_type
            assert inner is not None
            if inner.full_name == "google.protobuf.Timestamp":
                value = _SAMPLE_TIME
            elif depth >= 3:
                continue
            else:
                value = _sample(inner, depth=depth + 1)
        else:
            value = _sample_scalar(field, index)
        data[field.name] = [value] if field.is_repeated else value
    return data


def _build() -> dict[str, EventType]:
    found: dict[str, EventType] = {}
    for service, module in SOURCES:
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            if descriptor.full_name in NOT_EVENTS:
                continue
            message = getattr(module, descriptor.name)
            kind = event_type_of(message)
            found[f"{service}.{kind}"] = EventType(f"{service}.{kind}", service, kind, message)
    return dict(sorted(found.items()))


EVENT_TYPES: dict[str, EventType] = _build()


def event_type(name: str) -> EventType:
    """The catalogued event type `name`; UnknownEventType naming it otherwise."""
    try:
        return EVENT_TYPES[name]
    except KeyError:
        services = sorted({e.service for e in EVENT_TYPES.values()})
        raise UnknownEventType(
            f"{name!r} is not an event type of the platform: "
            f"'<service>.<type>' of {', '.join(services)} (ListEventTypes lists them)"
        ) from None


def name_of(service: str, message: Message | type[Message]) -> str:
    return f"{service}.{event_type_of(message)}"


def payload_of(message: Message) -> dict[str, Any]:
    """An event's payload as its JSON mapping with proto field names, every
    field present (defaults too), so a template may name any field."""
    data: dict[str, Any] = json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    return data


def sample_text(name: str) -> str:
    """The sample payload of `name` as indented JSON (for the console)."""
    return json.dumps(event_type(name).sample_json(), ensure_ascii=False, indent=2)

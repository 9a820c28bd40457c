"""Event envelopes: the frame every domain event travels in.

An event is a protobuf message (in `protos/liaison/<service>/v1/events.proto`);
on the broker it is the JSON mapping of that message inside an envelope
(`liaison.common.v1.EventEnvelope` fields plus `payload`). The routing key is
the event type, the snake_case name of the message (`DeputyRegistered` ->
`deputy_registered`), so nameko `@event_handler("registry", "deputy_registered")`
consumes it as it is.

`sequence` numbers the events of one service 1, 2, 3, ... in the order their
transactions committed, with no hole (kit.outbox): a consumer that keeps a
read model sees a missed event as a gap. It is given when the event is
written, so the body kept in the outbox lacks it and the relay puts it first
in the published body (`with_sequence`). An event published before the
sequence existed parses with `sequence` 0.
"""

from __future__ import annotations

import builtins
import functools
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.message import Message

from kit.logging import get_correlation_id

SCHEMA_VERSION = 1

M = TypeVar("M", bound=Message)


class UnprocessableEvent(ValueError):
    """An event no retry can mend (its payload is not the message its consumer
    takes): the consumer dead-letters it at once."""


def event_type_of(message: Message | type[Message]) -> str:
    return _snake_case(message.DESCRIPTOR.name)


@functools.lru_cache(maxsize=1024)
def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Envelope:
    event_id: str
    type: str
    occurred_at: datetime
    source: str
    correlation_id: str
    schema_version: int
    payload_type: str
    payload: dict[str, Any] = field(default_factory=dict)
    sequence: int = 0  # 0: not numbered yet (or published before numbering)

    def to_body(self) -> dict[str, Any]:
        """The JSON-serialisable body published on the broker (`sequence`
        only once it is known)."""
        head = {"sequence": self.sequence} if self.sequence else {}
        return head | {
            "event_id": self.event_id,
            "type": self.type,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "source": self.source,
            "correlation_id": self.correlation_id,
            "schema_version": self.schema_version,
            "payload_type": self.payload_type,
            "payload": self.payload,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_body(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_body(cls, body: dict[str, Any] | str | bytes) -> Envelope:
        """Parse a body as consumed; raises ValueError when it is not an envelope."""
        if isinstance(body, str | bytes):
            body = json.loads(body)
        if not isinstance(body, dict):
            raise ValueError("event body is not a JSON object")
        missing = [k for k in ("event_id", "type", "occurred_at", "source") if not body.get(k)]
        if missing:
            raise ValueError(f"event envelope lacks {', '.join(missing)}")
        occurred_at = datetime.fromisoformat(str(body["occurred_at"]))
        if occurred_at.tzinfo is None:
            occurred_at = occurred_at.replace(tzinfo=UTC)
        return cls(
            event_id=str(body["event_id"]),
            type=str(body["type"]),
            occurred_at=occurred_at,
            source=str(body["source"]),
            correlation_id=str(body.get("correlation_id") or ""),
            schema_version=int(body.get("schema_version") or SCHEMA_VERSION),
            payload_type=str(body.get("payload_type") or ""),
            payload=dict(body.get("payload") or {}),
            sequence=int(body.get("sequence") or 0),
        )

    def payload_as(self, message_type: builtins.type[M]) -> M:  # `type` is a field here
        """The payload parsed into `message_type`. Fields the message does not
        have are ignored, so producers can add fields without breaking
        consumers; a payload of another type, or with a value of the wrong
        kind, raises UnprocessableEvent."""
        expected = message_type.DESCRIPTOR.full_name
        if self.payload_type and self.payload_type != expected:
            raise UnprocessableEvent(f"the payload is a {self.payload_type}, not a {expected}")
        try:
            return json_format.ParseDict(self.payload, message_type(), ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, TypeError) as exc:
            raise UnprocessableEvent(f"the payload is not a valid {expected}: {exc}") from None

    def message(self) -> Message:
        """The payload as its protobuf message (the generated module must be imported)."""
        descriptor = descriptor_pool.Default().FindMessageTypeByName(self.payload_type)
        message_class = message_factory.GetMessageClass(descriptor)
        return json_format.ParseDict(self.payload, message_class(), ignore_unknown_fields=True)


def with_sequence(body: str, sequence: int) -> str:
    """A body as kept in the outbox (`Envelope.to_json()` of an envelope not
    yet numbered) with `"sequence"` put first, without parsing it again."""
    if not body.startswith("{"):
        raise ValueError("event body is not a JSON object")
    rest = body[1:]
    return f'{{"sequence":{int(sequence)}' + ("," + rest if rest != "}" else "}")


def new_envelope(
    source: str,
    message: Message,
    *,
    event_type: str | None = None,
    correlation_id: str | None = None,
) -> Envelope:
    return Envelope(
        event_id=str(uuid.uuid4()),
        type=event_type or event_type_of(message),
        occurred_at=datetime.now(UTC),
        source=source,
        correlation_id=correlation_id or get_correlation_id() or "",
        schema_version=SCHEMA_VERSION,
        payload_type=message.DESCRIPTOR.full_name,
        payload=json_format.MessageToDict(message, preserving_proto_field_name=True),
    )

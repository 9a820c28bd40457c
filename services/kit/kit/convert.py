"""Between protobuf and what services store: enum names, timestamps, dates
and deactivations, the same way in every service."""

from __future__ import annotations

from datetime import UTC, date, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from kit.errors import invalid
from liaison.common.v1 import envelope_pb2


class EnumNames:
    """Maps `DEPUTY_LEVEL_DISTRICT` <-> "district" for one proto enum."""

    def __init__(self, enum_type: object, prefix: str) -> None:
        descriptor = enum_type.DESCRIPTOR  # type: ignore[attr-defined]
        self.field = prefix.lower()
        self.to_name: dict[int, str] = {}
        self.to_number: dict[str, int] = {}
        for value in descriptor.values:
            if value.number == 0:
                continue
            name = value.name.removeprefix(prefix + "_").lower()
            self.to_name[value.number] = name
            self.to_number[name] = value.number

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.to_number)

    def name(self, number: int, field: str, *, required: bool = True) -> str:
        if number == 0 and not required:
            return ""
        if number not in self.to_name:
            raise invalid(field, f"must be one of: {', '.join(self.names)}")
        return self.to_name[number]

    def number(self, name: str) -> int:
        return self.to_number.get(name, 0)


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite gives naive UTC back
        value = value.replace(tzinfo=UTC)
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(UTC))
    return ts


def iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def deactivation(at: datetime | None, reason: str | None) -> envelope_pb2.Deactivation | None:
    if at is None:
        return None
    return envelope_pb2.Deactivation(deactivated_at=timestamp(at), reason=reason or "")

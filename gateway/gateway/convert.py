"""Protobuf <-> plain values, driven by the message descriptors.

The API's shape is fixed by the pydantic models in `schemas`; this module only
moves values across: enums as lowercase short names ("district"), timestamps
as aware datetimes, dates as ISO strings, nested messages as dicts, and a
missing optional message as None.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from liaison.common.v1 import envelope_pb2

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")
# The upb and pure-Python descriptor classes differ in type, not in interface.
FieldDescriptor = Any


def enum_prefix(enum: EnumDescriptor) -> str:
    """`DeputyLevel` -> `DEPUTY_LEVEL_`."""
    return _CAMEL_BOUNDARY.sub("_", enum.name).upper() + "_"


def enum_short_names(enum: EnumDescriptor) -> list[str]:
    """The API's names of an enum's values, without the UNSPECIFIED zero."""
    prefix = enum_prefix(enum)
    return [v.name[len(prefix) :].lower() for v in enum.values if v.number != 0]


def enum_to_name(enum: EnumDescriptor, number: int) -> str | None:
    if number == 0:
        return None
    value = enum.values_by_number.get(number)
    if value is None:
        # A value added upstream after this gateway was built.
        return f"unknown_{number}"
    return value.name[len(enum_prefix(enum)) :].lower()


def enum_from_name(enum: EnumDescriptor, name: str | None) -> int:
    if name is None:
        return 0
    value = enum.values_by_name.get(enum_prefix(enum) + str(name).upper())
    if value is None:
        raise ValueError(f"{name!r} is not a {enum.name}")
    return int(value.number)


def _is_timestamp(field: FieldDescriptor) -> bool:
    return (
        field.message_type is not None
        and field.message_type.full_name == Timestamp.DESCRIPTOR.full_name
    )


def _scalar_out(field: FieldDescriptor, value: Any) -> Any:
    if field.enum_type is not None:
        return enum_to_name(field.enum_type, value)
    if _is_timestamp(field):
        return value.ToDatetime(tzinfo=UTC)
    if field.message_type is not None:
        return message_to_dict(value)
    return value


def message_to_dict(message: Message) -> dict[str, Any]:
    """Every field of `message` by its proto name; the models pick what they show."""
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.is_repeated:
            out[field.name] = [_scalar_out(field, v) for v in value]
        elif field.message_type is not None and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _scalar_out(field, value)
    return out


def _scalar_in(field: FieldDescriptor, value: Any) -> Any:
    if field.enum_type is not None:
        return enum_from_name(field.enum_type, value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def fill_message(message: Message, values: dict[str, Any]) -> Message:
    """Set `values` (proto field names) on `message`; None clears a field."""
    fields = message.DESCRIPTOR.fields_by_name
    for name, value in values.items():
        field = fields[name]
        if value is None:
            message.ClearField(name)
        elif field.is_repeated:
            container = getattr(message, name)
            del container[:]
            if field.message_type is not None:  # a list of nested messages
                for item in value:
                    fill_message(container.add(), item)
            else:
                container.extend(_scalar_in(field, v) for v in value)
        elif _is_timestamp(field):
            getattr(message, name).FromDatetime(value)
        elif field.message_type is not None:
            nested = getattr(message, name)
            nested.Clear()
            fill_message(nested, value)
        else:
            setattr(message, name, _scalar_in(field, value))
    return message


def list_request(message: Message, query: Any) -> Message:
    """`message` (a List request with a `page` field) filled from a
    `schemas.ListQuery`: its page size and token, and its filters."""
    filters = query.model_dump(mode="json", exclude_none=True)
    message.page.CopyFrom(  # type: ignore[attr-defined]
        envelope_pb2.PageRequest(
            page_size=filters.pop("page_size", 0), page_token=filters.pop("page_token", "")
        )
    )
    return fill_message(message, filters)


def page_request(query: Any) -> envelope_pb2.PageRequest:
    """The PageRequest of a query with `page_size` and `page_token` (a
    `schemas.ListQuery` or one like it): an absent one as the service's
    default."""
    return envelope_pb2.PageRequest(
        page_size=query.page_size or 0, page_token=query.page_token or ""
    )


def page_reply(model: Any, items: list[Any], info: Any, **more: Any) -> Any:
    """A page model (`schemas.page_model`) of `items` and the reply's PageInfo,
    with `more` fields of the model beside them (an inbox's unread count)."""
    return model.model_validate(
        {
            "items": items,
            "next_page_token": info.next_page_token or None,
            "total_size": info.total_size,
            **more,
        }
    )

"""The duty record's event handlers, one per mapping of
`duties.duty_record.MAPPINGS`, as a mixin of the duties worker class.

Each is a `kit.worker.consumes` handler (idempotent: the event id is
recorded with its effect; retried, then dead-lettered), named
`record_<service>_<event type>` (its queue's name follows), that applies the
event to the projection (`DutyRecords.apply`). Adding a source to the record
is adding a mapping: its handler comes with it.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from duties.duty_record import MAPPINGS, Source
from duties.record_service import DutyRecords
from kit.db import UnitOfWork
from kit.events import Envelope, event_type_of
from kit.worker import Provide, consumes


def _handler(source: Source) -> Any:
    name = f"record_{source.service}_{event_type_of(source.message)}"

    def handle(self: Any, uow: UnitOfWork, event: Message, envelope: Envelope) -> None:
        self.duty_records.apply(uow, source, event, envelope)

    handle.__name__ = handle.__qualname__ = name
    handle.__doc__ = f"{source.service}'s {event_type_of(source.message)} into the duty record."
    return name, consumes(source.service, source.message)(handle)


class DutyRecordConsumers:
    """Mixed into the duties worker: the record's handlers."""

    duty_records: DutyRecords = Provide("duty_records")


for _name, _handle in map(_handler, MAPPINGS):
    setattr(DutyRecordConsumers, _name, _handle)

"""The fan-out's event handlers, as a mixin of the notifications worker class.

One `kit.worker.consumes` handler (idempotent: the event id is recorded
with its effect; retried, then dead-lettered) per catalogued event type that
some audience applies to, named `fanout_<service>_<event type>` (its queue's
name follows), each fanning the event out (`notifications.fanout.FanOut`).
A rule can only name such an event type (its audience must apply to it), so
every rule an admin adds takes effect at once, without a new queue; an event
type no audience applies to yet has no queue and no handler.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from kit.db import UnitOfWork
from kit.events import Envelope
from kit.worker import Provide, consumes
from notifications import audiences, catalog
from notifications.fanout import FanOut

CONSUMED = tuple(name for name in catalog.EVENT_TYPES if audiences.audiences_for(name))


def _handler(event: catalog.EventType) -> tuple[str, Any]:
    name = f"fanout_{event.service}_{event.routing_key}"

    def handle(self: Any, uow: UnitOfWork, message: Message, envelope: Envelope) -> None:
        self.fanout.handle(uow, event.service, message, envelope)

    handle.__name__ = handle.__qualname__ = name
    handle.__doc__ = f"{event.name} into messages by the rules that name it."
    return name, consumes(event.service, event.message)(handle)


class FanOutConsumers:
    """Mixed into the notifications worker: the fan-out's handlers."""

    fanout: FanOut = Provide("fanout")


for _name, _handle in map(_handler, map(catalog.event_type, CONSUMED)):
    setattr(FanOutConsumers, _name, _handle)

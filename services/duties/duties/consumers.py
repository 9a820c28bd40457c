"""The duties service's nameko worker class: what it consumes and what its
timers do. `duties.worker` runs it (after eventlet's patching).

It relays the service's outbox to RabbitMQ (`duties.events`, kit's
PlatformWorker). The parts that gather other services' events (the public
duty record from reception's and referral's) add their idempotent consumers
here.
"""

from __future__ import annotations

from duties.record_consumers import DutyRecordConsumers
from kit.worker import PlatformWorker


class DutiesWorker(DutyRecordConsumers, PlatformWorker):
    name = "duties"

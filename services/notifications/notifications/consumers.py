"""The notifications service's nameko worker class: what it consumes and
what its timers do. `notifications.worker` runs it (after eventlet's patching).

It relays the service's outbox to RabbitMQ (`notifications.events`, kit's
PlatformWorker), sends due deliveries on a timer (`Sending`: every
worker claims its own with FOR UPDATE SKIP LOCKED, see
`notifications.delivery`), and fans reception's, referral's and duties'
events out into messages (`notifications.fanout_consumers`).
"""

from __future__ import annotations

import logging
import time

from nameko.timer import timer

from kit.worker import PlatformWorker, Provide
from notifications.delivery import Sender
from notifications.fanout_consumers import FanOutConsumers
from notifications.settings import send_seconds

log = logging.getLogger(__name__)

# How often a worker counts deliveries by state for the gauges.
MEASURE_SECONDS = 30.0


class Sending:
    """The sending timer: each tick sends what is due, for at most a few
    ticks' time so that a long backlog does not hold the timer forever."""

    sender: Sender = Provide("sender")
    measured_at = 0.0

    @timer(interval=send_seconds(), eager=True)
    def send_due(self) -> None:
        done = self.sender.send_due(max_seconds=4 * send_seconds())
        if done.total or done.lost:
            log.info(
                "sending: %d sent, %d failed, %d dead, %d suppressed, %d given back, %d lost",
                done.sent,
                done.failed,
                done.dead,
                done.suppressed,
                done.given_back,
                done.lost,
            )
        if time.monotonic() - Sending.measured_at > MEASURE_SECONDS:
            Sending.measured_at = time.monotonic()
            self.sender.measure()


class NotificationsWorker(FanOutConsumers, Sending, PlatformWorker):
    name = "notifications"

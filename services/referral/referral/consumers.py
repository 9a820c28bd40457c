"""The referral service's nameko worker class: what it consumes and what
its timers do. `referral.worker` runs it (after eventlet's patching); the
migrate process imports it unpatched only to declare its queues
(`kit.queues.declare_consumer_queues`), so that reception's events
published before the worker first starts wait for it.

It relays the service's outbox to RabbitMQ (`referral.events`), opens a
letter from each opinion the reception service hands on
(`opinion_handed_on` on `reception.events`): an idempotent consumer, so a
redelivered event opens nothing twice, and the letter's unique opinion id
keeps one letter per opinion even under two event ids; and sweeps open
letters' deadlines on a timer (`referral.supervision`: reminders and overdue
escalations, each fired once across every worker, and the gauges).
"""

from __future__ import annotations

import logging

from nameko.timer import timer

from kit.db import UnitOfWork
from kit.events import Envelope
from kit.worker import PlatformWorker, Provide, consumes
from liaison.reception.v1 import events_pb2 as rev
from referral.service import OPENER, Referral
from referral.settings import sweep_seconds
from referral.supervision import Supervision

log = logging.getLogger(__name__)


class ReferralWorker(PlatformWorker):
    name = "referral"
    referral: Referral = Provide("referral")
    supervision: Supervision = Provide("supervision")

    @consumes("reception", rev.OpinionHandedOn)
    def on_opinion_handed_on(
        self, uow: UnitOfWork, event: rev.OpinionHandedOn, envelope: Envelope
    ) -> None:
        opened = self.referral.open_from_opinion(
            uow, OPENER, event.opinion, event.note, event.raiser_sub
        )
        if opened is None:
            log.info("opinion %d has a letter already", event.opinion.id)

    @timer(interval=sweep_seconds(), eager=True)
    def sweep_deadlines(self) -> None:
        done = self.supervision.sweep()
        if done.reminders or done.escalations:
            log.info(
                "deadline sweep: %d reminders, %d escalations, %d letters overdue",
                done.reminders,
                done.escalations,
                done.overdue,
            )

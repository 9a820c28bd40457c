"""`python -m referral.worker`: the referral service's nameko worker.

It relays the service's outbox to RabbitMQ (`referral.events`), opens a
letter from each opinion the reception service hands on
(`opinion_handed_on` on `reception.events`): an idempotent consumer, so a
redelivered event opens nothing twice, and the letter's unique opinion id
keeps one letter per opinion even under two event ids; and sweeps open
letters' deadlines on a timer (`referral.supervision`: reminders and overdue
escalations, each fired once across every worker, and the gauges).
"""

from kit.green import patch

patch()

import logging  # noqa: E402

from nameko.timer import timer  # noqa: E402

from kit.db import UnitOfWork  # noqa: E402
from kit.events import Envelope  # noqa: E402
from kit.worker import PlatformWorker, Provide, consumes, run  # noqa: E402
from liaison.reception.v1 import events_pb2 as rev  # noqa: E402
from referral.bootstrap import ReferralBootstrap  # noqa: E402
from referral.service import OPENER, Referral  # noqa: E402
from referral.settings import sweep_seconds  # noqa: E402
from referral.supervision import Supervision  # noqa: E402

log = logging.getLogger(__name__)


class ReferralWorker(PlatformWorker):
    name = "referral"
    referral: Referral = Provide("referral")
    supervision: Supervision = Provide("supervision")

    @consumes("reception", rev.OpinionHandedOn)
    def on_opinion_handed_on(
        self, uow: UnitOfWork, event: rev.OpinionHandedOn, envelope: Envelope
    ) -> None:
        opened = self.referral.open_from_opinion(uow, OPENER, event.opinion, event.note)
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


def main() -> None:
    run(ReferralWorker, ReferralBootstrap.for_process("worker"))


if __name__ == "__main__":
    main()

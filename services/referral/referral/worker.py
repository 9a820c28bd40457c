"""`python -m referral.worker`: the referral service's nameko worker.

It relays the service's outbox to RabbitMQ (`referral.events`) and opens a
letter from each opinion the reception service hands on
(`opinion_handed_on` on `reception.events`): an idempotent consumer, so a
redelivered event opens nothing twice, and the letter's unique opinion id
keeps one letter per opinion even under two event ids.
"""

from kit.green import patch

patch()

import logging  # noqa: E402

from kit.db import UnitOfWork  # noqa: E402
from kit.events import Envelope  # noqa: E402
from kit.worker import PlatformWorker, Provide, consumes, run  # noqa: E402
from liaison.reception.v1 import events_pb2 as rev  # noqa: E402
from referral.bootstrap import ReferralBootstrap  # noqa: E402
from referral.service import OPENER, Referral  # noqa: E402

log = logging.getLogger(__name__)


class ReferralWorker(PlatformWorker):
    name = "referral"
    referral: Referral = Provide("referral")

    @consumes("reception", rev.OpinionHandedOn)
    def on_opinion_handed_on(
        self, uow: UnitOfWork, event: rev.OpinionHandedOn, envelope: Envelope
    ) -> None:
        opened = self.referral.open_from_opinion(uow, OPENER, event.opinion, event.note)
        if opened is None:
            log.info("opinion %d has a letter already", event.opinion.id)


def main() -> None:
    run(ReferralWorker, ReferralBootstrap.for_process("worker"))


if __name__ == "__main__":
    main()

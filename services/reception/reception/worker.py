"""`python -m reception.worker`: the reception service's nameko worker.

It relays the service's outbox to RabbitMQ (`reception.events`), keeps the
read model of the registry current from `registry.events` (each handler an
idempotent consumer; an event older than what a row reflects changes
nothing, so redelivered and out-of-order events converge), and every few
hours schedules this month's sessions and the next months' for every
active station (idempotent: a month's session is created once).
"""

from kit.green import patch

patch()

import logging  # noqa: E402
from typing import Any  # noqa: E402

from nameko.timer import timer  # noqa: E402

from kit.auth import Principal  # noqa: E402
from kit.db import UnitOfWork  # noqa: E402
from kit.events import Envelope  # noqa: E402
from kit.worker import PlatformWorker, Provide, consumes, run  # noqa: E402
from liaison.registry.v1 import events_pb2 as ev  # noqa: E402
from reception.bootstrap import ReceptionBootstrap  # noqa: E402
from reception.readmodel import apply_event, is_empty  # noqa: E402
from reception.service import Reception  # noqa: E402
from reception.settings import SCHEDULE_EVERY_SECONDS  # noqa: E402

log = logging.getLogger(__name__)

SCHEDULER = Principal.system("reception-worker")


def _apply(uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
    apply_event(uow.session, event, envelope.sequence)


class ReceptionWorker(PlatformWorker):
    name = "reception"
    reception: Reception = Provide("reception")

    # -- the registry's read model

    @consumes("registry", ev.StationChanged)
    def on_station_changed(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _apply(uow, event, envelope)

    @consumes("registry", ev.VenueChanged)
    def on_venue_changed(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _apply(uow, event, envelope)

    @consumes("registry", ev.CommunityChanged)
    def on_community_changed(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _apply(uow, event, envelope)

    @consumes("registry", ev.DeputyRegistered)
    def on_deputy_registered(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _apply(uow, event, envelope)

    @consumes("registry", ev.DeputyUpdated)
    def on_deputy_updated(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _apply(uow, event, envelope)

    @consumes("registry", ev.DeputyReassigned)
    def on_deputy_reassigned(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _apply(uow, event, envelope)

    @consumes("registry", ev.DeputyDeactivated)
    def on_deputy_deactivated(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _apply(uow, event, envelope)

    @consumes("registry", ev.PositionFilled)
    def on_position_filled(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _apply(uow, event, envelope)

    @consumes("registry", ev.PositionVacated)
    def on_position_vacated(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _apply(uow, event, envelope)

    # -- the calendar

    @timer(interval=SCHEDULE_EVERY_SECONDS, eager=True)
    def schedule_ahead(self) -> None:
        if is_empty(self.reception.db):
            return  # the api loads the registry's snapshot first
        done = self.reception.schedule_ahead(SCHEDULER)
        if done.created:
            log.info("scheduled %d reception sessions", len(done.created))


def main() -> None:
    run(ReceptionWorker, ReceptionBootstrap.for_process("worker"))


if __name__ == "__main__":
    main()

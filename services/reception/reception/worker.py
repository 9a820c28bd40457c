"""`python -m reception.worker`: the reception service's nameko worker.

It relays the service's outbox to RabbitMQ (`reception.events`), keeps the
read model of the registry current from `registry.events` (each handler an
idempotent consumer; an event older than what a row reflects changes
nothing, so redelivered and out-of-order events converge) and, in the same
transaction, the rotas ahead of the stations an event touched (a deputy
deactivated or moved leaves them, the gap is filled or flagged), and every hour
schedules this month's sessions and the next months' for every active
station (idempotent: a month's session is created once, with its rota) and
draws the rota of any session ahead that has none. A station the registry
deactivates has its sessions from today on cancelled (with the event, and by
the timer for what a snapshot brought). Every quarter of an hour
(LIAISON_RECEPTION_REMINDER_SECONDS) it reminds the bookers of tomorrow's
sessions, once per booking across workers (`reception.reminders`).
"""

from kit.green import patch

patch()

import logging  # noqa: E402
from typing import Any  # noqa: E402

from google.protobuf.message import Message  # noqa: E402
from nameko.timer import timer  # noqa: E402

from kit.auth import Principal  # noqa: E402
from kit.db import UnitOfWork  # noqa: E402
from kit.events import Envelope, event_type_of  # noqa: E402
from kit.worker import PlatformWorker, Provide, consumes, run  # noqa: E402
from liaison.registry.v1 import events_pb2 as ev  # noqa: E402
from reception.bootstrap import ReceptionBootstrap  # noqa: E402
from reception.readmodel import apply_event, is_empty  # noqa: E402
from reception.reminders import Reminders  # noqa: E402
from reception.service import Reception  # noqa: E402
from reception.settings import SCHEDULE_EVERY_SECONDS, reminder_seconds  # noqa: E402

log = logging.getLogger(__name__)

SCHEDULER = Principal.system("reception-worker")
ROTA_KEEPER = Principal.system("reception-rota")
ROTA_CAUSE = {
    ev.PositionFilled: "head_changed",
    ev.PositionVacated: "head_changed",
}


def follows(event: type[Message]) -> Any:
    """An idempotent consumer of one registry event, applying it to the read model."""

    def apply(self: Any, uow: UnitOfWork, message: Any, envelope: Envelope) -> None:
        touched = apply_event(uow.session, message, envelope.sequence)
        if isinstance(message, ev.StationChanged) and not message.station.active:
            self.reception.cancel_sessions_of_closed_stations(uow, SCHEDULER, [message.station.id])
        # A deputy who left a station, or a head who changed, changes the
        # rotas ahead in the same transaction.
        self.reception.rota.after_registry_event(
            uow, ROTA_KEEPER, touched, ROTA_CAUSE.get(event, "deputy_left")
        )

    apply.__name__ = apply.__qualname__ = f"on_{event_type_of(event)}"
    return consumes("registry", event)(apply)


class ReceptionWorker(PlatformWorker):
    name = "reception"
    reception: Reception = Provide("reception")
    reminders: Reminders = Provide("reminders")

    # -- the registry's read model: each event of reception.readmodel.APPLY
    on_station_changed = follows(ev.StationChanged)
    on_venue_changed = follows(ev.VenueChanged)
    on_community_changed = follows(ev.CommunityChanged)
    on_deputy_registered = follows(ev.DeputyRegistered)
    on_deputy_updated = follows(ev.DeputyUpdated)
    on_deputy_reassigned = follows(ev.DeputyReassigned)
    on_deputy_deactivated = follows(ev.DeputyDeactivated)
    on_position_filled = follows(ev.PositionFilled)
    on_position_vacated = follows(ev.PositionVacated)

    # -- the calendar

    @timer(interval=SCHEDULE_EVERY_SECONDS, eager=True)
    def schedule_ahead(self) -> None:
        if is_empty(self.reception.db):
            return  # the api loads the registry's snapshot first
        with self.reception.db.unit_of_work() as uow:
            closed = self.reception.cancel_sessions_of_closed_stations(uow, SCHEDULER)
        if closed:
            log.info("cancelled %d sessions of deactivated stations", len(closed))
        done = self.reception.schedule_ahead(SCHEDULER)
        if done.created:
            log.info("scheduled %d reception sessions", len(done.created))
        drawn = self.reception.rota.publish_missing(SCHEDULER)
        if drawn:
            log.info("drew the rotas of %d sessions that had none", len(drawn))

    # -- the bookers

    @timer(interval=reminder_seconds(), eager=True)
    def remind_bookers(self) -> None:
        done = self.reminders.sweep()
        if done.reminded:
            log.info("reminded %d bookings of sessions on %s", done.reminded, done.day)


def main() -> None:
    run(ReceptionWorker, ReceptionBootstrap.for_process("worker"))


if __name__ == "__main__":
    main()

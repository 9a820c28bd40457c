"""A nameko worker built on kit.worker, for kit's worker tests.

Run as a script. From the environment:

    KIT_SAMPLE_SERVICE        the worker's service name
    KIT_SAMPLE_SOURCE         the service whose `street_changed` events it consumes
    KIT_SAMPLE_POISON_CODE    a street code the handler always fails on
    KIT_SAMPLE_HANDLER_DELAY  seconds each handling takes (default 0)

plus the platform's own settings (LIAISON_<SERVICE>_DATABASE_URL,
LIAISON_AMQP_URI, LIAISON_METRICS_PORT, LIAISON_CONSUMER_MAX_RETRIES...).
Its handler takes the event as the `StreetChanged` message. Each event it
handles becomes a row of `handled_events`; the table has no
unique key, so an event handled twice shows up as two rows.
"""

from kit.green import patch

patch()

import os  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import eventlet  # noqa: E402
from sqlalchemy import text  # noqa: E402

from kit.bootstrap import Bootstrap  # noqa: E402
from kit.events import Envelope  # noqa: E402
from kit.settings import Settings  # noqa: E402
from kit.worker import PlatformWorker, consumes, run  # noqa: E402
from liaison.registry.v1 import events_pb2  # noqa: E402

SERVICE = os.environ["KIT_SAMPLE_SERVICE"]
SOURCE = os.environ["KIT_SAMPLE_SOURCE"]
POISON_CODE = os.environ.get("KIT_SAMPLE_POISON_CODE", "poison")
HANDLER_DELAY = float(os.environ.get("KIT_SAMPLE_HANDLER_DELAY", "0"))
MIGRATIONS = Path(__file__).resolve().parent / "sample_migrations"


class SampleBootstrap(Bootstrap[Settings]):
    service = SERVICE
    settings_type = Settings
    migrations_dir = MIGRATIONS


class SampleWorker(PlatformWorker):
    name = SERVICE

    @consumes(SOURCE, events_pb2.StreetChanged)
    def on_street_changed(
        self, uow: Any, event: events_pb2.StreetChanged, envelope: Envelope
    ) -> None:
        code = event.street.code
        if code == POISON_CODE:
            raise RuntimeError(f"street {code} cannot be handled")
        if HANDLER_DELAY:
            eventlet.sleep(HANDLER_DELAY)
        uow.session.execute(
            text("INSERT INTO handled_events (event_id, code) VALUES (:event_id, :code)"),
            {"event_id": envelope.event_id, "code": code},
        )


if __name__ == "__main__":
    run(SampleWorker, SampleBootstrap.for_process("worker"))

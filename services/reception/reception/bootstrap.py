"""The one place that wires the reception service: settings, database, the
application service, and the registry's stub for its snapshot. The api,
worker, migrate and cli entry points each start from
`ReceptionBootstrap.for_process(<process>)`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from kit.bootstrap import Bootstrap
from kit.grpc_client import channel
from liaison.registry.v1 import registry_pb2_grpc
from reception.readmodel import load_from_registry
from reception.reminders import Reminders
from reception.service import Reception
from reception.settings import ReceptionSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class ReceptionBootstrap(Bootstrap[ReceptionSettings]):
    service = "reception"
    settings_type = ReceptionSettings
    migrations_dir = MIGRATIONS

    @cached_property
    def reception(self) -> Reception:
        """The application service: one per process."""
        return Reception(
            self.db,
            months_ahead=self.settings.months_ahead,
            default_capacity=self.settings.default_slot_capacity,
            rota_min_deputies=self.settings.rota_min_deputies,
        )

    @cached_property
    def reminders(self) -> Reminders:
        """The reminders of tomorrow's bookings (the worker's timer)."""
        return Reminders(self.db)

    @cached_property
    def registry(self) -> Any:
        """A stub of the registry's gRPC API (for its public snapshot)."""
        return registry_pb2_grpc.RegistryServiceStub(
            channel(self.settings.registry_target, self.settings)
        )

    def load_registry(self) -> int:
        """Load the registry's snapshot into the read model; its version."""
        return load_from_registry(self.db, self.registry)

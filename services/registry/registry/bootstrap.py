"""The one place that wires the registry: settings, database, the application
service. The api, worker, migrate and cli entry points each start from
`RegistryBootstrap.for_process(<process>)`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from kit.bootstrap import Bootstrap
from registry.service import Registry
from registry.settings import RegistrySettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class RegistryBootstrap(Bootstrap[RegistrySettings]):
    service = "registry"
    settings_type = RegistrySettings
    migrations_dir = MIGRATIONS

    @cached_property
    def registry(self) -> Registry:
        """The application service, with its caches: one per process."""
        return Registry(self.db, budget_minimum_yuan=self.settings.budget_minimum_yuan)

"""The base of every service's `bootstrap.py`: the one place a process is wired.

A service's bootstrap names the service, its settings class and its
migrations, and adds what it builds from them (its application service, its
clients), each built once per process when first asked for:

    class RegistryBootstrap(Bootstrap[RegistrySettings]):
        service = "registry"
        settings_type = RegistrySettings
        migrations_dir = MIGRATIONS

        @cached_property
        def registry(self) -> Registry:
            return Registry(self.db, budget_minimum_yuan=self.settings.budget_minimum_yuan)

Its entry points are then a few lines each:

    boot = RegistryBootstrap.for_process("api")      # settings read once, here
    serve(boot.settings, register=..., readiness=boot.ready, on_stop=boot.close)
    kit.worker.run(RegistryWorker, RegistryBootstrap.for_process("worker"))
    RegistryBootstrap.for_process("migrate").run_migrations()
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Generic, Self, TypeVar

from kit.db import Database
from kit.logging import configure_logging
from kit.migrations import is_current, upgrade
from kit.settings import Settings, SettingsError

S = TypeVar("S", bound=Settings)

log = logging.getLogger(__name__)


class Bootstrap(Generic[S]):
    """A process's settings and database, and whatever a service builds on them."""

    service: ClassVar[str]
    migrations_dir: ClassVar[Path]
    settings_type: type[S]

    def __init__(self, settings: S) -> None:
        self.settings = settings

    @classmethod
    def for_process(cls, process: str) -> Self:
        """Wiring for `process` (api, worker, migrate, cli) from the environment.

        A setting the platform cannot use stops the process with one line
        naming the variable, not a traceback.
        """
        try:
            settings = cls.settings_type.load(cls.service, process)
        except SettingsError as error:
            raise SystemExit(f"{cls.service} {process} cannot start: {error}") from None
        return cls(settings)

    @cached_property
    def db(self) -> Database:
        """The service's database: one engine and pool for the whole process."""
        return Database(self.settings.database_url, self.settings.service)

    def ready(self) -> bool:
        """Readiness: the database answers and is at the newest revision."""
        return self.db.ping() and is_current(self.db, self.migrations_dir)

    def run_migrations(self) -> None:
        """The migrate process: bring the database to the newest revision."""
        configure_logging(self.settings)
        url = self.settings.database_url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            upgrade(self.db, self.migrations_dir)
        finally:
            self.close()
        log.info("%s database is at the newest revision", self.service)
        consumers = self.consumers()
        if consumers is not None:
            from kit.queues import declare_consumer_queues

            names = declare_consumer_queues(consumers, self.settings.amqp_uri)
            log.info("%s worker's queues declared: %s", self.service, ", ".join(names))

    def consumers(self) -> type | None:
        """The service's worker class, whose event queues the migrate process
        declares (None: it consumes no other service's events, or its queues
        are declared when its worker starts). The class must be importable
        without the worker's green patching."""
        return None

    def close(self) -> None:
        """Release what was built (the database's connections)."""
        if "db" in self.__dict__:
            self.db.dispose()

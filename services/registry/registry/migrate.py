"""`python -m registry.migrate`: bring the registry's database to the newest revision."""

from __future__ import annotations

import logging
from pathlib import Path

from kit.db import Database
from kit.logging import configure_logging
from kit.migrations import upgrade
from kit.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def main() -> None:
    settings = Settings.load("registry", "migrate")
    configure_logging(settings)
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    db = Database(settings.database_url, "registry")
    upgrade(db, MIGRATIONS)
    logging.getLogger(__name__).info("registry database is at the newest revision")
    db.dispose()


if __name__ == "__main__":
    main()

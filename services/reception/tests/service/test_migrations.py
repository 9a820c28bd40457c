"""The reception service's migrations on a real PostgreSQL: they build exactly
the schema the models describe (every table each slice adds included), and
go back to base."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect

from kit.db import Database
from kit.migrations import alembic_config, is_current, upgrade
from kit.tables import platform_metadata
from kit.testrun import throwaway_database
from reception.bootstrap import MIGRATIONS
from reception.models import Base

pytestmark = pytest.mark.postgres


def test_migrations_build_the_models_schema_and_go_back(postgres_admin_url: str) -> None:
    heads = ScriptDirectory.from_config(alembic_config(MIGRATIONS, "")).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    with throwaway_database("reception_migrations", admin_url=postgres_admin_url) as url:
        db = Database(url, "reception")
        try:
            upgrade(db, MIGRATIONS)
            target = MetaData()
            for metadata in (Base.metadata, platform_metadata):
                for table in metadata.tables.values():
                    table.to_metadata(target)
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, target)
            assert diff == [], "the migrations and the models differ:\n" + "\n".join(map(str, diff))
            config = alembic_config(MIGRATIONS, db.url)
            with db.engine.begin() as conn:
                config.attributes["connection"] = conn
                command.downgrade(config, "base")
            with db.engine.connect() as conn:
                assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
            upgrade(db, MIGRATIONS)
            assert is_current(db, MIGRATIONS)
        finally:
            db.dispose()

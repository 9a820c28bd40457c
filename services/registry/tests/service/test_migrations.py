"""The registry's Alembic migrations on a real PostgreSQL: they build exactly
the schema the models describe, run twice harmlessly and go back to base."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text

from kit.db import Database
from kit.migrations import alembic_config, is_current, upgrade
from kit.tables import platform_metadata
from registry.bootstrap import MIGRATIONS
from registry.models import Base

pytestmark = pytest.mark.postgres

PLATFORM_TABLES = {"outbox_events", "processed_events", "event_failures", "audit_entries"}


def tables(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names()) - {"alembic_version"}


def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config(MIGRATIONS, "")).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    return heads[0]


@pytest.fixture
def db(database_url: str):  # type: ignore[no-untyped-def]
    database = Database(database_url, "registry")
    yield database
    database.dispose()


def test_upgrade_from_empty_creates_every_table(db: Database) -> None:
    assert db.is_postgres
    assert tables(db) == set()
    assert not is_current(db, MIGRATIONS)

    upgrade(db, MIGRATIONS)

    expected = set(Base.metadata.tables) | PLATFORM_TABLES
    assert set(platform_metadata.tables) >= PLATFORM_TABLES
    assert tables(db) == expected
    assert is_current(db, MIGRATIONS)
    with db.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == head()


def test_upgrade_twice_is_harmless(db: Database) -> None:
    upgrade(db, MIGRATIONS)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO streets (code, name, active, created_at, updated_at) "
                "VALUES ('linhe', '林和街道', true, now(), now())"
            )
        )
    upgrade(db, MIGRATIONS)
    assert is_current(db, MIGRATIONS)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM streets")).scalars().all() == ["林和街道"]
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_models_and_migrations_do_not_drift(db: Database) -> None:
    upgrade(db, MIGRATIONS)
    # The models plus the platform tables kit defines: the whole schema.
    target = MetaData()
    for metadata in (Base.metadata, platform_metadata):
        for table in metadata.tables.values():
            table.to_metadata(target)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        diff = compare_metadata(context, target)
    assert diff == [], "the migrations and the models differ:\n" + "\n".join(map(str, diff))


def test_drift_would_be_noticed(db: Database) -> None:
    """The comparison above can fail: a column the migrations lack shows up."""
    upgrade(db, MIGRATIONS)
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE deputies DROP COLUMN biography"))
        conn.execute(text("DROP INDEX ix_deputies_level"))
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    described = " ".join(map(str, diff))
    assert "biography" in described
    assert "ix_deputies_level" in described


def test_downgrade_to_base_removes_everything(db: Database) -> None:
    upgrade(db, MIGRATIONS)
    config = alembic_config(MIGRATIONS, db.url)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert tables(db) == set()
    assert not is_current(db, MIGRATIONS)
    upgrade(db, MIGRATIONS)  # and up again from there
    assert tables(db) == set(Base.metadata.tables) | PLATFORM_TABLES
    assert is_current(db, MIGRATIONS)

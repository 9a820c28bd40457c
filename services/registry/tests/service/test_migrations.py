"""The registry's Alembic migrations on a real PostgreSQL: they build exactly
the schema the models describe, run twice harmlessly and go back to base."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    MetaData,
    inspect,
    text,
)

from kit.db import Database
from kit.migrations import alembic_config, is_current, outbox_keyed_by_id, upgrade
from kit.outbox import current_sequence
from kit.tables import platform_metadata
from liaison.registry.v1 import registry_pb2 as pb
from registry.bootstrap import MIGRATIONS
from registry.models import Base

pytestmark = pytest.mark.postgres

PLATFORM_TABLES = {
    "outbox_events",
    "outbox_sequence",
    "processed_events",
    "event_failures",
    "audit_entries",
}


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


def outbox_drift(db: Database) -> list[Any]:
    """How the outbox's tables differ from kit's (columns, indexes, keys)."""
    target = MetaData()
    for name in ("outbox_events", "outbox_sequence"):
        platform_metadata.tables[name].to_metadata(target)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                # The registry's own tables are not compared here.
                "include_name": lambda name, type_, parents: (
                    type_ != "table" or name in target.tables
                ),
            },
        )
        return list(compare_metadata(context, target))


def outbox_rows(db: Database) -> list[tuple[int, str]]:
    """(sequence, event_id) of every event, by sequence."""
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT sequence, event_id FROM outbox_events ORDER BY sequence"))
        return [(r.sequence, r.event_id) for r in rows]


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_events_written_before_the_sequence_are_numbered_by_id(
    backend: str, database_url: str, tmp_path
) -> None:
    url = database_url if backend == "postgresql" else f"sqlite:///{tmp_path}/registry.db"
    db = Database(url, "registry")
    try:
        upgrade(db, MIGRATIONS, "0002")
        with db.engine.begin() as conn:
            # The outbox as a kit before the sequence made it.
            conn.execute(text("DROP TABLE outbox_events"))
            outbox_keyed_by_id(MetaData(), numbered=False).create(conn)
            for n, event_id in enumerate(["e5", "e2", "e9"]):
                conn.execute(
                    text(
                        "INSERT INTO outbox_events (event_id, type, source, correlation_id,"
                        " body, occurred_at, attempts, sent_at) VALUES (:e, 't', 'registry',"
                        " '', '{}', CURRENT_TIMESTAMP, 0, CASE WHEN :n = 0"
                        " THEN CURRENT_TIMESTAMP END)"
                    ),
                    {"e": event_id, "n": n},
                )
            if backend == "postgresql":  # ids with a hole, as rollbacks leave them
                conn.execute(text("DELETE FROM outbox_events WHERE event_id = 'e2'"))
        upgrade(db, MIGRATIONS)
        rows = outbox_rows(db)
        expected = ["e5", "e9"] if backend == "postgresql" else ["e5", "e2", "e9"]
        assert rows == list(enumerate(expected, start=1))
        assert outbox_drift(db) == []
        with db.unit_of_work() as uow:
            event_id = uow.emit(pb.Street(code="linhe", name="林和街道"))  # any message
        with db.read() as session:
            assert current_sequence(session) == len(rows) + 1
        assert outbox_rows(db)[-1] == (len(rows) + 1, event_id)

        # Down to 0002 and up again: the numbers are given again, by id.
        config = alembic_config(MIGRATIONS, db.url)
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0002")
        with db.engine.connect() as conn:
            assert "sequence" not in {c["name"] for c in inspect(conn).get_columns("outbox_events")}
            assert not inspect(conn).has_table("outbox_sequence")
        upgrade(db, MIGRATIONS)
        assert [s for s, _ in outbox_rows(db)] == list(range(1, len(rows) + 2))
        assert outbox_drift(db) == []
        assert is_current(db, MIGRATIONS)
    finally:
        db.dispose()

"""kit's own fixtures: a service database with the platform's tables and a
table of the tests' own. Throwaway databases, the broker, free ports come
from the platform's pytest plugin (kit.pytest_plugin).

Every test gets its own database and its own service name (`kt<hex>`, so
its exchange is `kt<hex>.events`); the queues and exchanges it declares are
deleted afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from kit.db import Database
from kit.tables import platform_metadata
from kit.testrun import unique_suffix

# A table of the tests' own: the "domain change" a unit of work commits
# together with its events, or the effect of an event handler.
test_metadata = MetaData()
notes = Table(
    "kit_test_notes",
    test_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", String(200), nullable=False),
)


@pytest.fixture
def service_name() -> str:
    """A service name of this test's own: its exchange is `<name>.events`."""
    return f"kt{unique_suffix()}"


@pytest.fixture
def db(database_url: str, service_name: str) -> Iterator[Database]:
    """A service database with the platform's tables and the tests' notes table."""
    database = Database(database_url, service_name)
    platform_metadata.create_all(database.engine)
    test_metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def notes_table() -> Table:
    """The tests' own table, created in every `db`."""
    return notes


@pytest.fixture
def count_rows() -> Callable[..., int]:
    """count_rows(db, table, *where): rows of a table matching the conditions."""

    def count(database: Database, table: Table, *where: Any) -> int:
        with database.read() as session:
            query = select(func.count()).select_from(table).where(*where)
            return int(session.execute(query).scalar_one())

    return count

"""The platform's test helpers (kit.testrun and its pytest plugin): throwaway
databases really are created, copied and dropped, and a server that cannot be
reached fails a test with a message saying where, never skips it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kit.db import Database
from kit.testrun import ServerUnavailable, check_postgres, free_port, throwaway_database

pytestmark = pytest.mark.postgres


def database_names(admin_url: str) -> set[str]:
    with psycopg.connect(make_url(admin_url).render_as_string(False), autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def test_a_throwaway_database_is_created_and_then_dropped(postgres_admin_url: str) -> None:
    with throwaway_database("kit_plugin", admin_url=postgres_admin_url) as url:
        name = make_url(url).database
        assert name and name.startswith("kit_plugin_")
        assert name in database_names(postgres_admin_url)
        # A pooled connection is still open at the end: the drop ends it.
        db = Database(url, "kitplugin")
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE notes (id int)"))
    assert name not in database_names(postgres_admin_url)
    db.dispose()


def test_a_database_name_is_checked_before_anything_is_created() -> None:
    with pytest.raises(ValueError, match="a database prefix"), throwaway_database("Bad-Prefix"):
        pass


def test_a_template_copy_has_the_templates_data_and_is_its_own(
    make_database: Callable[..., str],
) -> None:
    template = make_database()
    db = Database(template, "kitplugin")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (body text)"))
        conn.execute(text("INSERT INTO notes VALUES ('from the template')"))
    db.dispose()  # a template must have no connections

    copy = Database(make_database(template=template), "kitplugin")
    try:
        with copy.engine.begin() as conn:
            assert conn.execute(text("SELECT body FROM notes")).scalars().all() == [
                "from the template"
            ]
            conn.execute(text("DELETE FROM notes"))
    finally:
        copy.dispose()
    again = Database(template, "kitplugin")
    try:
        with again.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM notes")).scalar_one() == 1
    finally:
        again.dispose()


def test_an_unreachable_server_is_a_clear_error() -> None:
    nowhere = f"postgresql://postgres:secret@127.0.0.1:{free_port()}/postgres"
    with pytest.raises(ServerUnavailable) as refused:
        check_postgres(nowhere)
    message = str(refused.value)
    assert "PostgreSQL is not reachable at postgresql://postgres:***@127.0.0.1:" in message
    assert "LIAISON_TEST_POSTGRES_URL" in message and "secret" not in message


def test_a_test_that_needs_postgresql_fails_when_it_is_down_and_never_skips(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_needs_a_database.py").write_text(
        textwrap.dedent(
            """
            def test_uses_a_database(database_url):
                assert database_url
            """
        )
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "LIAISON_TEST_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/postgres",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:nameko", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout and "skipped" not in result.stdout
    assert "PostgreSQL is not reachable" in result.stdout
    assert "LIAISON_TEST_POSTGRES_URL" in result.stdout

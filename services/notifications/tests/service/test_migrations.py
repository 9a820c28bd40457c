"""The notifications service's migrations on a real PostgreSQL: they build exactly
the schema the models describe, and go back to base
(kit.testrun.check_migrations); the booking reminder's old default words
are replaced where nobody changed them."""

from __future__ import annotations

import importlib.util

import pytest
from alembic import command
from sqlalchemy import Column, Integer, MetaData, Table, select

from kit.db import Database
from kit.migrations import alembic_config, upgrade
from kit.testrun import check_migrations, throwaway_database
from notifications.bootstrap import MIGRATIONS
from notifications.models import Base
from notifications.rules import DEFAULT_TEMPLATES
from notifications.template_models import TemplateRow

pytestmark = pytest.mark.postgres


def test_migrations_build_the_models_schema_and_go_back(postgres_admin_url: str) -> None:
    check_migrations("notifications", MIGRATIONS, Base.metadata, postgres_admin_url)


def test_a_drift_would_be_noticed(postgres_admin_url: str) -> None:
    """The check can fail: a table the migrations do not build shows up."""
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    Table("notifications_not_migrated", drifted, Column("id", Integer, primary_key=True))
    with pytest.raises(AssertionError, match="notifications_not_migrated"):
        check_migrations("notifications", MIGRATIONS, drifted, postgres_admin_url)


# The migration that replaces the booking reminder's words (its module, by path).
_spec = importlib.util.spec_from_file_location(
    "booking_reminder_words", MIGRATIONS / "versions" / "0008_booking_reminder_words.py"
)
assert _spec is not None and _spec.loader is not None
WORDS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(WORDS)


def reminder_words(db: Database) -> dict[str, tuple[str, str, str]]:
    """The booking_reminder template's (subject, text, html) by locale."""
    with db.read() as session:
        query = select(TemplateRow).where(TemplateRow.key == "booking_reminder")
        return {r.locale: (r.subject, r.text_body, r.html_body) for r in session.scalars(query)}


def test_the_booking_reminder_s_old_default_words_become_the_new_ones(
    postgres_admin_url: str,
) -> None:
    """A database that loaded the old words gets the new defaults (those the
    rules render with the event), but an admin's own words stay."""
    with throwaway_database("notifications_words", admin_url=postgres_admin_url) as url:
        db = Database(url, "notifications")
        try:
            upgrade(db, MIGRATIONS, "0007")
            with db.unit_of_work() as uow:
                subject, text = WORDS.BEFORE["zh-CN"]
                html = WORDS._html(text)
                uow.session.add(
                    TemplateRow(
                        key="booking_reminder",
                        locale="zh-CN",
                        subject=subject,
                        text_body=text,
                        html_body=html,
                        is_default=True,
                    )
                )
                uow.session.add(
                    TemplateRow(
                        key="booking_reminder",
                        locale="en",
                        subject="Tomorrow: {{ session.station_name }}",  # an admin's
                        text_body=WORDS.BEFORE["en"][1],
                        html_body="",
                        is_default=True,
                    )
                )
            upgrade(db, MIGRATIONS)
            new = DEFAULT_TEMPLATES["booking_reminder"]["zh-CN"]
            assert reminder_words(db) == {
                "zh-CN": (new.subject, new.text, new.html),
                "en": ("Tomorrow: {{ session.station_name }}", WORDS.BEFORE["en"][1], ""),
            }
            # Back down: the old words again, where they were replaced.
            command.downgrade(alembic_config(MIGRATIONS, db.url), "0007")
            assert reminder_words(db)["zh-CN"] == (subject, text, html)
        finally:
            db.dispose()

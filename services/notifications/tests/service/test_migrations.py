"""The notifications service's migrations on a real PostgreSQL: they build exactly
the schema the models describe, and go back to base
(kit.testrun.check_migrations)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table

from kit.testrun import check_migrations
from notifications.bootstrap import MIGRATIONS
from notifications.models import Base

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

"""The reception service's migrations on a real PostgreSQL: they build exactly
the schema the models describe (every table each slice adds included), and
go back to base (kit.testrun.check_migrations)."""

from __future__ import annotations

import pytest

from kit.testrun import check_migrations
from reception.bootstrap import MIGRATIONS
from reception.models import Base

pytestmark = pytest.mark.postgres


def test_migrations_build_the_models_schema_and_go_back(postgres_admin_url: str) -> None:
    check_migrations("reception", MIGRATIONS, Base.metadata, postgres_admin_url)

"""The duties migrations on SQLite, the local run's database (`make up`):
every table whose key the database gives numbers it there too (SQLite
numbers only an INTEGER primary key, never a BIGINT one)."""

from __future__ import annotations

from pathlib import Path

from duties.bootstrap import MIGRATIONS
from duties.scorecard_models import MaterialRow, ReportPlanRow, ReportSlotRow
from kit.db import Database
from kit.migrations import upgrade


def test_the_report_plan_and_materials_are_numbered_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'duties.db'}", "duties")
    try:
        upgrade(db, MIGRATIONS)
        with db.unit_of_work() as uow:
            plan = ReportPlanRow(first_year=2026)
            material = MaterialRow(title="代表法", kind="document")
            uow.session.add_all([plan, material])
            uow.session.flush()
            slot = ReportSlotRow(plan_id=plan.id, deputy_id=1, street_id=1, year=2026)
            uow.session.add(slot)
            uow.session.flush()
            assert (plan.id, material.id, slot.id) == (1, 1, 1)
    finally:
        db.dispose()

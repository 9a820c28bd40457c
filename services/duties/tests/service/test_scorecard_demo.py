"""The demo's report plan and learning materials, loaded through the use
cases over the test registry: the cycle holding this year planned for every
serving deputy, the materials published, two thirds having read the first;
a second load with --if-empty leaves them alone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from duties.scorecard_demo import DISTRICT_MATERIALS, load_demo
from duties.scorecard_models import MaterialReadRow, MaterialRow, ReportSlotRow

pytestmark = pytest.mark.postgres


def test_the_demo_loads_once(api: Any) -> None:
    said = load_demo(api.db, api.boot.report_plans, api.boot.learning, if_empty=True)
    assert "of 6 deputies" in said
    with api.db.read() as session:
        slots = session.scalar(select(func.count()).select_from(ReportSlotRow))
        materials = session.scalar(select(func.count()).select_from(MaterialRow))
        readers = session.scalars(select(MaterialReadRow.deputy_id)).all()
    # Deputies 1-6 serve in streets 1 and 2: one material each besides the district's.
    assert (slots, materials) == (6, len(DISTRICT_MATERIALS) + 2)
    assert sorted(readers) == [1, 2, 4, 5]
    again = load_demo(api.db, api.boot.report_plans, api.boot.learning, if_empty=True)
    assert "left alone" in again
    with api.db.read() as session:
        assert session.scalar(select(func.count()).select_from(MaterialRow)) == materials

"""The demo year on PostgreSQL, over a district the size of the seed's: a
year of reception records and opinions at the scale the district reports,
a mix of outcomes and orders, the same on every load, and loaded once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from kit.db import Database
from kit.migrations import upgrade
from kit.testrun import throwaway_database
from liaison.reception.v1 import opinions_pb2 as opb
from reception import models
from reception.bootstrap import MIGRATIONS
from reception.demo_opinions import load_demo_year
from reception.readmodel import apply_snapshot
from reception.service import Reception
from reception.testing import district_at_scale

pytestmark = pytest.mark.postgres

TODAY = date(2026, 11, 26)


def _loaded(admin_url: str) -> Iterator[Reception]:
    with throwaway_database("reception_demo", admin_url=admin_url) as url:
        db = Database(url, "reception")
        try:
            upgrade(db, MIGRATIONS)
            with db.unit_of_work() as uow:
                apply_snapshot(uow.session, district_at_scale())
            reception = Reception(db)
            load_demo_year(reception, TODAY)
            yield reception
        finally:
            db.dispose()


@pytest.fixture(scope="module")
def loaded(postgres_admin_url: str) -> Iterator[Reception]:
    yield from _loaded(postgres_admin_url)


def _opinions(reception: Reception) -> list[tuple[str, str, str, str]]:
    with reception.db.read() as session:
        rows = session.execute(
            select(
                models.Opinion.tracking_code,
                models.Opinion.source,
                models.Opinion.category,
                models.Opinion.status,
            ).order_by(models.Opinion.tracking_code)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_year_at_the_seeds_scale(loaded: Reception) -> None:
    with loaded.db.read() as session:
        records = [
            (r.person_times, len(r.deputy_ids), r.locked)
            for r in session.scalars(select(models.ReceptionRecord))
        ]
        first = session.scalar(select(func.min(models.ReceptionRecord.session_date)))
    assert first is not None and first >= date(2025, 11, 1)
    assert len(records) >= 400  # 40 stations, twelve months
    assert sum(people for people, _, _ in records) >= 350
    assert sum(deputies for _, deputies, _ in records) >= 500
    opinions = _opinions(loaded)
    assert len(opinions) >= 200
    sources = {s for _, s, _, _ in opinions}
    statuses = {s for _, _, _, s in opinions}
    assert sources == {"reception", "online", "order"}
    assert statuses >= {"answered_on_the_spot", "handed_on", "merged", "declined", "recorded",
                        "in_progress", "done"}  # fmt: skip
    assert len({c for _, _, c, _ in opinions}) >= 10
    locked = [lock for _, _, lock in records]
    assert any(locked) and not all(locked)


def test_the_figures_add_up_to_the_records(loaded: Reception) -> None:
    figures = [
        loaded.reception_records.figures(opb.GetReceptionFiguresRequest(year=year))
        for year in (2025, 2026)
    ]
    with loaded.db.read() as session:
        people = session.scalar(select(func.sum(models.ReceptionRecord.person_times)))
        opinions = session.scalar(select(func.count()).select_from(models.Opinion))
    assert sum(f.reception_person_times for f in figures) == people
    assert sum(f.opinions_collected for f in figures) == opinions
    assert sum(sum(c.count for c in f.by_outcome) for f in figures) == opinions


def test_the_year_is_the_same_on_every_load_and_loaded_once(
    loaded: Reception, postgres_admin_url: str
) -> None:
    before = _opinions(loaded)
    again = load_demo_year(loaded, TODAY)
    assert again.opinions == 0 and _opinions(loaded) == before
    other = _loaded(postgres_admin_url)
    try:
        assert _opinions(next(other)) == before
    finally:
        other.close()

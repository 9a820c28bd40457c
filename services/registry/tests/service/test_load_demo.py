"""Loading the demo district only into an empty registry (`load-demo
--if-empty`, what a local run does at every start), on PostgreSQL: a second
load leaves people's changes alone, and two loads at once load it once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from kit.auth import Principal, Role
from kit.db import Database
from kit.migrations import upgrade
from liaison.registry.v1 import registry_pb2 as pb
from registry import models
from registry.bootstrap import MIGRATIONS
from registry.demo_data import build_district
from registry.loading import Loader
from registry.records import STREET
from registry.service import Registry

pytestmark = pytest.mark.postgres


def street_codes(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(select(models.Street.code)))


def deputies(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(models.Deputy)) or 0)


def test_a_second_load_if_empty_leaves_a_renamed_street_alone(
    migrated_registry: Registry,
) -> None:
    district = build_district()
    loader = Loader(migrated_registry)
    assert loader.load_district(district, if_empty=True) is not None
    db = migrated_registry.db
    first = district.streets[0]["code"]
    with db.read() as session:
        street_id = session.scalar(select(models.Street.id).where(models.Street.code == first))
    admin = Principal(sub="test:admin", role=Role.ADMIN)
    migrated_registry.update(
        STREET, pb.Street(id=street_id, code="renamed-street"), ["code"], admin
    )
    before = (street_codes(db), deputies(db))

    assert loader.load_district(district, if_empty=True) is None

    assert (street_codes(db), deputies(db)) == before
    assert "renamed-street" in before[0] and first not in before[0]


def test_two_loads_if_empty_at_once_load_the_district_once(database_url: str) -> None:
    setup = Database(database_url, "registry")
    upgrade(setup, MIGRATIONS)
    district = build_district()
    databases = [Database(database_url, "registry") for _ in range(2)]
    start = threading.Barrier(2)
    results: list[Any] = []

    def load(db: Database) -> None:
        start.wait()
        try:
            results.append(Loader(Registry(db)).load_district(district, if_empty=True))
        except Exception as error:  # reported below, not lost in the thread
            results.append(error)

    threads = [threading.Thread(target=load, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    try:
        assert len(results) == 2, results
        loaded = [r for r in results if isinstance(r, dict)]
        assert len(loaded) == 1 and results.count(None) == 1, results
        assert street_codes(setup) == sorted(s["code"] for s in district.streets)
        assert deputies(setup) == len(district.deputies)
    finally:
        for db in (*databases, setup):
            db.dispose()

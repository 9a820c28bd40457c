"""The demo's rotas on PostgreSQL: every session of the demo calendar has a
rota, a few deputies are away, one swap was accepted, and loading again
adds nothing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import func, select

from kit.db import Database
from liaison.registry.v1 import events_pb2 as rev
from liaison.registry.v1 import registry_pb2 as reg
from reception import domain, models
from reception.demo_data import load_demo
from reception.readmodel import apply_event
from reception.service import Reception
from reception.testing import STATION_A1, STREET_A

pytestmark = pytest.mark.postgres


def count(db: Database, model: Any, *where: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_the_demo_gives_every_session_a_rota(reception_url: str) -> None:
    db = Database(reception_url, "reception")
    try:
        sequence = itertools.count(50)
        with db.unit_of_work() as uow:
            for d in range(1101, 1106):
                profile = reg.DeputyProfile(
                    id=d, name=f"代表{d}", street_id=STREET_A, station_id=STATION_A1, active=True
                )
                apply_event(uow.session, rev.DeputyRegistered(deputy=profile), next(sequence))
        reception = Reception(db)
        first = load_demo(reception, domain.today())
        assert first.rotas == 0, "every session got its rota as it was scheduled"
        sessions = count(db, models.ReceptionSession)
        assert sessions and count(db, models.SessionRotaState) == sessions
        assert first.unavailable >= 1 and first.swaps == 1
        assert count(db, models.RotaSwap, models.RotaSwap.status == "accepted") == 1
        again = load_demo(reception, domain.today())
        assert (again.rotas, again.unavailable, again.swaps) == (0, 0, 0)
        assert count(db, models.SessionRotaState) == sessions
    finally:
        db.dispose()

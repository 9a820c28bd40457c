"""Deputies leaving, end to end on PostgreSQL and RabbitMQ: the registry and
the reception service run as processes with their demo data; a deputy
deactivated and a deputy moved to another station in the registry leave
the rotas ahead of their old station once the reception worker has
followed the registry's events, and the gaps are filled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import select

from kit.db import Database
from kit.grpc_client import channel, with_bearer
from kit.testrun import Platform, own_vhost, running_platform
from liaison.registry.v1 import registry_pb2 as rpb
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc
from reception import domain, models

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture(scope="module")
def platform(postgres_admin_url: str, amqp_uri: str) -> Iterator[Platform]:
    with own_vhost(amqp_uri) as uri:
        env = {"LIAISON_AMQP_URI": uri}
        with running_platform(["registry", "reception"], gateway=False, extra_env=env) as running:
            yield running


def ahead(db: Database) -> list[tuple[int, int, int, bool]]:
    """(session, station, deputy, lead) of every rota ahead."""
    with db.read() as session:
        rows = session.execute(
            select(
                models.ReceptionSession.id,
                models.ReceptionSession.station_id,
                models.RotaAssignment.deputy_id,
                models.RotaAssignment.lead,
            )
            .join(models.RotaAssignment)
            .where(
                models.ReceptionSession.session_date > domain.today(),
                models.ReceptionSession.status == domain.SCHEDULED,
            )
        ).all()
    return [(int(a), int(b), int(c), bool(d)) for a, b, c, d in rows]


def wait_for(check: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"the worker did not {what} within {seconds}s")


def test_a_deputy_deactivated_or_moved_leaves_the_rotas_ahead(platform: Platform) -> None:
    admin = rpb_grpc.RegistryServiceStub(
        with_bearer(channel(platform.grpc_target("registry")), platform.token("admin"))
    )
    db = Database(platform.services["reception"].database_url, "reception")
    try:
        rotas = ahead(db)
        assert rotas, "the demo gives the sessions ahead their rotas"
        not_leads = sorted({(st, d) for _, st, d, lead in rotas if not lead})
        station, gone = not_leads[0]
        moved = next(d for st, d in not_leads if st == station and d != gone)
        with db.read() as session:
            street = session.get(models.RegistryStation, station).street_id  # type: ignore[union-attr]
            other = session.scalars(
                select(models.RegistryStation.id).where(
                    models.RegistryStation.street_id == street,
                    models.RegistryStation.id != station,
                    models.RegistryStation.active.is_(True),
                )
            ).first()
        assert other is not None, "a street of the demo has two stations"

        admin.DeactivateDeputy(rpb.DeactivateRequest(id=gone, reason="调离"))
        admin.UpdateDeputy(
            rpb.UpdateDeputyRequest(
                deputy=rpb.Deputy(id=moved, station_id=other),
                update_mask=FieldMask(paths=["station_id"]),
            )
        )

        def left() -> bool:
            on = {(st, d) for _, st, d, _ in ahead(db)}
            return (station, gone) not in on and (station, moved) not in on

        wait_for(left, "take both deputies off their old station's rotas")
        sessions = {s for s, st, _, _ in ahead(db) if st == station}
        for session_id in sessions:
            deputies = [(d, lead) for s, _, d, lead in ahead(db) if s == session_id]
            assert len(deputies) >= 2 and sum(lead for _, lead in deputies) == 1, deputies
    finally:
        db.dispose()


def test_a_station_deactivated_has_its_sessions_ahead_cancelled(platform: Platform) -> None:
    admin = rpb_grpc.RegistryServiceStub(
        with_bearer(channel(platform.grpc_target("registry")), platform.token("admin"))
    )
    db = Database(platform.services["reception"].database_url, "reception")

    def sessions(station_id: int) -> list[tuple[str, str, bool]]:
        """(status, cancellation reason, ahead) of the station's sessions."""
        with db.read() as session:
            rows = session.scalars(
                select(models.ReceptionSession)
                .where(models.ReceptionSession.station_id == station_id)
                .order_by(models.ReceptionSession.id)
            )
            today = domain.today()
            return [(r.status, r.cancellation_reason, r.session_date >= today) for r in rows]

    try:
        with db.read() as session:
            station = session.scalars(
                select(models.RegistryStation.id)
                .where(models.RegistryStation.active.is_(True))
                .order_by(models.RegistryStation.id.desc())
            ).first()
        assert station is not None
        before = sessions(station)
        assert any(ahead and status == domain.SCHEDULED for status, _, ahead in before)
        past = [s for s in before if not s[2]]

        admin.DeactivateStation(rpb.DeactivateRequest(id=station, reason="撤并"))

        def closed() -> bool:
            return all(
                status == domain.CANCELLED for status, _, ahead in sessions(station) if ahead
            )

        wait_for(closed, "cancel the deactivated station's sessions ahead")
        after = sessions(station)
        was_open = [i for i, s in enumerate(before) if s[2] and s[0] == domain.SCHEDULED]
        assert all("停用" in after[i][1] for i in was_open), "each says why"
        cancelled_before = [s for s in before if s[2] and s[0] == domain.CANCELLED]
        assert [s for s in after if s in cancelled_before] == cancelled_before, "reasons kept"
        assert [s for s in after if not s[2]] == past, "what happened before stays as it was"
    finally:
        db.dispose()

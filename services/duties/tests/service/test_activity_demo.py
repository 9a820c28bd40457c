"""The demo year of activities and visits, loaded through the use cases
over a district of the demo's scale (21 streets of 17 deputies, served by
the test registry over real gRPC) into a migrated PostgreSQL database: the
seed's 500+ person-times, a training for every deputy, every deputy
visited, each step's event written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import grpc
import pytest
from sqlalchemy import func, select

from duties import activity_demo
from duties import activity_models as m
from duties.activity_registry import GrpcRegistryLookups
from duties.activity_service import ActivityUseCases
from duties.registry import RegistryDeputies
from duties.testing import district, fake_registry
from kit.auth import Principal, Role
from kit.db import Database
from kit.tables import outbox_events
from liaison.duties.v1 import activities_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc

pytestmark = pytest.mark.postgres

STREETS, PER_STREET = 21, 17
TODAY = date(2026, 11, 27)
DISTRICT = district(STREETS, PER_STREET)


@pytest.fixture(scope="module")
def loaded(duties_url: str) -> Iterator[tuple[ActivityUseCases, activity_demo.Loaded]]:
    db = Database(duties_url, "duties")
    with fake_registry(DISTRICT) as (_, target):
        channel = grpc.insecure_channel(target)
        stub = rpb_grpc.RegistryServiceStub(channel)
        deputies = RegistryDeputies(stub)
        use_cases = ActivityUseCases(db, deputies, GrpcRegistryLookups(stub))
        try:
            assert not activity_demo.has_demo(use_cases)
            yield use_cases, activity_demo.load_demo(use_cases, deputies.all_active(), TODAY)
        finally:
            channel.close()
            db.dispose()


def test_the_seeds_scale_and_a_training_for_every_deputy(
    loaded: tuple[ActivityUseCases, activity_demo.Loaded],
) -> None:
    use_cases, demo = loaded
    assert activity_demo.has_demo(use_cases)
    assert (demo.activities, demo.visits) == (STREETS * 2 + 1, STREETS * PER_STREET)
    assert demo.person_times >= 500
    office = Principal(sub="o", role=Role.STANDING_COMMITTEE_OFFICE)
    figures = use_cases.figures(pb.GetActivityFiguresRequest(year=TODAY.year), office)
    assert figures.total.person_times == demo.person_times
    assert len(figures.streets) == STREETS
    training = {k.kind: k for k in figures.by_kind}[pb.ACTIVITY_KIND_TRAINING]
    assert (training.activities, training.invited) == (STREETS, STREETS * PER_STREET)
    with use_cases.db.read() as session:
        trained = session.scalar(
            select(func.count(func.distinct(m.Invitation.deputy_id)))
            .join(m.Activity, m.Activity.id == m.Invitation.activity_id)
            .where(m.Activity.kind == "training")
        )
        unrecorded = session.scalar(
            select(func.count()).select_from(m.Invitation).where(m.Invitation.attendance.is_(None))
        )
        latest = session.scalar(select(func.max(m.Activity.ends_on)))
        visited = session.scalar(select(func.count(func.distinct(m.Visit.deputy_id))))
        events = dict(
            session.execute(
                select(outbox_events.c.type, func.count()).group_by(outbox_events.c.type)
            ).all()
        )
    assert trained == STREETS * PER_STREET and unrecorded == 0
    assert latest is not None and latest < TODAY
    assert visited == STREETS * PER_STREET
    assert events["activity_attended"] == demo.person_times
    assert events["visit_recorded"] == demo.visits
    assert events["activity_invitation_sent"] == demo.activities  # one invitation each


def test_follow_ups_on_a_third_of_the_visits_most_answered(
    loaded: tuple[ActivityUseCases, activity_demo.Loaded],
) -> None:
    use_cases, demo = loaded
    with use_cases.db.read() as session:
        follow_ups = session.scalar(select(func.count()).select_from(m.FollowUp)) or 0
        answered = (
            session.scalar(
                select(func.count())
                .select_from(m.FollowUp)
                .where(m.FollowUp.answered_at.is_not(None))
            )
            or 0
        )
    assert 0.2 * demo.visits < follow_ups < 0.5 * demo.visits
    assert 0.6 * follow_ups < answered < follow_ups

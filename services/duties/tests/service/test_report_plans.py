"""The duty-report plan on a real PostgreSQL: made over gRPC from the
registry's active deputies (the test registry of duties.testing), read by
each role as far as its scope goes, extended as deputies join and leave
without moving anyone else, and every refusal writing nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from duties.registry import DeputyFacts
from duties.report_plan_service import ReportPlans
from duties.scorecard_models import ReportPlanRow, ReportSlotRow
from kit import audit
from kit.auth import Principal, Role
from kit.errors import FailedPrecondition, NotFound, PermissionDenied
from kit.tables import outbox_events
from liaison.duties.v1 import scorecard_pb2 as pb
from liaison.duties.v1 import scorecard_pb2_grpc as pb_grpc

pytestmark = pytest.mark.postgres
OFFICE = Principal("office", Role.STANDING_COMMITTEE_OFFICE)


def stub(api: Any, who: str | dict[str, Any] | None) -> pb_grpc.ScorecardServiceStub:
    return pb_grpc.ScorecardServiceStub(api.channel_as(who))


def count(api: Any, *what: Any) -> tuple[int, ...]:
    with api.db.read() as session:
        return tuple(int(session.scalar(select(func.count()).select_from(t)) or 0) for t in what)


COUNTED = (ReportPlanRow, ReportSlotRow, outbox_events, audit.audit_entries)


@pytest.fixture(scope="module")
def planned(api: Any) -> Any:
    """The cycle 2026-2028, planned by the office over gRPC."""
    return stub(api, "standing-committee-office").MakeReportPlan(
        pb.MakeReportPlanRequest(first_year=2026)
    )


def test_the_office_plans_a_cycle_of_the_active_deputies(api: Any, planned: Any) -> None:
    plan = planned
    # Deputies 1-6 serve (7 no longer): two a year, one of each street.
    assert sorted(s.deputy_id for s in plan.slots) == [1, 2, 3, 4, 5, 6]
    assert [(ld.year, ld.deputies) for ld in plan.loads] == [(2026, 2), (2027, 2), (2028, 2)]
    for street in (1, 2):
        years = [s.year for s in plan.slots if s.street_id == street]
        assert (
            max(years.count(y) for y in (2026, 2027, 2028))
            - min(years.count(y) for y in (2026, 2027, 2028))
            <= 1
        )
    with api.db.read() as session:
        types = session.scalars(select(outbox_events.c.type)).all()
        actions = session.scalars(select(audit.audit_entries.c.action)).all()
    assert "report_plan_made" in types
    assert "make_report_plan" in actions


def test_a_cycle_planned_or_overlapping_is_refused_and_nothing_changes(api: Any) -> None:
    office = stub(api, "standing-committee-office")
    office.MakeReportPlan(pb.MakeReportPlanRequest(first_year=2041))
    before = count(api, *COUNTED)
    error = api.refused(
        lambda: office.MakeReportPlan(pb.MakeReportPlanRequest(first_year=2041)),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert "already planned" in error.details()
    error = api.refused(
        lambda: office.MakeReportPlan(pb.MakeReportPlanRequest(first_year=2043)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "overlaps the planned cycle 2041-2043" in error.details()
    error = api.refused(
        lambda: office.MakeReportPlan(pb.MakeReportPlanRequest(first_year=1999)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert api.field_errors(error) == {"first_year": "must be a year between 2000 and 2200"}
    assert count(api, *COUNTED) == before


@pytest.mark.parametrize("who", ["street-committee", "working-body", "deputy", "constituent"])
def test_only_the_office_makes_and_extends_plans(api: Any, who: str) -> None:
    before = count(api, *COUNTED)
    api.refused(
        lambda: stub(api, who).MakeReportPlan(pb.MakeReportPlanRequest(first_year=2050)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    api.refused(
        lambda: stub(api, who).ExtendReportPlan(pb.ExtendReportPlanRequest(year=2026)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert count(api, *COUNTED) == before


def test_each_reader_sees_as_far_as_their_scope(api: Any, planned: Any) -> None:
    request = pb.GetReportPlanRequest(year=2027)
    whole = stub(api, "working-body").GetReportPlan(request)
    assert len(whole.slots) == 6 and whole.first_year == 2026
    street = stub(api, "street-committee").GetReportPlan(request)
    assert {s.street_id for s in street.slots} == {1} and len(street.slots) == 4
    own = stub(api, "deputy").GetReportPlan(request)
    assert [s.deputy_id for s in own.slots] == [1]
    assert sum(ld.deputies for ld in own.loads) == 1
    other_street = {"sub": "sc2", "role": "street_committee", "street_id": 2}
    assert {s.street_id for s in stub(api, other_street).GetReportPlan(request).slots} == {2}


@pytest.mark.parametrize(
    ("who", "request_"),
    [
        ("deputy", pb.GetReportPlanRequest(year=2027, deputy_id=2)),
        ("deputy", pb.GetReportPlanRequest(year=2027, street_id=1)),
        ("street-committee", pb.GetReportPlanRequest(year=2027, street_id=2)),
        ("station-staff", pb.GetReportPlanRequest(year=2027, street_id=2)),
        ("department", pb.GetReportPlanRequest(year=2027)),
        ("constituent", pb.GetReportPlanRequest(year=2027)),
    ],
)
def test_reading_beyond_ones_scope_is_refused(
    api: Any, planned: Any, who: str, request_: Any
) -> None:
    api.refused(lambda: stub(api, who).GetReportPlan(request_), grpc.StatusCode.PERMISSION_DENIED)


def test_a_year_no_plan_holds_is_not_found(api: Any) -> None:
    error = api.refused(
        lambda: stub(api, "admin").GetReportPlan(pb.GetReportPlanRequest(year=2031)),
        grpc.StatusCode.NOT_FOUND,
    )
    assert "2031" in error.details()
    api.refused(
        lambda: stub(api, "admin").GetReportPlan(pb.GetReportPlanRequest()),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


class Serving:
    """The registry's active deputies as the use case asks for them, changed
    by the test (the registry client's cache would hide a change)."""

    def __init__(self, deputies: list[DeputyFacts]) -> None:
        self.deputies = list(deputies)

    def deputy(self, deputy_id: int) -> DeputyFacts:
        found = [d for d in self.deputies if d.id == deputy_id]
        if not found:
            raise NotFound(f"the registry has no deputy {deputy_id}")
        return found[0]

    def of_street(self, street_id: int) -> list[DeputyFacts]:
        return [d for d in self.deputies if d.street_id == street_id]

    def all_active(self) -> list[DeputyFacts]:
        return list(self.deputies)


def facts(deputy_id: int, street_id: int) -> DeputyFacts:
    return DeputyFacts(deputy_id, f"代表{deputy_id}", street_id, 1, "district", True)


def test_joiners_take_the_least_loaded_year_and_leavers_free_theirs(api: Any) -> None:
    serving = Serving([facts(i, 10 + i % 2) for i in range(100, 112)])
    plans = ReportPlans(api.db, serving)
    made = plans.make(pb.MakeReportPlanRequest(first_year=2060), OFFICE)
    before = {s.deputy_id: s.year for s in made.slots}
    leaver = next(s for s in made.slots if s.year == 2061 and s.street_id == 10)
    serving.deputies = [d for d in serving.deputies if d.id != leaver.deputy_id]
    serving.deputies.append(facts(200, 10))
    extended = plans.extend(pb.ExtendReportPlanRequest(year=2061, joined_in=2060), OFFICE)
    assert (list(extended.joined_ids), list(extended.withdrawn_ids)) == ([200], [leaver.deputy_id])
    after = {s.deputy_id: s.year for s in extended.slots}
    assert after[200] == 2061
    assert {i: y for i, y in after.items() if i != 200} == {
        i: y for i, y in before.items() if i != leaver.deputy_id
    }
    assert next(s for s in extended.slots if s.deputy_id == 200).joined
    with api.db.read() as session:
        kept = session.scalars(
            select(ReportSlotRow).where(ReportSlotRow.deputy_id == leaver.deputy_id)
        ).one()
        assert kept.withdrawn_at is not None
    # Nothing new: nothing written.
    before_counts = count(api, *COUNTED)
    again = plans.extend(pb.ExtendReportPlanRequest(year=2062, joined_in=2060), OFFICE)
    assert list(again.joined_ids) == [] and count(api, *COUNTED) == before_counts
    # The leaver returns late in the cycle: only the last year remains.
    serving.deputies.append(facts(leaver.deputy_id, 10))
    back = plans.extend(pb.ExtendReportPlanRequest(year=2060, joined_in=2062), OFFICE)
    assert {s.deputy_id: s.year for s in back.slots}[leaver.deputy_id] == 2062
    assert leaver.deputy_id in plans.reporting_in(2062)
    assert leaver.deputy_id not in plans.reporting_in(2061)
    assert 200 in plans.reporting_in(2061)


def test_a_joiner_after_the_cycle_is_refused_and_nothing_changes(api: Any) -> None:
    serving = Serving([facts(300, 12), facts(301, 12)])
    plans = ReportPlans(api.db, serving)
    plans.make(pb.MakeReportPlanRequest(first_year=2070), OFFICE)
    serving.deputies = [facts(300, 12), facts(302, 12)]
    before = count(api, *COUNTED)
    with pytest.raises(FailedPrecondition, match="has ended"):
        plans.extend(pb.ExtendReportPlanRequest(year=2070, joined_in=2073), OFFICE)
    assert count(api, *COUNTED) == before
    with api.db.read() as session:
        assert (
            session.scalars(
                select(ReportSlotRow.withdrawn_at).where(ReportSlotRow.deputy_id == 301)
            ).one()
            is None
        )


def test_a_deputy_token_without_a_deputy_reads_nothing(api: Any) -> None:
    plans = ReportPlans(api.db, Serving([]))
    with pytest.raises(PermissionDenied):
        plans.get(
            pb.GetReportPlanRequest(year=2027), replace(OFFICE, role=Role.DEPUTY, deputy_id=None)
        )

"""The five-ones scorecard's reads on a real PostgreSQL: the report plan
stored by the service says whose report is due, an evidence source (here a
fixed one: the duty record's entries are not kept by the service yet) the
rest; who may see a ballot's flag and whose shortfalls. Over gRPC, as wired
today, the scorecard answers FAILED_PRECONDITION naming what it lacks."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import grpc
import pytest

from duties.registry import DeputyFacts
from duties.report_plan_service import ReportPlans
from duties.scorecard import Evidence, EvidenceKind
from duties.scorecard_service import Scorecards
from kit.auth import Principal, Role
from kit.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from liaison.duties.v1 import scorecard_pb2 as pb
from liaison.duties.v1 import scorecard_pb2_grpc as pb_grpc

pytestmark = pytest.mark.postgres
K = EvidenceKind
OFFICE = Principal("office", Role.STANDING_COMMITTEE_OFFICE)
# 1 September 2080, 10:00 in Shanghai: 122 days left in the year.
NOW = datetime(2080, 9, 1, 2, 0, tzinfo=UTC)


class Serving:
    def __init__(self, deputies: list[DeputyFacts]) -> None:
        self.deputies = deputies

    def deputy(self, deputy_id: int) -> DeputyFacts:
        return next(d for d in self.deputies if d.id == deputy_id)

    def of_street(self, street_id: int) -> list[DeputyFacts]:
        return [d for d in self.deputies if d.street_id == street_id]

    def all_active(self) -> list[DeputyFacts]:
        return list(self.deputies)


class FixedEvidence:
    def __init__(self, found: dict[int, list[Evidence]]) -> None:
        self.found = found
        self.asked: list[tuple[list[int], int]] = []

    def evidence(self, deputy_ids: Collection[int], year: int) -> Mapping[int, Sequence[Evidence]]:
        self.asked.append((sorted(deputy_ids), year))
        return {i: self.found.get(i, []) for i in deputy_ids}


DEPUTIES = [DeputyFacts(i, f"代表{i}", 80 + i % 2, 1, "district", True) for i in range(800, 806)]
EVERYTHING = [
    Evidence(K.TRAINING_ATTENDED, date(2080, 3, 1), "duties/training/1"),
    Evidence(K.SUGGESTION_FOLLOWED, date(2080, 4, 1), "referral/letter/2"),
    Evidence(K.RESEARCH_REPORTED, date(2080, 5, 1), "duties/research/3"),
    Evidence(K.BALLOT_PUBLISHED, date(2080, 6, 1), "duties/ballot/4", flagged=True),
    Evidence(K.VISIT_RECORDED, date(2080, 7, 1), "duties/visit/5"),
]


@pytest.fixture(scope="module")
def world(api: Any) -> tuple[Scorecards, dict[int, int]]:
    """The cycle 2080-2082 planned for six deputies of streets 80 and 81;
    the first in each year's slot has done everything."""
    serving = Serving(DEPUTIES)
    plans = ReportPlans(api.db, serving, clock=lambda: NOW)
    plan = plans.make(pb.MakeReportPlanRequest(first_year=2080), OFFICE)
    years = {s.deputy_id: s.year for s in plan.slots}
    reporting = next(i for i, y in sorted(years.items()) if y == 2080)
    source = FixedEvidence({reporting: EVERYTHING})
    return Scorecards(serving, plans, source, clock=lambda: NOW), years


def items(card: Any) -> dict[str, str]:
    return {
        pb.FiveOnesItem.Name(r.item).removeprefix("FIVE_ONES_ITEM_").lower(): pb.ItemStatus.Name(
            r.status
        )
        .removeprefix("ITEM_STATUS_")
        .lower()
        for r in card.items
    }


def test_the_reporting_deputys_year_is_complete_with_its_flag(world: Any) -> None:
    scorecards, years = world
    reporting = next(i for i, y in sorted(years.items()) if y == 2080)
    card = scorecards.get(pb.GetScorecardRequest(deputy_id=reporting, year=2080), OFFICE)
    assert set(items(card).values()) == {"done"}
    assert list(card.short) == [] and (card.days_left, card.open) == (122, True)
    report = card.items[3]
    assert report.flagged and report.evidence[0].ref == "duties/ballot/4"
    assert report.evidence[0].day == "2080-06-01"
    # The public sees the evidence but not the flag.
    public = scorecards.get(pb.GetScorecardRequest(deputy_id=reporting, year=2080), None)
    assert not public.items[3].flagged and not public.items[3].evidence[0].flagged
    other_street = Principal("sc", Role.STREET_COMMITTEE, street_id=99)
    assert (
        not scorecards.get(pb.GetScorecardRequest(deputy_id=reporting, year=2080), other_street)
        .items[3]
        .flagged
    )


def test_the_report_is_due_only_in_the_planned_year(world: Any) -> None:
    scorecards, years = world
    later = next(i for i, y in sorted(years.items()) if y == 2081)
    card = scorecards.get(pb.GetScorecardRequest(deputy_id=later, year=2080), OFFICE)
    assert items(card) == {
        "training": "short",
        "suggestion": "short",
        "research": "short",
        "duty_report": "not_due",
        "visit": "short",
    }
    due = scorecards.get(pb.GetScorecardRequest(deputy_id=later, year=2081), OFFICE)
    assert items(due)["duty_report"] == "short"
    this_year = scorecards.get(pb.GetScorecardRequest(deputy_id=later), OFFICE)
    assert this_year.year == 2080


def test_shortfalls_of_the_district_and_a_street(world: Any) -> None:
    scorecards, years = world
    reporting = next(i for i, y in sorted(years.items()) if y == 2080)
    found = scorecards.shortfalls(pb.ListShortfallsRequest(year=2080), OFFICE)
    assert (found.deputies, found.complete, found.days_left) == (6, 1, 122)
    by_item = {r.item: list(r.deputy_ids) for r in found.items}
    others = sorted(i for i in years if i != reporting)
    assert by_item[pb.FIVE_ONES_ITEM_TRAINING] == others
    due_not_done = sorted(i for i, y in years.items() if y == 2080 and i != reporting)
    assert by_item[pb.FIVE_ONES_ITEM_DUTY_REPORT] == due_not_done
    assert list(found.flagged_ids) == [reporting]
    assert {s.street_id for s in found.streets} == {80, 81}
    street = Principal("sc", Role.STREET_COMMITTEE, street_id=80)
    mine = scorecards.shortfalls(pb.ListShortfallsRequest(year=2080), street)
    assert mine.deputies == 3 and [s.street_id for s in mine.streets] == [80]
    with pytest.raises(PermissionDenied):
        scorecards.shortfalls(pb.ListShortfallsRequest(year=2080, street_id=81), street)
    with pytest.raises(PermissionDenied):
        scorecards.shortfalls(
            pb.ListShortfallsRequest(year=2080), Principal("d", Role.DEPUTY, deputy_id=800)
        )


def test_a_bad_year_or_deputy_is_named(world: Any) -> None:
    scorecards, _ = world
    with pytest.raises(InvalidArgument) as caught:
        scorecards.get(pb.GetScorecardRequest(deputy_id=800, year=1999), OFFICE)
    assert caught.value.violations[0].field == "year"
    with pytest.raises(InvalidArgument) as caught:
        scorecards.get(pb.GetScorecardRequest(year=2080), OFFICE)
    assert caught.value.violations[0].field == "deputy_id"


def test_without_an_evidence_source_the_scorecard_says_so(api: Any) -> None:
    plans = ReportPlans(api.db, Serving(DEPUTIES))
    with pytest.raises(FailedPrecondition, match="duty record"):
        Scorecards(Serving(DEPUTIES), plans, None).get(
            pb.GetScorecardRequest(deputy_id=800), OFFICE
        )


def test_the_served_scorecard_is_public_and_shortfalls_are_not(api: Any) -> None:
    stub = pb_grpc.ScorecardServiceStub(api.channel)  # no token: the scorecard is public
    card = stub.GetScorecard(pb.GetScorecardRequest(deputy_id=1, year=2026))
    assert (card.deputy_id, card.street_id, len(card.items)) == (1, 1, 5)
    api.refused(
        lambda: stub.ListShortfalls(pb.ListShortfallsRequest()),
        grpc.StatusCode.UNAUTHENTICATED,
    )

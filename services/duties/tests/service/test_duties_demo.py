"""The demo year's report meetings and ballots, research and ratings, loaded
through the use cases into a migrated PostgreSQL database over a registry
served on real gRPC (6 streets of 9 deputies; street 6's committee has no
budget line): a third of the deputies report, every ballot is closed and
published, one deputy is flagged, one result is withheld; research is
funded from each street's own line, read with that street committee's
development token (which this registry verifies as the real one does); one
abusive rating comment is reported and hidden."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from duties import activity_models as am
from duties import ballot_demo, rating_demo, research_demo
from duties import ballot_models as bm
from duties.activity_registry import GrpcRegistryLookups
from duties.activity_service import ActivityUseCases
from duties.ballot_rules import ResultRules
from duties.ballots import Ballots
from duties.record_service import DutyRecords
from duties.registry import DeputyFacts, RegistryDeputies
from duties.testing import FakeRegistry, district, fake_registry
from kit.auth import AuthSettings, Principal, Role, TokenVerifier
from kit.db import Database
from kit.errors import FailedPrecondition, Unauthenticated
from kit.tables import outbox_events
from liaison.duties.v1 import record_pb2 as rpb_record
from liaison.registry.v1 import registry_pb2 as rpb
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc

pytestmark = pytest.mark.postgres

STREETS, PER_STREET = 6, 9
LINELESS_STREET = 6
TODAY = date(2026, 11, 27)
YEAR = TODAY.year
AUTH = AuthSettings(env="test", dev_issuer=True).with_secret()
DISTRICT = district(STREETS, PER_STREET)


class BudgetRegistry(FakeRegistry):
    """The fake registry's deputies, and street committees (unit 10 + street)
    each with an operations and a personnel line of the year but street 6's,
    served to a street committee of the line's street only (its token
    verified), as the registry's rules do; `callers`: who read lines."""

    def __init__(self) -> None:
        super().__init__(DISTRICT)
        self.verifier = TokenVerifier(AUTH)
        self.units = {10 + s: s for s in range(1, STREETS + 1)}
        self.lines = {
            line_id: rpb.BudgetLine(
                id=line_id,
                unit_id=10 + street,
                year=YEAR,
                kind=kind,
                amount_yuan=300_000,
                active=True,
            )
            for street in range(1, STREETS)
            for line_id, kind in (
                (100 + street, rpb.BUDGET_LINE_KIND_PERSONNEL),
                (200 + street, rpb.BUDGET_LINE_KIND_OPERATIONS),
            )
        }
        self.callers: list[Principal] = []

    def _caller(self, context: grpc.ServicerContext, street: int) -> None:
        bearer = str(dict(context.invocation_metadata()).get("authorization", ""))
        try:
            who = self.verifier.verify(bearer.removeprefix("Bearer "))
        except Unauthenticated:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "no valid token")
        if who.role is not Role.STREET_COMMITTEE or who.street_id != street:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "not this street's line")
        self.callers.append(who)

    def ListUnits(self, request: Any, context: grpc.ServicerContext) -> Any:
        return rpb.ListUnitsResponse(
            units=[
                rpb.Unit(id=u, kind=rpb.UNIT_KIND_STREET_COMMITTEE, street_id=s, active=True)
                for u, s in self.units.items()
                if s == request.street_id
            ]
        )

    def GetUnit(self, request: Any, context: grpc.ServicerContext) -> Any:
        return rpb.Unit(
            id=request.id,
            kind=rpb.UNIT_KIND_STREET_COMMITTEE,
            street_id=self.units[request.id],
            active=True,
        )

    def ListBudgetLines(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._caller(context, self.units[request.unit_id])
        return rpb.ListBudgetLinesResponse(
            budget_lines=[
                line
                for line in self.lines.values()
                if line.unit_id == request.unit_id and line.year == request.year
            ]
        )

    def GetBudgetLine(self, request: Any, context: grpc.ServicerContext) -> Any:
        line = self.lines[request.id]
        self._caller(context, self.units[line.unit_id])
        return line


@dataclass
class Demo:
    db: Database
    ballots: Ballots
    activities: ActivityUseCases
    records: DutyRecords
    meetings: ballot_demo.Loaded
    research: research_demo.Loaded
    ratings: rating_demo.Loaded
    budget_callers: list[Principal]


@pytest.fixture(scope="module")
def demo(duties_url: str) -> Iterator[Demo]:
    db = Database(duties_url, "duties")
    registry = BudgetRegistry()
    with fake_registry(registry=registry) as (_, target):
        channel = grpc.insecure_channel(target)
        stub = rpb_grpc.RegistryServiceStub(channel)
        deputies = RegistryDeputies(stub)
        lookups = GrpcRegistryLookups(stub)
        ballots = Ballots(db, deputies, result_rules=ResultRules())
        activities = ActivityUseCases(db, deputies, lookups)
        records = DutyRecords(db, deputies)
        everyone = deputies.all_active()
        try:
            assert not ballot_demo.has_demo(ballots)
            assert not research_demo.has_demo(activities)
            assert not rating_demo.has_demo(records)
            yield Demo(
                db,
                ballots,
                activities,
                records,
                ballot_demo.load_demo(ballots, everyone, TODAY),
                research_demo.load_demo(
                    activities,
                    everyone,
                    TODAY,
                    bearer=research_demo.CommitteeTokens(AUTH),
                    find_line=lookups.street_operations_line,
                ),
                rating_demo.load_demo(records, everyone, TODAY),
                registry.callers,
            )
        finally:
            channel.close()
            db.dispose()


def _events(db: Database) -> dict[str, int]:
    with db.read() as session:
        return dict(
            session.execute(
                select(outbox_events.c.type, func.count()).group_by(outbox_events.c.type)
            ).all()
        )


def test_a_third_of_the_deputies_report_and_every_ballot_is_published(demo: Demo) -> None:
    assert ballot_demo.has_demo(demo.ballots)
    due = STREETS * -(-PER_STREET // 3)
    assert demo.meetings.meetings == due
    with demo.db.read() as session:
        rows = session.execute(select(bm.Ballot.__table__)).all()
        meetings = session.execute(select(bm.ReportMeeting.__table__)).all()
    assert len(rows) == len(meetings) == due
    assert {r.status for r in rows} == {"published"}
    assert {m.status for m in meetings} == {"held"}
    assert all(len(m.questions) == 2 and m.held_on < TODAY for m in meetings)
    assert len({m.deputy_id for m in meetings}) == due
    assert sum(r.papers_cast for r in rows) == demo.meetings.papers
    assert all(r.papers_cast <= r.codes_issued for r in rows)
    events = _events(demo.db)
    assert events["ballot_published"] == due


def test_mostly_satisfied_a_few_basically_one_flagged_one_withheld(demo: Demo) -> None:
    with demo.db.read() as session:
        rows = session.execute(select(bm.Ballot.__table__)).all()
    shown = [r for r in rows if r.result_shown]
    mostly_satisfied = [r for r in shown if r.satisfied > r.basically_satisfied]
    mostly_basically = [r for r in shown if r.basically_satisfied > r.satisfied]
    assert len(mostly_satisfied) > len(rows) // 2
    assert 1 <= len(mostly_basically) <= len(rows) // 4
    flagged = [r for r in rows if r.flagged]
    assert [r.deputy_id for r in flagged] == [demo.meetings.flagged_deputy]
    result = demo.ballots.result(flagged[0].id, None)
    assert result.flagged and result.share < result.reelection_share
    withheld = [r for r in rows if not r.result_shown]
    assert [r.id for r in withheld] == [demo.meetings.withheld_ballot]
    assert withheld[0].papers_cast < withheld[0].min_turnout
    with pytest.raises(FailedPrecondition, match="minimum turnout"):
        demo.ballots.result(demo.meetings.withheld_ballot, None)
    published = demo.ballots.result(shown[0].id, None)
    assert published.published and published.papers_cast >= published.min_turnout


def test_research_funded_from_each_streets_own_line_with_its_committees_token(
    demo: Demo,
) -> None:
    loaded = demo.research
    assert research_demo.has_demo(demo.activities)
    assert loaded.streets_without_a_line == 1
    assert loaded.proposed == 2 * (STREETS - 1)
    assert loaded.approved + loaded.declined == loaded.proposed
    assert loaded.declined == 1  # street 5's second topic
    assert loaded.reported == loaded.approved
    assert 0 < loaded.acknowledged <= loaded.reported
    with demo.db.read() as session:
        funded = session.execute(
            select(am.Research.street_id, am.Research.budget_line_id).where(
                am.Research.budget_line_id.is_not(None)
            )
        ).all()
        streets = set(session.scalars(select(am.Research.street_id)))
    assert all(line == 200 + street for street, line in funded)
    assert LINELESS_STREET not in streets
    # Every read of a line was the line's own street committee's token.
    assert demo.budget_callers
    assert {(p.role, p.sub) for p in demo.budget_callers} == {
        (Role.STREET_COMMITTEE, f"demo:street-committee-{s}") for s in range(1, STREETS + 1)
    }
    assert _events(demo.db)["research_reported"] == loaded.reported


def test_ratings_with_comments_one_reported_and_hidden(demo: Demo) -> None:
    loaded = demo.ratings
    assert rating_demo.has_demo(demo.records)
    assert loaded.ratings > STREETS * PER_STREET
    assert 0 < loaded.comments < loaded.ratings
    office = Principal(sub="o", role=Role.STANDING_COMMITTEE_OFFICE)
    reported, _ = demo.records.list_reported(
        rpb_record.ListReportedCommentsRequest(include_moderated=True), office
    )
    assert [(r.rating_id, r.hidden, r.reports) for r in reported] == [
        (loaded.hidden_rating, True, 1)
    ]
    hidden = reported[0]
    public = demo.records.ratings(rpb_record.GetDeputyRatingsRequest(deputy_id=hidden.deputy_id))
    assert rating_demo.ABUSIVE not in [c.comment for c in public.comments]
    counted = {y.year: y.total for y in public.years}
    assert counted[YEAR] >= 1
    assert _events(demo.db)["deputy_rated"] == loaded.ratings


def test_the_report_plans_deputies_report_else_a_third_by_street_and_id() -> None:
    deputies = [DeputyFacts(i, "", 1 + i % 2, 1, "district", True) for i in range(1, 11)]
    assert ballot_demo.reporting(deputies) == [1, 2, 7, 8]
    # The plan's year's deputies, those still serving (99 is not).
    assert ballot_demo.reporting(deputies, planned={3, 4, 99}) == [3, 4]

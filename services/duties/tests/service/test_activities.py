"""Activities, research and visits over the duties service's gRPC API, on
a real PostgreSQL, with the registry served over real gRPC
(`duties.testing`'s deputies, plus stations, units and budget lines here):
role and street checks on every call, a refused call changes nothing,
events carry ids and dates only, and two concurrent grants cannot overdraw
a budget line."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from duties.api import SERVICE_NAMES, register
from duties.bootstrap import DutiesBootstrap
from duties.settings import DutiesSettings
from duties.testing import DEPUTIES, FakeRegistry
from kit.grpc_client import with_bearer
from kit.tables import audit_entries, outbox_events
from kit.testrun import DevTokens, field_errors, refused, serving
from kit.workdays import SHANGHAI
from liaison.duties.v1 import activities_pb2 as pb
from liaison.duties.v1 import activities_pb2_grpc as pb_grpc
from liaison.registry.v1 import registry_pb2 as rpb
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc

pytestmark = pytest.mark.postgres

TOKENS = DevTokens()
YEAR = datetime.now(SHANGHAI).year


def today() -> date:
    """The service's today (Asia/Shanghai) when asked: a run may pass midnight."""
    return datetime.now(SHANGHAI).date()


COMMITTEE = {"sub": "c1", "role": "street_committee", "street_id": 1}
COMMITTEE_2 = {"sub": "c2", "role": "street_committee", "street_id": 2}
STATION = {"sub": "s1", "role": "station_staff", "street_id": 1}
OFFICE = {"sub": "o", "role": "standing_committee_office"}
ADMIN = {"sub": "a", "role": "admin"}
CONSTITUENT = {"sub": "p", "role": "constituent"}


def deputy(deputy_id: int) -> dict[str, Any]:
    return {"sub": f"d{deputy_id}", "role": "deputy", "deputy_id": deputy_id}


class Registry(FakeRegistry):
    """The fake registry's deputies (1-4 of street 1, 5-6 of street 2, 7
    no longer serving), stations 1-2 of street 1 and 3 of street 2 (4
    closed), street committees 11 (street 1) and 12 (street 2), and budget
    lines: 5 (street 1's operations, 10 000 yuan), 6 (street 1's personnel),
    8 (street 2's operations). Budget lines only with a token."""

    def __init__(self) -> None:
        super().__init__(DEPUTIES)
        self.stations = {1: (1, True), 2: (1, True), 3: (2, True), 4: (1, False)}
        self.units = {11: 1, 12: 2}
        ops, staff = rpb.BUDGET_LINE_KIND_OPERATIONS, rpb.BUDGET_LINE_KIND_PERSONNEL
        self.lines = {
            5: rpb.BudgetLine(
                id=5, unit_id=11, year=YEAR, kind=ops, amount_yuan=10_000, active=True
            ),
            6: rpb.BudgetLine(
                id=6, unit_id=11, year=YEAR, kind=staff, amount_yuan=70_000, active=True
            ),
            8: rpb.BudgetLine(
                id=8, unit_id=12, year=YEAR, kind=ops, amount_yuan=10_000, active=True
            ),
        }
        self.bearers: list[str] = []

    def GetStation(self, request: Any, context: grpc.ServicerContext) -> Any:
        if request.id not in self.stations:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no station {request.id}")
        street, active = self.stations[request.id]
        return rpb.Station(id=request.id, street_id=street, active=active)

    def GetUnit(self, request: Any, context: grpc.ServicerContext) -> Any:
        if request.id not in self.units:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no unit {request.id}")
        return rpb.Unit(
            id=request.id,
            kind=rpb.UNIT_KIND_STREET_COMMITTEE,
            street_id=self.units[request.id],
            active=True,
        )

    def GetBudgetLine(self, request: Any, context: grpc.ServicerContext) -> Any:
        bearer = dict(context.invocation_metadata()).get("authorization", "")
        self.bearers.append(str(bearer))
        if not bearer:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "a bearer token is required")
        if request.id not in self.lines:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no budget line {request.id}")
        return self.lines[request.id]


@dataclasses.dataclass
class Api:
    boot: DutiesBootstrap
    channel: grpc.Channel
    registry: Registry

    def as_(self, who: dict[str, Any] | None) -> pb_grpc.ActivityServiceStub:
        ch = self.channel if who is None else with_bearer(self.channel, TOKENS.token(who))
        return pb_grpc.ActivityServiceStub(ch)

    def counts(self) -> tuple[int, int]:
        """Audit entries and events so far: a refused call adds neither."""
        with self.boot.db.read() as session:
            return (
                session.scalar(select(func.count()).select_from(audit_entries)) or 0,
                session.scalar(select(func.count()).select_from(outbox_events)) or 0,
            )

    def events(self, kind: str) -> list[dict[str, Any]]:
        with self.boot.db.read() as session:
            bodies = session.scalars(
                select(outbox_events.c.body)
                .where(outbox_events.c.type == kind)
                .order_by(outbox_events.c.sequence)
            )
            return [json.loads(b)["payload"] for b in bodies]


@pytest.fixture(scope="module")
def api(duties_url: str) -> Iterator[Api]:
    registry = Registry()
    server = grpc.server(ThreadPoolExecutor(max_workers=8))
    rpb_grpc.add_RegistryServiceServicer_to_server(registry, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    settings = dataclasses.replace(
        DutiesSettings.load("duties", "api"),
        database_url=duties_url,
        auth=TOKENS.auth,
        registry_target=f"127.0.0.1:{port}",
    )
    boot = DutiesBootstrap(settings)
    try:
        with serving(
            settings,
            register=lambda s: register(s, boot),
            service_names=SERVICE_NAMES,
            readiness=boot.ready,
        ) as (channel, _):
            yield Api(boot, channel, registry)
    finally:
        boot.close()
        server.stop(0).wait()


def schedule(api: Api, who: dict[str, Any] = COMMITTEE, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "kind": pb.ACTIVITY_KIND_TRAINING,
        "title": "代表履职培训",
        "starts_on": today().isoformat(),
        "place": "林和街道代表之家",
        "organiser": "林和街道人大工委",
    }
    return api.as_(who).ScheduleActivity(pb.ScheduleActivityRequest(**(fields | changes)))


# ---------------------------------------------------------------- activities


def test_an_activity_from_invitation_to_attendance_with_its_event(api: Api) -> None:
    activity = schedule(api)
    assert (activity.level, activity.street_id, activity.ends_on) == (
        pb.ORGANISER_LEVEL_STREET,
        1,
        today().isoformat(),
    )
    invited = api.as_(STATION).InviteDeputies(
        pb.InviteDeputiesRequest(activity_id=activity.id, deputy_ids=[1, 2, 3, 1])
    )
    assert [i.deputy_id for i in invited.invitations] == [1, 2, 3]
    # Inviting again leaves those invited as they are.
    again = api.as_(COMMITTEE).InviteDeputies(
        pb.InviteDeputiesRequest(activity_id=activity.id, deputy_ids=[1, 4])
    )
    assert again.invited == 4
    signed = api.as_(deputy(1)).SignUp(pb.SignUpRequest(activity_id=activity.id))
    assert [i.deputy_id for i in signed.invitations] == [1], "a deputy sees their own invitation"
    assert signed.invitations[0].HasField("signed_up_at") and signed.signed_up == 1

    entries = [
        pb.AttendanceEntry(deputy_id=1, attendance=pb.ATTENDANCE_ATTENDED),
        pb.AttendanceEntry(deputy_id=2, attendance=pb.ATTENDANCE_ABSENT_WITH_LEAVE),
        pb.AttendanceEntry(deputy_id=3, attendance=pb.ATTENDANCE_ATTENDED),
    ]
    recorded = api.as_(COMMITTEE).RecordAttendance(
        pb.RecordAttendanceRequest(activity_id=activity.id, entries=entries)
    )
    assert recorded.attended == 2
    attended = [e for e in api.events("activity_attended") if e["activity_id"] == str(activity.id)]
    assert attended == [
        {
            "deputy_id": str(d),
            "activity_id": str(activity.id),
            "kind": "ACTIVITY_KIND_TRAINING",
            "starts_on": today().isoformat(),
            "ends_on": today().isoformat(),
        }
        for d in (1, 3)
    ]
    # The same again is no change and no second event; a different one is refused.
    before = api.counts()
    api.as_(COMMITTEE).RecordAttendance(
        pb.RecordAttendanceRequest(activity_id=activity.id, entries=entries[:1])
    )
    assert api.counts() == before
    error = refused(
        lambda: api.as_(COMMITTEE).RecordAttendance(
            pb.RecordAttendanceRequest(
                activity_id=activity.id,
                entries=[pb.AttendanceEntry(deputy_id=1, attendance=pb.ATTENDANCE_ABSENT)],
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "recorded already as attended" in field_errors(error)["entries[1]"]
    assert api.counts() == before


def test_each_invitation_publishes_one_event_naming_only_the_newly_invited(api: Api) -> None:
    tomorrow = today() + timedelta(days=1)
    activity = schedule(
        api, starts_on=tomorrow.isoformat(), ends_on=(tomorrow + timedelta(1)).isoformat()
    )

    def sent() -> list[dict[str, Any]]:
        return [
            e
            for e in api.events("activity_invitation_sent")
            if e["activity_id"] == str(activity.id)
        ]

    api.as_(STATION).InviteDeputies(
        pb.InviteDeputiesRequest(activity_id=activity.id, deputy_ids=[3, 1, 2, 1])
    )
    assert sent() == [
        {
            "activity_id": str(activity.id),
            "kind": "ACTIVITY_KIND_TRAINING",
            "title": "代表履职培训",
            "starts_on": tomorrow.isoformat(),
            "ends_on": (tomorrow + timedelta(1)).isoformat(),
            "street_id": "1",
            "deputy_ids": ["3", "1", "2"],
        }
    ]
    # The whole payload above: ids, kind, title and days, no deputy's name.
    # Again with one new deputy: a second event naming only them.
    api.as_(COMMITTEE).InviteDeputies(
        pb.InviteDeputiesRequest(activity_id=activity.id, deputy_ids=[1, 4, 2])
    )
    assert [e["deputy_ids"] for e in sent()] == [["3", "1", "2"], ["4"]]
    # Nobody new: no event, no audit entry.
    before = api.counts()
    api.as_(COMMITTEE).InviteDeputies(
        pb.InviteDeputiesRequest(activity_id=activity.id, deputy_ids=[4, 3])
    )
    assert api.counts() == before and len(sent()) == 2
    # A district activity's: no street, deputies of any street.
    district = schedule(api, OFFICE, kind=pb.ACTIVITY_KIND_INSPECTION, organiser="区人大常委会")
    api.as_(OFFICE).InviteDeputies(
        pb.InviteDeputiesRequest(activity_id=district.id, deputy_ids=[5, 1])
    )
    (event,) = [
        e for e in api.events("activity_invitation_sent") if e["activity_id"] == str(district.id)
    ]
    assert "street_id" not in event, "0, the default, is left out of the JSON"
    assert (event["kind"], event["deputy_ids"]) == ("ACTIVITY_KIND_INSPECTION", ["5", "1"])


def test_a_street_organiser_invites_only_its_streets_serving_deputies(api: Api) -> None:
    activity = schedule(api)
    before = api.counts()
    error = refused(
        lambda: api.as_(COMMITTEE).InviteDeputies(
            pb.InviteDeputiesRequest(activity_id=activity.id, deputy_ids=[1, 5, 7])
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert field_errors(error) == {
        "deputy_ids[1]": "deputy 5 is not a deputy of street 1 (the organiser invites its own "
        "street's deputies)",
        "deputy_ids[2]": "deputy 7 no longer serves",
    }
    refused(
        lambda: api.as_(COMMITTEE_2).InviteDeputies(
            pb.InviteDeputiesRequest(activity_id=activity.id, deputy_ids=[5])
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    refused(
        lambda: api.as_(COMMITTEE).InviteDeputies(
            pb.InviteDeputiesRequest(activity_id=activity.id, deputy_ids=[404])
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert api.counts() == before
    assert api.as_(OFFICE).GetActivity(pb.GetActivityRequest(id=activity.id)).invited == 0
    # The district invites any street's deputies.
    district = schedule(api, OFFICE, kind=pb.ACTIVITY_KIND_INSPECTION, organiser="区人大常委会")
    assert district.level == pb.ORGANISER_LEVEL_DISTRICT and district.street_id == 0
    both = api.as_(OFFICE).InviteDeputies(
        pb.InviteDeputiesRequest(activity_id=district.id, deputy_ids=[1, 5])
    )
    assert both.invited == 2


def test_who_schedules_and_for_which_station(api: Api) -> None:
    station = schedule(api, STATION, station_id=2, kind=pb.ACTIVITY_KIND_FORUM)
    assert (station.level, station.station_id, station.street_id) == (
        pb.ORGANISER_LEVEL_STATION,
        2,
        1,
    )
    before = api.counts()
    for station_id in (3, 4):  # another street's; a closed one
        error = refused(
            lambda s=station_id: schedule(api, STATION, station_id=s),
            grpc.StatusCode.PERMISSION_DENIED,
        )
        assert f"station {station_id} is not an active station of street 1" in error.details()
    assert "station_id" in field_errors(
        refused(lambda: schedule(api, STATION), grpc.StatusCode.INVALID_ARGUMENT)
    )
    for who in (deputy(1), ADMIN, CONSTITUENT):
        refused(lambda w=who: schedule(api, w), grpc.StatusCode.PERMISSION_DENIED)
    errors = field_errors(
        refused(
            lambda: schedule(api, kind=0, title="", starts_on="2026-13-01"),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    )
    assert set(errors) == {"kind", "title", "starts_on"}
    assert errors["starts_on"] == "'2026-13-01' is not a date (YYYY-MM-DD)"
    errors = field_errors(
        refused(lambda: schedule(api, kind=0, title=""), grpc.StatusCode.INVALID_ARGUMENT)
    )
    assert set(errors) == {"kind", "title"}
    assert api.counts() == before


def test_sign_up_and_attendance_keep_to_their_days(api: Api) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    ahead = schedule(api, starts_on=tomorrow)
    api.as_(COMMITTEE).InviteDeputies(
        pb.InviteDeputiesRequest(activity_id=ahead.id, deputy_ids=[2])
    )
    before = api.counts()
    error = refused(
        lambda: api.as_(COMMITTEE).RecordAttendance(
            pb.RecordAttendanceRequest(
                activity_id=ahead.id,
                entries=[pb.AttendanceEntry(deputy_id=2, attendance=pb.ATTENDANCE_ATTENDED)],
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert f"first day, {tomorrow}" in error.details()
    refused(
        lambda: api.as_(deputy(1)).SignUp(pb.SignUpRequest(activity_id=ahead.id)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    refused(
        lambda: api.as_(COMMITTEE).SignUp(pb.SignUpRequest(activity_id=ahead.id)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert api.counts() == before
    api.as_(deputy(2)).SignUp(pb.SignUpRequest(activity_id=ahead.id))
    # Begun three days ago and still on: invitations are open, sign-up is closed.
    past = schedule(
        api,
        starts_on=(today() - timedelta(days=3)).isoformat(),
        ends_on=(today() + timedelta(days=1)).isoformat(),
    )
    api.as_(COMMITTEE).InviteDeputies(pb.InviteDeputiesRequest(activity_id=past.id, deputy_ids=[2]))
    refused(
        lambda: api.as_(deputy(2)).SignUp(pb.SignUpRequest(activity_id=past.id)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    over = schedule(api, starts_on=(today() - timedelta(days=3)).isoformat())
    error = refused(
        lambda: api.as_(COMMITTEE).InviteDeputies(
            pb.InviteDeputiesRequest(activity_id=over.id, deputy_ids=[2])
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "no more invitations" in error.details()


def test_who_reads_and_lists_activities(api: Api) -> None:
    mine = schedule(api, title="只邀请代表4")
    api.as_(COMMITTEE).InviteDeputies(pb.InviteDeputiesRequest(activity_id=mine.id, deputy_ids=[4]))
    other = schedule(api, COMMITTEE_2, title="街道二的活动")
    get = pb.GetActivityRequest
    assert api.as_(deputy(4)).GetActivity(get(id=mine.id)).id == mine.id
    for who, activity_id in ((deputy(2), mine.id), (COMMITTEE, other.id), (STATION, other.id)):
        refused(
            lambda w=who, a=activity_id: api.as_(w).GetActivity(get(id=a)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    refused(
        lambda: api.as_(CONSTITUENT).GetActivity(get(id=mine.id)), grpc.StatusCode.PERMISSION_DENIED
    )
    refused(lambda: api.as_(OFFICE).GetActivity(get(id=10**9)), grpc.StatusCode.NOT_FOUND)
    listed = api.as_(deputy(4)).ListActivities(pb.ListActivitiesRequest(year=YEAR))
    assert mine.id in {a.id for a in listed.activities}
    assert all(
        a.level == pb.ORGANISER_LEVEL_DISTRICT
        or a.id == mine.id
        or 4 in {i.deputy_id for i in a.invitations}
        for a in listed.activities
    )
    street_1 = api.as_(COMMITTEE).ListActivities(pb.ListActivitiesRequest(page=None))
    assert street_1.activities and {a.street_id for a in street_1.activities} == {1}
    by_street = api.as_(OFFICE).ListActivities(pb.ListActivitiesRequest(street_id=2))
    assert [a.id for a in by_street.activities] == [other.id]


def test_the_years_figures_by_kind_street_and_district(api: Api) -> None:
    district = api.as_(OFFICE).GetActivityFigures(pb.GetActivityFiguresRequest(year=YEAR))
    street_1 = api.as_(STATION).GetActivityFigures(pb.GetActivityFiguresRequest(year=YEAR))
    by_street = {s.street_id: s for s in district.streets}
    assert street_1.total == by_street[1].total
    assert [s.street_id for s in street_1.streets] == [1]
    with api.boot.db.read() as session:
        from duties import activity_models as m

        attended = session.scalar(
            select(func.count())
            .select_from(m.Invitation)
            .join(m.Activity, m.Activity.id == m.Invitation.activity_id)
            .where(m.Invitation.attendance == "attended", m.Activity.year == YEAR)
        )
        activities = session.scalar(
            select(func.count()).select_from(m.Activity).where(m.Activity.year == YEAR)
        )
    assert (district.total.person_times, district.total.activities) == (attended, activities)
    training = {k.kind: k for k in district.by_kind}[pb.ACTIVITY_KIND_TRAINING]
    assert training.person_times >= 2
    refused(
        lambda: api.as_(COMMITTEE).GetActivityFigures(
            pb.GetActivityFiguresRequest(year=YEAR, street_id=2)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    refused(
        lambda: api.as_(deputy(1)).GetActivityFigures(pb.GetActivityFiguresRequest(year=YEAR)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "year" in field_errors(
        refused(
            lambda: api.as_(OFFICE).GetActivityFigures(pb.GetActivityFiguresRequest()),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    )


# ---------------------------------------------------------------- research


def propose(api: Api, deputy_id: int = 1, amount: int = 4_000) -> Any:
    return api.as_(deputy(deputy_id)).ProposeResearch(
        pb.ProposeResearchRequest(
            title="老旧小区加装电梯", plan="走访三个社区", amount_requested_yuan=amount
        )
    )


def test_research_from_proposal_to_acknowledgement(api: Api) -> None:
    research = propose(api)
    assert (research.state, research.street_id, research.year) == (
        pb.RESEARCH_STATE_PROPOSED,
        1,
        YEAR,
    )
    approve = pb.ApproveResearchRequest(id=research.id, budget_line_id=5, amount_yuan=3_000)
    approved = api.as_(COMMITTEE).ApproveResearch(approve)
    assert (approved.state, approved.amount_granted_yuan, approved.budget_line_id) == (
        pb.RESEARCH_STATE_APPROVED,
        3_000,
        5,
    )
    assert api.registry.bearers[-1].startswith("Bearer "), (
        "the line is read with the caller's token"
    )
    refused(
        lambda: api.as_(deputy(2)).ReportResearch(
            pb.ReportResearchRequest(id=research.id, text="x")
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    reported = api.as_(deputy(1)).ReportResearch(
        pb.ReportResearchRequest(id=research.id, text="调研报告正文")
    )
    assert reported.state == pb.RESEARCH_STATE_REPORTED
    assert api.events("research_reported")[-1] == {
        "deputy_id": "1",
        "research_id": str(research.id),
        "year": YEAR,
        "reported_on": today().isoformat(),
    }
    refused(
        lambda: api.as_(COMMITTEE).AcknowledgeResearch(
            pb.AcknowledgeResearchRequest(id=research.id)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    done = api.as_(OFFICE).AcknowledgeResearch(pb.AcknowledgeResearchRequest(id=research.id))
    assert done.state == pb.RESEARCH_STATE_ACKNOWLEDGED
    refused(
        lambda: api.as_(OFFICE).AcknowledgeResearch(pb.AcknowledgeResearchRequest(id=research.id)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )


def test_a_grant_above_the_lines_remaining_amount_is_refused_naming_it(api: Api) -> None:
    granted = _granted(api, 5)
    research = propose(api, amount=10_000)
    before = api.counts()
    over = 10_000 - granted + 1
    error = refused(
        lambda: api.as_(COMMITTEE).ApproveResearch(
            pb.ApproveResearchRequest(id=research.id, budget_line_id=5, amount_yuan=over)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert f"remaining {10_000 - granted} yuan" in error.details()
    for line, code in (
        (8, grpc.StatusCode.PERMISSION_DENIED),  # street 2's line
        (6, grpc.StatusCode.INVALID_ARGUMENT),  # a personnel line
        (404, grpc.StatusCode.NOT_FOUND),
    ):
        refused(
            lambda li=line: api.as_(COMMITTEE).ApproveResearch(
                pb.ApproveResearchRequest(id=research.id, budget_line_id=li, amount_yuan=100)
            ),
            code,
        )
    refused(
        lambda: api.as_(COMMITTEE_2).ApproveResearch(
            pb.ApproveResearchRequest(id=research.id, budget_line_id=8, amount_yuan=100)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert api.counts() == before
    got = api.as_(deputy(1)).GetResearch(pb.GetResearchRequest(id=research.id))
    assert got.state == pb.RESEARCH_STATE_PROPOSED and _granted(api, 5) == granted


def _granted(api: Api, line: int) -> int:
    from duties import activity_models as m

    with api.boot.db.read() as session:
        return int(
            session.scalar(
                select(func.coalesce(func.sum(m.Research.amount_granted_yuan), 0)).where(
                    m.Research.budget_line_id == line
                )
            )
            or 0
        )


def test_concurrent_grants_cannot_overdraw_a_line(api: Api) -> None:
    # Street 2's line, untouched so far: 10 000 yuan; six grants of 3 000 at once.
    topics = [propose(api, deputy_id=5 + i % 2, amount=3_000) for i in range(6)]
    start = threading.Barrier(len(topics))

    def grant(research_id: int) -> grpc.StatusCode:
        stub = api.as_(COMMITTEE_2)
        start.wait()
        try:
            stub.ApproveResearch(
                pb.ApproveResearchRequest(id=research_id, budget_line_id=8, amount_yuan=3_000)
            )
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    with ThreadPoolExecutor(max_workers=len(topics)) as pool:
        codes = list(pool.map(grant, [t.id for t in topics]))
    assert sorted(c.name for c in codes) == ["FAILED_PRECONDITION"] * 3 + ["OK"] * 3
    assert _granted(api, 8) == 9_000


def test_who_proposes_declines_and_reads_research(api: Api) -> None:
    before = api.counts()
    for who in (COMMITTEE, OFFICE):
        refused(
            lambda w=who: api.as_(w).ProposeResearch(
                pb.ProposeResearchRequest(title="t", plan="p", amount_requested_yuan=1)
            ),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    refused(lambda: propose(api, deputy_id=7), grpc.StatusCode.FAILED_PRECONDITION)
    errors = field_errors(
        refused(
            lambda: api.as_(deputy(1)).ProposeResearch(pb.ProposeResearchRequest(year=1999)),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    )
    assert set(errors) == {"title", "plan", "amount_requested_yuan", "year"}
    assert api.counts() == before
    research = propose(api, deputy_id=2)
    declined = api.as_(COMMITTEE).DeclineResearch(
        pb.DeclineResearchRequest(id=research.id, reason="与已有课题重复")
    )
    assert declined.state == pb.RESEARCH_STATE_DECLINED
    get = pb.GetResearchRequest(id=research.id)
    for who in (deputy(1), COMMITTEE_2, STATION):
        refused(lambda w=who: api.as_(w).GetResearch(get), grpc.StatusCode.PERMISSION_DENIED)
    assert api.as_(deputy(2)).GetResearch(get).decline_reason == "与已有课题重复"
    mine = api.as_(deputy(2)).ListResearch(pb.ListResearchRequest())
    assert {r.deputy_id for r in mine.research} == {2}
    street_2 = api.as_(COMMITTEE_2).ListResearch(pb.ListResearchRequest())
    assert {r.street_id for r in street_2.research} == {2}


# ---------------------------------------------------------------- visits


def record_visit(api: Api, who: dict[str, Any] = COMMITTEE, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "deputy_id": 3,
        "visited_on": today().isoformat(),
        "visitors": ["王主任", "李干事"],
        "place": "林和小学",
        "raised": "学校周边交通拥堵",
    }
    return api.as_(who).RecordVisit(pb.RecordVisitRequest(**(fields | changes)))


def test_a_visit_with_follow_ups_kept_as_an_archive(api: Api) -> None:
    visit = record_visit(api)
    assert (visit.street_id, list(visit.visitors)) == (1, ["王主任", "李干事"])
    assert api.events("visit_recorded")[-1] == {
        "deputy_id": "3",
        "visit_id": str(visit.id),
        "street_id": "1",
        "visited_on": today().isoformat(),
    }
    first = api.as_(COMMITTEE).AddFollowUp(
        pb.AddFollowUpRequest(visit_id=visit.id, text="协调交警")
    )
    follow_up = first.follow_ups[0]
    answered = api.as_(COMMITTEE).AnswerFollowUp(
        pb.AnswerFollowUpRequest(
            visit_id=visit.id, follow_up_id=follow_up.id, answer="已增设信号灯"
        )
    )
    assert answered.follow_ups[0].answer == "已增设信号灯"
    before = api.counts()
    refused(
        lambda: api.as_(COMMITTEE).AnswerFollowUp(
            pb.AnswerFollowUpRequest(visit_id=visit.id, follow_up_id=follow_up.id, answer="改")
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    refused(
        lambda: api.as_(COMMITTEE_2).AddFollowUp(
            pb.AddFollowUpRequest(visit_id=visit.id, text="x")
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    refused(
        lambda: api.as_(COMMITTEE).AnswerFollowUp(
            pb.AnswerFollowUpRequest(visit_id=visit.id, follow_up_id=10**9, answer="x")
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert api.counts() == before
    second = api.as_(COMMITTEE).AddFollowUp(pb.AddFollowUpRequest(visit_id=visit.id, text="再跟进"))
    assert [f.text for f in second.follow_ups] == ["协调交警", "再跟进"]


def test_a_visit_to_another_streets_deputy_is_refused_and_changes_nothing(api: Api) -> None:
    before = api.counts()
    error = refused(lambda: record_visit(api, deputy_id=5), grpc.StatusCode.PERMISSION_DENIED)
    assert "the deputy is a deputy of street 2" in error.details()
    for who in (STATION, OFFICE, deputy(3)):
        refused(lambda w=who: record_visit(api, w), grpc.StatusCode.PERMISSION_DENIED)
    refused(lambda: record_visit(api, deputy_id=7), grpc.StatusCode.FAILED_PRECONDITION)
    errors = field_errors(
        refused(
            lambda: record_visit(
                api, visited_on=(today() + timedelta(days=1)).isoformat(), visitors=[], place=""
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    )
    assert set(errors) == {"visited_on", "visitors", "place"}
    assert api.counts() == before


def test_who_reads_visits(api: Api) -> None:
    visit = record_visit(api, deputy_id=4)
    get = pb.GetVisitRequest(id=visit.id)
    for who in (deputy(4), COMMITTEE, OFFICE, ADMIN):
        assert api.as_(who).GetVisit(get).id == visit.id
    for who in (deputy(3), COMMITTEE_2, STATION, CONSTITUENT):
        refused(lambda w=who: api.as_(w).GetVisit(get), grpc.StatusCode.PERMISSION_DENIED)
    mine = api.as_(deputy(4)).ListVisits(pb.ListVisitsRequest(year=YEAR))
    assert {v.deputy_id for v in mine.visits} == {4}
    assert api.as_(COMMITTEE_2).ListVisits(pb.ListVisitsRequest()).visits == []
    refused(
        lambda: api.as_(None).ListVisits(pb.ListVisitsRequest()), grpc.StatusCode.UNAUTHENTICATED
    )


def test_a_streets_deputies_not_yet_visited(api: Api) -> None:
    coverage = pb.GetVisitCoverageRequest
    before = api.as_(COMMITTEE).GetVisitCoverage(coverage(year=YEAR))
    # Street 1's serving deputies are 1-4 (7 no longer serves); 3 and 4 are visited above.
    assert (before.street_id, before.deputies) == (1, 4)
    assert set(before.not_visited_deputy_ids) <= {1, 2}
    record_visit(api, deputy_id=1)
    record_visit(api, deputy_id=2)
    after = api.as_(OFFICE).GetVisitCoverage(coverage(year=YEAR, street_id=1))
    assert (after.visited, list(after.not_visited_deputy_ids)) == (4, [])
    street_2 = api.as_(COMMITTEE_2).GetVisitCoverage(coverage(year=YEAR))
    assert (street_2.deputies, list(street_2.not_visited_deputy_ids)) == (2, [5, 6])
    assert api.as_(OFFICE).GetVisitCoverage(coverage(year=YEAR - 1, street_id=1)).visited == 0
    refused(
        lambda: api.as_(COMMITTEE).GetVisitCoverage(coverage(year=YEAR, street_id=2)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    for who in (deputy(1), STATION):
        refused(
            lambda w=who: api.as_(w).GetVisitCoverage(coverage(year=YEAR)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    assert "street_id" in field_errors(
        refused(
            lambda: api.as_(OFFICE).GetVisitCoverage(coverage(year=YEAR)),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    )

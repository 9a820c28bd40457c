"""Activities, research and visits through the gateway
(gateway/routes/activities.py), over a fake ActivityService of this file:
what each route sends and answers, the roles the gateway refuses early,
bodies checked before any call, the service's refusals as problem+json
naming what is wrong, and the OpenAPI. The rules themselves are tested on
the duties service (services/duties/tests)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf.message import Message
from grpc_status import rpc_status

from gateway.routes import activities
from kit.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    NotFound,
    PermissionDenied,
    to_rpc_status,
)
from liaison.common.v1 import envelope_pb2
from liaison.duties.v1 import activities_pb2 as pb
from liaison.duties.v1 import activities_pb2_grpc as pb_grpc

from .conftest import fake_upstream

Problem = Callable[..., Any]
ACTIVITY = {
    "kind": "training",
    "title": "代表履职培训",
    "starts_on": "2026-05-12",
    "place": "林和街道代表之家",
    "organiser": "林和街道人大工委",
}
VISIT = {
    "deputy_id": 7,
    "visited_on": "2026-05-20",
    "visitors": ["王主任", "李干事"],
    "place": "林和小学",
    "raised": "学校周边交通拥堵",
}


class FakeActivities(pb_grpc.ActivityServiceServicer):
    """The ActivityService as the routes see it: activity 31, research 41
    and visit 51 exist; deputy 99 is of another street; a grant above 5000
    yuan exceeds the line. `last` keeps each method's last request."""

    def __init__(self) -> None:
        self.last: dict[str, Message] = {}

    def _refuse(self, context: grpc.ServicerContext, error: DomainError) -> None:
        context.abort_with_status(rpc_status.to_status(to_rpc_status(error, "duties")))

    def _activity(self, **changes: Any) -> Message:
        activity = pb.Activity(
            id=31,
            kind=pb.ACTIVITY_KIND_TRAINING,
            title="代表履职培训",
            starts_on="2026-05-12",
            ends_on="2026-05-12",
            place="林和街道代表之家",
            organiser="林和街道人大工委",
            level=pb.ORGANISER_LEVEL_STREET,
            street_id=1,
        )
        for name, value in changes.items():
            if isinstance(value, list):
                getattr(activity, name).extend(value)
            else:
                setattr(activity, name, value)
        return activity

    def _research(self, **changes: Any) -> Message:
        research = pb.Research(
            id=41,
            deputy_id=1,
            street_id=1,
            year=2026,
            title="老旧小区加装电梯",
            plan="走访三个社区",
            amount_requested_yuan=8000,
            state=pb.RESEARCH_STATE_PROPOSED,
        )
        for name, value in changes.items():
            setattr(research, name, value)
        return research

    def _visit(self, follow_ups: list[Message] | None = None) -> Message:
        return pb.Visit(
            id=51,
            deputy_id=7,
            street_id=1,
            visited_on="2026-05-20",
            visitors=["王主任"],
            place="林和小学",
            raised="交通",
            follow_ups=follow_ups or [],
        )

    def ScheduleActivity(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["ScheduleActivity"] = request
        return self._activity(title=request.title, kind=request.kind)

    def GetActivity(self, request: Any, context: grpc.ServicerContext) -> Message:
        if request.id != 31:
            self._refuse(context, NotFound(f"no activity {request.id}"))
        return self._activity()

    def ListActivities(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["ListActivities"] = request
        return pb.ListActivitiesResponse(
            activities=[self._activity()], page=envelope_pb2.PageInfo(total_size=1)
        )

    def InviteDeputies(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["InviteDeputies"] = request
        if 99 in request.deputy_ids:
            self._refuse(
                context,
                PermissionDenied(
                    "the invitation names deputies outside the organiser's scope",
                    [FieldViolation("deputy_ids[0]", "deputy 99 is not a deputy of street 1")],
                ),
            )
        invitations = [pb.Invitation(deputy_id=d) for d in request.deputy_ids]
        return self._activity(invitations=invitations, invited=len(invitations))

    def SignUp(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["SignUp"] = request
        return self._activity()

    def RecordAttendance(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["RecordAttendance"] = request
        invitations = [
            pb.Invitation(deputy_id=e.deputy_id, attendance=e.attendance) for e in request.entries
        ]
        return self._activity(invitations=invitations)

    def GetActivityFigures(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["GetActivityFigures"] = request
        training = pb.KindFigures(kind=pb.ACTIVITY_KIND_TRAINING, activities=2, person_times=40)
        total = pb.KindFigures(activities=2, person_times=40)
        return pb.ActivityFigures(
            year=request.year,
            by_kind=[training],
            total=total,
            streets=[pb.StreetActivityFigures(street_id=1, by_kind=[training], total=total)],
        )

    def ProposeResearch(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["ProposeResearch"] = request
        return self._research(title=request.title)

    def GetResearch(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._research()

    def ListResearch(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["ListResearch"] = request
        return pb.ListResearchResponse(research=[self._research()])

    def ApproveResearch(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["ApproveResearch"] = request
        if request.amount_yuan > 5000:
            self._refuse(
                context,
                FailedPrecondition(
                    f"the grant of {request.amount_yuan} yuan exceeds budget line "
                    f"{request.budget_line_id}'s remaining 5000 yuan"
                ),
            )
        return self._research(
            state=pb.RESEARCH_STATE_APPROVED,
            budget_line_id=request.budget_line_id,
            amount_granted_yuan=request.amount_yuan,
        )

    def DeclineResearch(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._research(state=pb.RESEARCH_STATE_DECLINED, decline_reason=request.reason)

    def ReportResearch(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._research(state=pb.RESEARCH_STATE_REPORTED, report=request.text)

    def AcknowledgeResearch(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._research(state=pb.RESEARCH_STATE_ACKNOWLEDGED)

    def RecordVisit(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["RecordVisit"] = request
        if request.deputy_id == 99:
            self._refuse(
                context,
                PermissionDenied(
                    "a street committee of street 1 may not record a visit to this deputy: "
                    "the deputy is a deputy of street 2"
                ),
            )
        return self._visit()

    def GetVisit(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._visit()

    def ListVisits(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["ListVisits"] = request
        return pb.ListVisitsResponse(visits=[self._visit()])

    def AddFollowUp(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["AddFollowUp"] = request
        return self._visit([pb.FollowUp(id=61, text=request.text)])

    def GetVisitCoverage(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["GetVisitCoverage"] = request
        return pb.VisitCoverage(
            year=request.year,
            street_id=request.street_id or 1,
            deputies=17,
            visited=15,
            not_visited_deputy_ids=[4, 9],
        )

    def AnswerFollowUp(self, request: Any, context: grpc.ServicerContext) -> Message:
        self.last["AnswerFollowUp"] = request
        return self._visit([pb.FollowUp(id=61, text="协调", answer=request.answer)])


@pytest.fixture(scope="module")
def activities_server() -> Iterator[tuple[FakeActivities, str]]:
    fake = FakeActivities()
    with fake_upstream(fake, pb_grpc.add_ActivityServiceServicer_to_server) as target:
        yield fake, target


@pytest.fixture
def duties(activities_server: tuple[FakeActivities, str]) -> FakeActivities:
    activities_server[0].last.clear()
    return activities_server[0]


@pytest.fixture
def client(
    client_with: Callable[[str, str], TestClient], activities_server: tuple[FakeActivities, str]
) -> TestClient:
    return client_with("duties", activities_server[1])


def test_a_street_committee_schedules_an_activity(
    client: TestClient, auth: Any, duties: FakeActivities
) -> None:
    reply = client.post("/api/v1/activities", json=ACTIVITY, headers=auth("street-committee"))
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == "/api/v1/activities/31"
    body = reply.json()
    assert (body["kind"], body["level"], body["street_id"], body["station_id"]) == (
        "training",
        "street",
        1,
        None,
    )
    sent = duties.last["ScheduleActivity"]
    assert (sent.kind, sent.starts_on, sent.ends_on) == (
        pb.ACTIVITY_KIND_TRAINING,
        "2026-05-12",
        "",
    )


@pytest.mark.parametrize("account", ["deputy", "constituent", "department", "admin"])
def test_who_never_organises_is_refused_before_any_call(
    client: TestClient, auth: Any, problem: Problem, duties: FakeActivities, account: str
) -> None:
    problem(client.post("/api/v1/activities", json=ACTIVITY, headers=auth(account)), 403)
    problem(
        client.post(
            "/api/v1/activities/31/attendance",
            json={"entries": [{"deputy_id": 1, "attendance": "attended"}]},
            headers=auth(account),
        ),
        403,
    )
    assert duties.last == {}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "picnic"}, "kind"),
        ({"title": ""}, "title"),
        ({"starts_on": 20260512}, "starts_on"),
        ({"starts_on": "12/05/2026"}, "starts_on"),
        ({"station_id": 0}, "station_id"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_activities_are_refused_before_any_call(
    client: TestClient,
    auth: Any,
    problem: Problem,
    duties: FakeActivities,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**ACTIVITY, **change}
    refused = problem(
        client.post("/api/v1/activities", json=body, headers=auth("street-committee")), 422
    )
    assert field in str(refused["errors"])
    assert duties.last == {}


def test_lists_activities_with_filters_and_reads_one(
    client: TestClient, auth: Any, problem: Problem, duties: FakeActivities
) -> None:
    reply = client.get(
        "/api/v1/activities?year=2026&kind=inspection&deputy_id=7&page_size=10",
        headers=auth("deputy"),
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["total_size"] == 1
    sent = duties.last["ListActivities"]
    assert (sent.year, sent.kind, sent.deputy_id, sent.page.page_size) == (
        2026,
        pb.ACTIVITY_KIND_INSPECTION,
        7,
        10,
    )
    assert client.get("/api/v1/activities/31", headers=auth("station-staff")).json()["id"] == 31
    problem(client.get("/api/v1/activities/32", headers=auth("station-staff")), 404)
    problem(client.get("/api/v1/activities", headers=auth("constituent")), 403)


def test_invitations_and_the_services_refusal_naming_the_deputy(
    client: TestClient, auth: Any, problem: Problem, duties: FakeActivities
) -> None:
    reply = client.post(
        "/api/v1/activities/31/invitations",
        json={"deputy_ids": [1, 2]},
        headers=auth("street-committee"),
    )
    assert reply.status_code == 200, reply.text
    assert [i["deputy_id"] for i in reply.json()["invitations"]] == [1, 2]
    assert list(duties.last["InviteDeputies"].deputy_ids) == [1, 2]
    refused = problem(
        client.post(
            "/api/v1/activities/31/invitations",
            json={"deputy_ids": [99]},
            headers=auth("street-committee"),
        ),
        403,
    )
    assert "deputy 99 is not a deputy of street 1" in str(refused)
    problem(
        client.post(
            "/api/v1/activities/31/invitations",
            json={"deputy_ids": []},
            headers=auth("street-committee"),
        ),
        422,
    )


def test_a_deputy_signs_up_and_the_organiser_records_attendance(
    client: TestClient, auth: Any, problem: Problem, duties: FakeActivities
) -> None:
    assert client.post("/api/v1/activities/31:sign-up", headers=auth("deputy")).status_code == 200
    assert duties.last["SignUp"].activity_id == 31
    problem(client.post("/api/v1/activities/31:sign-up", headers=auth("street-committee")), 403)
    entries = [
        {"deputy_id": 1, "attendance": "attended"},
        {"deputy_id": 2, "attendance": "absent_with_leave"},
    ]
    reply = client.post(
        "/api/v1/activities/31/attendance",
        json={"entries": entries},
        headers=auth("station-staff"),
    )
    assert reply.status_code == 200, reply.text
    assert [i["attendance"] for i in reply.json()["invitations"]] == [
        "attended",
        "absent_with_leave",
    ]
    sent = duties.last["RecordAttendance"]
    assert [(e.deputy_id, e.attendance) for e in sent.entries] == [
        (1, pb.ATTENDANCE_ATTENDED),
        (2, pb.ATTENDANCE_ABSENT_WITH_LEAVE),
    ]
    bad = [{"deputy_id": 1, "attendance": "late"}]
    problem(
        client.post(
            "/api/v1/activities/31/attendance",
            json={"entries": bad},
            headers=auth("station-staff"),
        ),
        422,
    )


def test_activity_figures(
    client: TestClient, auth: Any, problem: Problem, duties: FakeActivities
) -> None:
    reply = client.get(
        "/api/v1/activity-figures?year=2026", headers=auth("standing-committee-office")
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["total"] == {
        "kind": None,
        "activities": 2,
        "invited": 0,
        "person_times": 40,
        "absent_with_leave": 0,
        "absent": 0,
    }
    assert body["by_kind"][0]["kind"] == "training"
    assert body["streets"][0]["street_id"] == 1
    assert duties.last["GetActivityFigures"].year == 2026
    problem(client.get("/api/v1/activity-figures", headers=auth("street-committee")), 422)
    problem(client.get("/api/v1/activity-figures?year=2026", headers=auth("deputy")), 403)


def test_research_from_proposal_to_acknowledgement(
    client: TestClient, auth: Any, problem: Problem, duties: FakeActivities
) -> None:
    new = {"title": "老旧小区加装电梯", "plan": "走访三个社区", "amount_requested_yuan": 8000}
    reply = client.post("/api/v1/research", json=new, headers=auth("deputy"))
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == "/api/v1/research/41"
    assert duties.last["ProposeResearch"].amount_requested_yuan == 8000
    problem(client.post("/api/v1/research", json=new, headers=auth("street-committee")), 403)
    problem(
        client.post(
            "/api/v1/research", json={**new, "amount_requested_yuan": 0}, headers=auth("deputy")
        ),
        422,
    )
    approved = client.post(
        "/api/v1/research/41:approve",
        json={"budget_line_id": 5, "amount_yuan": 5000},
        headers=auth("street-committee"),
    )
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["amount_granted_yuan"]) == ("approved", 5000)
    over = problem(
        client.post(
            "/api/v1/research/41:approve",
            json={"budget_line_id": 5, "amount_yuan": 5001},
            headers=auth("street-committee"),
        ),
        409,
    )
    assert "remaining 5000 yuan" in over["detail"]
    problem(
        client.post(
            "/api/v1/research/41:approve",
            json={"budget_line_id": 5, "amount_yuan": 5000},
            headers=auth("deputy"),
        ),
        403,
    )
    reported = client.post(
        "/api/v1/research/41:report", json={"text": "调研报告"}, headers=auth("deputy")
    )
    assert reported.json()["state"] == "reported"
    acknowledged = client.post(
        "/api/v1/research/41:acknowledge", headers=auth("standing-committee-office")
    )
    assert acknowledged.json()["state"] == "acknowledged"
    problem(client.post("/api/v1/research/41:acknowledge", headers=auth("street-committee")), 403)
    declined = client.post(
        "/api/v1/research/41:decline", json={"reason": "重复"}, headers=auth("street-committee")
    )
    assert declined.json()["decline_reason"] == "重复"
    listed = client.get("/api/v1/research?state=proposed&year=2026", headers=auth("deputy"))
    assert listed.json()["items"][0]["id"] == 41
    assert duties.last["ListResearch"].state == pb.RESEARCH_STATE_PROPOSED


def test_visits_follow_ups_and_answers(
    client: TestClient, auth: Any, problem: Problem, duties: FakeActivities
) -> None:
    reply = client.post("/api/v1/visits", json=VISIT, headers=auth("street-committee"))
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == "/api/v1/visits/51"
    assert list(duties.last["RecordVisit"].visitors) == ["王主任", "李干事"]
    other = problem(
        client.post(
            "/api/v1/visits", json={**VISIT, "deputy_id": 99}, headers=auth("street-committee")
        ),
        403,
    )
    assert "deputy of street 2" in other["detail"]
    for account in ("deputy", "station-staff", "standing-committee-office"):
        problem(client.post("/api/v1/visits", json=VISIT, headers=auth(account)), 403)
    problem(
        client.post(
            "/api/v1/visits", json={**VISIT, "visitors": []}, headers=auth("street-committee")
        ),
        422,
    )
    added = client.post(
        "/api/v1/visits/51/follow-ups", json={"text": "协调交警"}, headers=auth("street-committee")
    )
    assert added.status_code == 201, added.text
    assert added.json()["follow_ups"][0]["id"] == 61
    answered = client.post(
        "/api/v1/visits/51/follow-ups/61:answer",
        json={"answer": "已增设信号灯"},
        headers=auth("street-committee"),
    )
    assert answered.json()["follow_ups"][0]["answer"] == "已增设信号灯"
    sent = duties.last["AnswerFollowUp"]
    assert (sent.visit_id, sent.follow_up_id) == (51, 61)
    assert client.get("/api/v1/visits/51", headers=auth("deputy")).json()["deputy_id"] == 7
    listed = client.get("/api/v1/visits?deputy_id=7", headers=auth("standing-committee-office"))
    assert listed.json()["items"][0]["id"] == 51
    problem(client.get("/api/v1/visits", headers=auth("station-staff")), 403)


def test_visit_coverage(
    client: TestClient, auth: Any, problem: Problem, duties: FakeActivities
) -> None:
    reply = client.get("/api/v1/visit-coverage?year=2026", headers=auth("street-committee"))
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "year": 2026,
        "street_id": 1,
        "deputies": 17,
        "visited": 15,
        "not_visited_deputy_ids": [4, 9],
    }
    assert duties.last["GetVisitCoverage"].street_id == 0
    client.get(
        "/api/v1/visit-coverage?year=2026&street_id=3", headers=auth("standing-committee-office")
    )
    assert duties.last["GetVisitCoverage"].street_id == 3
    for account in ("deputy", "station-staff"):
        problem(client.get("/api/v1/visit-coverage?year=2026", headers=auth(account)), 403)
    problem(client.get("/api/v1/visit-coverage", headers=auth("street-committee")), 422)


def test_the_openapi_names_every_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/api/v1/activities", "post"),
        ("/api/v1/activities/{id}/invitations", "post"),
        ("/api/v1/activities/{id}:sign-up", "post"),
        ("/api/v1/activities/{id}/attendance", "post"),
        ("/api/v1/activity-figures", "get"),
        ("/api/v1/research/{id}:approve", "post"),
        ("/api/v1/research/{id}:report", "post"),
        ("/api/v1/visits", "post"),
        ("/api/v1/visits/{id}/follow-ups", "post"),
        ("/api/v1/visits/{id}/follow-ups/{follow_up_id}:answer", "post"),
        ("/api/v1/visit-coverage", "get"),
    ]:
        assert method in paths[path], path


def test_a_report_of_the_longest_length_fits_the_body_limit_however_escaped(
    client: TestClient, auth: Any, duties: FakeActivities
) -> None:
    # 200 000 characters outside the BMP, each escaped as \uXXXX\uXXXX: a
    # report the schema allows, in a body past the default limit.
    body = json.dumps({"text": "\U0001f600" * 200_000}).encode()
    assert len(body) > client.app.state.body_limits.default  # type: ignore[attr-defined]
    headers = {**auth("deputy"), "content-type": "application/json"}
    reported = client.post("/api/v1/research/41:report", content=body, headers=headers)
    assert reported.status_code == 200, reported.text[:200]
    assert len(reported.json()["report"]) == 200_000
    paths = client.get("/openapi.json").json()["paths"]
    too_large = paths["/api/v1/research/{id}:report"]["post"]["responses"]["413"]
    assert f"{activities.REPORT_BODY_BYTES} bytes" in too_large["description"]
    past = json.dumps({"text": "x" * (activities.REPORT_BODY_BYTES + 1)})
    refused = client.post("/api/v1/research/41:report", content=past, headers=headers)
    assert refused.status_code == 413

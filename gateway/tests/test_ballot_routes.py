"""Report meetings and secret ballots through the gateway
(gateway/routes/ballots.py), over a fake BallotService of this module's own
server: what each route sends and answers, the roles the gateway refuses
early, bodies checked before any call, the public vote (no token), the
service's refusals as problem+json, no caching of codes, results or
comments, and the OpenAPI. The rules and the secrecy are tested on the
duties service (services/duties/tests/service/test_ballots.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf.message import Message
from grpc_status import rpc_status

from kit.errors import DomainError, FailedPrecondition, InvalidArgument, to_rpc_status
from liaison.common.v1 import envelope_pb2
from liaison.duties.v1 import ballots_pb2 as pb
from liaison.duties.v1 import ballots_pb2_grpc as pb_grpc

from .conftest import fake_upstream

Auth = Callable[[str], dict[str, str]]
Problem = Callable[..., Any]
CODE = "7QK2-M9XD-4HTB-RW3C"


class FakeBallots(pb_grpc.BallotServiceServicer):
    """Meeting 31 and ballot 41 exist; code "SPENT" has voted, ballot 42 is
    closed below the turnout. `last` keeps each method's last request and
    whether it carried a token."""

    def __init__(self) -> None:
        self.last: dict[str, Message] = {}
        self.tokens: dict[str, bool] = {}

    def _keep(self, method: str, request: Message, context: grpc.ServicerContext) -> None:
        self.last[method] = request
        metadata = dict(context.invocation_metadata())
        self.tokens[method] = "authorization" in metadata

    def _refuse(self, context: grpc.ServicerContext, error: DomainError) -> None:
        context.abort_with_status(rpc_status.to_status(to_rpc_status(error, "duties")))

    def _meeting(self, **changes: Any) -> Message:
        meeting = pb.ReportMeeting(
            id=31,
            deputy_id=1,
            street_id=1,
            held_on="2026-11-20",
            year=2026,
            venue="天河南街党群服务中心",
            status=pb.REPORT_MEETING_STATUS_SCHEDULED,
        )
        for name, value in changes.items():
            if name == "questions":
                meeting.questions.extend(value)
            else:
                setattr(meeting, name, value)
        return meeting

    def _ballot(self, **changes: Any) -> Message:
        ballot = pb.Ballot(
            id=41, meeting_id=31, deputy_id=1, street_id=1, year=2026, status=pb.BALLOT_STATUS_OPEN
        )
        for name, value in changes.items():
            setattr(ballot, name, value)
        return ballot

    def ScheduleReportMeeting(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("ScheduleReportMeeting", request, context)
        return self._meeting(deputy_id=request.deputy_id, venue=request.venue)

    def GetReportMeeting(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._meeting(ballot_id=41, status=pb.REPORT_MEETING_STATUS_HELD)

    def ListReportMeetings(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("ListReportMeetings", request, context)
        return pb.ListReportMeetingsResponse(
            meetings=[self._meeting()], page=envelope_pb2.PageInfo(total_size=1)
        )

    def RecordAnswers(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("RecordAnswers", request, context)
        return self._meeting(questions=list(request.questions))

    def OpenBallot(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._ballot(meeting_id=request.meeting_id)

    def GetBallot(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._ballot(id=request.id, codes_issued=30)

    def IssueBallotCodes(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("IssueBallotCodes", request, context)
        return pb.IssueBallotCodesResponse(
            ballot_id=request.ballot_id, codes=[CODE] * request.count, codes_issued=request.count
        )

    def CastVote(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("CastVote", request, context)
        if request.code == "SPENT":
            self._refuse(
                context, FailedPrecondition("this code has voted already: a code votes once")
            )
        if request.code == "WRONG":
            self._refuse(context, InvalidArgument("code: is not a code of ballot 41", []))
        return pb.CastVoteResponse(ballot_id=request.ballot_id)

    def CloseBallot(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._ballot(status=pb.BALLOT_STATUS_CLOSED, papers_cast=12, result_shown=True)

    def PublishBallot(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._ballot(status=pb.BALLOT_STATUS_PUBLISHED, papers_cast=12, result_shown=True)

    def GetBallotResult(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("GetBallotResult", request, context)
        if request.id == 42:
            self._refuse(
                context,
                FailedPrecondition(
                    "ballot 42 had 9 papers cast, fewer than the minimum turnout of 10"
                ),
            )
        return pb.BallotResult(
            ballot_id=41,
            meeting_id=31,
            deputy_id=1,
            year=2026,
            satisfied=5,
            basically_satisfied=2,
            dissatisfied=5,
            papers_cast=12,
            codes_issued=14,
            share=7 / 12,
            flagged=True,
            reelection_share=0.6,
            min_turnout=10,
            published=True,
        )

    def ListBallotComments(self, request: Any, context: grpc.ServicerContext) -> Message:
        return pb.BallotComments(ballot_id=request.id, comments=["多来社区走走"])


@pytest.fixture(scope="module")
def ballots_server() -> Iterator[tuple[FakeBallots, str]]:
    fake = FakeBallots()
    with fake_upstream(fake, pb_grpc.add_BallotServiceServicer_to_server) as target:
        yield fake, target


@pytest.fixture
def ballots_fake(ballots_server: tuple[FakeBallots, str]) -> FakeBallots:
    fake = ballots_server[0]
    fake.last.clear()
    fake.tokens.clear()
    return fake


@pytest.fixture
def client(
    fake: Any,
    client_with: Callable[[str, str], TestClient],
    ballots_server: tuple[FakeBallots, str],
) -> TestClient:
    """The gateway with the duties service at this module's fake."""
    return client_with("duties", ballots_server[1])


def test_the_street_committee_schedules_a_meeting_and_records_answers(
    client: TestClient, auth: Auth, ballots_fake: FakeBallots
) -> None:
    body = {"deputy_id": 1, "held_on": "2026-11-20", "venue": "天河南街党群服务中心"}
    reply = client.post("/api/v1/report-meetings", json=body, headers=auth("street-committee"))
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == "/api/v1/report-meetings/31"
    assert reply.json()["status"] == "scheduled" and reply.json()["ballot_id"] is None
    sent = ballots_fake.last["ScheduleReportMeeting"]
    assert (sent.deputy_id, sent.held_on) == (1, "2026-11-20")
    answers = {"questions": [{"question": "电梯？", "answer": "已转交"}]}
    reply = client.post(
        "/api/v1/report-meetings/31:record-answers", json=answers, headers=auth("street-committee")
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["questions"] == answers["questions"]
    reply = client.get("/api/v1/report-meetings?year=2026", headers=auth("deputy"))
    assert reply.status_code == 200 and reply.json()["total_size"] == 1
    assert ballots_fake.last["ListReportMeetings"].year == 2026
    reply = client.get("/api/v1/report-meetings/31", headers=auth("station-staff"))
    assert reply.json()["ballot_id"] == 41 and reply.json()["status"] == "held"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"deputy_id": 0, "held_on": "2026-11-20", "venue": "x"}, "deputy_id"),
        ({"deputy_id": 1, "held_on": "20/11/2026", "venue": "x"}, "held_on"),
        ({"deputy_id": 1, "held_on": "2026-11-20", "venue": ""}, "venue"),
        ({"deputy_id": 1, "held_on": "2026-11-20", "venue": "x", "time": 1}, "time"),
    ],
)
def test_bad_meetings_are_refused_before_any_call(
    client: TestClient,
    auth: Auth,
    problem: Problem,
    ballots_fake: FakeBallots,
    body: dict[str, Any],
    field: str,
) -> None:
    refused = problem(
        client.post("/api/v1/report-meetings", json=body, headers=auth("street-committee")), 422
    )
    assert field in str(refused["errors"])
    assert "ScheduleReportMeeting" not in ballots_fake.last


@pytest.mark.parametrize(
    ("method", "path", "body", "account", "status"),
    [
        ("post", "/api/v1/report-meetings", {}, None, 401),
        ("post", "/api/v1/report-meetings", {}, "deputy", 403),
        ("post", "/api/v1/report-meetings", {}, "station-staff", 403),
        ("get", "/api/v1/report-meetings", None, "constituent", 403),
        ("post", "/api/v1/report-meetings/31/ballot", None, "station-staff", 403),
        ("post", "/api/v1/ballots/41/codes", {"count": 1}, "deputy", 403),
        ("post", "/api/v1/ballots/41/codes", {"count": 1}, None, 401),
        ("post", "/api/v1/ballots/41:close", None, "constituent", 403),
        ("post", "/api/v1/ballots/41:publish", None, "station-staff", 403),
        ("get", "/api/v1/ballots/41/comments", None, "admin", 403),
        ("get", "/api/v1/ballots/41/comments", None, None, 401),
        ("get", "/api/v1/ballots/41", None, "constituent", 403),
    ],
)
def test_roles_that_never_may_are_refused_early(
    client: TestClient,
    auth: Auth,
    problem: Problem,
    method: str,
    path: str,
    body: Any,
    account: str | None,
    status: int,
) -> None:
    headers = auth(account) if account else {}
    problem(client.request(method.upper(), path, json=body, headers=headers), status)


def test_codes_are_answered_once_and_never_cached(
    client: TestClient, auth: Auth, problem: Problem, ballots_fake: FakeBallots
) -> None:
    reply = client.post(
        "/api/v1/ballots/41/codes", json={"count": 3}, headers=auth("station-staff")
    )
    assert reply.status_code == 201, reply.text
    assert reply.json() == {"ballot_id": 41, "codes": [CODE] * 3, "codes_issued": 3}
    assert reply.headers["Cache-Control"] == "no-store"
    for count in (0, 501, "3", True):
        problem(
            client.post(
                "/api/v1/ballots/41/codes", json={"count": count}, headers=auth("station-staff")
            ),
            422,
        )
    assert ballots_fake.last["IssueBallotCodes"].count == 3


def test_anyone_votes_with_a_code_without_a_token(
    client: TestClient, problem: Problem, ballots_fake: FakeBallots
) -> None:
    vote = {"code": CODE, "choice": "basically_satisfied", "comment": "多来社区走走"}
    reply = client.post("/api/v1/ballots/41/votes", json=vote)
    assert reply.status_code == 201, reply.text
    assert reply.json() == {"ballot_id": 41}
    assert reply.headers["Cache-Control"] == "no-store"
    sent = ballots_fake.last["CastVote"]
    assert (sent.code, sent.choice, sent.comment) == (
        CODE,
        pb.BALLOT_CHOICE_BASICALLY_SATISFIED,
        "多来社区走走",
    )
    assert ballots_fake.tokens["CastVote"] is False
    spent = problem(client.post("/api/v1/ballots/41/votes", json={**vote, "code": "SPENT"}), 409)
    assert "voted already" in spent["detail"]
    problem(client.post("/api/v1/ballots/41/votes", json={**vote, "code": "WRONG"}), 422)
    for bad in (
        {**vote, "choice": "happy"},
        {"choice": "satisfied"},
        {**vote, "comment": "x" * 2001},
    ):
        problem(client.post("/api/v1/ballots/41/votes", json=bad), 422)


def test_close_publish_result_and_comments(
    client: TestClient, auth: Auth, problem: Problem, ballots_fake: FakeBallots
) -> None:
    closed = client.post("/api/v1/ballots/41:close", headers=auth("station-staff"))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    published = client.post("/api/v1/ballots/41:publish", headers=auth("street-committee"))
    assert published.json()["status"] == "published"
    result = client.get("/api/v1/ballots/41/result")
    assert result.status_code == 200, result.text
    body = result.json()
    assert (body["satisfied"], body["flagged"], body["share"]) == (5, True, pytest.approx(7 / 12))
    assert result.headers["Cache-Control"] == "no-store"
    withheld = problem(client.get("/api/v1/ballots/42/result", headers=auth("admin")), 409)
    assert "minimum turnout" in withheld["detail"]
    comments = client.get("/api/v1/ballots/41/comments", headers=auth("deputy"))
    assert comments.json() == {"ballot_id": 41, "comments": ["多来社区走走"]}
    assert comments.headers["Cache-Control"] == "no-store"


def test_the_routes_are_in_the_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/report-meetings",
        "/api/v1/report-meetings/{id}",
        "/api/v1/report-meetings/{id}:record-answers",
        "/api/v1/report-meetings/{id}/ballot",
        "/api/v1/ballots/{id}",
        "/api/v1/ballots/{id}/codes",
        "/api/v1/ballots/{id}/votes",
        "/api/v1/ballots/{id}:close",
        "/api/v1/ballots/{id}:publish",
        "/api/v1/ballots/{id}/result",
        "/api/v1/ballots/{id}/comments",
    ):
        assert path in paths, path
    vote = paths["/api/v1/ballots/{id}/votes"]["post"]
    schema = vote["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema.endswith("/VoteNew")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ballots/41:close",
        "/api/v1/ballots/41:publish",
        "/api/v1/report-meetings/31:record-answers",
    ],
)
def test_a_custom_method_is_not_read_as_a_record_and_allows_only_post(
    client: TestClient, auth: Auth, problem: Problem, path: str
) -> None:
    for method in ("GET", "OPTIONS", "PUT"):
        refused = client.request(method, path, headers=auth("admin"))
        problem(refused, 405)
        assert refused.headers["Allow"] == "POST"

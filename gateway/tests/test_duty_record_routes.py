"""A deputy's public duty record and constituents' ratings through the
gateway (gateway/routes/duty_record.py), over a fake DutyRecordService of
this module's own: what each route sends and answers, that the public reads
need no token, the roles the gateway refuses early, bodies checked before
any call, the service's refusals as problem+json, and the OpenAPI. The rules
themselves are tested on the duties service (services/duties/tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf.timestamp_pb2 import Timestamp

from liaison.common.v1 import envelope_pb2
from liaison.duties.v1 import record_pb2 as pb
from liaison.duties.v1 import record_pb2_grpc as pb_grpc

from .conftest import fake_upstream

Auth = Callable[[str], dict[str, str]]
Problem = Callable[..., Any]
WHEN = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def stamp() -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(WHEN)
    return ts


class FakeDutyRecords(pb_grpc.DutyRecordServiceServicer):
    """Answers from fixed values and keeps what it was sent; deputy 404 is
    unknown, a comment "again" is a second rating."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}
        self.metadata: dict[str, dict[str, str]] = {}

    def _keep(self, name: str, request: Any, context: grpc.ServicerContext) -> None:
        self.last[name] = request
        self.metadata[name] = dict(context.invocation_metadata())
        if getattr(request, "deputy_id", 0) == 404:
            context.abort(grpc.StatusCode.NOT_FOUND, "the registry has no deputy 404")

    def GetDutyRecord(self, request: Any, context: grpc.ServicerContext) -> pb.DutyRecord:
        self._keep("GetDutyRecord", request, context)
        return pb.DutyRecord(
            deputy_id=request.deputy_id,
            year=request.year or 2026,
            counts=[pb.DutyKindCount(kind="reception_attended", count=12, completed=12)],
            entries=[
                pb.DutyRecordEntry(
                    kind="reception_attended",
                    on="2026-03-16",
                    title="station:1",
                    status="locked",
                    completed=True,
                    detail="person_times:12",
                    source_service="reception",
                    source_type="reception_record",
                    source_id=9,
                )
            ],
            page=envelope_pb2.PageInfo(next_page_token="more", total_size=12),
        )

    def GetDeputyRatings(self, request: Any, context: grpc.ServicerContext) -> pb.DeputyRatings:
        self._keep("GetDeputyRatings", request, context)
        return pb.DeputyRatings(
            deputy_id=request.deputy_id,
            years=[pb.RatingYearCounts(year=2026, satisfied=2, dissatisfied=1, total=3)],
            comments=[
                pb.PublishedComment(
                    rating_id=5,
                    year=2026,
                    level=pb.DEPUTY_RATING_LEVEL_SATISFIED,
                    comment="很负责",
                    rated_on="2026-06-01",
                )
            ],
            page=envelope_pb2.PageInfo(total_size=1),
        )

    def RateDeputy(self, request: Any, context: grpc.ServicerContext) -> pb.DeputyRating:
        self._keep("RateDeputy", request, context)
        if request.comment == "again":
            context.abort(
                grpc.StatusCode.ALREADY_EXISTS,
                f"you have rated deputy {request.deputy_id} in 2026 already",
            )
        return pb.DeputyRating(
            id=41,
            deputy_id=request.deputy_id,
            year=2026,
            level=request.level,
            comment=request.comment,
            rated_at=stamp(),
        )

    def ReportRatingComment(self, request: Any, context: grpc.ServicerContext) -> pb.RatingReport:
        self._keep("ReportRatingComment", request, context)
        return pb.RatingReport(
            id=7, rating_id=request.rating_id, reason=request.reason, reported_at=stamp()
        )

    def ListReportedComments(
        self, request: Any, context: grpc.ServicerContext
    ) -> pb.ListReportedCommentsResponse:
        self._keep("ListReportedComments", request, context)
        return pb.ListReportedCommentsResponse(
            comments=[
                pb.ModeratedComment(
                    rating_id=5,
                    deputy_id=2,
                    year=2026,
                    level=pb.DEPUTY_RATING_LEVEL_DISSATISFIED,
                    comment="骂人的话",
                    reports=2,
                    report_reasons=["辱骂", "辱骂"],
                )
            ],
            page=envelope_pb2.PageInfo(total_size=1),
        )

    def ModerateRatingComment(
        self, request: Any, context: grpc.ServicerContext
    ) -> pb.ModeratedComment:
        self._keep("ModerateRatingComment", request, context)
        return pb.ModeratedComment(
            rating_id=request.rating_id,
            deputy_id=2,
            year=2026,
            level=pb.DEPUTY_RATING_LEVEL_DISSATISFIED,
            comment="骂人的话",
            hidden=request.action == pb.COMMENT_MODERATION_HIDE,
            moderation_reason=request.reason,
            moderated_at=stamp(),
        )


@pytest.fixture(scope="module")
def records_server() -> Iterator[tuple[FakeDutyRecords, str]]:
    fake = FakeDutyRecords()
    with fake_upstream(fake, pb_grpc.add_DutyRecordServiceServicer_to_server) as target:
        yield fake, target


@pytest.fixture
def records(records_server: tuple[FakeDutyRecords, str]) -> FakeDutyRecords:
    records_server[0].last.clear()
    return records_server[0]


@pytest.fixture
def app(
    client_with: Callable[[str, str], TestClient], records_server: tuple[FakeDutyRecords, str]
) -> TestClient:
    return client_with("duties", records_server[1])


def test_anyone_reads_a_deputys_duty_record_without_a_token(
    app: TestClient, records: FakeDutyRecords
) -> None:
    reply = app.get(
        "/api/v1/deputies/3/duty-record",
        params={"year": 2026, "kind": "reception_attended", "page_size": 5},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["counts"] == [{"kind": "reception_attended", "count": 12, "completed": 12}]
    assert body["entries"][0]["detail"] == "person_times:12"
    assert (body["next_page_token"], body["total_size"]) == ("more", 12)
    sent = records.last["GetDutyRecord"]
    assert (sent.deputy_id, sent.year, sent.kind, sent.page.page_size) == (
        3,
        2026,
        "reception_attended",
        5,
    )
    assert "authorization" not in records.metadata["GetDutyRecord"]


def test_anyone_reads_a_deputys_ratings_without_a_token(
    app: TestClient, records: FakeDutyRecords
) -> None:
    reply = app.get("/api/v1/deputies/3/ratings", params={"year": 2026})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["years"][0] == {
        "year": 2026,
        "satisfied": 2,
        "basically_satisfied": 0,
        "dissatisfied": 1,
        "total": 3,
    }
    assert body["comments"][0]["level"] == "satisfied"
    assert records.last["GetDeputyRatings"].year == 2026


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/deputies/0/duty-record", {}, "id"),
        ("/api/v1/deputies/3/duty-record", {"year": 1999}, "year"),
        ("/api/v1/deputies/3/duty-record", {"kind": "gossip"}, "kind"),
        ("/api/v1/deputies/3/ratings", {"year": 2101}, "year"),
    ],
)
def test_bad_reads_are_refused_before_any_call(
    app: TestClient,
    records: FakeDutyRecords,
    problem: Problem,
    path: str,
    params: dict[str, Any],
    field: str,
) -> None:
    body = problem(app.get(path, params=params), 422)
    assert field in str(body["errors"])
    assert records.last == {}


def test_an_unknown_deputy_is_404_naming_it(app: TestClient, problem: Problem) -> None:
    body = problem(app.get("/api/v1/deputies/404/duty-record"), 404)
    assert "deputy 404" in body["detail"]


def test_a_constituent_rates_and_a_second_rating_is_409(
    app: TestClient, auth: Auth, records: FakeDutyRecords, problem: Problem
) -> None:
    reply = app.post(
        "/api/v1/deputies/3/ratings",
        json={"level": "basically_satisfied", "comment": "还可以"},
        headers=auth("constituent"),
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["level"] == "basically_satisfied" and reply.json()["year"] == 2026
    assert records.last["RateDeputy"].level == pb.DEPUTY_RATING_LEVEL_BASICALLY_SATISFIED
    again = problem(
        app.post(
            "/api/v1/deputies/3/ratings",
            json={"level": "satisfied", "comment": "again"},
            headers=auth("constituent"),
        ),
        409,
    )
    assert "already" in again["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "level"),
        ({"level": "delighted"}, "level"),
        ({"level": "satisfied", "comment": "x" * 501}, "comment"),
        ({"level": "satisfied", "rater": "me"}, "rater"),
    ],
)
def test_bad_ratings_are_refused_before_any_call(
    app: TestClient,
    auth: Auth,
    records: FakeDutyRecords,
    problem: Problem,
    body: dict[str, Any],
    field: str,
) -> None:
    refused = problem(
        app.post("/api/v1/deputies/3/ratings", json=body, headers=auth("constituent")), 422
    )
    assert field in str(refused["errors"])
    assert records.last == {}


def test_only_constituents_rate_and_only_moderators_moderate(
    app: TestClient, auth: Auth, records: FakeDutyRecords, problem: Problem
) -> None:
    rating = {"level": "satisfied"}
    problem(app.post("/api/v1/deputies/3/ratings", json=rating), 401)
    for account in ("deputy", "street-committee", "admin"):
        problem(app.post("/api/v1/deputies/3/ratings", json=rating, headers=auth(account)), 403)
    hide = {"action": "hide", "reason": "辱骂"}
    for account in ("constituent", "deputy", "station-staff", "working-body"):
        problem(
            app.post("/api/v1/deputy-ratings/5:moderate", json=hide, headers=auth(account)), 403
        )
        problem(app.get("/api/v1/deputy-ratings/reported", headers=auth(account)), 403)
    problem(app.post("/api/v1/deputy-ratings/5/reports", json={"reason": "x"}), 401)
    assert records.last == {}


def test_reports_and_moderation_go_through(
    app: TestClient, auth: Auth, records: FakeDutyRecords
) -> None:
    reply = app.post(
        "/api/v1/deputy-ratings/5/reports", json={"reason": "辱骂"}, headers=auth("deputy")
    )
    assert reply.status_code == 201, reply.text
    assert records.last["ReportRatingComment"].rating_id == 5
    listed = app.get(
        "/api/v1/deputy-ratings/reported",
        params={"deputy_id": 2, "include_moderated": "true"},
        headers=auth("street-committee"),
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"][0]["reports"] == 2
    sent = records.last["ListReportedComments"]
    assert (sent.deputy_id, sent.include_moderated) == (2, True)
    moderated = app.post(
        "/api/v1/deputy-ratings/5:moderate",
        json={"action": "hide", "reason": "含辱骂"},
        headers=auth("standing-committee-office"),
    )
    assert moderated.status_code == 200, moderated.text
    assert moderated.json()["hidden"] is True
    assert records.last["ModerateRatingComment"].action == pb.COMMENT_MODERATION_HIDE


def test_the_openapi_describes_the_routes(app: TestClient) -> None:
    spec = app.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/api/v1/deputies/{id}/ratings"]) == {"get", "post"}
    assert "get" in paths["/api/v1/deputies/{id}/duty-record"]
    assert "post" in paths["/api/v1/deputy-ratings/{id}:moderate"]
    schemas = spec["components"]["schemas"]
    assert set(schemas["DeputyRatingLevel"]["enum"]) == {
        "satisfied",
        "basically_satisfied",
        "dissatisfied",
    }
    # the public read is declared without a token
    assert not paths["/api/v1/deputies/{id}/duty-record"]["get"].get("security")

"""The report plan and learning materials through the gateway
(gateway/routes/scorecard.py), over a fake ScorecardService served here on
its own port as the duties service: what each route sends and answers, the
roles the gateway refuses early, bodies checked before any call, the
service's refusals as problem+json naming what is wrong, and the OpenAPI.
The rules themselves are tested on the duties service
(services/duties/tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2_grpc
from grpc_status import rpc_status

from kit.errors import (
    AlreadyExists,
    DomainError,
    FieldViolation,
    InvalidArgument,
    NotFound,
    to_rpc_status,
)
from liaison.duties.v1 import scorecard_pb2 as pb
from liaison.duties.v1 import scorecard_pb2_grpc as pb_grpc

from .conftest import fake_upstream

Auth = Callable[[str], dict[str, str]]
Problem = Callable[..., Any]
READ_AT = Timestamp()
READ_AT.FromDatetime(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))


class FakeScorecard(pb_grpc.ScorecardServiceServicer):
    """The duties service's ScorecardService as the gateway's routes see it:
    the cycle 2026-2028 is planned (making it again is refused), material 31
    exists, a title "refuse" is refused as the service would. `last` keeps
    each method's last request."""

    def __init__(self) -> None:
        self.last: dict[str, Message] = {}

    def _keep(self, method: str, request: Message) -> None:
        self.last[method] = request

    def _refuse(self, context: grpc.ServicerContext, error: DomainError) -> None:
        context.abort_with_status(rpc_status.to_status(to_rpc_status(error, "duties")))

    def _plan(self, **extra: Any) -> pb.ReportPlan:
        return pb.ReportPlan(
            first_year=2026,
            slots=[
                pb.ReportSlot(deputy_id=1, street_id=1, level="district", year=2026),
                pb.ReportSlot(deputy_id=2, street_id=1, level="city", year=2027, joined=True),
            ],
            loads=[pb.YearLoad(year=y, deputies=1 if y < 2028 else 0) for y in (2026, 2027, 2028)],
            **extra,
        )

    def _material(self, **extra: Any) -> pb.Material:
        fields: dict[str, Any] = {
            "id": 31,
            "title": "代表法",
            "kind": pb.MATERIAL_KIND_ARTICLE,
            "text": "正文",
            "published_at": READ_AT,
        }
        return pb.Material(**(fields | extra))

    def MakeReportPlan(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("MakeReportPlan", request)
        if request.first_year == 2026:
            self._refuse(context, AlreadyExists("the cycle from 2026 is already planned"))
        plan = self._plan()
        plan.first_year = request.first_year
        return plan

    def ExtendReportPlan(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("ExtendReportPlan", request)
        return self._plan(joined_ids=[2], withdrawn_ids=[7])

    def GetReportPlan(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("GetReportPlan", request)
        return self._plan()

    def PublishMaterial(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("PublishMaterial", request)
        if request.title == "refuse":
            self._refuse(
                context,
                InvalidArgument("cannot", [FieldViolation("text", "a document needs its text")]),
            )
        return self._material(title=request.title, street_id=request.street_id)

    def GetMaterial(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("GetMaterial", request)
        return self._material()

    def ListMaterials(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("ListMaterials", request)
        from liaison.common.v1 import envelope_pb2

        return pb.ListMaterialsResponse(
            materials=[self._material()],
            page=envelope_pb2.PageInfo(next_page_token="n", total_size=3),
        )

    def MarkMaterialRead(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("MarkMaterialRead", request)
        return self._material(read_at=READ_AT)

    def GetMaterialReadership(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("GetMaterialReadership", request)
        return pb.MaterialReadership(
            material_id=request.id,
            read=[pb.Reader(deputy_id=1, name="陈代表", street_id=1, read_at=READ_AT)],
            not_read=[pb.Reader(deputy_id=2, name="李代表", street_id=1)],
        )

    def GetScorecard(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("GetScorecard", request)
        if request.deputy_id == 404:
            self._refuse(context, NotFound("the registry has no deputy 404"))
        done, short = pb.ITEM_STATUS_DONE, pb.ITEM_STATUS_SHORT
        return pb.Scorecard(
            deputy_id=request.deputy_id,
            street_id=1,
            year=request.year or 2026,
            items=[
                pb.ScorecardItem(
                    item=pb.FIVE_ONES_ITEM_TRAINING,
                    status=done,
                    evidence=[pb.Evidence(kind="training_attended", day="2026-03-01", ref="t/1")],
                ),
                pb.ScorecardItem(item=pb.FIVE_ONES_ITEM_SUGGESTION, status=short),
                pb.ScorecardItem(item=pb.FIVE_ONES_ITEM_RESEARCH, status=short),
                pb.ScorecardItem(item=pb.FIVE_ONES_ITEM_DUTY_REPORT, status=pb.ITEM_STATUS_NOT_DUE),
                pb.ScorecardItem(item=pb.FIVE_ONES_ITEM_VISIT, status=short),
            ],
            short=[
                pb.FIVE_ONES_ITEM_SUGGESTION,
                pb.FIVE_ONES_ITEM_RESEARCH,
                pb.FIVE_ONES_ITEM_VISIT,
            ],
            days_left=35,
            open=True,
        )

    def ListShortfalls(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("ListShortfalls", request)
        short = pb.ItemShortfall(item=pb.FIVE_ONES_ITEM_VISIT, count=2, deputy_ids=[3, 4])
        return pb.Shortfalls(
            year=request.year or 2026,
            days_left=35,
            open=True,
            deputies=4,
            complete=1,
            items=[short],
            flagged_ids=[2],
            streets=[pb.StreetShortfalls(street_id=1, deputies=4, complete=1, items=[short])],
        )


@pytest.fixture(scope="module")
def duties_fake() -> Iterator[tuple[FakeScorecard, str]]:
    fake = FakeScorecard()
    with fake_upstream(
        fake,
        pb_grpc.add_ScorecardServiceServicer_to_server,
        besides=[(health.HealthServicer(), health_pb2_grpc.add_HealthServicer_to_server)],
    ) as target:
        yield fake, target


@pytest.fixture
def scorecard(duties_fake: tuple[FakeScorecard, str]) -> FakeScorecard:
    duties_fake[0].last.clear()
    return duties_fake[0]


@pytest.fixture
def client(
    client_with: Callable[[str, str], TestClient], duties_fake: tuple[FakeScorecard, str]
) -> TestClient:
    return client_with("duties", duties_fake[1])


def test_the_office_makes_a_cycles_plan(
    client: TestClient, auth: Auth, scorecard: FakeScorecard
) -> None:
    reply = client.post(
        "/api/v1/report-plans",
        json={"first_year": 2029},
        headers=auth("standing-committee-office"),
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == "/api/v1/report-plans/2029"
    body = reply.json()
    assert body["first_year"] == 2029
    assert [s["deputy_id"] for s in body["slots"]] == [1, 2]
    assert body["slots"][1]["joined"] is True
    assert body["loads"][2] == {"year": 2028, "deputies": 0}
    assert scorecard.last["MakeReportPlan"].first_year == 2029


def test_a_planned_cycle_is_a_conflict(client: TestClient, auth: Auth, problem: Problem) -> None:
    refused = problem(
        client.post("/api/v1/report-plans", json={"first_year": 2026}, headers=auth("admin")),
        409,
    )
    assert "already planned" in refused["detail"]


def test_an_extension_names_joiners_and_leavers(
    client: TestClient, auth: Auth, scorecard: FakeScorecard
) -> None:
    reply = client.post(
        "/api/v1/report-plans/2027:extend",
        json={"joined_in": 2027},
        headers=auth("standing-committee-office"),
    )
    assert reply.status_code == 200, reply.text
    assert (reply.json()["joined_ids"], reply.json()["withdrawn_ids"]) == ([2], [7])
    sent = scorecard.last["ExtendReportPlan"]
    assert (sent.year, sent.joined_in) == (2027, 2027)
    client.post(
        "/api/v1/report-plans/2027:extend", json={}, headers=auth("standing-committee-office")
    )
    assert scorecard.last["ExtendReportPlan"].joined_in == 0


def test_the_plan_is_read_with_its_filters(
    client: TestClient, auth: Auth, scorecard: FakeScorecard
) -> None:
    reply = client.get("/api/v1/report-plans/2028?street_id=3", headers=auth("street-committee"))
    assert reply.status_code == 200, reply.text
    sent = scorecard.last["GetReportPlan"]
    assert (sent.year, sent.street_id, sent.deputy_id) == (2028, 3, 0)
    reply = client.get("/api/v1/report-plans/2028", headers=auth("deputy"))
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/report-plans", {"first_year": 1999}),
        ("post", "/api/v1/report-plans", {"first_year": "2026"}),
        ("post", "/api/v1/report-plans", {"first_year": 2026, "extra": 1}),
        ("post", "/api/v1/report-plans/1999:extend", {}),
        ("post", "/api/v1/report-plans/2026:extend", {"joined_in": 3000}),
        ("get", "/api/v1/report-plans/20x6", None),
        ("post", "/api/v1/learning-materials", {"title": "t", "kind": "podcast"}),
        ("post", "/api/v1/learning-materials", {"title": "", "kind": "article", "text": "b"}),
        ("post", "/api/v1/learning-materials", {"title": "t", "kind": "video", "street_id": 0}),
        ("get", "/api/v1/learning-materials/0", None),
        ("get", "/api/v1/learning-materials?page_size=0", None),
    ],
)
def test_bad_input_is_refused_before_any_call(
    client: TestClient,
    auth: Auth,
    problem: Problem,
    scorecard: FakeScorecard,
    method: str,
    path: str,
    body: Any,
) -> None:
    kwargs = {"json": body} if body is not None else {}
    problem(getattr(client, method)(path, headers=auth("admin"), **kwargs), 422)
    assert scorecard.last == {}


def test_a_street_committee_publishes_a_material(
    client: TestClient, auth: Auth, scorecard: FakeScorecard
) -> None:
    reply = client.post(
        "/api/v1/learning-materials",
        json={"title": "代表法", "kind": "video", "url": "https://example.org/v", "street_id": 4},
        headers=auth("street-committee"),
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == "/api/v1/learning-materials/31"
    assert reply.json()["street_id"] == 4
    sent = scorecard.last["PublishMaterial"]
    assert (sent.kind, sent.url, sent.street_id) == (
        pb.MATERIAL_KIND_VIDEO,
        "https://example.org/v",
        4,
    )


def test_the_services_refusal_names_the_field(
    client: TestClient, auth: Auth, problem: Problem
) -> None:
    refused = problem(
        client.post(
            "/api/v1/learning-materials",
            json={"title": "refuse", "kind": "document"},
            headers=auth("admin"),
        ),
        422,
    )
    assert "text" in str(refused["errors"])


def test_a_deputy_lists_reads_and_marks_materials(
    client: TestClient, auth: Auth, scorecard: FakeScorecard
) -> None:
    listed = client.get(
        "/api/v1/learning-materials?unread_only=true&page_size=5", headers=auth("deputy")
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"][0]["kind"] == "article"
    assert (listed.json()["next_page_token"], listed.json()["total_size"]) == ("n", 3)
    sent = scorecard.last["ListMaterials"]
    assert (sent.unread_only, sent.page.page_size) == (True, 5)
    one = client.get("/api/v1/learning-materials/31", headers=auth("deputy"))
    assert one.json()["street_id"] is None and one.json()["read_at"] is None
    marked = client.post("/api/v1/learning-materials/31:read", headers=auth("deputy"))
    assert marked.status_code == 200, marked.text
    assert marked.json()["read_at"].startswith("2026-11-27T02:00")
    assert scorecard.last["MarkMaterialRead"].id == 31


def test_staff_see_who_has_read_a_material(
    client: TestClient, auth: Auth, scorecard: FakeScorecard
) -> None:
    reply = client.get(
        "/api/v1/learning-materials/31/readership?street_id=1", headers=auth("station-staff")
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert [r["deputy_id"] for r in body["read"]] == [1]
    assert body["not_read"][0]["read_at"] is None
    assert scorecard.last["GetMaterialReadership"].street_id == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "refused"),
    [
        ("post", "/api/v1/report-plans", {"first_year": 2029},
         ["working-body", "street-committee", "deputy", "constituent"]),
        ("post", "/api/v1/report-plans/2026:extend", {},
         ["street-committee", "deputy", "department"]),
        ("get", "/api/v1/report-plans/2026", None,
         ["constituent", "department", "government-office"]),
        ("post", "/api/v1/learning-materials", {"title": "t", "kind": "article", "text": "b"},
         ["deputy", "station-staff", "constituent"]),
        ("get", "/api/v1/learning-materials", None, ["constituent", "department"]),
        ("post", "/api/v1/learning-materials/31:read", None,
         ["admin", "street-committee", "constituent"]),
        ("get", "/api/v1/learning-materials/31/readership", None,
         ["deputy", "constituent", "department"]),
        ("get", "/api/v1/scorecard/shortfalls", None,
         ["deputy", "constituent", "department", "government-office"]),
    ],
)  # fmt: skip
def test_roles_that_never_may_are_refused_early(
    client: TestClient,
    auth: Auth,
    problem: Problem,
    scorecard: FakeScorecard,
    method: str,
    path: str,
    body: Any,
    refused: list[str],
) -> None:
    kwargs = {"json": body} if body is not None else {}
    problem(getattr(client, method)(path, **kwargs), 401)
    for account in refused:
        problem(getattr(client, method)(path, headers=auth(account), **kwargs), 403)
    assert scorecard.last == {}


def test_the_openapi_describes_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/report-plans",
        "/api/v1/report-plans/{year}:extend",
        "/api/v1/report-plans/{year}",
        "/api/v1/learning-materials",
        "/api/v1/learning-materials/{id}",
        "/api/v1/learning-materials/{id}:read",
        "/api/v1/learning-materials/{id}/readership",
        "/api/v1/deputies/{id}/scorecard",
        "/api/v1/scorecard/shortfalls",
    ):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    assert schemas["MaterialKind"]["enum"] == ["document", "article", "video"]
    assert {"first_year", "slots", "loads"} <= set(schemas["ReportPlan"]["properties"])


def test_anyone_reads_a_deputys_scorecard(client: TestClient, scorecard: FakeScorecard) -> None:
    reply = client.get("/api/v1/deputies/7/scorecard?year=2026")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert [(i["item"], i["status"]) for i in body["items"]] == [
        ("training", "done"),
        ("suggestion", "short"),
        ("research", "short"),
        ("duty_report", "not_due"),
        ("visit", "short"),
    ]
    assert body["items"][0]["evidence"][0] == {
        "kind": "training_attended",
        "day": "2026-03-01",
        "ref": "t/1",
        "flagged": False,
    }
    assert body["short"] == ["suggestion", "research", "visit"]
    assert (body["days_left"], body["open"]) == (35, True)
    sent = scorecard.last["GetScorecard"]
    assert (sent.deputy_id, sent.year) == (7, 2026)
    client.get("/api/v1/deputies/7/scorecard")
    assert scorecard.last["GetScorecard"].year == 0


def test_an_unknown_deputys_scorecard_is_not_found(client: TestClient, problem: Problem) -> None:
    refused = problem(client.get("/api/v1/deputies/404/scorecard"), 404)
    assert "404" in refused["detail"]
    problem(client.get("/api/v1/deputies/7/scorecard?year=1999"), 422)


def test_staff_list_who_is_short_of_which(
    client: TestClient, auth: Auth, scorecard: FakeScorecard
) -> None:
    reply = client.get(
        "/api/v1/scorecard/shortfalls?year=2026&street_id=1", headers=auth("street-committee")
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["items"] == [{"item": "visit", "count": 2, "deputy_ids": [3, 4]}]
    assert body["streets"][0]["street_id"] == 1 and body["flagged_ids"] == [2]
    sent = scorecard.last["ListShortfalls"]
    assert (sent.year, sent.street_id) == (2026, 1)

"""Deputies' suggestions and meetings with agency heads through the gateway
(gateway/routes/suggestions.py), over the fake SuggestionService of
conftest.py: what each route sends and answers, the roles the gateway
refuses early, bodies checked before any call, the service's refusals as
problem+json naming what is wrong, and the OpenAPI. The rules themselves
are tested on the referral service (services/referral/tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liaison.referral.v1 import referral_pb2
from liaison.referral.v1 import suggestions_pb2 as spb

Auth = Callable[[str], dict[str, str]]
Problem = Callable[..., Any]
NEW = {
    "session": {"code": "8-3", "label": "区八届人大三次会议", "year": 2013},
    "street_id": 1,
    "cosigner_ids": [2, 3],
    "title": "增设公交站点",
    "content": "建议增设公交站点",
    "category": "transport",
}


def test_a_deputy_registers_a_suggestion(
    client: TestClient, auth: Auth, suggestions_fake: Any
) -> None:
    reply = client.post("/api/v1/suggestions", json=NEW, headers=auth("deputy"))
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == "/api/v1/suggestions/11"
    body = reply.json()
    assert (body["stage"], body["category"], body["session"]["code"]) == (
        "registered",
        "transport",
        "8-3",
    )
    assert body["lead_department_id"] is None and body["satisfaction"] is None
    sent = suggestions_fake.last["RegisterSuggestion"]
    assert (sent.session.year, sent.street_id, list(sent.cosigner_ids), sent.category) == (
        2013,
        1,
        [2, 3],
        spb.SUGGESTION_CATEGORY_TRANSPORT,
    )


def test_the_services_refusal_names_the_field(
    client: TestClient, auth: Auth, problem: Problem
) -> None:
    body = {**NEW, "title": "refuse"}
    refused = problem(
        client.post("/api/v1/suggestions", json=body, headers=auth("street-committee")), 422
    )
    assert "cosigner_ids" in str(refused["errors"]) and "proposer" in str(refused["errors"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"category": "weather"}, "category"),
        ({"street_id": 0}, "street_id"),
        ({"session": {"code": "8 3", "label": "x", "year": 2013}}, "code"),
        ({"session": {"code": "8-3", "label": "x", "year": 1900}}, "year"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_bodies_are_refused_before_any_call(
    client: TestClient,
    auth: Auth,
    problem: Problem,
    suggestions_fake: Any,
    change: dict[str, Any],
    field: str,
) -> None:
    refused = problem(
        client.post("/api/v1/suggestions", json={**NEW, **change}, headers=auth("deputy")), 422
    )
    assert field in str(refused["errors"])
    assert "RegisterSuggestion" not in suggestions_fake.last


@pytest.mark.parametrize(
    ("method", "path", "body", "refused"),
    [
        ("post", "/api/v1/suggestions", NEW, ["working-body", "department", "constituent"]),
        ("get", "/api/v1/suggestions", None, ["constituent"]),
        ("post", "/api/v1/suggestions/11:assign", {"lead_department_id": 5},
         ["government-office", "deputy", "admin"]),
        ("post", "/api/v1/suggestions/11:answer", {"answer": "答复"},
         ["standing-committee-office", "deputy"]),
        ("post", "/api/v1/suggestions/11:rate", {"satisfaction": "satisfied"},
         ["street-committee", "department"]),
        ("get", "/api/v1/suggestions/11/trail-check", None, ["deputy", "department"]),
        ("post", "/api/v1/meetings", {"street_id": 1, "department_id": 5, "topic": "约见"},
         ["department", "standing-committee-office"]),
        ("post", "/api/v1/meetings/21:schedule",
         {"scheduled_for": "2027-02-01T09:00:00+08:00", "place": "会议室"},
         ["deputy", "station-staff"]),
        ("post", "/api/v1/meetings/21:cancel", {"reason": "已解决"}, ["department"]),
    ],
)  # fmt: skip
def test_roles_that_never_may_are_refused_early(
    client: TestClient,
    auth: Auth,
    problem: Problem,
    method: str,
    path: str,
    body: Any,
    refused: list[str],
) -> None:
    kwargs = {"json": body} if body is not None else {}
    problem(getattr(client, method)(path, **kwargs), 401)
    for account in refused:
        problem(getattr(client, method)(path, headers=auth(account), **kwargs), 403)


def test_reading_listing_and_the_summary(
    client: TestClient, auth: Auth, problem: Problem, suggestions_fake: Any
) -> None:
    one = client.get("/api/v1/suggestions/11", headers=auth("street-committee"))
    assert one.status_code == 200, one.text
    assert one.json()["supervision"]["last_day"] == "2013-04-28"
    assert one.json()["supervision"]["reminder_days"] == [30, 7, 1]
    problem(client.get("/api/v1/suggestions/12", headers=auth("admin")), 404)
    page = client.get(
        "/api/v1/suggestions",
        params={"session_code": "8-3", "street_id": 3, "stage": "in_hand", "page_size": 10},
        headers=auth("street-committee"),
    )
    assert page.status_code == 200, page.text
    assert page.json()["total_size"] == 1 and page.json()["items"][0]["id"] == 11
    sent = suggestions_fake.last["ListSuggestions"]
    assert (sent.session_code, sent.street_id, sent.stage, sent.page.page_size) == (
        "8-3",
        3,
        spb.SUGGESTION_STAGE_IN_HAND,
        10,
    )
    problem(client.get("/api/v1/suggestions", params={"stage": "lost"}, headers=auth("admin")), 422)
    summary = client.get(
        "/api/v1/suggestions/summary", params={"session_code": "8-3"}, headers=auth("deputy")
    )
    assert summary.status_code == 200, summary.text
    assert summary.json()["suggestions"] == 59
    assert summary.json()["satisfaction_rate"] == pytest.approx(57 / 59)
    problem(client.get("/api/v1/suggestions/summary", headers=auth("deputy")), 422)


def test_assigning_answering_rating(
    client: TestClient, auth: Auth, problem: Problem, suggestions_fake: Any
) -> None:
    office = auth("standing-committee-office")
    assigned = client.post(
        "/api/v1/suggestions/11:assign",
        json={"lead_department_id": 5, "co_handler_ids": [6, 7]},
        headers=office,
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["lead_department_id"] == 5
    assert list(suggestions_fake.last["AssignSuggestion"].co_handler_ids) == [6, 7]
    refused = problem(
        client.post(
            "/api/v1/suggestions/11:assign",
            json={"lead_department_id": 5, "co_handler_ids": [5]},
            headers=office,
        ),
        422,
    )
    assert "co_handler_ids" in str(refused["errors"])
    department = auth("department")
    conflict = problem(client.post("/api/v1/suggestions/11:acknowledge", headers=department), 409)
    assert "awaits the standing committee office's assignment" in conflict["detail"]
    denied = problem(
        client.post("/api/v1/suggestions/11:opinion", json={"opinion": "同意"}, headers=department),
        403,
    )
    assert "co-handling department" in denied["detail"]
    answer = client.post(
        "/api/v1/suggestions/11:answer", json={"answer": "已增设"}, headers=department
    )
    assert answer.status_code == 200 and answer.json()["answer"] == "已增设"
    rated = client.post(
        "/api/v1/suggestions/11:rate",
        json={"satisfaction": "basically_satisfied", "comment": "还需跟进"},
        headers=auth("deputy"),
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["satisfaction"] == "basically_satisfied"
    sent = suggestions_fake.last["RateSuggestion"]
    assert (sent.satisfaction, sent.comment) == (
        referral_pb2.SATISFACTION_BASICALLY_SATISFIED,
        "还需跟进",
    )
    problem(
        client.post(
            "/api/v1/suggestions/11:rate", json={"satisfaction": "happy"}, headers=auth("deputy")
        ),
        422,
    )
    check = client.get("/api/v1/suggestions/11/trail-check", headers=office)
    assert check.json() == {"intact": True, "entries": 6, "break_position": None, "reason": ""}


def test_a_meeting_through_the_gateway(
    client: TestClient, auth: Auth, problem: Problem, suggestions_fake: Any
) -> None:
    asked = client.post(
        "/api/v1/meetings",
        json={"street_id": 1, "department_id": 5, "topic": "办理进度", "suggestion_id": 11},
        headers=auth("deputy"),
    )
    assert asked.status_code == 201, asked.text
    assert asked.headers["Location"] == "/api/v1/meetings/21"
    assert asked.json()["suggestion_id"] == 11 and asked.json()["status"] == "requested"
    committee = auth("street-committee")
    when = "2027-02-01T09:00:00+08:00"
    scheduled = client.post(
        "/api/v1/meetings/21:schedule",
        json={"scheduled_for": when, "place": "会议室"},
        headers=committee,
    )
    assert scheduled.status_code == 200, scheduled.text
    assert datetime.fromisoformat(scheduled.json()["scheduled_for"]) == datetime(
        2027, 2, 1, 1, 0, tzinfo=UTC
    )
    # A time without its zone is refused before any call.
    naive = client.post(
        "/api/v1/meetings/21:schedule",
        json={"scheduled_for": "2027-02-01T09:00:00", "place": "会议室"},
        headers=committee,
    )
    assert "scheduled_for" in str(problem(naive, 422)["errors"])
    held = client.post(
        "/api/v1/meetings/21:record",
        json={"held_at": when, "attended_by": "区交通运输局局长", "minutes": "局长回答提问。"},
        headers=committee,
    )
    assert held.status_code == 200 and held.json()["minutes"] == "局长回答提问。"
    cancelled = client.post(
        "/api/v1/meetings/21:cancel", json={"reason": "问题已解决"}, headers=auth("deputy")
    )
    assert cancelled.json()["cancel_reason"] == "问题已解决"
    listed = client.get("/api/v1/meetings", params={"status": "held"}, headers=committee)
    assert listed.json()["items"][0]["id"] == 21
    assert suggestions_fake.last["ListMeetings"].status == spb.MEETING_STATUS_HELD
    problem(client.get("/api/v1/meetings/22", headers=committee), 404)
    broken = client.get("/api/v1/meetings/21/trail-check", headers=auth("admin")).json()
    assert broken["intact"] is False and broken["break_position"] == 1


def test_the_operations_are_in_the_openapi_with_their_problems(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    operations = [
        ("/api/v1/suggestions", "get"),
        ("/api/v1/suggestions", "post"),
        ("/api/v1/suggestions/summary", "get"),
        ("/api/v1/suggestions/{id}", "get"),
        ("/api/v1/suggestions/{id}:assign", "post"),
        ("/api/v1/suggestions/{id}:acknowledge", "post"),
        ("/api/v1/suggestions/{id}:opinion", "post"),
        ("/api/v1/suggestions/{id}:answer", "post"),
        ("/api/v1/suggestions/{id}:rate", "post"),
        ("/api/v1/suggestions/{id}/trail-check", "get"),
        ("/api/v1/meetings", "get"),
        ("/api/v1/meetings", "post"),
        ("/api/v1/meetings/{id}", "get"),
        ("/api/v1/meetings/{id}:schedule", "post"),
        ("/api/v1/meetings/{id}:record", "post"),
        ("/api/v1/meetings/{id}:cancel", "post"),
        ("/api/v1/meetings/{id}/trail-check", "get"),
    ]
    for path, method in operations:
        operation = paths[path][method]
        assert operation["tags"] == ["referral"], (path, method)
        codes = {"401", "403", "404", "422"} | ({"409"} if method == "post" else set())
        assert codes <= set(operation["responses"]), (path, method)
        for code in codes:
            content = operation["responses"][code]["content"]
            assert "application/problem+json" in content, (path, method, code)

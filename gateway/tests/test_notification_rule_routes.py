"""Notification rules and templates through the gateway
(gateway/routes/notification_rules.py), over fake RuleService and
TemplateService of this module's own: what each route sends and answers, the
roles the gateway refuses early, bodies checked before any call, the
service's refusals as problem+json, and the OpenAPI. The rules themselves
are tested on the notifications service (services/notifications/tests)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from grpc_status import rpc_status

from kit.errors import invalid, to_rpc_status
from liaison.notifications.v1 import rules_pb2 as pb
from liaison.notifications.v1 import rules_pb2_grpc as pb_grpc

from .conftest import fake_upstream

Auth = Callable[[str], dict[str, str]]
Problem = Callable[..., Any]
RULE = pb.Rule(
    id=3,
    key="letter_answered.committee",
    event_type="referral.letter_moved",
    audience="letter_unit",
    template_key="letter_answered",
    channels=["inbox", "email"],
    kind="letters",
    enabled=True,
    conditions=[pb.RuleCondition(field="kind", values=["answered"])],
    link="/console/#/letters/{{ letter.id }}",
    is_default=True,
)


def _invalid(context: grpc.ServicerContext, field: str, description: str) -> None:
    error = invalid(field, description)
    context.abort_with_status(rpc_status.to_status(to_rpc_status(error, "notifications")))


class FakeRules(pb_grpc.RuleServiceServicer, pb_grpc.TemplateServiceServicer):
    """Answers from fixed values and keeps what it was sent; a rule or a
    template "missing" is unknown, a draft subject "{{ nope }}" does not render."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}
        self.metadata: dict[str, dict[str, str]] = {}

    def _keep(self, name: str, request: Any, context: grpc.ServicerContext) -> None:
        self.last[name] = request
        self.metadata[name] = dict(context.invocation_metadata())
        if getattr(request, "key", "") == "missing":
            context.abort(grpc.StatusCode.NOT_FOUND, "no notification rule missing")

    def ListRules(self, request: Any, context: grpc.ServicerContext) -> pb.ListRulesResponse:
        self._keep("ListRules", request, context)
        return pb.ListRulesResponse(rules=[RULE])

    def GetRule(self, request: Any, context: grpc.ServicerContext) -> pb.Rule:
        self._keep("GetRule", request, context)
        return RULE

    def CreateRule(self, request: Any, context: grpc.ServicerContext) -> pb.Rule:
        self._keep("CreateRule", request, context)
        if request.rule.audience == "voters":
            _invalid(context, "audience", "'voters' is not an audience")
        made = pb.Rule()
        made.CopyFrom(request.rule)
        made.id = 9
        return made

    def UpdateRule(self, request: Any, context: grpc.ServicerContext) -> pb.Rule:
        self._keep("UpdateRule", request, context)
        return request.rule  # type: ignore[no-any-return]

    def DisableRule(self, request: Any, context: grpc.ServicerContext) -> pb.Rule:
        self._keep("DisableRule", request, context)
        off = pb.Rule()
        off.CopyFrom(RULE)
        off.enabled = False
        return off

    def ListEventTypes(
        self, request: Any, context: grpc.ServicerContext
    ) -> pb.ListEventTypesResponse:
        self._keep("ListEventTypes", request, context)
        return pb.ListEventTypesResponse(
            event_types=[
                pb.EventType(
                    name="referral.letter_moved",
                    message="liaison.referral.v1.LetterMoved",
                    audiences=[pb.Audience(name="letter_unit", description="the unit")],
                    sample_json=json.dumps({"kind": "answered"}),
                )
            ]
        )

    def ListTemplates(
        self, request: Any, context: grpc.ServicerContext
    ) -> pb.ListTemplatesResponse:
        self._keep("ListTemplates", request, context)
        return pb.ListTemplatesResponse(
            templates=[pb.Template(key="letter_answered", locale="zh-CN", subject="s", text="t")]
        )

    def GetTemplate(self, request: Any, context: grpc.ServicerContext) -> pb.Template:
        self._keep("GetTemplate", request, context)
        return pb.Template(key=request.key, locale=request.locale, subject="s", text="t")

    def CreateTemplate(self, request: Any, context: grpc.ServicerContext) -> pb.Template:
        self._keep("CreateTemplate", request, context)
        return request.template  # type: ignore[no-any-return]

    def UpdateTemplate(self, request: Any, context: grpc.ServicerContext) -> pb.Template:
        self._keep("UpdateTemplate", request, context)
        return request.template  # type: ignore[no-any-return]

    def PreviewTemplate(self, request: Any, context: grpc.ServicerContext) -> pb.RenderedMessage:
        self._keep("PreviewTemplate", request, context)
        if request.draft.subject == "{{ nope }}":
            _invalid(context, "subject", "unknown variable: 'nope' is undefined")
        return pb.RenderedMessage(subject="预览", text="正文", html="<p>正文</p>")


@pytest.fixture(scope="module")
def rules_server() -> Iterator[tuple[FakeRules, str]]:
    fake = FakeRules()
    with fake_upstream(
        fake,
        pb_grpc.add_RuleServiceServicer_to_server,
        pb_grpc.add_TemplateServiceServicer_to_server,
    ) as target:
        yield fake, target


@pytest.fixture
def fake(rules_server: tuple[FakeRules, str]) -> FakeRules:
    rules_server[0].last.clear()
    return rules_server[0]


@pytest.fixture
def app(
    client_with: Callable[[str, str], TestClient], rules_server: tuple[FakeRules, str]
) -> TestClient:
    return client_with("notifications", rules_server[1])


NEW_RULE = {
    "key": "letter_answered.office",
    "event_type": "referral.letter_moved",
    "audience": "standing_committee_office",
    "template_key": "letter_answered",
    "channels": ["inbox"],
    "kind": "letters",
    "conditions": [{"field": "kind", "values": ["answered"]}],
}


def test_the_office_reads_rules_event_types_and_templates(
    app: TestClient, auth: Auth, fake: FakeRules
) -> None:
    office = auth("standing-committee-office")
    listed = app.get(
        "/api/v1/notification-rules",
        params={"event_type": "referral.letter_moved", "enabled_only": "true"},
        headers=office,
    )
    assert listed.status_code == 200, listed.text
    (rule,) = listed.json()["rules"]
    assert rule["conditions"] == [{"field": "kind", "values": ["answered"]}]
    assert (rule["key"], rule["is_default"]) == ("letter_answered.committee", True)
    sent = fake.last["ListRules"]
    assert (sent.event_type, sent.enabled_only) == ("referral.letter_moved", True)
    assert fake.metadata["ListRules"]["authorization"].startswith("Bearer ")
    kinds = app.get("/api/v1/notification-event-types", headers=office).json()
    assert kinds["event_types"][0]["sample"] == {"kind": "answered"}
    words = app.get(
        "/api/v1/notification-templates/letter_answered", params={"locale": "en"}, headers=office
    )
    assert words.status_code == 200 and fake.last["GetTemplate"].locale == "en"
    assert app.get("/api/v1/notification-templates", headers=office).json()["templates"]


def test_the_admin_writes(app: TestClient, auth: Auth, fake: FakeRules) -> None:
    admin = auth("admin")
    made = app.post("/api/v1/notification-rules", json=NEW_RULE, headers=admin)
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == "/api/v1/notification-rules/letter_answered.office"
    sent = fake.last["CreateRule"].rule
    assert (sent.key, list(sent.channels), sent.enabled) == (
        "letter_answered.office",
        ["inbox"],
        True,
    )
    assert [(c.field, list(c.values)) for c in sent.conditions] == [("kind", ["answered"])]
    change = {k: v for k, v in NEW_RULE.items() if k != "key"} | {"urgent": True}
    changed = app.put(
        "/api/v1/notification-rules/letter_answered.office", json=change, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert fake.last["UpdateRule"].rule.key == "letter_answered.office"
    assert fake.last["UpdateRule"].rule.urgent
    off = app.post("/api/v1/notification-rules/letter_answered.committee:disable", headers=admin)
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert fake.last["DisableRule"].key == "letter_answered.committee"
    words = {"locale": "en", "subject": "Hi {{ x }}", "text": "t"}
    created = app.post(
        "/api/v1/notification-templates", json=words | {"key": "staff_note"}, headers=admin
    )
    assert created.status_code == 201, created.text
    updated = app.put("/api/v1/notification-templates/staff_note", json=words, headers=admin)
    assert updated.status_code == 200 and fake.last["UpdateTemplate"].template.key == "staff_note"


def test_a_preview_sends_the_data_and_the_draft(
    app: TestClient, auth: Auth, fake: FakeRules, problem: Problem
) -> None:
    reply = app.post(
        "/api/v1/notification-templates/letter_answered:preview",
        json={
            "event_type": "referral.letter_moved",
            "locale": "en",
            "data": {"kind": "answered", "letter": {"id": "9"}},
            "draft": {"subject": "{{ kind }}", "text": "t"},
        },
        headers=auth("standing-committee-office"),
    )
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"subject": "预览", "text": "正文", "html": "<p>正文</p>"}
    sent = fake.last["PreviewTemplate"]
    assert (sent.key, sent.locale, sent.event_type) == (
        "letter_answered",
        "en",
        "referral.letter_moved",
    )
    assert json.loads(sent.data_json) == {"kind": "answered", "letter": {"id": "9"}}
    assert sent.draft.subject == "{{ kind }}"
    bad = problem(
        app.post(
            "/api/v1/notification-templates/letter_answered:preview",
            json={
                "event_type": "referral.letter_moved",
                "draft": {"subject": "{{ nope }}", "text": "t"},
            },
            headers=auth("admin"),
        ),
        422,
    )
    assert "subject" in str(bad)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/notification-rules", NEW_RULE | {"channels": ["fax"]}, "channels"),
        ("post", "/api/v1/notification-rules", NEW_RULE | {"key": "Bad Key"}, "key"),
        ("post", "/api/v1/notification-rules", NEW_RULE | {"kind": "news"}, "kind"),
        ("post", "/api/v1/notification-rules", NEW_RULE | {"colour": "red"}, "colour"),
        (
            "post",
            "/api/v1/notification-templates",
            {"key": "k", "locale": "fr", "subject": "s", "text": "t"},
            "locale",
        ),
        (
            "post",
            "/api/v1/notification-templates/k:preview",
            {"event_type": "no dots"},
            "event_type",
        ),
    ],
)
def test_bad_bodies_are_refused_before_any_call(
    app: TestClient,
    auth: Auth,
    fake: FakeRules,
    problem: Problem,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    refused = problem(getattr(app, method)(path, json=body, headers=auth("admin")), 422)
    assert field in str(refused["errors"])
    assert fake.last == {}


def test_the_service_s_refusals_are_problems(app: TestClient, auth: Auth, problem: Problem) -> None:
    bad = problem(
        app.post(
            "/api/v1/notification-rules",
            json=NEW_RULE | {"audience": "voters"},
            headers=auth("admin"),
        ),
        422,
    )
    assert "voters" in str(bad)
    missing = problem(app.get("/api/v1/notification-rules/missing", headers=auth("admin")), 404)
    assert "missing" in missing["detail"]


def test_other_roles_are_refused_early(
    app: TestClient, auth: Auth, fake: FakeRules, problem: Problem
) -> None:
    problem(app.get("/api/v1/notification-rules"), 401)
    for account in ("constituent", "deputy", "street-committee", "department"):
        problem(app.get("/api/v1/notification-rules", headers=auth(account)), 403)
        problem(app.get("/api/v1/notification-event-types", headers=auth(account)), 403)
    office = auth("standing-committee-office")
    problem(app.post("/api/v1/notification-rules", json=NEW_RULE, headers=office), 403)
    problem(app.post("/api/v1/notification-rules/x:disable", headers=office), 403)
    problem(
        app.put(
            "/api/v1/notification-templates/x",
            json={"locale": "en", "subject": "s", "text": "t"},
            headers=office,
        ),
        403,
    )
    assert fake.last == {}


def test_the_openapi_describes_the_routes(app: TestClient) -> None:
    paths = app.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/notification-rules"]) == {"get", "post"}
    assert set(paths["/api/v1/notification-rules/{key}"]) == {"get", "put"}
    assert "post" in paths["/api/v1/notification-rules/{key}:disable"]
    assert "post" in paths["/api/v1/notification-templates/{key}:preview"]
    assert "get" in paths["/api/v1/notification-event-types"]
    assert paths["/api/v1/notification-rules"]["get"]["tags"] == ["notifications"]

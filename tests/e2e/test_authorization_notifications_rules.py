"""The authorisation matrix of notification rules and templates through the
gateway, on the running platform: every caller against every operation, and
a refused write changes no service's audit. Besides: the default rules and
templates are there after the platform's migrate; a bad rule is 422 naming
each field and changes nothing; a preview renders the default template with
an event type's sample and with given data. The rules are tested on the
notifications service's gRPC API (services/notifications/tests); here they
hold for what clients call."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e import test_authorization_e2e as matrix
from tests.e2e.test_authorization_e2e import CALLERS, DISTRICT, World, allowed, get

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]
# The platform and the callers' tokens, as the whole matrix has them.
platform = matrix.platform
world = matrix.world

Operation = Callable[[World], Callable[[dict[str, str]], httpx.Response]]
RULE = {
    "event_type": "referral.letter_moved",
    "audience": "deputy",
    "template_key": "letter_answered",
    "channels": ["inbox"],
    "kind": "letters",
    "conditions": [{"field": "kind", "values": ["answered"]}],
    "link": "/console/#/letters/{{ letter.id }}",
}
_made: dict[str, str] = {}


def _rule_key(w: World) -> str:
    """One rule of this module's own, made once by the admin."""
    if "key" not in _made:
        key = f"e2e.{uuid.uuid4().hex[:8]}"
        reply = w.http.post(
            "/api/v1/notification-rules", json=RULE | {"key": key}, headers=w.admin()
        )
        assert reply.status_code == 201, reply.text
        _made["key"] = key
    return _made["key"]


def create_rule(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(
        "/api/v1/notification-rules",
        json=RULE | {"key": f"e2e.{uuid.uuid4().hex[:8]}"},
        headers=h,
    )


def update_rule(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    key = _rule_key(w)
    return lambda h: w.http.put(
        f"/api/v1/notification-rules/{key}",
        json=RULE | {"description": uuid.uuid4().hex, "enabled": True},
        headers=h,
    )


def disable_rule(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    key = _rule_key(w)
    # Enabled again first, so that every allowed call changes it.
    again = w.http.put(f"/api/v1/notification-rules/{key}", json=RULE, headers=w.admin())
    assert again.status_code == 200, again.text
    return lambda h: w.http.post(f"/api/v1/notification-rules/{key}:disable", headers=h)


def update_template(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    current = w.http.get(
        "/api/v1/notification-templates/deputy_rated", params={"locale": "en"}, headers=w.admin()
    )
    assert current.status_code == 200, current.text
    words = current.json()
    return lambda h: w.http.put(
        "/api/v1/notification-templates/deputy_rated",
        json={
            "locale": "en",
            "subject": words["subject"],
            "text": words["text"],
            "html": words["html"],
            "description": uuid.uuid4().hex,
        },
        headers=h,
    )


def preview(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(
        "/api/v1/notification-templates/opinion_received:preview",
        json={"event_type": "reception.opinion_recorded"},
        headers=h,
    )


MATRIX: list[tuple[str, Operation, dict[str, int]]] = [
    ("GET notification rules", get("/api/v1/notification-rules"), allowed(*DISTRICT)),
    (
        "GET a notification rule",
        get("/api/v1/notification-rules/deputy_rated.deputy"),
        allowed(*DISTRICT),
    ),
    ("GET notification event types", get("/api/v1/notification-event-types"), allowed(*DISTRICT)),
    ("GET notification templates", get("/api/v1/notification-templates"), allowed(*DISTRICT)),
    ("preview a template", preview, allowed(*DISTRICT)),
    ("create a notification rule", create_rule, allowed("admin", ok=201)),
    ("change a notification rule", update_rule, allowed("admin")),
    ("disable a notification rule", disable_rule, allowed("admin")),
    ("change a template", update_template, allowed("admin")),
]
CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name} as {caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_notification_rules_authorisation_through_the_gateway(
    world: World, operation: Operation, caller: str, expected: int
) -> None:
    matrix.test_authorisation_matrix_through_the_gateway(world, operation, caller, expected)


def test_the_defaults_are_there_after_migrate(world: World) -> None:
    rules = world.http.get("/api/v1/notification-rules", headers=world.admin()).json()["rules"]
    defaults = {r["key"] for r in rules if r["is_default"]}
    assert {"booking_confirmed.booker", "letter_overdue.supervisors", "deputy_rated.deputy"} <= (
        defaults
    )
    kinds = world.http.get("/api/v1/notification-event-types", headers=world.admin()).json()
    names = {e["name"] for e in kinds["event_types"]}
    assert {"reception.booking_confirmed", "referral.letter_moved", "duties.deputy_rated"} <= names


def test_a_bad_rule_names_each_field_and_changes_nothing(world: World) -> None:
    before = world.traces()
    reply = world.http.post(
        "/api/v1/notification-rules",
        json=RULE
        | {
            "key": f"e2e.{uuid.uuid4().hex[:8]}",
            "audience": "session_deputies",
            "template_key": "nothing",
        },
        headers=world.admin(),
    )
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"]: e["message"] for e in reply.json()["errors"]}
    assert set(fields) == {"audience", "template_key"}, fields
    assert "does not apply to referral.letter_moved" in fields["audience"]
    assert world.traces() == before


def test_a_preview_renders_the_sample_and_given_data(world: World) -> None:
    office = world.headers["standing-committee-office"]
    url = "/api/v1/notification-templates/opinion_received:preview"
    sample = world.http.post(url, json={"event_type": "reception.opinion_recorded"}, headers=office)
    assert sample.status_code == 200, sample.text
    assert sample.json()["subject"] == "意见已收到：TH-2026-000123"
    data: dict[str, Any] = {"opinion": {"tracking_code": "TH-2026-009999"}}
    given = world.http.post(
        url,
        json={"event_type": "reception.opinion_recorded", "locale": "en", "data": data},
        headers=office,
    )
    assert given.json()["subject"] == "Your opinion is received: TH-2026-009999", given.text
    broken = world.http.post(
        url,
        json={
            "event_type": "reception.opinion_recorded",
            "draft": {"subject": "{{ opinion.nothing }}", "text": "t"},
        },
        headers=office,
    )
    assert broken.status_code == 422, broken.text
    assert [e["field"] for e in broken.json()["errors"]] == ["subject"]

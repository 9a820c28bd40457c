"""Rules and templates over gRPC on PostgreSQL: the defaults loaded once and
never over a change; reads by the admin and the standing committee office,
writes by the admin only, each audited; every bad field named, and a
refused call changes nothing; previews with an event's sample or given data."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from kit.tables import audit_entries
from liaison.notifications.v1 import rules_pb2 as pb
from liaison.notifications.v1 import rules_pb2_grpc as pb_grpc
from notifications.rule_models import RuleRow
from notifications.rules import DEFAULT_RULES, DEFAULT_TEMPLATES
from notifications.template_models import TemplateRow

pytestmark = pytest.mark.postgres


def rules(api: Any, who: Any) -> pb_grpc.RuleServiceStub:
    return pb_grpc.RuleServiceStub(api.channel_as(who))


def templates(api: Any, who: Any) -> pb_grpc.TemplateServiceStub:
    return pb_grpc.TemplateServiceStub(api.channel_as(who))


@pytest.fixture(scope="module", autouse=True)
def defaults(api: Any) -> None:
    api.boot.rulebook.load_defaults()


def counts(api: Any) -> tuple[int, int, int]:
    with api.db.read() as session:
        return (
            int(session.scalar(select(func.count()).select_from(RuleRow)) or 0),
            int(session.scalar(select(func.count()).select_from(TemplateRow)) or 0),
            int(session.scalar(select(func.count()).select_from(audit_entries)) or 0),
        )


def new_rule(**fields: Any) -> pb.Rule:
    values: dict[str, Any] = {
        "key": "booking_confirmed.staff",
        "event_type": "reception.booking_confirmed",
        "audience": "booker",
        "template_key": "booking_confirmed",
        "channels": ["inbox"],
        "kind": "bookings",
        "enabled": True,
    } | fields
    return pb.Rule(**values)


def test_the_defaults_are_loaded_once_and_never_over_a_change(api: Any) -> None:
    templates_count = sum(len(v) for v in DEFAULT_TEMPLATES.values())
    before = counts(api)
    assert before[:2] == (len(DEFAULT_RULES), templates_count)
    with api.db.unit_of_work() as uow:
        row = uow.session.scalar(select(RuleRow).where(RuleRow.key == "deputy_rated.deputy"))
        row.channels = "inbox"
    again = api.boot.rulebook.load_defaults()
    assert (again.rules, again.templates) == (0, 0) and counts(api) == before
    got = rules(api, "admin").GetRule(pb.GetRuleRequest(key="deputy_rated.deputy"))
    assert list(got.channels) == ["inbox"] and got.is_default


@pytest.mark.parametrize("who", ["admin", "standing-committee-office"])
def test_the_admin_and_the_office_read(api: Any, who: str) -> None:
    listed = rules(api, who).ListRules(pb.ListRulesRequest(event_type="referral.letter_moved"))
    assert {r.key for r in listed.rules} >= {"letter_received.unit", "letter_answered.raiser"}
    answered = [r for r in listed.rules if r.key == "letter_answered.committee"][0]
    assert [(c.field, list(c.values)) for c in answered.conditions] == [("kind", ["answered"])]
    kinds = rules(api, who).ListEventTypes(pb.ListEventTypesRequest())
    moved = [e for e in kinds.event_types if e.name == "referral.letter_moved"][0]
    assert {a.name for a in moved.audiences} >= {"letter_unit", "raiser", "deputy"}
    assert json.loads(moved.sample_json)["kind"] == "answered"
    words = templates(api, who).GetTemplate(pb.GetTemplateRequest(key="opinion_received"))
    assert words.locale == "zh-CN" and "{{ opinion.tracking_code }}" in words.subject


@pytest.mark.parametrize("who", ["deputy", "street-committee", "constituent", "department"])
def test_others_may_not_read(api: Any, who: str) -> None:
    error = api.refused(
        lambda: rules(api, who).ListRules(pb.ListRulesRequest()), grpc.StatusCode.PERMISSION_DENIED
    )
    assert "read notification rules" in error.details()
    api.refused(
        lambda: templates(api, who).ListTemplates(pb.ListTemplatesRequest()),
        grpc.StatusCode.PERMISSION_DENIED,
    )


def test_only_the_admin_writes_and_a_refusal_changes_nothing(api: Any) -> None:
    before = counts(api)
    office = "standing-committee-office"
    api.refused(
        lambda: rules(api, office).CreateRule(pb.CreateRuleRequest(rule=new_rule())),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    api.refused(
        lambda: rules(api, office).DisableRule(pb.DisableRuleRequest(key="deputy_rated.deputy")),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    api.refused(
        lambda: templates(api, office).UpdateTemplate(
            pb.UpdateTemplateRequest(
                template=pb.Template(key="deputy_rated", locale="en", subject="x", text="y")
            )
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    api.refused(
        lambda: rules(api, None).ListRules(pb.ListRulesRequest()), grpc.StatusCode.UNAUTHENTICATED
    )
    assert counts(api) == before


def test_a_bad_rule_names_every_bad_field(api: Any) -> None:
    before = counts(api)
    bad = new_rule(
        key="booking.bad",
        audience="session_deputies",
        template_key="nothing",
        channels=["inbox", "fax"],
        kind="news",
    )
    error = api.refused(
        lambda: rules(api, "admin").CreateRule(pb.CreateRuleRequest(rule=bad)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    found = api.field_errors(error)
    assert set(found) == {"audience", "template_key", "channels", "kind"}
    assert "session_deputies does not apply to reception.booking_confirmed" in found["audience"]
    unknown = api.refused(
        lambda: rules(api, "admin").CreateRule(
            pb.CreateRuleRequest(rule=new_rule(key="x.y", event_type="reception.booked"))
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "event_type" in api.field_errors(unknown)
    # A template that does not render with the event's data: named with its part.
    mismatched = api.refused(
        lambda: rules(api, "admin").CreateRule(
            pb.CreateRuleRequest(rule=new_rule(key="x.z", template_key="letter_received"))
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert (
        "does not render with reception.booking_confirmed"
        in (api.field_errors(mismatched)["template_key"])
    )
    assert counts(api) == before


def test_the_admin_creates_changes_and_disables_a_rule_audited(api: Any) -> None:
    before = counts(api)
    admin = rules(api, "admin")
    made = admin.CreateRule(pb.CreateRuleRequest(rule=new_rule(link="/#/bookings")))
    assert made.id and made.enabled and not made.is_default
    api.refused(
        lambda: admin.CreateRule(pb.CreateRuleRequest(rule=new_rule())),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    changed = admin.UpdateRule(
        pb.UpdateRuleRequest(rule=new_rule(channels=["inbox", "sms"], urgent=True))
    )
    assert list(changed.channels) == ["inbox", "sms"] and changed.urgent
    off = admin.DisableRule(pb.DisableRuleRequest(key="booking_confirmed.staff"))
    assert not off.enabled
    api.refused(
        lambda: admin.DisableRule(pb.DisableRuleRequest(key="no.such")),
        grpc.StatusCode.NOT_FOUND,
    )
    after = counts(api)
    assert after[0] == before[0] + 1 and after[2] == before[2] + 3
    with api.db.read() as session:
        entries = session.execute(
            select(audit_entries.c.action, audit_entries.c.changed_fields)
            .where(audit_entries.c.record_kind == "notification_rule")
            .order_by(audit_entries.c.id)
        ).all()
    assert [e.action for e in entries][-3:] == ["created", "changed", "disabled"]
    assert entries[-2].changed_fields == "channels,link,urgent"


def test_templates_are_created_changed_and_refused_when_they_do_not_render(api: Any) -> None:
    admin = templates(api, "admin")
    made = admin.CreateTemplate(
        pb.CreateTemplateRequest(
            template=pb.Template(key="staff_note", locale="en", subject="Note", text="{{ x }}")
        )
    )
    assert (made.key, made.locale, made.is_default) == ("staff_note", "en", False)
    bad = api.refused(
        lambda: admin.CreateTemplate(
            pb.CreateTemplateRequest(
                template=pb.Template(key="Bad Key", locale="fr", subject="", text="{% if %}")
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(api.field_errors(bad)) == {"key", "locale", "subject", "text"}
    before = counts(api)
    # deputy_rated is used by a rule on duties.deputy_rated: its words must render with it.
    broken = api.refused(
        lambda: admin.UpdateTemplate(
            pb.UpdateTemplateRequest(
                template=pb.Template(
                    key="deputy_rated", locale="en", subject="{{ deputy.name }}", text="x"
                )
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "does not render with duties.deputy_rated" in api.field_errors(broken)["subject"]
    assert counts(api) == before
    ok = admin.UpdateTemplate(
        pb.UpdateTemplateRequest(
            template=pb.Template(
                key="deputy_rated", locale="en", subject="Rated in {{ year }}", text="A rating."
            )
        )
    )
    assert ok.subject == "Rated in {{ year }}"
    assert counts(api)[2] == before[2] + 1


def test_a_preview_renders_the_sample_given_data_or_a_draft(api: Any) -> None:
    office = templates(api, "standing-committee-office")
    sample = office.PreviewTemplate(
        pb.PreviewTemplateRequest(
            key="opinion_received", locale="zh-CN", event_type="reception.opinion_recorded"
        )
    )
    assert sample.subject == "意见已收到：TH-2026-000123"
    given = office.PreviewTemplate(
        pb.PreviewTemplateRequest(
            key="opinion_received",
            locale="en",
            event_type="reception.opinion_recorded",
            data_json=json.dumps({"opinion": {"tracking_code": "TH-2026-000777"}}),
        )
    )
    assert given.subject == "Your opinion is received: TH-2026-000777"
    draft = office.PreviewTemplate(
        pb.PreviewTemplateRequest(
            key="opinion_received",
            event_type="reception.opinion_recorded",
            draft=pb.Template(
                subject="<{{ opinion.tracking_code }}>",
                text="t",
                html="<i>{{ opinion.content }}</i>",
            ),
            data_json=json.dumps({"opinion": {"tracking_code": "A", "content": "<b>"}}),
        )
    )
    assert (draft.subject, draft.html) == ("<A>", "<i>&lt;b&gt;</i>")
    for request, field in (
        (pb.PreviewTemplateRequest(key="opinion_received", event_type="x.y"), "event_type"),
        (
            pb.PreviewTemplateRequest(
                key="opinion_received", event_type="reception.opinion_recorded", data_json="[1]"
            ),
            "data_json",
        ),
        (
            pb.PreviewTemplateRequest(
                key="opinion_received",
                event_type="reception.opinion_recorded",
                data_json='{"opinion": {"colour": 1}}',
            ),
            "data_json",
        ),
        (
            pb.PreviewTemplateRequest(
                key="x",
                event_type="reception.opinion_recorded",
                draft=pb.Template(subject="{{ nope }}", text="t"),
            ),
            "subject",
        ),
    ):
        error = api.refused(
            lambda r=request: office.PreviewTemplate(r), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert field in api.field_errors(error), (field, error.details())
    api.refused(
        lambda: office.PreviewTemplate(
            pb.PreviewTemplateRequest(key="nothing", event_type="reception.opinion_recorded")
        ),
        grpc.StatusCode.NOT_FOUND,
    )

"""Rules: each bad field named; the default set valid, its templates render
in both locales with each event's sample, its conditions pick the moves."""

from __future__ import annotations

from dataclasses import replace

from notifications import audiences, catalog
from notifications.rules import DEFAULT_RULES, DEFAULT_TEMPLATES, Rule, check_rule
from notifications.templates import context_of, render

GOOD = Rule(
    key="booking_confirmed.booker",
    event_type="reception.booking_confirmed",
    audience="booker",
    template_key="booking_confirmed",
    channels=("inbox", "email"),
    kind="bookings",
)
TEMPLATES = set(DEFAULT_TEMPLATES)


def problems(rule: Rule) -> dict[str, str]:
    return {v.field: v.description for v in check_rule(rule, TEMPLATES)}


def test_a_good_rule_has_no_problem() -> None:
    assert problems(GOOD) == {}


def test_each_bad_field_is_named() -> None:
    found = problems(
        replace(
            GOOD,
            key="Bad Key",
            event_type="reception.booking_made",
            template_key="nothing",
            channels=("inbox", "fax"),
            kind="news",
            link="http://elsewhere",
            description="x" * 501,
        )
    )
    assert set(found) == {
        "key",
        "event_type",
        "template_key",
        "channels",
        "kind",
        "link",
        "description",
    }
    assert "fax is not a channel" in found["channels"]
    assert "'reception.booking_made' is not an event type" in found["event_type"]
    assert "nothing is not a template" in found["template_key"]


def test_an_audience_not_for_the_event_type_is_refused() -> None:
    found = problems(replace(GOOD, audience="session_deputies"))
    assert found == {
        "audience": "session_deputies does not apply to reception.booking_confirmed: one of booker"
    }
    assert "is not an audience" in problems(replace(GOOD, audience="voters"))["audience"]


def test_a_condition_names_a_field_of_the_event() -> None:
    found = problems(replace(GOOD, conditions={"colour": ("red",)}))
    assert "'colour' is not a field of reception.booking_confirmed" in found["conditions"]


def test_every_default_rule_is_valid_and_renders_in_both_locales() -> None:
    assert len({r.key for r in DEFAULT_RULES}) == len(DEFAULT_RULES)
    for rule in DEFAULT_RULES:
        assert check_rule(rule, TEMPLATES) == [], rule.key
        event = catalog.event_type(rule.event_type)
        assert audiences.audience(rule.audience).applies_to(rule.event_type)
        for locale in ("zh-CN", "en"):
            words = DEFAULT_TEMPLATES[rule.template_key][locale]
            context = context_of(catalog.payload_of(event.sample()), locale=locale, link="/x")
            out = render(words, context, key=rule.template_key, locale=locale)
            assert out.subject and out.text and 'href="/x"' in out.html


def test_conditions_pick_a_letter_s_moves() -> None:
    (answered,) = [r for r in DEFAULT_RULES if r.key == "letter_answered.committee"]
    assert answered.applies({"kind": "answered"})
    assert not answered.applies({"kind": "sent"})
    (tomorrow,) = [r for r in DEFAULT_RULES if r.key == "letter_due_tomorrow.unit"]
    assert tomorrow.urgent and tomorrow.applies({"days_before": 1})
    assert not tomorrow.applies({"days_before": 7})


def test_every_event_type_a_rule_may_name_has_a_handler() -> None:
    from notifications.consumers import NotificationsWorker
    from notifications.fanout_consumers import CONSUMED

    assert {r.event_type for r in DEFAULT_RULES} <= set(CONSUMED)
    for name in catalog.EVENT_TYPES:
        handler = "fanout_" + name.replace(".", "_", 1)
        assert hasattr(NotificationsWorker, handler) == bool(audiences.audiences_for(name)), name

"""Templates render in a sandbox, strictly: a problem names the template,
its locale, the part and what is wrong."""

from __future__ import annotations

import pytest

from notifications.templates import (
    TemplateProblem,
    TemplateText,
    check_words,
    context_of,
    render,
)

WORDS = TemplateText(
    subject="意见已收到：{{ opinion.tracking_code }}",
    text="查询码 {{ opinion.tracking_code }}，{{ local_date(day) }}",
    html="<p>{{ opinion.content }}</p>",
)


def context(**payload: object) -> dict[str, object]:
    base = {"opinion": {"tracking_code": "TH-2026-000001", "content": "<b>电梯</b>"}}
    return context_of(base | payload, locale="zh-CN", link="/#/track/TH-2026-000001")


def test_the_three_parts_render_and_html_is_escaped() -> None:
    out = render(WORDS, context(day="2026-12-15"), key="opinion_received", locale="zh-CN")
    assert out.subject == "意见已收到：TH-2026-000001"
    assert out.text == "查询码 TH-2026-000001，2026年12月15日"
    assert out.html == "<p>&lt;b&gt;电梯&lt;/b&gt;</p>"


def test_times_are_shown_in_shanghai() -> None:
    words = TemplateText("{{ local_time(at) }}", "{{ local_date(at) }}", "")
    out = render(
        words, context_of({"at": "2026-12-14T17:30:00Z"}, locale="en"), key="k", locale="en"
    )
    assert (out.subject, out.text) == ("01:30", "15 Dec 2026")


@pytest.mark.parametrize(
    ("words", "part", "problem"),
    [
        (TemplateText("{{ opinion.code }}", "x", ""), "subject", "unknown variable"),
        (TemplateText("x", "{% if %}", ""), "text", "syntax error on line 1"),
        (
            TemplateText("x", "x", "{{ ''.__class__.__mro__ }}"),
            "html",
            "not allowed in a template",
        ),
    ],
)
def test_a_template_that_does_not_render_names_where_and_why(
    words: TemplateText, part: str, problem: str
) -> None:
    with pytest.raises(TemplateProblem) as error:
        render(words, context(day=""), key="opinion_received", locale="en")
    assert (error.value.key, error.value.locale, error.value.part) == (
        "opinion_received",
        "en",
        part,
    )
    assert problem in str(error.value) and str(error.value).startswith(
        f"template opinion_received (en), {part}:"
    )


def test_a_subject_of_two_lines_is_refused() -> None:
    with pytest.raises(TemplateProblem, match="subject: renders to more than one line"):
        render(TemplateText("a\n{{ 'b' }}", "x", ""), context(), key="k", locale="zh-CN")


def test_words_are_checked_before_they_are_stored() -> None:
    assert check_words(TemplateText("", "{% for %}", "")) == [
        ("subject", "is required"),
        ("text", "syntax error on line 1: Expected an expression, got 'end of statement block'"),
    ]
    assert check_words(WORDS) == []

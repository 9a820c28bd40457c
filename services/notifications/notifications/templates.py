"""Templates: a message's words per template key and locale, in jinja2.

Each template has three parts: a one-line `subject`, a plain `text` body and
an `html` body. They are rendered in jinja2's SandboxedEnvironment (a
template is data an admin edits, so it may not reach Python's internals)
with StrictUndefined (a misspelt variable is an error, not an empty
string), the HTML body with autoescape on (an opinion's text can hold
markup). A template that does not render with an event's data (a syntax
error, an unknown variable, a sandbox violation) raises TemplateProblem
naming the template, its locale, the part and the problem.

The context is the event's payload as its JSON mapping (proto field names,
every field present: `catalog.payload_of`) plus:
- `link`: where the recipient follows it up (the rule's link, rendered);
- `occurred_at`: when the event happened, in Asia/Shanghai ("2026-12-15 09:00");
- `local_date(value)` / `local_time(value)`: an ISO date or an RFC 3339 time
  as a date or a time of day in Asia/Shanghai ("2026年12月15日", "09:00" in
  zh-CN; "15 Dec 2026" in en);
- `locale`: "zh-CN" or "en".
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from kit.workdays import SHANGHAI
from notifications.message_models import LOCALES

PARTS = ("subject", "text", "html")
DEFAULT_LOCALE = "zh-CN"
MAX_SUBJECT = 300
MAX_BODY = 20_000


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    locale: str = ""  # the locale of the words rendered


@dataclass(frozen=True)
class TemplateText:
    """One template's words in one locale."""

    subject: str
    text: str
    html: str

    def part(self, name: str) -> str:
        value: str = getattr(self, name)
        return value


class TemplateProblem(ValueError):
    """A template that does not compile or render: which, where and why."""

    def __init__(self, key: str, locale: str, part: str, problem: str) -> None:
        self.key, self.locale, self.part, self.problem = key, locale, part, problem
        super().__init__(f"template {key} ({locale}), {part}: {problem}")


_PLAIN = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
_HTML = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=True)


def _as_datetime(value: Any) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    text = str(value or "")
    if not text:
        return None
    try:
        if "T" in text:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(SHANGHAI)
        return date.fromisoformat(text)
    except ValueError:
        return None


def _helpers(locale: str) -> dict[str, Any]:
    def local_date(value: Any) -> str:
        moment = _as_datetime(value)
        if moment is None:
            return str(value or "")
        if isinstance(moment, datetime):
            moment = moment.astimezone(SHANGHAI).date()
        if locale == "en":
            return moment.strftime("%d %b %Y").lstrip("0")
        return f"{moment.year}年{moment.month}月{moment.day}日"

    def local_time(value: Any) -> str:
        moment = _as_datetime(value)
        if not isinstance(moment, datetime):
            return str(value or "")
        return moment.astimezone(SHANGHAI).strftime("%H:%M")

    return {"local_date": local_date, "local_time": local_time, "locale": locale}


def context_of(
    payload: Mapping[str, Any],
    *,
    locale: str,
    link: str = "",
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """What a template sees: the payload, and the helpers above."""
    when = (occurred_at or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    return (
        dict(payload)
        | _helpers(locale)
        | {"link": link, "occurred_at": when.strftime("%Y-%m-%d %H:%M")}
    )


@functools.lru_cache(maxsize=1024)
def _compiled(html: bool, source: str) -> jinja2.Template:
    """A template's source compiled once per process (keyed by the source
    itself, so an edited template is compiled anew); a compiled template
    renders in any thread."""
    return (_HTML if html else _PLAIN).from_string(source)


def render_part(
    source: str, context: Mapping[str, Any], *, key: str, locale: str, part: str
) -> str:
    """One part rendered; TemplateProblem naming key, locale and part otherwise."""
    try:
        rendered = _compiled(part == "html", source).render(context)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateProblem(
            key, locale, part, f"syntax error on line {error.lineno}: {error.message}"
        ) from None
    except jinja2.UndefinedError as error:
        raise TemplateProblem(key, locale, part, f"unknown variable: {error.message}") from None
    except SecurityError as error:
        raise TemplateProblem(key, locale, part, f"not allowed in a template: {error}") from None
    except Exception as error:  # a filter or an operation that fails on this data
        raise TemplateProblem(
            key, locale, part, f"does not render: {type(error).__name__}: {error}"
        ) from None
    return rendered.strip() if part == "subject" else rendered


def render(text: TemplateText, context: Mapping[str, Any], *, key: str, locale: str) -> Rendered:
    """Every part of `text` rendered with `context`."""
    subject = render_part(text.subject, context, key=key, locale=locale, part="subject")
    if "\n" in subject:
        raise TemplateProblem(key, locale, "subject", "renders to more than one line")
    return Rendered(
        subject=subject[:MAX_SUBJECT],
        text=render_part(text.text, context, key=key, locale=locale, part="text"),
        html=render_part(text.html, context, key=key, locale=locale, part="html"),
        locale=locale,
    )


def check_words(text: TemplateText) -> list[tuple[str, str]]:
    """The parts of `text` that are empty, too long or do not compile, and why."""
    problems: list[tuple[str, str]] = []
    for part in PARTS:
        source = text.part(part)
        limit = MAX_SUBJECT if part == "subject" else MAX_BODY
        if part != "html" and not source.strip():
            problems.append((part, "is required"))
            continue
        if len(source) > limit:
            problems.append((part, f"is at most {limit} characters"))
            continue
        env = _HTML if part == "html" else _PLAIN
        try:
            env.parse(source)
        except jinja2.TemplateSyntaxError as error:
            problems.append((part, f"syntax error on line {error.lineno}: {error.message}"))
    return problems


def check_locale(locale: str) -> str | None:
    """What is wrong with `locale`, or None."""
    return (
        None if locale in LOCALES else f"{locale or '(empty)'} is not one of: {', '.join(LOCALES)}"
    )

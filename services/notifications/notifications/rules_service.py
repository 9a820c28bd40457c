"""The RuleBook: rules' and templates' use cases, and what the fan-out asks
of them (`matching`, `render`).

Who may: read rules, templates, event types and previews, the admin and
the standing committee office; create, change and disable, the admin only.
Each change is one unit of work with its audit entry (field names only); a
refused call changes nothing. INVALID_ARGUMENT names every bad field at
once: an unknown event type, channel, template or audience, an audience not
for the event type, a template that does not render with the event's
sample data (named with its locale and part).

The defaults (`notifications.rules.DEFAULT_RULES`, `DEFAULT_TEMPLATES`) are
loaded by `load_defaults`: only the keys the service lacks, never over an
admin's change, so it runs at every migrate and `notifications
load-defaults` without harm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from sqlalchemy import select
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import Principal, Role, require
from kit.convert import timestamp
from kit.db import Database
from kit.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, invalid
from liaison.notifications.v1 import rules_pb2 as pb
from notifications import audiences, catalog
from notifications.message_models import LOCALES
from notifications.rule_models import RuleRow
from notifications.rules import (
    DEFAULT_RULES,
    DEFAULT_TEMPLATES,
    Rule,
    check_key,
    check_rule,
    normalised,
)
from notifications.template_models import TemplateRow
from notifications.templates import (
    DEFAULT_LOCALE,
    Rendered,
    TemplateProblem,
    TemplateText,
    check_locale,
    check_words,
    context_of,
    render,
    render_part,
)

READERS = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE)
WRITERS = (Role.ADMIN,)


@dataclass(frozen=True)
class Loaded:
    rules: int
    templates: int


# ---------------------------------------------------------------- conversions


def rule_of_row(row: RuleRow) -> Rule:
    return Rule(
        key=row.key,
        event_type=row.event_type,
        audience=row.audience,
        template_key=row.template_key,
        channels=tuple(c for c in row.channels.split(",") if c),
        kind=row.kind,
        urgent=row.urgent,
        enabled=row.enabled,
        conditions={k: tuple(v) for k, v in json.loads(row.conditions or "{}").items()},
        link=row.link,
        description=row.description,
        id=row.id,
        is_default=row.is_default,
    )


def _fill(row: RuleRow, rule: Rule) -> None:
    row.event_type = rule.event_type
    row.audience = rule.audience
    row.template_key = rule.template_key
    row.channels = ",".join(rule.channels)
    row.kind = rule.kind
    row.urgent = rule.urgent
    row.enabled = rule.enabled
    row.conditions = json.dumps(
        {k: list(v) for k, v in sorted(rule.conditions.items())}, ensure_ascii=False
    )
    row.link = rule.link
    row.description = rule.description


# The fields a Rule and its message share as they are.
_SAME = ("key", "event_type", "audience", "template_key", "kind", "urgent", "enabled", "link")


def rule_of_pb(message: pb.Rule) -> Rule:
    return normalised(
        Rule(
            **{name: getattr(message, name) for name in _SAME},
            channels=tuple(message.channels),
            conditions={c.field.strip(): tuple(c.values) for c in message.conditions},
            description=message.description,
        )
    )


def rule_pb(row: RuleRow) -> pb.Rule:
    rule = rule_of_row(row)
    return pb.Rule(
        **{name: getattr(rule, name) for name in _SAME},
        id=row.id,
        channels=list(rule.channels),
        conditions=[pb.RuleCondition(field=k, values=list(v)) for k, v in rule.conditions.items()],
        description=rule.description,
        is_default=row.is_default,
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )


def template_pb(row: TemplateRow) -> pb.Template:
    return pb.Template(
        key=row.key,
        locale=row.locale,
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
        description=row.description,
        is_default=row.is_default,
        updated_at=timestamp(row.updated_at),
    )


def _words(row: TemplateRow) -> TemplateText:
    return TemplateText(row.subject, row.text_body, row.html_body)


def event_type_pb(event: catalog.EventType) -> pb.EventType:
    return pb.EventType(
        name=event.name,
        message=event.message.DESCRIPTOR.full_name,
        description=f"{event.service}'s {event.routing_key.replace('_', ' ')}",
        audiences=[
            pb.Audience(name=a.name, description=a.description)
            for a in audiences.audiences_for(event.name)
        ],
        sample_json=catalog.sample_text(event.name),
    )


# ---------------------------------------------------------------- the use cases


class RuleBook:
    """Rules' and templates' use cases over one Database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- what the fan-out asks

    @staticmethod
    def matching(session: Session, event_type: str) -> list[Rule]:
        """The enabled rules of `event_type`, by key."""
        rows = session.scalars(
            select(RuleRow)
            .where(RuleRow.event_type == event_type, RuleRow.enabled.is_(True))
            .order_by(RuleRow.key)
        )
        return [rule_of_row(row) for row in rows]

    @staticmethod
    def render(
        session: Session, template_key: str, locale: str, context: dict[str, Any]
    ) -> Rendered:
        """The template in `locale` (else in zh-CN, else in the locale it
        has) rendered with `context`; TemplateProblem when it does not
        render, LookupError when there is no such template."""
        row = (
            _template(session, template_key, locale)
            or _template(session, template_key, DEFAULT_LOCALE)
            or session.scalar(
                select(TemplateRow).where(TemplateRow.key == template_key).order_by(TemplateRow.id)
            )
        )
        if row is None:
            raise LookupError(f"no template {template_key}")
        return render(_words(row), context, key=row.key, locale=row.locale)

    @staticmethod
    def render_link(rule: Rule, context: dict[str, Any]) -> str:
        return render_part(rule.link, context, key=rule.key, locale="-", part="link")

    # -- defaults

    def load_defaults(self) -> Loaded:
        """Add the default rules and templates the service lacks (by key)."""
        with self.db.unit_of_work() as uow:
            return load_defaults(uow.session)

    # -- rules

    def list_rules(self, request: pb.ListRulesRequest, actor: Principal | None) -> list[pb.Rule]:
        require(actor, *READERS, doing="read notification rules")
        query = select(RuleRow).order_by(RuleRow.event_type, RuleRow.key)
        if request.event_type:
            query = query.where(RuleRow.event_type == request.event_type)
        if request.enabled_only:
            query = query.where(RuleRow.enabled.is_(True))
        with self.db.read() as session:
            return [rule_pb(row) for row in session.scalars(query)]

    def get_rule(self, key: str, actor: Principal | None) -> pb.Rule:
        require(actor, *READERS, doing="read notification rules")
        with self.db.read() as session:
            return rule_pb(_rule_row(session, key))

    def create_rule(self, message: pb.Rule, actor: Principal | None) -> pb.Rule:
        who = require(actor, *WRITERS, doing="create notification rules")
        rule = rule_of_pb(message)
        with self.db.unit_of_work() as uow:
            session = uow.session
            _refuse_bad_rule(session, rule)
            if session.scalar(select(RuleRow.id).where(RuleRow.key == rule.key)) is not None:
                raise AlreadyExists(
                    f"a rule {rule.key} exists: change it instead",
                    [FieldViolation("key", f"{rule.key} is taken")],
                )
            row = RuleRow(key=rule.key, is_default=False)
            _fill(row, rule)
            session.add(row)
            session.flush()
            audit.record(session, who, "created", "notification_rule", row.id, _RULE_FIELDS)
            return rule_pb(row)

    def update_rule(self, message: pb.Rule, actor: Principal | None) -> pb.Rule:
        who = require(actor, *WRITERS, doing="change notification rules")
        rule = rule_of_pb(message)
        with self.db.unit_of_work() as uow:
            session = uow.session
            row = _rule_row(session, rule.key)
            _refuse_bad_rule(session, rule)
            before = rule_pb(row)
            _fill(row, rule)
            session.flush()
            after = rule_pb(row)
            changed = [f for f in _RULE_FIELDS if getattr(before, f) != getattr(after, f)]
            audit.record(session, who, "changed", "notification_rule", row.id, changed)
            return after

    def disable_rule(self, key: str, actor: Principal | None) -> pb.Rule:
        who = require(actor, *WRITERS, doing="disable notification rules")
        with self.db.unit_of_work() as uow:
            row = _rule_row(uow.session, key)
            if row.enabled:
                row.enabled = False
                uow.session.flush()
                audit.record(uow.session, who, "disabled", "notification_rule", row.id, ["enabled"])
            return rule_pb(row)

    def event_types(self, actor: Principal | None) -> list[pb.EventType]:
        require(actor, *READERS, doing="read notification rules")
        return [event_type_pb(e) for e in catalog.EVENT_TYPES.values()]

    # -- templates

    def list_templates(
        self, request: pb.ListTemplatesRequest, actor: Principal | None
    ) -> list[pb.Template]:
        require(actor, *READERS, doing="read notification templates")
        query = select(TemplateRow).order_by(TemplateRow.key, TemplateRow.locale)
        if request.key:
            query = query.where(TemplateRow.key == request.key)
        with self.db.read() as session:
            return [template_pb(row) for row in session.scalars(query)]

    def get_template(self, key: str, locale: str, actor: Principal | None) -> pb.Template:
        require(actor, *READERS, doing="read notification templates")
        with self.db.read() as session:
            return template_pb(_template_row(session, key, locale or DEFAULT_LOCALE))

    def create_template(self, message: pb.Template, actor: Principal | None) -> pb.Template:
        who = require(actor, *WRITERS, doing="create notification templates")
        key, locale = message.key.strip(), message.locale.strip()
        words = TemplateText(message.subject, message.text, message.html)
        violations = _template_violations(key, locale, words)
        if violations:
            raise InvalidArgument("the template is not valid", violations)
        with self.db.unit_of_work() as uow:
            session = uow.session
            if _template(session, key, locale) is not None:
                raise AlreadyExists(
                    f"a template {key} ({locale}) exists: change it instead",
                    [FieldViolation("key", f"{key} ({locale}) is taken")],
                )
            _refuse_unrendered(session, key, locale, words)
            row = TemplateRow(
                key=key,
                locale=locale,
                subject=words.subject,
                text_body=words.text,
                html_body=words.html,
                description=message.description.strip()[:500],
                is_default=False,
            )
            session.add(row)
            session.flush()
            audit.record(session, who, "created", "notification_template", row.id, _TPL_FIELDS)
            return template_pb(row)

    def update_template(self, message: pb.Template, actor: Principal | None) -> pb.Template:
        who = require(actor, *WRITERS, doing="change notification templates")
        key, locale = message.key.strip(), message.locale.strip() or DEFAULT_LOCALE
        words = TemplateText(message.subject, message.text, message.html)
        violations = _template_violations(key, locale, words)
        if violations:
            raise InvalidArgument("the template is not valid", violations)
        with self.db.unit_of_work() as uow:
            session = uow.session
            row = _template_row(session, key, locale)
            _refuse_unrendered(session, key, locale, words)
            changed = [
                name
                for name, old, new in (
                    ("subject", row.subject, words.subject),
                    ("text", row.text_body, words.text),
                    ("html", row.html_body, words.html),
                    ("description", row.description, message.description.strip()[:500]),
                )
                if old != new
            ]
            row.subject, row.text_body, row.html_body = words.subject, words.text, words.html
            row.description = message.description.strip()[:500]
            session.flush()
            audit.record(session, who, "changed", "notification_template", row.id, changed)
            return template_pb(row)

    def preview(
        self, request: pb.PreviewTemplateRequest, actor: Principal | None
    ) -> pb.RenderedMessage:
        """The template (or the draft's words) rendered with the event type's
        sample payload, or with `data_json`."""
        require(actor, *READERS, doing="preview notification templates")
        locale = request.locale or DEFAULT_LOCALE
        if problem := check_locale(locale):
            raise invalid("locale", problem)
        try:
            event = catalog.event_type(request.event_type)
        except catalog.UnknownEventType as error:
            raise invalid("event_type", str(error)) from None
        payload = _payload(event, request.data_json)
        if request.HasField("draft"):
            words = TemplateText(request.draft.subject, request.draft.text, request.draft.html)
            problems = check_words(words)
            if problems:
                raise InvalidArgument(
                    "the draft is not valid",
                    [FieldViolation(f"draft.{part}", why) for part, why in problems],
                )
        else:
            with self.db.read() as session:
                words = _words(_template_row(session, request.key, locale))
        context = context_of(payload, locale=locale, link="/#/example")
        try:
            rendered = render(words, context, key=request.key or "(draft)", locale=locale)
        except TemplateProblem as error:
            raise InvalidArgument(str(error), [FieldViolation(error.part, error.problem)]) from None
        return pb.RenderedMessage(subject=rendered.subject, text=rendered.text, html=rendered.html)


_RULE_FIELDS = (
    "event_type",
    "audience",
    "template_key",
    "channels",
    "kind",
    "urgent",
    "enabled",
    "conditions",
    "link",
    "description",
)
_TPL_FIELDS = ("subject", "text", "html", "description")


def _payload(event: catalog.EventType, data_json: str) -> dict[str, Any]:
    if not data_json.strip():
        return catalog.payload_of(event.sample())
    try:
        data = json.loads(data_json)
    except ValueError as error:
        raise invalid("data_json", f"is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise invalid("data_json", f"is a JSON object of a {event.name} payload")
    try:
        message = json_format.ParseDict(data, event.message())
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
        raise invalid("data_json", f"is not a {event.name} payload: {error}") from None
    return catalog.payload_of(message)


def _template(session: Session, key: str, locale: str) -> TemplateRow | None:
    row: TemplateRow | None = session.scalar(
        select(TemplateRow).where(TemplateRow.key == key, TemplateRow.locale == locale)
    )
    return row


def _template_row(session: Session, key: str, locale: str) -> TemplateRow:
    row = _template(session, key, locale)
    if row is None:
        raise NotFound(f"no template {key or '(empty)'} in {locale or '(empty)'}")
    return row


def _rule_row(session: Session, key: str) -> RuleRow:
    row: RuleRow | None = session.scalar(select(RuleRow).where(RuleRow.key == key))
    if row is None:
        raise NotFound(f"no notification rule {key or '(empty)'}")
    return row


def _template_keys(session: Session) -> set[str]:
    return set(session.scalars(select(TemplateRow.key).distinct()))


def _sample_context(event_type: str, locale: str) -> dict[str, Any]:
    event = catalog.event_type(event_type)
    return context_of(catalog.payload_of(event.sample()), locale=locale, link="/#/example")


def _refuse_bad_rule(session: Session, rule: Rule) -> None:
    """InvalidArgument naming every bad field of `rule`: its own checks, then
    its template and link rendered with its event's sample in every locale."""
    violations = check_rule(rule, _template_keys(session))
    if not violations:
        for row in session.scalars(select(TemplateRow).where(TemplateRow.key == rule.template_key)):
            context = _sample_context(rule.event_type, row.locale)
            try:
                render(_words(row), context, key=row.key, locale=row.locale)
            except TemplateProblem as error:
                violations.append(
                    FieldViolation(
                        "template_key", f"does not render with {rule.event_type}: {error}"
                    )
                )
        if rule.link:
            try:
                render_part(
                    rule.link,
                    _sample_context(rule.event_type, DEFAULT_LOCALE),
                    key=rule.key,
                    locale="-",
                    part="link",
                )
            except TemplateProblem as error:
                violations.append(FieldViolation("link", error.problem))
    if violations:
        raise InvalidArgument(f"the rule {rule.key or '(no key)'} is not valid", violations)


def _template_violations(key: str, locale: str, words: TemplateText) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    if problem := check_key("key", key):
        found.append(FieldViolation("key", problem))
    if problem := check_locale(locale):
        found.append(FieldViolation("locale", problem))
    found.extend(FieldViolation(part, why) for part, why in check_words(words))
    return found


def _refuse_unrendered(session: Session, key: str, locale: str, words: TemplateText) -> None:
    """Refuse words that do not render with the sample of an event type
    whose rules use the template."""
    event_types = sorted(
        set(session.scalars(select(RuleRow.event_type).where(RuleRow.template_key == key)))
    )
    violations = []
    for event_type in event_types:
        try:
            render(words, _sample_context(event_type, locale), key=key, locale=locale)
        except TemplateProblem as error:
            violations.append(
                FieldViolation(error.part, f"does not render with {event_type}: {error.problem}")
            )
    if violations:
        raise InvalidArgument(f"the template {key} ({locale}) does not render", violations)


def load_defaults(session: Session) -> Loaded:
    """Add, in `session`, the default templates and rules whose keys the
    service lacks; leave every row that exists as it is."""
    templates = 0
    for key, by_locale in DEFAULT_TEMPLATES.items():
        for locale, words in by_locale.items():
            assert locale in LOCALES
            if _template(session, key, locale) is None:
                session.add(
                    TemplateRow(
                        key=key,
                        locale=locale,
                        subject=words.subject,
                        text_body=words.text,
                        html_body=words.html,
                        description="",
                        is_default=True,
                    )
                )
                templates += 1
    session.flush()
    have = set(session.scalars(select(RuleRow.key)))
    rules = 0
    for rule in DEFAULT_RULES:
        if rule.key not in have:
            row = RuleRow(key=rule.key, is_default=True)
            _fill(row, rule)
            session.add(row)
            rules += 1
    session.flush()
    return Loaded(rules=rules, templates=templates)

"""Notification rules and templates (通知规则), served by the notifications
service's RuleService and TemplateService.

A rule names an event type of the platform, who of the event is told (an
audience), a template and the channels it may use; a template has a
subject, a text and an HTML body per locale (zh-CN, en), jinja2 over the
event's data, previewed with the event type's sample or given data.

The admin and the standing committee office read; the admin writes. That is
the notifications service's decision; the gateway only refuses early a role
that never may."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gateway import schemas_rules as s
from gateway.auth import Principal, Role, require_roles
from gateway.convert import message_to_dict
from gateway.problems import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    responses,
)
from gateway.upstream import caller
from liaison.notifications.v1 import rules_pb2 as pb
from liaison.notifications.v1 import rules_pb2_grpc as pb_grpc

router = APIRouter(prefix="/api/v1", tags=["notifications"])

Reader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Key = Annotated[s.RuleKey, Path(description="The rule's or template's key.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)

_rules = caller("notifications", pb_grpc.RuleServiceStub)
_templates = caller("notifications", pb_grpc.TemplateServiceStub)


def _rule(message: pb.Rule) -> s.NotificationRule:
    return s.NotificationRule.model_validate(message_to_dict(message))


def _rule_message(key: str, body: s.NotificationRuleFields) -> pb.Rule:
    return pb.Rule(
        key=key,
        event_type=body.event_type,
        audience=body.audience,
        template_key=body.template_key,
        channels=list(body.channels),
        kind=body.kind,
        urgent=body.urgent,
        enabled=body.enabled,
        conditions=[pb.RuleCondition(field=c.field, values=c.values) for c in body.conditions],
        link=body.link,
        description=body.description,
    )


def _template(message: pb.Template) -> s.NotificationTemplate:
    return s.NotificationTemplate.model_validate(message_to_dict(message))


@router.get(
    "/notification-rules",
    response_model=s.NotificationRuleList,
    responses=_READ,
    summary="Notification rules",
    description="Every rule (or an event type's), by event type and key.",
    operation_id="list_notification_rules",
)
async def list_rules(
    request: Request, principal: Reader, query: Annotated[s.NotificationRuleQuery, Query()]
) -> Any:
    message = pb.ListRulesRequest(
        event_type=query.event_type or "", enabled_only=query.enabled_only
    )
    reply = await _rules(request, "ListRules", message)
    return s.NotificationRuleList(rules=[_rule(r) for r in reply.rules])


@router.post(
    "/notification-rules",
    status_code=201,
    response_model=s.NotificationRule,
    responses=_WRITE,
    summary="Add a notification rule",
    description="Every bad field is named at once: an unknown event type, audience or template, "
    "an audience not for the event type, a template that does not render with the event's "
    "sample. A key taken is 409.",
    operation_id="create_notification_rule",
)
async def create_rule(
    request: Request,
    response: Response,
    principal: Admin,
    body: Annotated[s.NotificationRuleNew, Body()],
) -> Any:
    made = await _rules(
        request, "CreateRule", pb.CreateRuleRequest(rule=_rule_message(body.key, body))
    )
    response.headers["Location"] = f"/api/v1/notification-rules/{made.key}"
    return _rule(made)


@router.get(
    "/notification-rules/{key:segment}",
    response_model=s.NotificationRule,
    responses=_READ,
    summary="A notification rule",
    operation_id="get_notification_rule",
)
async def get_rule(request: Request, principal: Reader, key: Key) -> Any:
    return _rule(await _rules(request, "GetRule", pb.GetRuleRequest(key=key)))


@router.put(
    "/notification-rules/{key:segment}",
    response_model=s.NotificationRule,
    responses=_WRITE,
    summary="Change a notification rule",
    description="Every field but the key, as for a new rule.",
    operation_id="update_notification_rule",
)
async def update_rule(
    request: Request,
    principal: Admin,
    key: Key,
    body: Annotated[s.NotificationRuleChange, Body()],
) -> Any:
    message = pb.UpdateRuleRequest(rule=_rule_message(key, body))
    return _rule(await _rules(request, "UpdateRule", message))


@router.post(
    "/notification-rules/{key}:disable",
    response_model=s.NotificationRule,
    responses=_WRITE,
    summary="Disable a notification rule",
    description="It tells nobody from now on; its messages stay. A PUT with enabled: true "
    "enables it again.",
    operation_id="disable_notification_rule",
)
async def disable_rule(request: Request, principal: Admin, key: Key) -> Any:
    return _rule(await _rules(request, "DisableRule", pb.DisableRuleRequest(key=key)))


@router.get(
    "/notification-event-types",
    response_model=s.NotificationEventTypeList,
    responses=_READ,
    summary="The event types a rule may name",
    description="Each with the audiences a rule on it may name and a sample payload.",
    operation_id="list_notification_event_types",
)
async def list_event_types(request: Request, principal: Reader) -> Any:
    reply = await _rules(request, "ListEventTypes", pb.ListEventTypesRequest())
    return s.NotificationEventTypeList(
        event_types=[
            s.NotificationEventType.model_validate(
                message_to_dict(e) | {"sample": json.loads(e.sample_json or "{}")}
            )
            for e in reply.event_types
        ]
    )


@router.get(
    "/notification-templates",
    response_model=s.NotificationTemplateList,
    responses=_READ,
    summary="Notification templates",
    description="Every template (or one key's), each locale's words on its own.",
    operation_id="list_notification_templates",
)
async def list_templates(
    request: Request, principal: Reader, query: Annotated[s.NotificationTemplateQuery, Query()]
) -> Any:
    reply = await _templates(request, "ListTemplates", pb.ListTemplatesRequest(key=query.key or ""))
    return s.NotificationTemplateList(templates=[_template(t) for t in reply.templates])


@router.post(
    "/notification-templates",
    status_code=201,
    response_model=s.NotificationTemplate,
    responses=_WRITE,
    summary="Add a template's words in a locale",
    description="A syntax error is named with its part and line; a key and locale taken is 409.",
    operation_id="create_notification_template",
)
async def create_template(
    request: Request,
    response: Response,
    principal: Admin,
    body: Annotated[s.NotificationTemplateNew, Body()],
) -> Any:
    message = pb.CreateTemplateRequest(template=pb.Template(**body.model_dump()))
    made = await _templates(request, "CreateTemplate", message)
    response.headers["Location"] = f"/api/v1/notification-templates/{made.key}?locale={made.locale}"
    return _template(made)


@router.get(
    "/notification-templates/{key:segment}",
    response_model=s.NotificationTemplate,
    responses=_READ,
    summary="A template's words in a locale",
    operation_id="get_notification_template",
)
async def get_template(
    request: Request,
    principal: Reader,
    key: Key,
    query: Annotated[s.NotificationTemplateLocale, Query()],
) -> Any:
    message = pb.GetTemplateRequest(key=key, locale=query.locale)
    return _template(await _templates(request, "GetTemplate", message))


@router.put(
    "/notification-templates/{key:segment}",
    response_model=s.NotificationTemplate,
    responses=_WRITE,
    summary="Change a template's words in a locale",
    description="Refused, naming the part, when the words do not render with the sample of an "
    "event type whose rules use the template.",
    operation_id="update_notification_template",
)
async def update_template(
    request: Request,
    principal: Admin,
    key: Key,
    body: Annotated[s.NotificationTemplateChange, Body()],
) -> Any:
    message = pb.UpdateTemplateRequest(template=pb.Template(key=key, **body.model_dump()))
    return _template(await _templates(request, "UpdateTemplate", message))


@router.post(
    "/notification-templates/{key}:preview",
    response_model=s.NotificationRendered,
    responses=_READ,
    summary="Preview a template",
    description="The template (or the draft's words) rendered with the event type's sample "
    "payload, or with `data`. A template that does not render is 422 naming the part and why.",
    operation_id="preview_notification_template",
)
async def preview_template(
    request: Request,
    principal: Reader,
    key: Key,
    body: Annotated[s.NotificationPreview, Body()],
) -> Any:
    message = pb.PreviewTemplateRequest(
        key=key,
        locale=body.locale,
        event_type=body.event_type,
        data_json="" if body.data is None else json.dumps(body.data, ensure_ascii=False),
    )
    if body.draft is not None:
        message.draft.CopyFrom(pb.Template(**body.draft.model_dump()))
    reply = await _templates(request, "PreviewTemplate", message)
    return s.NotificationRendered.model_validate(message_to_dict(reply))

"""The notification rules' and templates' request and response models
(routes/notification_rules.py), beside the shared `schemas`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from gateway.schemas import ProtoText, _In, _Out

Channel = Literal["inbox", "email", "sms", "wechat"]
Locale = Literal["zh-CN", "en"]
PreferenceKind = Literal["bookings", "sessions", "opinions", "letters", "duties", "conversations"]
RuleKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[a-z0-9._-]+$",
        description="Lowercase letters, digits, '.', '_' and '-'.",
    ),
]
EventTypeName = Annotated[
    str,
    Field(
        min_length=3,
        max_length=100,
        pattern=r"^[a-z_]+\.[a-z_]+$",
        description='"<service>.<type>", e.g. "reception.booking_confirmed".',
    ),
]
Subject = Annotated[ProtoText, Field(min_length=1, max_length=300)]
Body = Annotated[ProtoText, Field(max_length=20000)]
ConditionValue = Annotated[ProtoText, Field(min_length=1, max_length=100)]


class RuleCondition(_In):
    field: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z_]+$")] = Field(
        description="A top-level field of the event's payload, e.g. kind."
    )
    values: list[ConditionValue] = Field(
        min_length=1, max_length=20, description="The values (as text) the field must have."
    )


class RuleConditionOut(_Out):
    field: str
    values: list[str] = []


class NotificationRuleFields(_In):
    event_type: EventTypeName
    audience: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z_]+$")] = Field(
        description="Who of the event is told; GET /api/v1/notification-event-types lists "
        "the audiences of each event type."
    )
    template_key: RuleKey
    channels: list[Channel] = Field(min_length=1, max_length=4)
    kind: PreferenceKind = Field(description="The preference kind the messages belong to.")
    urgent: bool = Field(default=False, description="Sent in quiet hours all the same.")
    enabled: bool = True
    conditions: list[RuleCondition] = Field(default=[], max_length=10)
    link: Annotated[ProtoText, Field(max_length=300)] = Field(
        default="",
        description="A portal or console path, a template over the event's data, "
        'e.g. "/console/#/letters/{{ letter.id }}".',
    )
    description: Annotated[ProtoText, Field(max_length=500)] = ""


class NotificationRuleNew(NotificationRuleFields):
    key: RuleKey


class NotificationRuleChange(NotificationRuleFields):
    """Every field of the rule but its key (the path's)."""


class NotificationRule(_Out):
    id: int
    key: str
    event_type: str
    audience: str
    template_key: str
    channels: list[str] = []
    kind: str
    urgent: bool = False
    enabled: bool = False
    conditions: list[RuleConditionOut] = []
    link: str = ""
    description: str = ""
    is_default: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


class NotificationRuleList(_Out):
    rules: list[NotificationRule]


class NotificationRuleQuery(_In):
    event_type: EventTypeName | None = None
    enabled_only: bool = False


class NotificationAudience(_Out):
    name: str
    description: str = ""


class NotificationEventType(_Out):
    name: str
    message: str
    description: str = ""
    audiences: list[NotificationAudience] = []
    sample: dict[str, Any] = Field(description="A sample payload, for previews.")


class NotificationEventTypeList(_Out):
    event_types: list[NotificationEventType]


class NotificationTemplateWords(_In):
    subject: Subject
    text: Annotated[ProtoText, Field(min_length=1, max_length=20000)]
    html: Body = ""


class NotificationTemplateChange(NotificationTemplateWords):
    locale: Locale
    description: Annotated[ProtoText, Field(max_length=500)] = ""


class NotificationTemplateNew(NotificationTemplateChange):
    key: RuleKey


class NotificationTemplate(_Out):
    key: str
    locale: str
    subject: str
    text: str
    html: str = ""
    description: str = ""
    is_default: bool = False
    updated_at: datetime | None = None


class NotificationTemplateList(_Out):
    templates: list[NotificationTemplate]


class NotificationTemplateQuery(_In):
    key: RuleKey | None = None


class NotificationTemplateLocale(_In):
    locale: Locale = "zh-CN"


class NotificationPreview(_In):
    event_type: EventTypeName
    locale: Locale = "zh-CN"
    data: dict[str, Any] | None = Field(
        default=None,
        description="The event's payload (its JSON mapping); the event type's sample when absent.",
    )
    draft: NotificationTemplateWords | None = Field(
        default=None, description="Words to render instead of the stored template's."
    )


class NotificationRendered(_Out):
    subject: str
    text: str
    html: str = ""

"""The schemas of the notifications service's delivery log
(gateway/routes/notification_deliveries.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from gateway.schemas import ListQuery, ProtoText, _Out, page_model

DeliveryChannel = Literal["inbox", "email", "sms", "wechat"]
DeliveryState = Literal[
    "queued", "sending", "sent", "delivered", "failed", "dead", "suppressed", "digested"
]


class DeliveryQuery(ListQuery):
    state: DeliveryState | None = Field(default=None, description="One state only.")
    channel: DeliveryChannel | None = Field(default=None, description="One channel only.")
    event_type: ProtoText | None = Field(
        default=None,
        max_length=100,
        description='"<service>.<type>", e.g. reception.booking_confirmed.',
    )
    recipient: ProtoText | None = Field(
        default=None,
        max_length=240,
        description="One recipient's address: user:<sub>, deputy:<id>, role:<role>, "
        "role:<role>@street:<id> or role:<role>@unit:<id>.",
    )
    created_from: ProtoText | None = Field(
        default=None,
        max_length=40,
        description="Made at or after: an ISO 8601 date-time (UTC without an offset) or date.",
    )
    created_to: ProtoText | None = Field(
        default=None,
        max_length=40,
        description="Made before: an ISO 8601 date-time, or a date (that day included).",
    )


class NotificationDelivery(_Out):
    id: int
    message_id: int
    channel: DeliveryChannel
    state: DeliveryState
    event_type: str
    recipient: str = Field(description="The recipient's address (never a contact).")
    kind: str
    urgent: bool = False
    attempts: int = 0
    provider: str = ""
    provider_message_id: str = ""
    last_error: str = Field(
        default="", description="Why the last attempt failed, or why it is suppressed."
    )
    not_before: datetime | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


NotificationDeliveryPage = page_model(NotificationDelivery, "NotificationDeliveryPage")

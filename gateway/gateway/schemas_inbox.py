"""The JSON shapes of the notifications service's inbox, preferences and
unsubscribe links (gateway/routes/notification_inbox.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from gateway.schemas import ListQuery, ProtoText, _In, _Out, _Page

Kind = Literal["bookings", "sessions", "opinions", "letters", "duties", "conversations"]
Channel = Literal["inbox", "email", "sms", "wechat"]
Mailbox = Annotated[
    ProtoText,
    Field(
        min_length=1,
        max_length=240,
        description="An address: user:<subject>, deputy:<id>, role:<role>, "
        "role:<role>@street:<id> or role:<role>@unit:<id>.",
    ),
]
HourMinute = Annotated[
    str,
    Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, Asia/Shanghai."),
]


# ---------------------------------------------------------------- the inbox


class InboxMessage(_Out):
    id: int
    mailbox: str = Field(description="The address the message was sent to.")
    event_type: str
    kind: str
    urgent: bool = False
    locale: str
    subject: str
    body_text: str
    body_html: str = ""
    link: str = Field(default="", description="A path of the portal or the console.")
    created_at: datetime | None = None
    read_at: datetime | None = None
    archived_at: datetime | None = None
    read: bool = False
    archived: bool = False


class InboxPage(_Page):
    items: list[InboxMessage]
    unread: int = Field(description="Unread and not archived, in the mailboxes listed.")


class InboxQuery(ListQuery):
    mailbox: Mailbox | None = Field(default=None, description="One of the caller's mailboxes.")
    folder: Literal["current", "archived", "all"] = Field(
        default="current", description="current: not archived (the default)."
    )
    unread_only: bool = False
    kind: Kind | None = None


class MailboxCount(_Out):
    mailbox: str
    unread: int = 0


class UnreadCount(_Out):
    unread: int = 0
    mailboxes: list[MailboxCount] = []


class ArchiveAll(_In):
    mailbox: Mailbox | None = None
    kind: Kind | None = None
    read_only: bool = Field(default=False, description="Only the messages read already.")


class Archived(_Out):
    archived: int = Field(description="How many messages were archived.")


# ---------------------------------------------------------------- preferences


class Contacts(_Out):
    email: str = ""
    phone: str = Field(default="", description="E.164, e.g. +8613800138000.")
    wechat_openid: str = ""


class QuietHours(_Out):
    enabled: bool = False
    start: str = "22:00"
    end: str = "08:00"


class KindPreference(_Out):
    kind: str
    channels: list[str] = Field(description="The inbox is always among them.")
    muted: bool = False
    digest: bool = False
    digest_hour: int = 0


class Preferences(_Out):
    address: str
    contacts: Contacts
    contacts_masked: bool = Field(
        default=False, description="The caller is neither the holder nor the admin."
    )
    locale: str
    quiet_hours: QuietHours
    kinds: list[KindPreference]
    updated_at: datetime | None = None


class PreferencesQuery(_In):
    address: Mailbox | None = Field(
        default=None, description="Whose preferences; the caller's own account when absent."
    )


class ContactsChange(_In):
    email: Annotated[ProtoText, Field(max_length=254)] | None = Field(
        default=None, description='"" removes it.'
    )
    phone: Annotated[ProtoText, Field(max_length=30)] | None = Field(
        default=None, description='E.164, or a Chinese mobile\'s 11 digits; "" removes it.'
    )
    wechat_openid: Annotated[ProtoText, Field(max_length=64)] | None = None


class QuietHoursChange(_In):
    enabled: bool
    start: HourMinute = "22:00"
    end: HourMinute = "08:00"


class KindPreferenceChange(_In):
    kind: Kind
    channels: list[Channel] = Field(
        default=["inbox", "email", "sms", "wechat"],
        max_length=4,
        description="The channels wanted (the inbox is always on).",
    )
    muted: bool = False
    digest: bool = False
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 0


class PreferencesChange(_In):
    """Only the fields sent change; in `contacts` only the contacts sent, in
    `kinds` only the kinds listed."""

    contacts: ContactsChange | None = None
    locale: Literal["zh-CN", "en"] | None = None
    quiet_hours: QuietHoursChange | None = None
    kinds: list[KindPreferenceChange] | None = Field(default=None, max_length=6)


class UnsubscribeLink(_Out):
    kind: str
    channel: str
    unsubscribed: bool = Field(description="The kind is off on the channel now.")


UnsubscribeToken = Annotated[str, Field(min_length=1, max_length=600, pattern=r"^[A-Za-z0-9._-]+$")]

"""The API's shapes of conversations (互动交流), served by the notifications
service's ConversationService (gateway/routes/conversations.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from gateway.schemas import (
    Id,
    ListQuery,
    OpinionCategory,
    ProtoText,
    ShortNote,
    _In,
    _Out,
    page_model,
)

Subject = Annotated[ProtoText, Field(min_length=1, max_length=200)]
MessageText = Annotated[ProtoText, Field(min_length=1, max_length=2000)]
Phone = Annotated[str, Field(max_length=40, pattern=r"^[0-9+\- ()]*$")]
Address = Annotated[ProtoText, Field(min_length=1, max_length=240)]


class ConversationKind(StrEnum):
    CONSTITUENT = "constituent"
    DEPUTIES = "deputies"
    WORKING = "working"


class MessageState(StrEnum):
    HELD = "held"
    PUBLISHED = "published"
    REJECTED = "rejected"


class ConversationParticipant(_Out):
    address: str
    label: str = ""


class ConversationMessage(_Out):
    id: int
    conversation_id: int
    author_address: str
    author_label: str = ""
    text: str
    state: MessageState
    reject_reason: str = Field(default="", description="Its author and the moderators only.")
    mine: bool = False
    created_at: datetime | None = None
    moderated_at: datetime | None = None


class Conversation(_Out):
    id: int
    kind: ConversationKind
    subject: str
    station_id: int = 0
    station_name: str = ""
    street_id: int = 0
    participants: list[ConversationParticipant] = []
    constituent_label: str = Field(
        default="",
        description="The constituent's name for themself and the staff of the street; masked "
        "(张**) for everyone else.",
    )
    phone_given: bool = Field(
        default=False, description="A phone was left for the opinion (never shown)."
    )
    opinion_id: int = 0
    opinion_tracking_code: str = ""
    held_count: int = 0
    may_moderate: bool = False
    may_turn_into_opinion: bool = False
    messages: list[ConversationMessage] = []
    created_at: datetime | None = None
    last_message_at: datetime | None = None


ConversationPage = page_model(Conversation, "ConversationPage")


class ConversationQuery(ListQuery):
    kind: ConversationKind | None = None


class ConversationNew(_In):
    kind: ConversationKind = Field(
        default=ConversationKind.CONSTITUENT,
        description="constituent: a signed-in constituent writes to the deputies of a station; "
        "deputies: among deputies; working: deputies, station staff, street committees and the "
        "standing committee office.",
    )
    subject: Subject
    text: MessageText = Field(description="The first message.")
    station_id: Id | None = Field(default=None, description="A constituent's thread: the station.")
    participants: list[Address] = Field(
        default_factory=list,
        max_length=50,
        description="deputies / working: the other participants' addresses, e.g. deputy:12, "
        "role:street_committee@street:3, role:standing_committee_office.",
    )
    phone: Phone = Field(
        default="",
        description="A constituent's thread: a phone to reach them once it becomes an opinion "
        "(optional; never shown in the thread).",
    )


class ConversationMessageNew(_In):
    text: MessageText


class HeldMessage(_Out):
    message: ConversationMessage
    conversation_subject: str = ""
    station_id: int = 0
    station_name: str = ""


HeldMessagePage = page_model(HeldMessage, "HeldMessagePage")


class ModerationNew(_In):
    decision: Literal["approve", "reject"]
    reason: ShortNote = Field(default="", description="Required to reject; the author reads it.")


class OpinionFromConversationNew(_In):
    category: OpinionCategory
    community_id: Id = Field(description="The community it concerns: one the station serves.")
    content: Annotated[ProtoText, Field(max_length=1960)] = Field(
        default="",
        description="The opinion's text; empty: the subject and the constituent's approved "
        "messages.",
    )
    phone: Phone = Field(default="", description="When the constituent left none.")

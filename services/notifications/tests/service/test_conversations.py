"""Conversations served as the bootstrap wires them, on PostgreSQL, with the
registry and reception of `notifications.conversation_testing` over real
gRPC: threads of each kind, who reads and writes, moderation, the inbox
messages, the constituent's name masked to deputies, and a thread turned
into an opinion once, whatever the retries."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from sqlalchemy import select

from liaison.notifications.v1 import conversations_pb2 as pb
from liaison.notifications.v1 import conversations_pb2_grpc as pb_grpc
from liaison.notifications.v1 import preferences_pb2 as ppb
from liaison.reception.v1 import opinions_pb2 as opb
from notifications.conversation_models import Conversation
from notifications.conversation_testing import FakeReception
from notifications.message_models import Delivery, Message

from ..conftest import Api, serve_with_upstreams

pytestmark = pytest.mark.postgres

CONSTITUENT = {"sub": "voter-1", "role": "constituent", "name": "张三丰"}
OTHER_CONSTITUENT = {"sub": "voter-2", "role": "constituent", "name": "李四"}
DEPUTY_1 = {"sub": "dep-1", "role": "deputy", "deputy_id": 1, "name": "陈代表"}
DEPUTY_4 = {"sub": "dep-4", "role": "deputy", "deputy_id": 4, "name": "王代表"}
DEPUTY_5 = {"sub": "dep-5", "role": "deputy", "deputy_id": 5, "name": "周代表"}
STAFF_1 = {"sub": "staff-1", "role": "station_staff", "street_id": 1, "name": "站务甲"}
STAFF_2 = {"sub": "staff-2", "role": "station_staff", "street_id": 2, "name": "站务乙"}
COMMITTEE_1 = {"sub": "sc-1", "role": "street_committee", "street_id": 1, "name": "工委甲"}
OFFICE = {"sub": "office", "role": "standing_committee_office", "name": "办公室"}


@dataclasses.dataclass
class Conversations:
    api: Api
    reception: FakeReception

    def as_(self, who: Any) -> pb_grpc.ConversationServiceStub:
        return pb_grpc.ConversationServiceStub(self.api.channel_as(who))

    def start(self, who: Any = None, **fields: Any) -> pb.Conversation:
        request = dict(
            kind=pb.CONVERSATION_KIND_CONSTITUENT,
            subject="小区门口路灯坏了",
            text="林和西路12号门口路灯坏了一个月。",
            station_id=11,
        )
        request.update(fields)
        return self.as_(who or CONSTITUENT).StartConversation(
            pb.StartConversationRequest(**request)
        )

    def approve(self, message_id: int, who: Any = None) -> pb.ConversationMessage:
        return self.as_(who or STAFF_1).ModerateConversationMessage(
            pb.ModerateConversationMessageRequest(
                id=message_id, decision=pb.MODERATION_DECISION_APPROVE
            )
        )

    def fields(self, call: Any) -> dict[str, str]:
        """The field violations of a call refused as INVALID_ARGUMENT."""
        return self.api.field_errors(self.api.refused(call, grpc.StatusCode.INVALID_ARGUMENT))

    def inbox(self, recipient: str, conversation_message_id: int) -> list[Message]:
        with self.api.db.read() as session:
            found = list(
                session.scalars(
                    select(Message).where(
                        Message.recipient == recipient,
                        Message.event_id == str(conversation_message_id),
                    )
                )
            )
            session.expunge_all()  # kept as read, past the read's end
            return found


@pytest.fixture(scope="module")
def conv(notifications_url: str) -> Iterator[Conversations]:
    with serve_with_upstreams(notifications_url) as (api, reception):
        yield Conversations(api, reception)


def test_a_constituent_writes_to_the_deputies_of_their_station(conv: Conversations) -> None:
    thread = conv.start(phone="13800000000")
    assert [p.address for p in thread.participants] == [
        "user:voter-1",
        "deputy:1",
        "deputy:2",  # deputy 3 no longer serves; the registry's pages followed
        "role:station_staff@street:1",
    ]
    assert thread.street_id == 1 and thread.station_name == "林和街第一联络站"
    (first,) = thread.messages
    assert first.state == pb.MESSAGE_STATE_HELD and first.mine
    assert thread.constituent_label == "选民 张三丰"
    assert not thread.phone_given  # the constituent is not told it back either
    # The moderators are told; nobody else yet.
    assert [m.rule_key for m in conv.inbox("role:station_staff@street:1", first.id)] == [
        "conversation_held"
    ]
    assert [m.rule_key for m in conv.inbox("role:street_committee@street:1", first.id)] == [
        "conversation_held"
    ]
    assert conv.inbox("deputy:1", first.id) == []


def test_deputies_see_a_thread_only_once_a_message_is_approved(conv: Conversations) -> None:
    thread = conv.start()
    error = conv.api.refused(
        lambda: conv.as_(DEPUTY_1).GetConversation(pb.GetConversationRequest(id=thread.id)),
        grpc.StatusCode.NOT_FOUND,
    )
    assert str(thread.id) in error.details()
    mine = conv.as_(DEPUTY_1).ListConversations(pb.ListConversationsRequest())
    assert thread.id not in [c.id for c in mine.conversations]

    conv.approve(thread.messages[0].id)
    seen = conv.as_(DEPUTY_1).GetConversation(pb.GetConversationRequest(id=thread.id))
    assert [m.state for m in seen.messages] == [pb.MESSAGE_STATE_PUBLISHED]
    # Masked to deputies: the family name only; never a phone.
    assert seen.constituent_label == "选民 张**"
    assert seen.messages[0].author_label == "选民 张**"
    assert "张三丰" not in str(seen) and not seen.phone_given
    assert not seen.may_moderate and not seen.may_turn_into_opinion
    (told,) = conv.inbox("deputy:1", thread.messages[0].id)
    assert told.rule_key == "conversation" and told.kind == "conversations"
    assert "张三丰" not in told.body_text and "张**" in told.body_text
    assert told.link == f"/console/#/conversations/{thread.id}"
    with conv.api.db.read() as session:
        delivery = session.scalars(select(Delivery).where(Delivery.message_id == told.id)).one()
        assert (delivery.channel, delivery.state) == ("inbox", "delivered")
    # The staff see the name in full.
    staff = conv.as_(STAFF_1).GetConversation(pb.GetConversationRequest(id=thread.id))
    assert staff.constituent_label == "选民 张三丰" and staff.may_moderate


def test_a_deputys_reply_is_published_and_told_to_the_constituent(conv: Conversations) -> None:
    thread = conv.start()
    conv.approve(thread.messages[0].id)
    reply = conv.as_(DEPUTY_1).PostConversationMessage(
        pb.PostConversationMessageRequest(conversation_id=thread.id, text="已联系街道，本周修复。")
    )
    assert reply.state == pb.MESSAGE_STATE_PUBLISHED and reply.author_label == "陈代表"
    (told,) = conv.inbox("user:voter-1", reply.id)
    assert told.link == f"/#/conversations/{thread.id}"
    assert conv.inbox("deputy:1", reply.id) == []  # not its author
    assert len(conv.inbox("deputy:2", reply.id)) == 1


def test_a_rejected_message_is_seen_by_its_author_with_the_reason(conv: Conversations) -> None:
    thread = conv.start()
    conv.approve(thread.messages[0].id)
    held = conv.as_(CONSTITUENT).PostConversationMessage(
        pb.PostConversationMessageRequest(conversation_id=thread.id, text="某某人的电话是……")
    )
    assert held.state == pb.MESSAGE_STATE_HELD
    queue = conv.as_(COMMITTEE_1).ListHeldMessages(pb.ListHeldMessagesRequest())
    assert held.id in [h.message.id for h in queue.messages]
    rejected = conv.as_(COMMITTEE_1).ModerateConversationMessage(
        pb.ModerateConversationMessageRequest(
            id=held.id, decision=pb.MODERATION_DECISION_REJECT, reason="含他人个人信息"
        )
    )
    assert rejected.state == pb.MESSAGE_STATE_REJECTED
    own = conv.as_(CONSTITUENT).GetConversation(pb.GetConversationRequest(id=thread.id))
    assert [(m.state, m.reject_reason) for m in own.messages][-1] == (
        pb.MESSAGE_STATE_REJECTED,
        "含他人个人信息",
    )
    deputy = conv.as_(DEPUTY_1).GetConversation(pb.GetConversationRequest(id=thread.id))
    assert held.id not in [m.id for m in deputy.messages]
    assert [m.rule_key for m in conv.inbox("user:voter-1", held.id)] == ["conversation_rejected"]
    # Decided once.
    conv.api.refused(lambda: conv.approve(held.id), grpc.StatusCode.FAILED_PRECONDITION)


def test_who_may_not_read_moderate_or_start(conv: Conversations) -> None:
    thread = conv.start()
    for outsider in (OTHER_CONSTITUENT, STAFF_2, DEPUTY_4, DEPUTY_5, OFFICE):
        conv.api.refused(
            lambda who=outsider: conv.as_(who).GetConversation(
                pb.GetConversationRequest(id=thread.id)
            ),
            grpc.StatusCode.NOT_FOUND,
        )
        conv.api.refused(
            lambda who=outsider: conv.as_(who).PostConversationMessage(
                pb.PostConversationMessageRequest(conversation_id=thread.id, text="x")
            ),
            grpc.StatusCode.NOT_FOUND,
        )
    # The constituent reads their thread but does not moderate it.
    error = conv.api.refused(
        lambda: conv.approve(thread.messages[0].id, CONSTITUENT), grpc.StatusCode.PERMISSION_DENIED
    )
    assert "station staff and street committee of street 1" in error.details()
    error = conv.api.refused(lambda: conv.start(STAFF_1), grpc.StatusCode.PERMISSION_DENIED)
    assert "a signed-in constituent does" in error.details()
    conv.api.refused(
        lambda: conv.as_(None).GetConversation(pb.GetConversationRequest(id=thread.id)),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    error = conv.api.refused(
        lambda: conv.as_(OFFICE).ListHeldMessages(pb.ListHeldMessagesRequest()),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "station staff and street committee" in error.details()
    # A refused call changed nothing: still one held message.
    again = conv.as_(STAFF_1).GetConversation(pb.GetConversationRequest(id=thread.id))
    assert [m.state for m in again.messages] == [pb.MESSAGE_STATE_HELD]


def test_bad_starts_name_their_fields(conv: Conversations) -> None:
    fields = conv.fields(lambda: conv.start(subject=" ", text="", station_id=0, phone="call me"))
    assert {"subject", "text", "station_id", "phone"} <= set(fields)
    conv.api.refused(lambda: conv.start(station_id=99), grpc.StatusCode.NOT_FOUND)
    conv.api.refused(lambda: conv.start(station_id=13), grpc.StatusCode.FAILED_PRECONDITION)
    fields = conv.fields(
        lambda: conv.start(
            DEPUTY_1,
            kind=pb.CONVERSATION_KIND_DEPUTIES,
            station_id=0,
            participants=["role:standing_committee_office", "nobody"],
        )
    )
    assert {"participants[0]", "participants[1]"} <= set(fields)


def test_deputies_and_working_threads(conv: Conversations) -> None:
    among = conv.start(
        DEPUTY_1, kind=pb.CONVERSATION_KIND_DEPUTIES, station_id=0, participants=["deputy:4"]
    )
    assert [(p.address, p.label) for p in among.participants] == [
        ("deputy:1", "陈代表"),
        ("deputy:4", "王代表"),
    ]
    assert among.messages[0].state == pb.MESSAGE_STATE_PUBLISHED
    assert len(conv.inbox("deputy:4", among.messages[0].id)) == 1
    conv.api.refused(
        lambda: conv.as_(DEPUTY_5).GetConversation(pb.GetConversationRequest(id=among.id)),
        grpc.StatusCode.NOT_FOUND,
    )
    working = conv.start(
        OFFICE,
        kind=pb.CONVERSATION_KIND_WORKING,
        station_id=0,
        participants=["deputy:5", "role:street_committee@street:2"],
    )
    assert {p.address for p in working.participants} == {
        "role:standing_committee_office",
        "deputy:5",
        "role:street_committee@street:2",
    }
    committee_2 = {"sub": "sc-2", "role": "street_committee", "street_id": 2}
    reply = conv.as_(committee_2).PostConversationMessage(
        pb.PostConversationMessageRequest(conversation_id=working.id, text="收到")
    )
    assert reply.state == pb.MESSAGE_STATE_PUBLISHED
    assert len(conv.inbox("role:standing_committee_office", reply.id)) == 1
    conv.api.refused(
        lambda: conv.start(
            OFFICE, kind=pb.CONVERSATION_KIND_WORKING, station_id=0, participants=["deputy:3"]
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    error = conv.api.refused(
        lambda: conv.start(
            CONSTITUENT, kind=pb.CONVERSATION_KIND_WORKING, station_id=0, participants=["deputy:1"]
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "deputies, station staff, street committees" in error.details()


def _turn(conv: Conversations, thread_id: int, who: Any = None, **fields: Any) -> pb.Conversation:
    request: dict[str, Any] = dict(
        conversation_id=thread_id, category=opb.OPINION_CATEGORY_PUBLIC_SAFETY, community_id=101
    )
    request.update(fields)
    return conv.as_(who or STAFF_1).TurnIntoOpinion(pb.TurnIntoOpinionRequest(**request))


def test_a_thread_turned_into_an_opinion_once(conv: Conversations) -> None:
    thread = conv.start(phone="13800000000")
    conv.api.refused(lambda: _turn(conv, thread.id), grpc.StatusCode.FAILED_PRECONDITION)
    conv.approve(thread.messages[0].id)
    before = len(conv.reception.recorded)
    turned = _turn(conv, thread.id)
    assert turned.opinion_tracking_code and turned.opinion_id
    (request, bearer) = conv.reception.recorded[-1]
    assert bearer == f"Bearer {conv.api.token(STAFF_1)}"  # the caller's own token
    assert request.source == opb.OPINION_SOURCE_ONLINE
    assert request.raiser_name == "张三丰" and request.raiser_phone == "13800000000"
    assert request.content.startswith("小区门口路灯坏了\n林和西路12号")
    assert request.content.endswith(f"〔互动交流 C{thread.id}〕")
    again = _turn(conv, thread.id, who=COMMITTEE_1)
    assert again.opinion_id == turned.opinion_id
    assert len(conv.reception.recorded) == before + 1
    own = conv.as_(CONSTITUENT).GetConversation(pb.GetConversationRequest(id=thread.id))
    assert own.opinion_tracking_code == turned.opinion_tracking_code


def test_a_retry_after_a_lost_answer_finds_the_opinion(conv: Conversations) -> None:
    thread = conv.start(phone="13800000001")
    conv.approve(thread.messages[0].id)
    before = len(conv.reception.recorded)
    conv.reception.lose_next_answer = True
    conv.api.refused(lambda: _turn(conv, thread.id), grpc.StatusCode.UNAVAILABLE)
    assert len(conv.reception.recorded) == before + 1
    # Another call while the first may still be recording is told to wait.
    conv.api.refused(lambda: _turn(conv, thread.id), grpc.StatusCode.FAILED_PRECONDITION)
    with conv.api.db.unit_of_work() as uow:  # the first call's lease ran out
        row = uow.session.get(Conversation, thread.id)
        assert row is not None and row.opinion_started_at is not None
        row.opinion_started_at = row.opinion_started_at.replace(year=2025)
    turned = _turn(conv, thread.id)
    assert len(conv.reception.recorded) == before + 1  # found, not recorded again
    assert turned.opinion_id == 500 + before + 1


def test_who_may_turn_a_thread_into_an_opinion(conv: Conversations) -> None:
    thread = conv.start()
    conv.approve(thread.messages[0].id)
    conv.api.refused(
        lambda: _turn(conv, thread.id, who=DEPUTY_1), grpc.StatusCode.PERMISSION_DENIED
    )
    conv.api.refused(lambda: _turn(conv, thread.id, who=STAFF_2), grpc.StatusCode.NOT_FOUND)
    # No phone left: reception needs one.
    fields = conv.fields(lambda: _turn(conv, thread.id))
    assert "phone" in fields
    fields = conv.fields(lambda: _turn(conv, thread.id, phone="138", community_id=201))
    assert "community_id" in fields
    fields = conv.fields(lambda: _turn(conv, thread.id, category=0))
    assert "category" in fields
    with conv.api.db.read() as session:
        row = session.get(Conversation, thread.id)
        assert row is not None
        assert row.opinion_id is None and row.opinion_started_at is None


def test_each_recipient_is_told_in_the_language_they_prefer(conv: Conversations) -> None:
    deputy_2 = {"sub": "dep-2", "role": "deputy", "deputy_id": 2}
    english_voter = {"sub": "voter-en", "role": "constituent", "name": "赵明"}
    for who, address in ((deputy_2, "deputy:2"), (english_voter, "")):
        _prefer(conv, who, address, "en")
    try:
        thread = conv.start(english_voter, subject="路灯")
        conv.approve(thread.messages[0].id)
        (english,) = conv.inbox("deputy:2", thread.messages[0].id)
        assert (english.locale, english.subject) == ("en", "Conversation: 路灯")
        assert english.body_text == "选民 赵* wrote a new message in \u201c路灯\u201d."
        (chinese,) = conv.inbox("deputy:1", thread.messages[0].id)
        assert (chinese.locale, chinese.subject) == ("zh-CN", "互动交流：路灯")
        assert chinese.body_text == "选民 赵*在《路灯》中发来新消息。"

        held = conv.as_(english_voter).PostConversationMessage(
            pb.PostConversationMessageRequest(conversation_id=thread.id, text="……")
        )
        (staff,) = conv.inbox("role:station_staff@street:1", held.id)
        assert staff.locale == "zh-CN" and "待审核" in staff.body_text
        conv.as_(COMMITTEE_1).ModerateConversationMessage(
            pb.ModerateConversationMessageRequest(
                id=held.id, decision=pb.MODERATION_DECISION_REJECT, reason="与主题无关"
            )
        )
        told = conv.inbox("user:voter-en", held.id)
        assert [(m.rule_key, m.locale, m.body_text) for m in told] == [
            (
                "conversation_rejected",
                "en",
                "Your message in \u201c路灯\u201d was not approved: 与主题无关",
            )
        ]
    finally:
        _prefer(conv, deputy_2, "deputy:2", "zh-CN")


def _prefer(conv: Conversations, who: Any, address: str, locale: str) -> None:
    conv.api.preferences(who).UpdatePreferences(
        ppb.UpdatePreferencesRequest(
            address=address,
            preferences=ppb.Preferences(locale=locale),
            update_mask=field_mask_pb2.FieldMask(paths=["locale"]),
        )
    )

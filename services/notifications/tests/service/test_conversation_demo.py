"""The demo conversations `notifications load-demo` loads, on PostgreSQL,
with the registry of `notifications.conversation_testing` over real gRPC:
loaded once however often load-demo runs, and seen through the
conversation API by the right people (the demo constituent their own
threads, held follow-up included; a deputy of a station only the approved
messages of its threads)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from liaison.notifications.v1 import conversations_pb2 as pb
from liaison.notifications.v1 import conversations_pb2_grpc as pb_grpc
from notifications import conversation_demo
from notifications.cli import load_conversations
from notifications.conversation_models import Conversation, ConversationMessage
from notifications.message_models import Message

from ..conftest import Api, serve_with_upstreams

pytestmark = pytest.mark.postgres

DEPUTY_4 = {"sub": "dep-4", "role": "deputy", "deputy_id": 4}  # station 12's


@pytest.fixture(scope="module")
def demo_api(notifications_url: str) -> Iterator[Api]:
    with serve_with_upstreams(notifications_url) as (api, _reception):
        yield api


def _counts(api: Api) -> dict[str, Any]:
    with api.db.read() as session:
        return {
            "kinds": dict(
                session.execute(
                    select(Conversation.kind, func.count()).group_by(Conversation.kind)
                ).all()
            ),
            "states": dict(
                session.execute(
                    select(ConversationMessage.state, func.count()).group_by(
                        ConversationMessage.state
                    )
                ).all()
            ),
            "inbox": session.scalar(select(func.count()).select_from(Message)),
        }


def _stub(api: Api, who: Any) -> pb_grpc.ConversationServiceStub:
    return pb_grpc.ConversationServiceStub(api.channel_as(who))


def test_load_demo_loads_the_conversations_once(
    demo_api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not conversation_demo.has_any(demo_api.db)
    load_conversations(demo_api.boot, if_empty=True)
    summary = json.loads(capsys.readouterr().out)["conversations"]
    # Stations 11 (the demo deputy's) and 12 of street 1, and 21 of street 2.
    assert summary == {
        "conversations": 12,
        "messages": summary["messages"],
        "held": 1,
        "rejected": 1,
        "stations": 3,
    }
    loaded = _counts(demo_api)
    assert loaded["kinds"] == {"constituent": 8, "deputies": 2, "working": 2}
    assert loaded["states"] == {"published": summary["messages"] - 2, "held": 1, "rejected": 1}
    assert loaded["inbox"] > summary["messages"]  # each message told to its readers

    load_conversations(demo_api.boot, if_empty=True)
    assert "nothing was loaded" in capsys.readouterr().out
    load_conversations(demo_api.boot, if_empty=False)
    assert "the demo's are in already" in capsys.readouterr().out
    assert _counts(demo_api) == loaded

    # The demo's times lie in the weeks before today, the newest thread last.
    with demo_api.db.read() as session:
        times = list(session.scalars(select(Conversation.created_at).order_by(Conversation.id)))
    assert times == sorted(times)
    assert all(t.date() < date.today() for t in times)


def test_the_demo_constituent_sees_their_threads(demo_api: Api) -> None:
    if not conversation_demo.has_demo(demo_api.db):
        load_conversations(demo_api.boot, if_empty=True)
    mine = _stub(demo_api, "constituent").ListConversations(pb.ListConversationsRequest())
    assert {c.subject for c in mine.conversations} == {
        "路口红绿灯时间太短，老人过马路困难",
        "老旧小区加装电梯进度",
    }
    assert all(c.constituent_label == "选民 演示选民" for c in mine.conversations)
    lift = next(c for c in mine.conversations if c.subject == "老旧小区加装电梯进度")
    thread = _stub(demo_api, "constituent").GetConversation(pb.GetConversationRequest(id=lift.id))
    assert [m.state for m in thread.messages] == [
        pb.MESSAGE_STATE_PUBLISHED,
        pb.MESSAGE_STATE_PUBLISHED,
        pb.MESSAGE_STATE_HELD,  # their follow-up, awaiting the street's moderators
    ]
    assert thread.messages[-1].mine and thread.station_id == 12
    # The demo station staff (street 1) have it in their queue.
    queue = _stub(demo_api, "station-staff").ListHeldMessages(pb.ListHeldMessagesRequest())
    assert [h.message.id for h in queue.messages] == [thread.messages[-1].id]


def test_a_deputy_of_the_station_sees_the_approved_messages_only(demo_api: Api) -> None:
    if not conversation_demo.has_demo(demo_api.db):
        load_conversations(demo_api.boot, if_empty=True)
    stub = _stub(demo_api, DEPUTY_4)
    listed = stub.ListConversations(
        pb.ListConversationsRequest(kind=pb.CONVERSATION_KIND_CONSTITUENT)
    )
    assert {c.subject for c in listed.conversations} == {"老旧小区加装电梯进度", "夜间施工噪音扰民"}
    with demo_api.db.read() as session:
        hidden = set(
            session.scalars(
                select(ConversationMessage.id).where(ConversationMessage.state != "published")
            )
        )
    assert len(hidden) == 2
    for listed_thread in listed.conversations:
        thread = stub.GetConversation(pb.GetConversationRequest(id=listed_thread.id))
        assert thread.messages and all(
            m.state == pb.MESSAGE_STATE_PUBLISHED for m in thread.messages
        )
        assert not hidden & {m.id for m in thread.messages}
        assert thread.constituent_label.endswith("*")  # masked to deputies
    # The demo deputy (station 11) reads their station's threads, among deputies and working.
    kinds = [
        c.kind
        for c in _stub(demo_api, "deputy")
        .ListConversations(pb.ListConversationsRequest())
        .conversations
    ]
    assert kinds.count(pb.CONVERSATION_KIND_CONSTITUENT) == 4
    assert kinds.count(pb.CONVERSATION_KIND_DEPUTIES) == 2
    assert kinds.count(pb.CONVERSATION_KIND_WORKING) == 1

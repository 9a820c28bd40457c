"""Conversations through the gateway (gateway/routes/conversations.py), over
a fake ConversationService of this module's own: what each route sends and
answers, the token forwarded, the roles the gateway refuses early, bodies
checked before any call, the service's refusals as problem+json, and the
OpenAPI. The rules themselves are tested on the notifications service
(services/notifications/tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient

from liaison.common.v1 import envelope_pb2
from liaison.notifications.v1 import conversations_pb2 as pb
from liaison.notifications.v1 import conversations_pb2_grpc as pb_grpc
from liaison.reception.v1 import opinions_pb2 as opb

from .conftest import fake_upstream

Auth = Callable[[str], dict[str, str]]
Problem = Callable[..., Any]


def thread(conversation_id: int = 7, subject: str = "路灯坏了", **fields: Any) -> pb.Conversation:
    return pb.Conversation(
        id=conversation_id,
        kind=pb.CONVERSATION_KIND_CONSTITUENT,
        subject=subject,
        station_id=11,
        station_name="林和街第一联络站",
        street_id=1,
        participants=[pb.Participant(address="deputy:1", label="陈代表")],
        constituent_label="选民 张**",
        messages=[
            pb.ConversationMessage(
                id=70,
                conversation_id=conversation_id,
                author_address="user:voter",
                author_label="选民 张**",
                text="路灯坏了一个月",
                state=pb.MESSAGE_STATE_PUBLISHED,
            )
        ],
        **fields,
    )


class FakeConversations(pb_grpc.ConversationServiceServicer):
    """Answers from fixed values and keeps what it was sent; id 404 is
    unknown, message 409 was decided already."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}
        self.metadata: dict[str, dict[str, str]] = {}

    def _keep(self, name: str, request: Any, context: grpc.ServicerContext) -> None:
        self.last[name] = request
        self.metadata[name] = dict(context.invocation_metadata())
        for field in ("id", "conversation_id"):
            if getattr(request, field, 0) == 404:
                context.abort(grpc.StatusCode.NOT_FOUND, "no conversation has id 404")

    def StartConversation(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("StartConversation", request, context)
        return thread(8, subject=request.subject)

    def ListConversations(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("ListConversations", request, context)
        return pb.ListConversationsResponse(
            conversations=[thread()], page=envelope_pb2.PageInfo(next_page_token="n", total_size=3)
        )

    def GetConversation(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("GetConversation", request, context)
        return thread(request.id)

    def PostConversationMessage(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("PostConversationMessage", request, context)
        return pb.ConversationMessage(
            id=71,
            conversation_id=request.conversation_id,
            author_address="user:voter",
            text=request.text,
            state=pb.MESSAGE_STATE_HELD,
            mine=True,
        )

    def ListHeldMessages(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("ListHeldMessages", request, context)
        return pb.ListHeldMessagesResponse(
            messages=[
                pb.HeldMessage(
                    message=pb.ConversationMessage(
                        id=71, conversation_id=7, text="x", state=pb.MESSAGE_STATE_HELD
                    ),
                    conversation_subject="路灯坏了",
                    station_id=11,
                )
            ],
            page=envelope_pb2.PageInfo(total_size=1),
        )

    def ModerateConversationMessage(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("ModerateConversationMessage", request, context)
        if request.id == 409:
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "the message is published: only a held one is moderated",
            )
        rejected = request.decision == pb.MODERATION_DECISION_REJECT
        return pb.ConversationMessage(
            id=request.id,
            conversation_id=7,
            text="x",
            state=pb.MESSAGE_STATE_REJECTED if rejected else pb.MESSAGE_STATE_PUBLISHED,
            reject_reason=request.reason,
        )

    def TurnIntoOpinion(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._keep("TurnIntoOpinion", request, context)
        return thread(
            request.conversation_id, opinion_id=501, opinion_tracking_code="TH-2026-000001"
        )


@pytest.fixture(scope="module")
def conversations_server() -> Iterator[tuple[FakeConversations, str]]:
    fake = FakeConversations()
    with fake_upstream(fake, pb_grpc.add_ConversationServiceServicer_to_server) as target:
        yield fake, target


@pytest.fixture
def service(conversations_server: tuple[FakeConversations, str]) -> FakeConversations:
    conversations_server[0].last.clear()
    return conversations_server[0]


@pytest.fixture
def app(
    client_with: Callable[[str, str], TestClient],
    conversations_server: tuple[FakeConversations, str],
) -> TestClient:
    return client_with("notifications", conversations_server[1])


def test_a_constituent_starts_a_thread_with_the_token_forwarded(
    app: TestClient, auth: Auth, service: FakeConversations
) -> None:
    reply = app.post(
        "/api/v1/conversations",
        json={"subject": "路灯坏了", "text": "一个月了", "station_id": 11, "phone": "138 0000"},
        headers=auth("constituent"),
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == "/api/v1/conversations/8"
    body = reply.json()
    assert body["kind"] == "constituent" and body["messages"][0]["state"] == "published"
    sent = service.last["StartConversation"]
    assert (sent.kind, sent.station_id, sent.phone) == (
        pb.CONVERSATION_KIND_CONSTITUENT,
        11,
        "138 0000",
    )
    assert service.metadata["StartConversation"]["authorization"].startswith("Bearer ")


def test_lists_reads_and_posts(app: TestClient, auth: Auth, service: FakeConversations) -> None:
    listed = app.get(
        "/api/v1/conversations", params={"kind": "working", "page_size": 5}, headers=auth("deputy")
    )
    assert listed.status_code == 200, listed.text
    assert (listed.json()["next_page_token"], listed.json()["total_size"]) == ("n", 3)
    sent = service.last["ListConversations"]
    assert (sent.kind, sent.page.page_size) == (pb.CONVERSATION_KIND_WORKING, 5)
    read = app.get("/api/v1/conversations/7", headers=auth("deputy"))
    assert read.json()["constituent_label"] == "选民 张**"
    posted = app.post(
        "/api/v1/conversations/7/messages", json={"text": "谢谢"}, headers=auth("constituent")
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["state"] == "held"
    assert service.last["PostConversationMessage"].conversation_id == 7


def test_moderation_and_the_opinion(
    app: TestClient, auth: Auth, service: FakeConversations
) -> None:
    queue = app.get("/api/v1/conversation-messages/held", headers=auth("station-staff"))
    assert queue.status_code == 200, queue.text
    assert queue.json()["items"][0]["message"]["state"] == "held"
    rejected = app.post(
        "/api/v1/conversation-messages/71:moderate",
        json={"decision": "reject", "reason": "含他人信息"},
        headers=auth("street-committee"),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["reject_reason"] == "含他人信息"
    assert service.last["ModerateConversationMessage"].decision == pb.MODERATION_DECISION_REJECT
    turned = app.post(
        "/api/v1/conversations/7:to-opinion",
        json={"category": "public_safety", "community_id": 101},
        headers=auth("station-staff"),
    )
    assert turned.status_code == 200, turned.text
    assert turned.json()["opinion_tracking_code"] == "TH-2026-000001"
    sent = service.last["TurnIntoOpinion"]
    assert (sent.conversation_id, sent.category, sent.community_id) == (
        7,
        opb.OPINION_CATEGORY_PUBLIC_SAFETY,
        101,
    )


def test_roles_that_never_may_are_refused_early(
    app: TestClient, auth: Auth, service: FakeConversations, problem: Problem
) -> None:
    problem(app.get("/api/v1/conversations"), 401)
    for account in ("constituent", "deputy", "standing-committee-office", "admin"):
        problem(
            app.post(
                "/api/v1/conversation-messages/71:moderate",
                json={"decision": "approve"},
                headers=auth(account),
            ),
            403,
        )
        problem(app.get("/api/v1/conversation-messages/held", headers=auth(account)), 403)
        problem(
            app.post(
                "/api/v1/conversations/7:to-opinion",
                json={"category": "other", "community_id": 1},
                headers=auth(account),
            ),
            403,
        )
    assert service.last == {}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/conversations", {"subject": "", "text": "x", "station_id": 1}, "subject"),
        ("/api/v1/conversations", {"subject": "s", "text": "x", "phone": "call me"}, "phone"),
        ("/api/v1/conversations", {"subject": "s", "text": "x", "kind": "gossip"}, "kind"),
        ("/api/v1/conversations/7/messages", {"text": "x" * 2001}, "text"),
        ("/api/v1/conversations/7/messages", {"text": "x", "author": "me"}, "author"),
    ],
)
def test_bad_bodies_are_refused_before_any_call(
    app: TestClient,
    auth: Auth,
    service: FakeConversations,
    problem: Problem,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    refused = problem(app.post(path, json=body, headers=auth("constituent")), 422)
    assert field in str(refused["errors"])
    assert service.last == {}


def test_bad_moderation_and_opinion_bodies_are_422(
    app: TestClient, auth: Auth, service: FakeConversations, problem: Problem
) -> None:
    staff = auth("station-staff")
    refused = problem(
        app.post(
            "/api/v1/conversation-messages/71:moderate", json={"decision": "ok"}, headers=staff
        ),
        422,
    )
    assert "decision" in str(refused["errors"])
    refused = problem(
        app.post(
            "/api/v1/conversations/7:to-opinion",
            json={"category": "gossip", "community_id": 0},
            headers=staff,
        ),
        422,
    )
    assert "category" in str(refused["errors"]) and "community_id" in str(refused["errors"])
    assert service.last == {}


def test_the_services_refusals_are_problems(app: TestClient, auth: Auth, problem: Problem) -> None:
    body = problem(app.get("/api/v1/conversations/404", headers=auth("deputy")), 404)
    assert "404" in body["detail"]
    body = problem(
        app.post(
            "/api/v1/conversation-messages/409:moderate",
            json={"decision": "approve"},
            headers=auth("station-staff"),
        ),
        409,
    )
    assert "only a held one" in body["detail"]


def test_the_routes_are_in_the_openapi_under_their_tag(app: TestClient) -> None:
    paths = app.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/conversations",
        "/api/v1/conversations/{id}",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/conversation-messages/held",
        "/api/v1/conversation-messages/{id}:moderate",
        "/api/v1/conversations/{id}:to-opinion",
    ):
        assert path in paths, path
        for operation in paths[path].values():
            assert operation["tags"] == ["notifications"]

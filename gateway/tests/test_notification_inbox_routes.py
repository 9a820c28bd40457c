"""The inbox, notification preferences and unsubscribe links through the
gateway (gateway/routes/notification_inbox.py), over fake InboxService and
PreferenceService of this module's own: what each route sends and answers,
that a token is needed (but not for an unsubscribe link), bodies and queries
checked before any call, the service's refusals as problem+json. The rules
themselves are tested on the notifications service
(services/notifications/tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf.timestamp_pb2 import Timestamp

from liaison.common.v1 import envelope_pb2
from liaison.notifications.v1 import inbox_pb2 as pb
from liaison.notifications.v1 import inbox_pb2_grpc as pb_grpc
from liaison.notifications.v1 import preferences_pb2 as ppb
from liaison.notifications.v1 import preferences_pb2_grpc as ppb_grpc

from .conftest import fake_upstream

Auth = Callable[[str], dict[str, str]]
Problem = Callable[..., Any]
TOKEN = "u1.dXNlcjphYmMKYm9va2luZ3MKZW1haWw.c2lnbmF0dXJl"


def stamp() -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))
    return ts


def a_message(message_id: int, **values: Any) -> pb.InboxMessage:
    return pb.InboxMessage(
        id=message_id,
        mailbox="user:demo:constituent",
        event_type="reception.booking_confirmed",
        kind="bookings",
        locale="zh-CN",
        subject="预约已确认",
        body_text="您的预约已确认。",
        link="/#/bookings",
        created_at=stamp(),
        **values,
    )


class Fake(pb_grpc.InboxServiceServicer, ppb_grpc.PreferenceServiceServicer):
    """Answers from fixed values and keeps what it was sent: message 404 is
    not the caller's, a token ending "bad" is altered."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}
        self.metadata: dict[str, dict[str, str]] = {}

    def _keep(self, name: str, request: Any, context: grpc.ServicerContext) -> None:
        self.last[name] = request
        self.metadata[name] = dict(context.invocation_metadata())
        if getattr(request, "id", 0) == 404:
            context.abort(grpc.StatusCode.NOT_FOUND, "message 404 does not exist in your mailboxes")
        if getattr(request, "token", "").endswith("bad"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "token: does not match its signature")

    def ListInbox(self, request: Any, context: grpc.ServicerContext) -> pb.ListInboxResponse:
        self._keep("ListInbox", request, context)
        return pb.ListInboxResponse(
            messages=[a_message(2), a_message(1, read=True, read_at=stamp())],
            page=envelope_pb2.PageInfo(next_page_token="more", total_size=5),
            unread=4,
        )

    def GetUnreadCount(self, request: Any, context: grpc.ServicerContext) -> pb.UnreadCount:
        self._keep("GetUnreadCount", request, context)
        return pb.UnreadCount(
            unread=3, mailboxes=[pb.MailboxCount(mailbox="user:demo:constituent", unread=3)]
        )

    def GetInboxMessage(self, request: Any, context: grpc.ServicerContext) -> pb.InboxMessage:
        self._keep("GetInboxMessage", request, context)
        return a_message(request.id)

    def MarkRead(self, request: Any, context: grpc.ServicerContext) -> pb.InboxMessage:
        self._keep("MarkRead", request, context)
        return a_message(request.id, read=True, read_at=stamp())

    def MarkUnread(self, request: Any, context: grpc.ServicerContext) -> pb.InboxMessage:
        self._keep("MarkUnread", request, context)
        return a_message(request.id)

    def Archive(self, request: Any, context: grpc.ServicerContext) -> pb.InboxMessage:
        self._keep("Archive", request, context)
        return a_message(request.id, archived=True, archived_at=stamp())

    def Unarchive(self, request: Any, context: grpc.ServicerContext) -> pb.InboxMessage:
        self._keep("Unarchive", request, context)
        return a_message(request.id)

    def ArchiveAll(self, request: Any, context: grpc.ServicerContext) -> pb.ArchiveAllResponse:
        self._keep("ArchiveAll", request, context)
        return pb.ArchiveAllResponse(archived=7)

    def _prefs(self, address: str) -> ppb.Preferences:
        return ppb.Preferences(
            address=address or "user:demo:constituent",
            contacts=ppb.Contacts(email="a@example.com"),
            locale="zh-CN",
            quiet_hours=ppb.QuietHours(start="22:00", end="08:00"),
            kinds=[ppb.KindPreference(kind="bookings", channels=["inbox", "email"])],
        )

    def GetPreferences(self, request: Any, context: grpc.ServicerContext) -> ppb.Preferences:
        self._keep("GetPreferences", request, context)
        return self._prefs(request.address)

    def UpdatePreferences(self, request: Any, context: grpc.ServicerContext) -> ppb.Preferences:
        self._keep("UpdatePreferences", request, context)
        if request.preferences.contacts.phone == "12345":
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "preferences.contacts.phone: is not a phone"
            )
        return self._prefs(request.address)

    def DescribeUnsubscribe(
        self, request: Any, context: grpc.ServicerContext
    ) -> ppb.UnsubscribeLink:
        self._keep("DescribeUnsubscribe", request, context)
        return ppb.UnsubscribeLink(kind="bookings", channel="email")

    def Unsubscribe(self, request: Any, context: grpc.ServicerContext) -> ppb.UnsubscribeLink:
        self._keep("Unsubscribe", request, context)
        return ppb.UnsubscribeLink(kind="bookings", channel="email", unsubscribed=True)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[tuple[Fake, str]]:
    fake = Fake()
    with fake_upstream(
        fake,
        pb_grpc.add_InboxServiceServicer_to_server,
        ppb_grpc.add_PreferenceServiceServicer_to_server,
    ) as target:
        yield fake, target


@pytest.fixture
def fake(fake_server: tuple[Fake, str]) -> Fake:
    fake_server[0].last.clear()
    return fake_server[0]


@pytest.fixture
def app(client_with: Callable[[str, str], TestClient], fake_server: tuple[Fake, str]) -> TestClient:
    return client_with("notifications", fake_server[1])


def test_the_inbox_is_listed_with_its_filters_and_the_caller_s_token(
    app: TestClient, auth: Auth, fake: Fake
) -> None:
    reply = app.get(
        "/api/v1/inbox",
        params={"folder": "archived", "kind": "letters", "unread_only": "true", "page_size": 2},
        headers=auth("constituent"),
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert [m["id"] for m in body["items"]] == [2, 1]
    assert body["items"][1]["read"] and body["items"][1]["read_at"].startswith("2026-11-27")
    assert (body["next_page_token"], body["total_size"], body["unread"]) == ("more", 5, 4)
    sent = fake.last["ListInbox"]
    assert (sent.folder, sent.kind, sent.unread_only, sent.page.page_size) == (
        pb.INBOX_FOLDER_ARCHIVED,
        "letters",
        True,
        2,
    )
    assert fake.metadata["ListInbox"]["authorization"].startswith("Bearer ")


def test_counts_reads_and_changes_go_to_their_rpcs(app: TestClient, auth: Auth, fake: Fake) -> None:
    me = auth("deputy")
    assert app.get("/api/v1/inbox/unread-count", headers=me).json() == {
        "unread": 3,
        "mailboxes": [{"mailbox": "user:demo:constituent", "unread": 3}],
    }
    assert app.get("/api/v1/inbox/9", headers=me).json()["id"] == 9
    for verb, method, field in [
        ("read", "MarkRead", "read"),
        ("unread", "MarkUnread", "read"),
        ("archive", "Archive", "archived"),
        ("unarchive", "Unarchive", "archived"),
    ]:
        reply = app.post(f"/api/v1/inbox/9:{verb}", headers=me)
        assert reply.status_code == 200, reply.text
        assert fake.last[method].id == 9
        assert reply.json()[field] is (verb in ("read", "archive"))
    done = app.post(
        "/api/v1/inbox:archive-all", json={"kind": "letters", "read_only": True}, headers=me
    )
    assert done.json() == {"archived": 7}
    assert (fake.last["ArchiveAll"].kind, fake.last["ArchiveAll"].read_only) == ("letters", True)


def test_another_s_message_is_404_and_bad_input_422_before_any_call(
    app: TestClient, auth: Auth, fake: Fake, problem: Problem
) -> None:
    me = auth("constituent")
    assert "404" in problem(app.post("/api/v1/inbox/404:read", headers=me), 404)["detail"]
    fake.last.clear()
    for path, params in [
        ("/api/v1/inbox", {"folder": "trash"}),
        ("/api/v1/inbox", {"kind": "weather"}),
        ("/api/v1/inbox", {"page_size": 0}),
        ("/api/v1/inbox/0", {}),
    ]:
        problem(app.get(path, params=params, headers=me), 422)
    problem(app.post("/api/v1/inbox:archive-all", json={"everything": True}, headers=me), 422)
    assert fake.last == {}


def test_the_inbox_and_preferences_need_a_token(app: TestClient, problem: Problem) -> None:
    for path in ("/api/v1/inbox", "/api/v1/inbox/unread-count", "/api/v1/notification-preferences"):
        problem(app.get(path), 401)
    problem(app.post("/api/v1/inbox/1:read"), 401)
    problem(app.patch("/api/v1/notification-preferences", json={"locale": "en"}), 401)


def test_preferences_are_read_and_changed_by_the_fields_sent(
    app: TestClient, auth: Auth, fake: Fake
) -> None:
    admin = auth("admin")
    got = app.get(
        "/api/v1/notification-preferences",
        params={"address": "role:street_committee@street:1"},
        headers=admin,
    )
    assert got.status_code == 200, got.text
    assert got.json()["address"] == "role:street_committee@street:1"
    reply = app.patch(
        "/api/v1/notification-preferences",
        json={
            "contacts": {"phone": "13800138000"},
            "quiet_hours": {"enabled": True, "start": "21:00", "end": "07:00"},
            "kinds": [
                {"kind": "letters", "channels": ["email"], "digest": True, "digest_hour": 18}
            ],
        },
        headers=auth("constituent"),
    )
    assert reply.status_code == 200, reply.text
    sent = fake.last["UpdatePreferences"]
    assert sorted(sent.update_mask.paths) == ["contacts.phone", "kinds", "quiet_hours"]
    assert sent.preferences.contacts.phone == "13800138000"
    assert sent.preferences.quiet_hours.start == "21:00"
    assert sent.preferences.kinds[0].digest_hour == 18 and sent.address == ""


def test_bad_preferences_are_422_naming_the_field(
    app: TestClient, auth: Auth, fake: Fake, problem: Problem
) -> None:
    me = auth("constituent")
    for body, field in [
        ({"locale": "fr"}, "locale"),
        ({"quiet_hours": {"enabled": True, "start": "25:00"}}, "start"),
        ({"kinds": [{"kind": "weather"}]}, "kind"),
        ({"kinds": [{"kind": "letters", "channels": ["fax"]}]}, "channels"),
        ({"contacts": {"fax": "1"}}, "fax"),
    ]:
        refused = problem(app.patch("/api/v1/notification-preferences", json=body, headers=me), 422)
        assert field in str(refused["errors"])
    assert "UpdatePreferences" not in fake.last
    upstream = problem(
        app.patch(
            "/api/v1/notification-preferences", json={"contacts": {"phone": "12345"}}, headers=me
        ),
        422,
    )
    assert "phone" in upstream["detail"]


def test_an_unsubscribe_link_needs_no_token(app: TestClient, fake: Fake, problem: Problem) -> None:
    shown = app.get(f"/api/v1/unsubscribe/{TOKEN}")
    assert shown.status_code == 200, shown.text
    assert shown.json() == {"kind": "bookings", "channel": "email", "unsubscribed": False}
    # A mail client's RFC 8058 one-click POST.
    done = app.post(
        f"/api/v1/unsubscribe/{TOKEN}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["unsubscribed"]
    assert fake.last["Unsubscribe"].token == TOKEN
    assert "authorization" not in fake.metadata["Unsubscribe"]
    assert "signature" in problem(app.post(f"/api/v1/unsubscribe/{TOKEN}bad"), 422)["detail"]
    fake.last.clear()
    problem(app.get("/api/v1/unsubscribe/not%20a%20token"), 422)
    assert fake.last == {}


def test_the_routes_are_in_the_openapi_under_their_tag(app: TestClient) -> None:
    spec = app.get("/openapi.json").json()
    ours = {
        path: ops
        for path, ops in spec["paths"].items()
        if path.startswith(("/api/v1/inbox", "/api/v1/notification-preferences", "/api/v1/unsub"))
    }
    assert len(ours) == 10
    for ops in ours.values():
        for op in ops.values():
            assert op["tags"] == ["notifications"]
            assert "200" in op["responses"]

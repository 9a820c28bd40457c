"""The inbox over gRPC on a real PostgreSQL: a caller reads and changes the
messages of their own mailboxes only (another's is NOT_FOUND, as one that
does not exist), an office's mailbox is shared by its people, and every
change is audited. Messages are written directly with the core tables, as
the fan-out writes them."""

from __future__ import annotations

import itertools
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from kit.tables import audit_entries
from liaison.common.v1 import envelope_pb2
from liaison.notifications.v1 import inbox_pb2 as pb
from notifications.message_models import Message

pytestmark = pytest.mark.postgres

_numbers = itertools.count(1)


def person(role: str = "constituent", **claims: Any) -> dict[str, Any]:
    """The claims of a person of its own (each test's mailboxes are new)."""
    return {"sub": f"inbox-test-{next(_numbers)}", "role": role, "name": "测试"} | claims


def write(api: Any, recipient: str, kind: str = "bookings", **values: Any) -> int:
    n = next(_numbers)
    with api.db.unit_of_work() as uow:
        row = Message(
            event_id=f"event-{n}",
            event_type="reception.booking_confirmed",
            rule_key="test",
            recipient=recipient,
            kind=kind,
            subject=values.pop("subject", f"第{n}条"),
            body_text="您的预约已确认。",
            link="/#/bookings",
            **values,
        )
        uow.session.add(row)
        uow.session.flush()
        return row.id


def audit_of(api: Any, message_id: int) -> list[tuple[str, str]]:
    with api.db.read() as session:
        return [
            (r.action, r.actor_subject)
            for r in session.execute(
                select(audit_entries)
                .where(audit_entries.c.record_kind == "message")
                .where(audit_entries.c.record_id == message_id)
                .order_by(audit_entries.c.id)
            )
        ]


def test_a_caller_lists_their_own_mailbox_newest_first(api: Any) -> None:
    me, other = person(), person()
    mine = [write(api, f"user:{me['sub']}") for _ in range(3)]
    write(api, f"user:{other['sub']}")
    listed = api.inbox(me).ListInbox(pb.ListInboxRequest())
    assert [m.id for m in listed.messages] == mine[::-1]
    assert listed.unread == 3 and listed.page.total_size == 3
    first = listed.messages[0]
    assert first.mailbox == f"user:{me['sub']}" and not first.read and first.subject


def test_pages_go_from_newest_to_oldest_and_tokens_fit_their_query(api: Any) -> None:
    me = person()
    ids = [write(api, f"user:{me['sub']}") for _ in range(5)]
    stub = api.inbox(me)
    seen: list[int] = []
    token = ""
    while True:
        page = stub.ListInbox(
            pb.ListInboxRequest(page=envelope_pb2.PageRequest(page_size=2, page_token=token))
        )
        seen += [m.id for m in page.messages]
        token = page.page.next_page_token
        if not token:
            break
    assert seen == ids[::-1]
    first = stub.ListInbox(pb.ListInboxRequest(page=envelope_pb2.PageRequest(page_size=2)))
    error = api.refused(
        lambda: stub.ListInbox(
            pb.ListInboxRequest(
                kind="letters",
                page=envelope_pb2.PageRequest(page_size=2, page_token=first.page.next_page_token),
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "page.page_token" in api.field_errors(error)


def test_another_mailbox_s_message_is_not_found_and_nothing_changes(api: Any) -> None:
    me, other = person(), person()
    theirs = write(api, f"user:{other['sub']}")
    stub = api.inbox(me)
    for call in (stub.GetInboxMessage, stub.MarkRead, stub.Archive):
        error = api.refused(
            lambda call=call: call(pb.InboxMessageRequest(id=theirs)), grpc.StatusCode.NOT_FOUND
        )
        assert error.details() == f"message {theirs} does not exist in your mailboxes"
    missing = api.refused(
        lambda: stub.MarkRead(pb.InboxMessageRequest(id=theirs + 10_000)),
        grpc.StatusCode.NOT_FOUND,
    )
    assert "does not exist in your mailboxes" in missing.details()
    untouched = api.inbox(other).GetInboxMessage(pb.InboxMessageRequest(id=theirs))
    assert not untouched.read and not untouched.archived
    assert audit_of(api, theirs) == []


def test_reading_changes_the_unread_count_once_and_is_audited(api: Any) -> None:
    me = person()
    a, b = write(api, f"user:{me['sub']}"), write(api, f"user:{me['sub']}")
    stub = api.inbox(me)
    assert stub.GetUnreadCount(pb.GetUnreadCountRequest()).unread == 2
    read = stub.MarkRead(pb.InboxMessageRequest(id=a))
    assert read.read and read.read_at.seconds > 0
    stub.MarkRead(pb.InboxMessageRequest(id=a))  # again: no change, no error
    counted = stub.GetUnreadCount(pb.GetUnreadCountRequest())
    assert counted.unread == 1
    assert [(c.mailbox, c.unread) for c in counted.mailboxes] == [(f"user:{me['sub']}", 1)]
    assert [m.id for m in stub.ListInbox(pb.ListInboxRequest(unread_only=True)).messages] == [b]
    assert not stub.MarkUnread(pb.InboxMessageRequest(id=a)).read
    assert audit_of(api, a) == [("read", me["sub"]), ("unread", me["sub"])]


def test_archived_messages_leave_the_inbox_and_come_back(api: Any) -> None:
    me = person()
    a, b = write(api, f"user:{me['sub']}"), write(api, f"user:{me['sub']}")
    stub = api.inbox(me)
    assert stub.Archive(pb.InboxMessageRequest(id=a)).archived
    assert [m.id for m in stub.ListInbox(pb.ListInboxRequest()).messages] == [b]
    archived = stub.ListInbox(pb.ListInboxRequest(folder=pb.INBOX_FOLDER_ARCHIVED))
    assert [m.id for m in archived.messages] == [a]
    every = stub.ListInbox(pb.ListInboxRequest(folder=pb.INBOX_FOLDER_ALL))
    assert [m.id for m in every.messages] == [b, a]
    assert stub.GetUnreadCount(pb.GetUnreadCountRequest()).unread == 1
    assert not stub.Unarchive(pb.InboxMessageRequest(id=a)).archived
    assert audit_of(api, a) == [("archived", me["sub"]), ("unarchived", me["sub"])]


def test_archive_all_keeps_to_its_filters_and_the_caller_s_mailboxes(api: Any) -> None:
    me, other = person(), person()
    booking = write(api, f"user:{me['sub']}", "bookings")
    letter = write(api, f"user:{me['sub']}", "letters")
    read_letter = write(api, f"user:{me['sub']}", "letters")
    theirs = write(api, f"user:{other['sub']}", "letters")
    stub = api.inbox(me)
    stub.MarkRead(pb.InboxMessageRequest(id=read_letter))
    done = stub.ArchiveAll(pb.ArchiveAllRequest(kind="letters", read_only=True))
    assert done.archived == 1
    assert {m.id for m in stub.ListInbox(pb.ListInboxRequest()).messages} == {booking, letter}
    assert stub.ArchiveAll(pb.ArchiveAllRequest()).archived == 2
    assert list(stub.ListInbox(pb.ListInboxRequest()).messages) == []
    assert not api.inbox(other).GetInboxMessage(pb.InboxMessageRequest(id=theirs)).archived
    assert audit_of(api, booking) == [("archived", me["sub"])]


def test_a_deputy_reads_their_account_and_deputy_mailboxes_one_at_a_time(api: Any) -> None:
    me = person("deputy", deputy_id=9001)
    own = write(api, f"user:{me['sub']}")
    as_deputy = write(api, "deputy:9001", "sessions")
    stub = api.inbox(me)
    assert {m.id for m in stub.ListInbox(pb.ListInboxRequest()).messages} == {own, as_deputy}
    one = stub.ListInbox(pb.ListInboxRequest(mailbox="deputy:9001"))
    assert [m.id for m in one.messages] == [as_deputy]
    assert [m.id for m in stub.ListInbox(pb.ListInboxRequest(kind="sessions")).messages] == [
        as_deputy
    ]
    error = api.refused(
        lambda: stub.ListInbox(pb.ListInboxRequest(mailbox="deputy:9002", kind="weather")),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(api.field_errors(error)) == {"mailbox", "kind"}


def test_an_office_mailbox_is_shared_by_its_people_and_theirs_only(api: Any) -> None:
    first = person("street_committee", street_id=7)
    second = person("street_committee", street_id=7)
    elsewhere = person("street_committee", street_id=8)
    office = write(api, "role:street_committee@street:7", "letters")
    api.inbox(first).MarkRead(pb.InboxMessageRequest(id=office))
    seen = api.inbox(second).GetInboxMessage(pb.InboxMessageRequest(id=office))
    assert seen.read  # read for the office
    api.refused(
        lambda: api.inbox(elsewhere).MarkRead(pb.InboxMessageRequest(id=office)),
        grpc.StatusCode.NOT_FOUND,
    )
    assert audit_of(api, office) == [("read", first["sub"])]


def test_callers_without_a_mailbox_are_refused(api: Any) -> None:
    api.refused(
        lambda: api.inbox(None).ListInbox(pb.ListInboxRequest()),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    error = api.refused(
        lambda: api.inbox("department-system").GetUnreadCount(pb.GetUnreadCountRequest()),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "only people signed in" in error.details()
    bad = api.refused(
        lambda: api.inbox(person()).MarkRead(pb.InboxMessageRequest(id=0)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "id" in api.field_errors(bad)

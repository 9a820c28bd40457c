"""The in-app inbox's use cases: the messages of the caller's mailboxes
(`notifications.addresses.addresses_of`), newest first, read and archived.

A message of a mailbox the caller does not read is NOT_FOUND, exactly as a
message that does not exist. An office's mailbox is shared, so its read and
archived marks are the office's (kept on the message, which has one
recipient). Each change is audited ("read", "unread", "archived",
"unarchived" on record kind "message"), in the change's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import Principal
from kit.convert import timestamp
from kit.db import Database
from kit.errors import NotFound, PermissionDenied, Unauthenticated, Violations, invalid
from kit.records import (
    DEFAULT_PAGE_SIZE,
    MAX_ID,
    MAX_PAGE_SIZE,
    _query_digest,
    decode_token,
    encode_token,
)
from liaison.common.v1 import envelope_pb2
from liaison.notifications.v1 import inbox_pb2 as pb
from notifications.addresses import addresses_of
from notifications.message_models import DIGEST_KIND, Message
from notifications.preferences import KINDS

Clock = Callable[[], datetime]
RECORD_KIND = "message"
# A daily digest's own message is not in the inbox: the messages it
# gathers are (notifications.digests).
IN_INBOX = Message.kind != DIGEST_KIND


class Inbox:
    """The inbox over one Database."""

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------ reads

    def list(self, request: pb.ListInboxRequest, actor: Principal | None) -> pb.ListInboxResponse:
        who, mailboxes = _mailboxes(actor, "read an inbox")
        v = Violations()
        chosen = _chosen(v, mailboxes, request.mailbox)
        if request.kind:
            v.one_of("kind", request.kind, KINDS)
        if request.folder not in pb.InboxFolder.values():
            v.add("folder", "must be current, archived or all")
        v.raise_if_any("the inbox cannot be listed")
        m = Message
        query = select(m).where(m.recipient.in_(chosen), IN_INBOX)
        folder = request.folder or pb.INBOX_FOLDER_CURRENT
        if folder == pb.INBOX_FOLDER_CURRENT:
            query = query.where(m.archived_at.is_(None))
        elif folder == pb.INBOX_FOLDER_ARCHIVED:
            query = query.where(m.archived_at.is_not(None))
        if request.unread_only:
            query = query.where(m.read_at.is_(None))
        if request.kind:
            query = query.where(m.kind == request.kind)
        with self.db.read(consistent=True) as session:
            rows, info = _newest_first(session, query, request)
            unread = _unread(session, chosen)
            return pb.ListInboxResponse(
                messages=[message_pb(r) for r in rows],
                page=info,
                unread=sum(unread.values()),
            )

    def unread_count(self, actor: Principal | None) -> pb.UnreadCount:
        _, mailboxes = _mailboxes(actor, "read an inbox")
        with self.db.read(consistent=True) as session:
            unread = _unread(session, mailboxes)
        return pb.UnreadCount(
            unread=sum(unread.values()),
            mailboxes=[pb.MailboxCount(mailbox=a, unread=unread.get(a, 0)) for a in mailboxes],
        )

    def get(self, request: pb.InboxMessageRequest, actor: Principal | None) -> pb.InboxMessage:
        _, mailboxes = _mailboxes(actor, "read an inbox")
        _check_id(request.id)
        with self.db.read(consistent=True) as session:
            return message_pb(_mine(session, request.id, mailboxes))

    # ------------------------------------------------------------ changes

    def mark_read(
        self, request: pb.InboxMessageRequest, actor: Principal | None
    ) -> pb.InboxMessage:
        return self._set(request, actor, "read_at", True, "read", "mark a message read")

    def mark_unread(
        self, request: pb.InboxMessageRequest, actor: Principal | None
    ) -> pb.InboxMessage:
        return self._set(request, actor, "read_at", False, "unread", "mark a message unread")

    def archive(self, request: pb.InboxMessageRequest, actor: Principal | None) -> pb.InboxMessage:
        return self._set(request, actor, "archived_at", True, "archived", "archive a message")

    def unarchive(
        self, request: pb.InboxMessageRequest, actor: Principal | None
    ) -> pb.InboxMessage:
        return self._set(request, actor, "archived_at", False, "unarchived", "restore a message")

    def _set(
        self,
        request: pb.InboxMessageRequest,
        actor: Principal | None,
        column: str,
        on: bool,
        action: str,
        doing: str,
    ) -> pb.InboxMessage:
        who, mailboxes = _mailboxes(actor, doing)
        _check_id(request.id)
        with self.db.unit_of_work() as uow:
            session = uow.session
            row = _mine(session, request.id, mailboxes, lock=True)
            if (getattr(row, column) is not None) != on:
                setattr(row, column, self.clock() if on else None)
                session.flush()
                audit.record(session, who, action, RECORD_KIND, row.id, [column])
            return message_pb(row)

    def archive_all(
        self, request: pb.ArchiveAllRequest, actor: Principal | None
    ) -> pb.ArchiveAllResponse:
        who, mailboxes = _mailboxes(actor, "archive messages")
        v = Violations()
        chosen = _chosen(v, mailboxes, request.mailbox)
        if request.kind:
            v.one_of("kind", request.kind, KINDS)
        v.raise_if_any("the messages cannot be archived")
        m = Message
        where = [m.recipient.in_(chosen), m.archived_at.is_(None), IN_INBOX]
        if request.kind:
            where.append(m.kind == request.kind)
        if request.read_only:
            where.append(m.read_at.is_not(None))
        with self.db.unit_of_work() as uow:
            session = uow.session
            ids = list(
                session.scalars(
                    update(m)
                    .where(*where)
                    .values(archived_at=self.clock())
                    .returning(m.id)
                    .execution_options(synchronize_session=False)
                )
            )
            for message_id in sorted(ids):
                audit.record(session, who, "archived", RECORD_KIND, message_id, ["archived_at"])
            return pb.ArchiveAllResponse(archived=len(ids))


# ---------------------------------------------------------------- helpers


def _mailboxes(actor: Principal | None, doing: str) -> tuple[Principal, tuple[str, ...]]:
    if actor is None:
        raise Unauthenticated(f"a bearer token is required to {doing}")
    mailboxes = addresses_of(actor)
    if not mailboxes:
        raise PermissionDenied(
            f"a {actor.kind} token of role {actor.role.value} has no mailbox: only people "
            f"signed in (constituents, deputies, staff) may {doing}"
        )
    return actor, mailboxes


def _chosen(v: Violations, mailboxes: tuple[str, ...], mailbox: str) -> tuple[str, ...]:
    if not mailbox:
        return mailboxes
    if mailbox not in mailboxes:
        v.add("mailbox", f"is not one of your mailboxes: {', '.join(mailboxes)}")
        return ()
    return (mailbox,)


def _check_id(message_id: int) -> None:
    if not 0 < message_id <= MAX_ID:
        raise invalid("id", "must be a positive id")


def _mine(
    session: Session, message_id: int, mailboxes: Sequence[str], *, lock: bool = False
) -> Any:
    query = select(Message).where(
        Message.id == message_id, Message.recipient.in_(mailboxes), IN_INBOX
    )
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"message {message_id} does not exist in your mailboxes")
    return row


def _unread(session: Session, mailboxes: Sequence[str]) -> dict[str, int]:
    m = Message
    return {
        recipient: int(n)
        for recipient, n in session.execute(
            select(m.recipient, func.count())
            .where(
                m.recipient.in_(mailboxes), m.read_at.is_(None), m.archived_at.is_(None), IN_INBOX
            )
            .group_by(m.recipient)
        )
    }


def _newest_first(
    session: Session, query: Any, request: pb.ListInboxRequest
) -> tuple[list[Any], envelope_pb2.PageInfo]:
    """One page of `query` by id, newest first (kit.records.page is oldest
    first); its tokens are good for the same query only."""
    size = request.page.page_size or DEFAULT_PAGE_SIZE
    if not 0 < size <= MAX_PAGE_SIZE:
        raise invalid("page.page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    digest = _query_digest(request)
    before = decode_token(request.page.page_token, digest)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if before:
        query = query.where(Message.id < before)
    rows = list(session.scalars(query.order_by(Message.id.desc()).limit(size + 1)))
    items = rows[:size]
    more = len(rows) > size
    return items, envelope_pb2.PageInfo(
        next_page_token=encode_token(items[-1].id, digest) if more and items else "",
        total_size=int(total or 0),
    )


def message_pb(row: Message) -> pb.InboxMessage:
    return pb.InboxMessage(
        id=row.id,
        mailbox=row.recipient,
        event_type=row.event_type,
        kind=row.kind,
        urgent=row.urgent,
        locale=row.locale,
        subject=row.subject,
        body_text=row.body_text,
        body_html=row.body_html,
        link=row.link,
        created_at=timestamp(row.created_at),
        read_at=timestamp(row.read_at),
        archived_at=timestamp(row.archived_at),
        read=row.read_at is not None,
        archived=row.archived_at is not None,
    )

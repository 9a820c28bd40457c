"""Conversations' use cases (互动交流): start a thread, list and read one's
threads, post, moderate what constituents write, and turn a constituent's
thread into an opinion in the reception service. The rules are
`notifications.conversations`; each use case checks the caller against the
thread in its own unit of work, and every change records its actor in the
audit (never a name, a phone or a message's text).

Telling people (decided here): the use case writes the inbox messages
itself, in the change's transaction, rather than emitting an event for the
fan-out: a `Message` (event id: the conversation message's id, event type
"notifications.conversation_message", kind "conversations") and its
"inbox" `Delivery`, delivered at once, for each recipient; the sending part
sends other channels from those rows as it does for any message. Rule keys:
"conversation" (a new published message: every participant but its
author), "conversation_held" (the moderators of a held message),
"conversation_rejected" (its author), "conversation_opinion" (the
constituent, once the thread is an opinion). The messages name a
constituent only masked and carry no message text. Each recipient's is in
the language of their preferences (`TEXTS`: zh-CN, the default, and en);
the thread's subject, the authors' labels and a rejection's reason are
given as they were written.

Turning into an opinion: reception's RecordOpinion has no idempotency key,
so the intent is written and committed first (`opinion_started_at`); the
thread's reference ("〔互动交流 C<id>〕") ends the opinion's text. A call that
finds the opinion kept answers it; one that finds an intent younger than
`OPINION_LEASE` is FAILED_PRECONDITION (another call is recording it); one
that finds an older intent first looks for an opinion of the station with
the reference (reception's ListOpinions, as the caller) and keeps it, and
records only when there is none. What remains: an opinion recorded and then
merged away from the station, or a caller who may not list the station's
opinions, could make a second one; reception taking a request id would
close that.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import Principal, Role, require
from kit.convert import EnumNames, timestamp
from kit.db import Database
from kit.errors import (
    DomainError,
    FailedPrecondition,
    NotFound,
    Unavailable,
    Violations,
    invalid,
)
from kit.records import MAX_ID, page
from liaison.common.v1 import envelope_pb2
from liaison.notifications.v1 import conversations_pb2 as pb
from liaison.reception.v1 import opinions_pb2 as opb
from notifications import addresses, preferences
from notifications import conversations as rules
from notifications.conversation_models import (
    Conversation,
    ConversationMessage,
    ConversationParticipant,
)
from notifications.conversation_upstream import Directory, OpinionRecorder, RecordedOpinion
from notifications.message_models import Delivery, Message

KIND = EnumNames(pb.ConversationKind, "CONVERSATION_KIND")
STATE = EnumNames(pb.MessageState, "MESSAGE_STATE")
DECISION = EnumNames(pb.ModerationDecision, "MODERATION_DECISION")
CATEGORY = EnumNames(opb.OpinionCategory, "OPINION_CATEGORY")
SHANGHAI = ZoneInfo("Asia/Shanghai")
EVENT_TYPE = "notifications.conversation_message"
MESSAGE_KIND = "conversations"
OPINION_LEASE = timedelta(seconds=60)
PAGE_DEFAULT, PAGE_MAX = 50, 200
PEOPLE = tuple(r for r in Role if r is not Role.SYSTEM)

Clock = Callable[[], datetime]


# The inbox messages' subject and text by locale and rule key, filled in
# with the thread's subject, the author's label (a constituent's masked), a
# rejection's reason and an opinion's tracking code: never a message's text.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "zh-CN": {
        "conversation": ("互动交流：{subject}", "{author}在《{subject}》中发来新消息。"),
        "conversation_held": ("互动交流：{subject}", "{author}在《{subject}》中的留言待审核。"),
        "conversation_rejected": (
            "互动交流：{subject}",
            "您在《{subject}》中的留言未通过审核：{reason}",
        ),
        "conversation_opinion": (
            "互动交流：{subject}",
            "您在《{subject}》中反映的问题已登记为社情民意，跟踪码 {code}。",
        ),
    },
    "en": {
        "conversation": (
            "Conversation: {subject}",
            "{author} wrote a new message in \u201c{subject}\u201d.",
        ),
        "conversation_held": (
            "Conversation: {subject}",
            "A message from {author} in \u201c{subject}\u201d awaits moderation.",
        ),
        "conversation_rejected": (
            "Conversation: {subject}",
            "Your message in \u201c{subject}\u201d was not approved: {reason}",
        ),
        "conversation_opinion": (
            "Conversation: {subject}",
            "What you raised in \u201c{subject}\u201d is recorded as a constituent's "
            "opinion, tracking code {code}.",
        ),
    },
}


def render(rule_key: str, locale: str, said: dict[str, str]) -> tuple[str, str, str]:
    """The locale used (zh-CN where `locale` has no texts), the subject (at
    most 300 characters) and the text of a rule key's inbox message."""
    used = locale if locale in TEXTS else preferences.DEFAULT_LOCALE
    subject, text = TEXTS[used][rule_key]
    return used, subject.format(**said)[:300], text.format(**said)


def _id(value: int, field: str) -> int:
    if not 0 < value <= MAX_ID:
        raise invalid(field, "is required: a positive id")
    return value


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ConversationUseCases:
    def __init__(
        self,
        db: Database,
        directory: Directory,
        opinions: OpinionRecorder,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.directory = directory
        self.opinions = opinions
        self.clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------ reading

    @staticmethod
    def _thread(session: Session, row: Conversation) -> rules.Thread:
        participants = session.scalars(
            select(ConversationParticipant.address).where(
                ConversationParticipant.conversation_id == row.id
            )
        ).all()
        return rules.Thread(
            kind=rules.Kind(row.kind),
            participants=tuple(participants),
            street_id=row.street_id,
            constituent_sub=row.constituent_sub,
            published=row.published_at is not None,
        )

    def _readable(
        self, session: Session, conversation_id: int, who: Principal, *, lock: bool = False
    ) -> tuple[Conversation, rules.Thread]:
        row = session.get(Conversation, conversation_id, with_for_update=lock)
        thread = self._thread(session, row) if row is not None else None
        if row is None or thread is None or not rules.may_read(who, thread):
            raise NotFound(f"no conversation has id {conversation_id} (among yours)")
        return row, thread

    def get(self, conversation_id: int, actor: Principal | None) -> pb.Conversation:
        who = require(actor, *PEOPLE, doing="read conversations")
        with self.db.read() as session:
            row, thread = self._readable(session, _id(conversation_id, "id"), who)
            return self._view(session, row, thread, who, whole=True)

    def list_mine(
        self, request: pb.ListConversationsRequest, actor: Principal | None
    ) -> tuple[list[pb.Conversation], envelope_pb2.PageInfo]:
        who = require(actor, *PEOPLE, doing="read conversations")
        kind = KIND.name(request.kind, "kind", required=False)
        mine = addresses.addresses_of(who)
        taking_part = select(ConversationParticipant.conversation_id).where(
            ConversationParticipant.address.in_(mine)
        )
        visible: ColumnElement[bool] = Conversation.id.in_(taking_part)
        if who.role is Role.DEPUTY:
            visible = visible & or_(
                Conversation.kind != rules.Kind.CONSTITUENT, Conversation.published_at.is_not(None)
            )
        if who.role in (Role.STATION_STAFF, Role.STREET_COMMITTEE) and who.street_id:
            visible = or_(
                visible,
                (Conversation.kind == rules.Kind.CONSTITUENT)
                & (Conversation.street_id == who.street_id),
            )
        query = select(Conversation).where(visible)
        if kind:
            query = query.where(Conversation.kind == kind)
        with self.db.read() as session:
            rows, info = _newest_first(session, query, request.page, request)
            return [self._view(session, r, self._thread(session, r), who) for r in rows], info

    def _view(
        self,
        session: Session,
        row: Conversation,
        thread: rules.Thread,
        who: Principal,
        *,
        whole: bool = False,
    ) -> pb.Conversation:
        full_name = rules.sees_constituent_name(who, thread)
        moderates = rules.may_moderate(who, thread)
        labels = dict(
            session.execute(
                select(ConversationParticipant.address, ConversationParticipant.label)
                .where(ConversationParticipant.conversation_id == row.id)
                .order_by(ConversationParticipant.id)
            ).all()
        )
        constituent = addresses.user(row.constituent_sub) if row.constituent_sub else ""
        label = rules.constituent_label(row.constituent_name, full=full_name)
        message = pb.Conversation(
            id=row.id,
            kind=KIND.number(row.kind),  # type: ignore[arg-type]
            subject=row.subject,
            station_id=row.station_id or 0,
            station_name=row.station_name,
            street_id=row.street_id or 0,
            participants=[
                pb.Participant(address=a, label=label if a == constituent else text)
                for a, text in labels.items()
            ],
            constituent_label=label if constituent else "",
            phone_given=bool(row.constituent_phone) and moderates,
            opinion_id=row.opinion_id or 0,
            opinion_tracking_code=row.opinion_tracking_code,
            may_moderate=moderates,
            may_turn_into_opinion=rules.may_turn_into_opinion(who, thread),
            created_at=timestamp(row.created_at),
            last_message_at=timestamp(row.last_message_at),
        )
        rows = session.scalars(
            select(ConversationMessage)
            .where(ConversationMessage.conversation_id == row.id)
            .order_by(ConversationMessage.id)
        ).all()
        seen = [m for m in rows if rules.may_see_message(who, thread, m.state, m.author_address)]
        message.held_count = sum(1 for m in seen if m.state == rules.State.HELD)
        if whole:
            message.messages.extend(self._message(m, thread, who, row) for m in seen)
        return message

    @staticmethod
    def _message(
        m: ConversationMessage, thread: rules.Thread, who: Principal, row: Conversation
    ) -> pb.ConversationMessage:
        label = m.author_label
        if rules.is_constituent(thread, m.author_address):
            label = rules.constituent_label(
                row.constituent_name, full=rules.sees_constituent_name(who, thread)
            )
        return pb.ConversationMessage(
            id=m.id,
            conversation_id=m.conversation_id,
            author_address=m.author_address,
            author_label=label,
            text=m.text,
            state=STATE.number(m.state),  # type: ignore[arg-type]
            reject_reason=m.reject_reason,
            mine=m.author_address in addresses.addresses_of(who),
            created_at=timestamp(m.created_at),
            moderated_at=timestamp(m.moderated_at),
        )

    # ------------------------------------------------------------ starting

    def start(
        self, request: pb.StartConversationRequest, actor: Principal | None
    ) -> pb.Conversation:
        who = require(actor, *PEOPLE, doing="start conversations")
        kind = KIND.to_name.get(request.kind, "")
        others = rules.check_start(
            who,
            kind,
            request.subject,
            request.text,
            station_id=request.station_id,
            participants=list(request.participants),
            phone=request.phone.strip(),
        )
        author = rules.own_address(who)
        station = None
        if kind == rules.Kind.CONSTITUENT:
            station = self.directory.station(request.station_id)
            if not station.active:
                raise FailedPrecondition(f"station {station.id} is no longer active")
            deputies = self.directory.station_deputies(station.id)
            if not deputies:
                raise FailedPrecondition(f"station {station.id} has no serving deputy to write to")
            people = rules.constituent_participants(
                who.sub, station.street_id, [d.id for d in deputies]
            )
            labels = {addresses.deputy(d.id): d.name for d in deputies}
            labels[rules.station_staff(station.street_id)] = f"{station.name}工作人员"
        else:
            people = (author, *others)
            labels = {a: self._label(a) for a in people}
        at = self.clock()
        with self.db.unit_of_work() as uow:
            session = uow.session
            row = Conversation(
                kind=kind,
                subject=request.subject.strip(),
                started_by=author,
                station_id=station.id if station else None,
                station_name=station.name if station else "",
                street_id=station.street_id if station else None,
                constituent_sub=who.sub if station else "",
                constituent_name=who.name[:100] if station else "",
                constituent_phone=request.phone.strip() if station else "",
                published_at=None if station else at,
                created_at=at,
                last_message_at=at,
            )
            session.add(row)
            session.flush()
            session.add_all(
                ConversationParticipant(conversation_id=row.id, address=a, label=labels.get(a, ""))
                for a in people
            )
            session.flush()
            thread = self._thread(session, row)
            first = self._add_message(session, row, thread, who, author, request.text.strip(), at)
            audit.record(session, who, "started", "conversation", row.id, ["kind", "subject"])
            self._announce(session, row, thread, first)
            return self._view(session, row, thread, who, whole=True)

    def _label(self, address: str) -> str:
        parsed = addresses.parse(address)
        if parsed.deputy_id is not None:
            deputy = self.directory.deputy(parsed.deputy_id)
            if not deputy.active:
                raise FailedPrecondition(f"deputy {deputy.id} no longer serves")
            return deputy.name
        role = Role(parsed.value)
        if parsed.street_id is not None:
            if not self.directory.street_exists(parsed.street_id):
                raise NotFound(f"the registry has no active street {parsed.street_id}")
            return f"{rules.ROLE_LABELS[role]}（街道 {parsed.street_id}）"
        return rules.ROLE_LABELS.get(role, role.value)

    # ------------------------------------------------------------ posting

    def post(
        self, request: pb.PostConversationMessageRequest, actor: Principal | None
    ) -> pb.ConversationMessage:
        who = require(actor, *PEOPLE, doing="write in conversations")
        conversation_id = _id(request.conversation_id, "conversation_id")
        v = Violations()
        rules.check_text(v, "text", request.text, rules.TEXT_MAX)
        v.raise_if_any("the message is not valid")
        with self.db.unit_of_work() as uow:
            session = uow.session
            row, thread = self._readable(session, conversation_id, who, lock=True)
            author = self._author(who, thread)
            at = self.clock()
            posted = self._add_message(session, row, thread, who, author, request.text.strip(), at)
            audit.record(session, who, "posted", "conversation_message", posted.id, ["text"])
            self._announce(session, row, thread, posted)
            return self._message(posted, thread, who, row)

    @staticmethod
    def _author(who: Principal, thread: rules.Thread) -> str:
        """The caller's participant address, or their moderator's mailbox."""
        mine = addresses.addresses_of(who)
        for address in thread.participants:
            if address in mine:
                return address
        return rules.own_address(who)  # a moderator who is not a participant

    def _add_message(
        self,
        session: Session,
        row: Conversation,
        thread: rules.Thread,
        who: Principal,
        author: str,
        text: str,
        at: datetime,
    ) -> ConversationMessage:
        is_constituent = rules.is_constituent(thread, author)
        label = (
            rules.constituent_label(row.constituent_name, full=False)
            if is_constituent
            else session.scalar(
                select(ConversationParticipant.label).where(
                    ConversationParticipant.conversation_id == row.id,
                    ConversationParticipant.address == author,
                )
            )
            or rules.office_label(who)
        )
        message = ConversationMessage(
            conversation_id=row.id,
            author_address=author,
            author_label=label if not is_constituent else "",
            text=text,
            state=rules.state_of_new_message(thread, author),
            created_at=at,
        )
        session.add(message)
        row.last_message_at = at
        session.flush()
        return message

    # ------------------------------------------------------------ moderating

    def held(
        self, request: pb.ListHeldMessagesRequest, actor: Principal | None
    ) -> tuple[list[pb.HeldMessage], envelope_pb2.PageInfo]:
        who = require(
            actor,
            Role.STATION_STAFF,
            Role.STREET_COMMITTEE,
            doing="moderate conversations (the station staff and street committee of a street do)",
        )
        query = (
            select(ConversationMessage)
            .join(Conversation, Conversation.id == ConversationMessage.conversation_id)
            .where(
                ConversationMessage.state == rules.State.HELD,
                Conversation.street_id == who.street_id,
                Conversation.kind == rules.Kind.CONSTITUENT,
            )
        )
        with self.db.read() as session:
            rows, info = page(session, query, ConversationMessage.id, request.page, request)
            found = []
            for m in rows:
                row = session.get(Conversation, m.conversation_id)
                assert row is not None
                thread = self._thread(session, row)
                found.append(
                    pb.HeldMessage(
                        message=self._message(m, thread, who, row),
                        conversation_subject=row.subject,
                        station_id=row.station_id or 0,
                        station_name=row.station_name,
                    )
                )
            return found, info

    def moderate(
        self, request: pb.ModerateConversationMessageRequest, actor: Principal | None
    ) -> pb.ConversationMessage:
        who = require(actor, *PEOPLE, doing="moderate conversations")
        message_id = _id(request.id, "id")
        decision = DECISION.to_name.get(request.decision, "")
        rules.check_decision(decision, request.reason.strip())
        with self.db.unit_of_work() as uow:
            session = uow.session
            m = session.get(ConversationMessage, message_id, with_for_update=True)
            row = session.get(Conversation, m.conversation_id) if m is not None else None
            if m is None or row is None:
                raise NotFound(f"no conversation message has id {message_id}")
            thread = self._thread(session, row)
            if not rules.may_read(who, thread):
                raise NotFound(f"no conversation message has id {message_id} (among yours)")
            rules.require_moderation(who, thread, m.state)
            at = self.clock()
            m.moderated_by = who.sub
            m.moderated_at = at
            if decision == "approve":
                m.state = rules.State.PUBLISHED
                if row.published_at is None:
                    row.published_at = at
                    thread = self._thread(session, row)
            else:
                m.state = rules.State.REJECTED
                m.reject_reason = request.reason.strip()
            session.flush()
            audit.record(
                session,
                who,
                "approved" if decision == "approve" else "rejected",
                "conversation_message",
                m.id,
                ["state"] + (["reject_reason"] if decision == "reject" else []),
            )
            self._announce(session, row, thread, m)
            return self._message(m, thread, who, row)

    # ------------------------------------------------------------ telling

    def _announce(
        self, session: Session, row: Conversation, thread: rules.Thread, m: ConversationMessage
    ) -> None:
        """The inbox messages a message's state calls for (see the module's docstring)."""
        author = (
            rules.constituent_label(row.constituent_name, full=False)
            if rules.is_constituent(thread, m.author_address)
            else m.author_label
        )
        said = {"subject": row.subject, "author": author, "reason": m.reject_reason}
        if m.state == rules.State.HELD:
            self._tell(
                session, m, "conversation_held", rules.moderators(row.street_id or 0), said, row.id
            )
        elif m.state == rules.State.REJECTED:
            self._tell(session, m, "conversation_rejected", [m.author_address], said, row.id)
        else:
            self._tell(
                session,
                m,
                "conversation",
                [a for a in thread.participants if a != m.author_address],
                said,
                row.id,
            )

    def _tell(
        self,
        session: Session,
        m: ConversationMessage | None,
        rule_key: str,
        recipients: Iterable[str],
        said: dict[str, str],
        conversation_id: int,
        *,
        event_id: str = "",
    ) -> None:
        """One inbox message for each recipient, in the language of their
        preferences (`TEXTS`: the rule key's subject and text with `said`)."""
        at = self.clock()
        for recipient in dict.fromkeys(recipients):
            portal = recipient.startswith("user:")
            locale, subject, text = render(
                rule_key, preferences.load(session, recipient).locale, said
            )
            message = Message(
                event_id=event_id or str(m.id if m else ""),
                event_type=EVENT_TYPE,
                rule_key=rule_key,
                recipient=recipient,
                kind=MESSAGE_KIND,
                urgent=False,
                locale=locale,
                subject=subject,
                body_text=text,
                body_html="",
                link=(
                    f"/#/conversations/{conversation_id}"
                    if portal
                    else f"/console/#/conversations/{conversation_id}"
                ),
                created_at=at,
            )
            session.add(message)
            session.flush()
            session.add(
                Delivery(
                    message_id=message.id,
                    channel="inbox",
                    state="delivered",
                    provider="inbox",
                    sent_at=at,
                    delivered_at=at,
                    created_at=at,
                    updated_at=at,
                )
            )

    # ------------------------------------------------------------ to an opinion

    def turn_into_opinion(
        self, request: pb.TurnIntoOpinionRequest, actor: Principal | None, bearer: str
    ) -> pb.Conversation:
        """`bearer`: the caller's `authorization` value, with which reception
        is asked (it checks the caller may record and list there too)."""
        who = require(
            actor,
            Role.STATION_STAFF,
            Role.STREET_COMMITTEE,
            doing="turn a conversation into an opinion (the station staff and street "
            "committee of its street do)",
        )
        conversation_id = _id(request.conversation_id, "conversation_id")
        v = Violations()
        category = CATEGORY.to_name.get(request.category, "")
        if not category:
            v.add("category", f"must be one of: {', '.join(CATEGORY.names)}")
        if request.community_id <= 0:
            v.add("community_id", "is required: the community the opinion concerns")
        if len(request.content) > rules.OPINION_MAX - 40:
            v.add("content", f"is at most {rules.OPINION_MAX - 40} characters")
        phone = request.phone.strip()
        if len(phone) > rules.PHONE_MAX or not all(c.isdigit() or c in "+- ()" for c in phone):
            v.add("phone", "may hold digits, spaces, +, - and brackets only (at most 40)")
        v.raise_if_any("the opinion cannot be recorded")

        with self.db.unit_of_work() as uow:
            session = uow.session
            row, thread = self._readable(session, conversation_id, who, lock=True)
            rules.require_turn_into_opinion(who, thread)
            if row.opinion_id is not None:
                return self._view(session, row, thread, who, whole=True)
            now = self.clock()
            started = _aware(row.opinion_started_at) if row.opinion_started_at else None
            if started is not None and now - started < OPINION_LEASE:
                raise FailedPrecondition(
                    "the opinion is being recorded by another call: try again in a minute"
                )
            texts = session.scalars(
                select(ConversationMessage.text)
                .where(
                    ConversationMessage.conversation_id == row.id,
                    ConversationMessage.author_address == addresses.user(row.constituent_sub),
                    ConversationMessage.state == rules.State.PUBLISHED,
                )
                .order_by(ConversationMessage.id)
            ).all()
            if not texts and not request.content.strip():
                raise FailedPrecondition(
                    "none of the constituent's messages is approved yet: approve one, or "
                    "give the opinion's content"
                )
            phone = phone or row.constituent_phone
            if not phone:
                raise invalid(
                    "phone", "is required: the constituent left none, and reception needs one"
                )
            station = self.directory.station(row.station_id or 0)
            if request.community_id not in station.community_ids:
                served = ", ".join(str(c) for c in station.community_ids) or "none"
                raise invalid(
                    "community_id",
                    f"community {request.community_id} is not served by station {station.id} "
                    f"(it serves: {served})",
                )
            record = opb.RecordOpinionRequest(
                source=opb.OPINION_SOURCE_ONLINE,
                category=CATEGORY.number(category),  # type: ignore[arg-type]
                content=rules.opinion_content(row.id, row.subject, texts, request.content),
                community_id=request.community_id,
                raiser_name=row.constituent_name or "未署名选民",
                raiser_phone=phone,
            )
            row.opinion_started_at = now
            station_id, years = station.id, _years(started, now)
        # The intent is committed: reception is asked outside the transaction.
        recorded = self._record(conversation_id, record, station_id, years, bearer, started)
        with self.db.unit_of_work() as uow:
            session = uow.session
            row, thread = self._readable(session, conversation_id, who, lock=True)
            if row.opinion_id is None:
                row.opinion_id = recorded.id
                row.opinion_tracking_code = recorded.tracking_code
                audit.record(
                    session,
                    who,
                    "turned_into_opinion",
                    "conversation",
                    row.id,
                    ["opinion_id", "opinion_tracking_code"],
                )
                self._tell(
                    session,
                    None,
                    "conversation_opinion",
                    [addresses.user(row.constituent_sub)],
                    {"subject": row.subject, "code": recorded.tracking_code},
                    row.id,
                    event_id=f"conversation:{row.id}",
                )
            return self._view(session, row, thread, who, whole=True)

    def _record(
        self,
        conversation_id: int,
        record: opb.RecordOpinionRequest,
        station_id: int,
        years: tuple[int, ...],
        bearer: str,
        started: datetime | None,
    ) -> RecordedOpinion:
        marker = rules.reference(conversation_id)
        try:
            if started is not None:  # an earlier call may have recorded it
                for year in years:
                    found = self.opinions.find(station_id, year, marker, bearer)
                    if found is not None:
                        return found
            return self.opinions.record(record, bearer)
        except Unavailable:
            raise  # the intent stays: a retry looks for what was recorded
        except DomainError:
            # Reception refused: nothing was recorded, the intent goes.
            with self.db.unit_of_work() as uow:
                row = uow.session.get(Conversation, conversation_id, with_for_update=True)
                if row is not None and row.opinion_id is None:
                    row.opinion_started_at = None
            raise


def _years(started: datetime | None, now: datetime) -> tuple[int, ...]:
    """The years (Asia/Shanghai) an earlier attempt's opinion may be recorded in."""
    first = (started or now).astimezone(SHANGHAI).year
    return tuple(range(first, now.astimezone(SHANGHAI).year + 1))


def _newest_first(
    session: Session, query: Any, page_request: envelope_pb2.PageRequest, request: Any
) -> tuple[list[Conversation], envelope_pb2.PageInfo]:
    """One page of conversations, newest first; the token is the last id given."""
    size = page_request.page_size or PAGE_DEFAULT
    if not 0 < size <= PAGE_MAX:
        raise invalid("page.page_size", f"must be between 1 and {PAGE_MAX}")
    kind = request.kind
    before = 0
    if page_request.page_token:
        try:
            padded = page_request.page_token + "=" * (-len(page_request.page_token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            before, token_kind = int(data["before"]), int(data["kind"])
        except Exception:
            raise invalid("page.page_token", "is not a token this service gave out") from None
        if token_kind != kind:
            raise invalid("page.page_token", "was given out for another query")
        if not 0 < before <= MAX_ID:
            raise invalid("page.page_token", "is not a token this service gave out")
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    if before:
        query = query.where(Conversation.id < before)
    rows = list(session.scalars(query.order_by(Conversation.id.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    token = ""
    if more and rows:
        raw = json.dumps({"before": rows[-1].id, "kind": kind}, separators=(",", ":"))
        token = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return rows, envelope_pb2.PageInfo(next_page_token=token, total_size=int(total or 0))

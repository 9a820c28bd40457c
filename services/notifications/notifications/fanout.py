"""The fan-out: one event of the platform into messages and deliveries.

For each enabled rule of the event's type whose conditions the payload
meets, each address of its audience: the message rendered in the
recipient's locale, written once (INSERT ... ON CONFLICT DO NOTHING on the
unique (event id, recipient, rule key)), and one delivery per channel
(unique (message, channel)): the inbox's "delivered" at once, the others
"queued" for the sending part. All in the consumer's unit of work, with the
(event id, handler) record of kit's inbox: a redelivered event, or the same
event handled by two consumers at once, makes exactly one message per
recipient and rule and one delivery per channel (the second insert waits
for the first's commit on PostgreSQL, then does nothing).

Each recipient's preferences (`notifications.preferences`) decide the
channels and when: the inbox always, at once; a muted kind nothing else; a
channel the recipient turned off, unsubscribed from or has no contact for
is written "suppressed" with why (so the delivery log shows it); a message
that is not urgent waits (`not_before`) for the end of the recipient's
quiet hours or for their daily digest hour. The message is rendered in the
recipient's language. A message about a session a constituent holds a place
at is noted with its session and slot (`notifications.calendars`): its email
carries the session's calendar.

A template that does not render with an event's data (an admin's edit the
checks did not foresee) skips that rule for that event, logged with the
rule and the template's problem (never the payload), and the other rules
still run: one bad template does not hold every other message back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message as ProtoMessage
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kit.db import UnitOfWork
from kit.events import Envelope
from notifications import audiences, calendars, catalog, preferences
from notifications.message_models import Delivery, Message
from notifications.preferences import decide
from notifications.rules import Rule
from notifications.rules_service import RuleBook
from notifications.templates import DEFAULT_LOCALE, TemplateProblem, context_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Told:
    """What one event made: messages written (not counting those that were
    there already) and their deliveries."""

    messages: int = 0
    deliveries: int = 0


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    return insert(table)  # pragma: no cover: the platform runs the two above


class FanOut:
    """`public_url`: the portal's address, which a rule's link (a path of
    the site) is put after where a template shows it (`{{ link }}`), so that
    an email's or a text's link opens from a mail client; the message keeps
    the path, which the inbox opens in place."""

    def __init__(self, rulebook: RuleBook, *, public_url: str = "") -> None:
        self.rulebook = rulebook
        self.public_url = public_url.rstrip("/")

    def handle(self, uow: UnitOfWork, source: str, event: ProtoMessage, envelope: Envelope) -> Told:
        """Fan `event` (of `source`, in `envelope`) out, in `uow`."""
        event_type = catalog.name_of(source, event)
        session = uow.session
        payload = catalog.payload_of(event)
        messages = deliveries = 0
        # Each recipient's preferences, read once for all the event's rules.
        known: dict[str, preferences.Preferences] = {}
        for rule in self.rulebook.matching(session, event_type):
            if not rule.applies(payload):
                continue
            try:
                audience = audiences.audience(rule.audience)
                recipients: Sequence[str] = audience.addresses(event_type, event, envelope)
            except ValueError as error:  # a rule stored before its audience changed
                log.error("rule %s skipped for %s: %s", rule.key, event_type, error)
                continue
            for recipient in recipients:
                try:
                    if recipient not in known:
                        known[recipient] = preferences.load(session, recipient)
                    made = self._tell(
                        session, rule, known[recipient], event_type, payload, envelope
                    )
                except (TemplateProblem, LookupError) as error:
                    log.error("rule %s skipped for %s: %s", rule.key, event_type, error)
                    break
                messages += made.messages
                deliveries += made.deliveries
        return Told(messages, deliveries)

    def _tell(
        self,
        session: Session,
        rule: Rule,
        prefs: preferences.Preferences,
        event_type: str,
        payload: dict[str, Any],
        envelope: Envelope,
    ) -> Told:
        recipient = prefs.address
        locale = prefs.locale or DEFAULT_LOCALE
        context = context_of(payload, locale=locale, occurred_at=envelope.occurred_at)
        link = self.rulebook.render_link(rule, context).strip() if rule.link else ""
        if not link.startswith("/") or link.startswith("//") or len(link) > 300:
            link = ""  # only a path of this site: never another site's, whatever the data
        context["link"] = f"{self.public_url}{link}" if link else ""
        rendered = self.rulebook.render(session, rule.template_key, locale, context)
        inserted = session.execute(
            _insert(session, Message.__table__)
            .values(
                event_id=envelope.event_id,
                event_type=event_type,
                rule_key=rule.key,
                rule_id=rule.id,
                recipient=recipient,
                kind=rule.kind,
                urgent=rule.urgent,
                locale=rendered.locale or locale,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                link=link,
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["event_id", "recipient", "rule_key"])
            .returning(Message.__table__.c.id)
        ).scalar_one_or_none()
        if inserted is None:  # told already (a redelivery, another consumer)
            return Told()
        # A session's: its email carries the session's calendar (notifications.calendars).
        calendars.remember(session, inserted, event_type, payload)
        now = datetime.now(UTC)
        choice = decide(prefs, rule.kind, rule.urgent, rule.channels, now)
        rows = [(send.channel, send.not_before, "", send.digest) for send in choice.sends]
        rows += [(channel, None, why, False) for channel, why in choice.suppressed]
        values = [
            {
                "message_id": inserted,
                "channel": channel,
                "state": "delivered" if channel == "inbox" else "suppressed" if why else "queued",
                "not_before": not_before,
                "in_digest": digest,
                "attempts": 0,
                "provider": "inbox" if channel == "inbox" else "",
                "provider_message_id": "",
                "provider_answer": "",
                "last_error": why,
                "delivered_at": now if channel == "inbox" else None,
                "sent_at": now if channel == "inbox" else None,
                "created_at": now,
                "updated_at": now,
            }
            for channel, not_before, why, digest in rows
        ]
        # One statement for every channel's delivery (one round trip).
        written = len(
            session.execute(
                _insert(session, Delivery.__table__)
                .values(values)
                .on_conflict_do_nothing(index_elements=["message_id", "channel"])
                .returning(Delivery.__table__.c.id)
            ).all()
        )
        return Told(1, written)


def messages_of(session: Session, event_id: str) -> list[Message]:
    """The messages one event made (for tests and the console)."""
    return list(session.scalars(select(Message).where(Message.event_id == event_id)))

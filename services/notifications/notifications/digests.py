"""Daily digests: a recipient's held messages of a kind gathered into one.

A recipient may take a kind of message (`preferences.KINDS`) as a daily
digest at an hour of their choosing (Asia/Shanghai). The fan-out writes
such a message's deliveries other than the inbox's "queued" with
`in_digest` and `not_before` at that hour (`preferences.decide`; urgent
messages never wait). At the hour the sender, before it claims single
deliveries of a channel, gathers the due ones (`gather`): per recipient,
in one transaction,

- the due held deliveries are locked (`FOR UPDATE SKIP LOCKED`), in order;
- one digest message is written for them (kind `DIGEST_KIND`, rendered in
  the recipient's language from the messages' own subjects and bodies),
  with one "queued" delivery on the channel, due at once;
- each gathered delivery becomes "digested", naming the digest (`digest_id`
  and its provider answer), so the delivery log shows where it went.

The digest's delivery is then sent like any other (lease, retries, dead,
`notifications.delivery`). Exactly once: a gathered delivery is no longer
queued, so no sender gathers or sends it again; two senders gathering at
once lock disjoint rows (at worst a recipient's due deliveries split over
two digests, none in both); a crash before the commit gathers nothing.

The digest is not in the inbox (`inbox_service.IN_INBOX`): the messages it
gathers are, each on its own, since the inbox's delivery is never held.
A digest email carries no unsubscribe links of a kind (it may hold several
kinds); each kind's own emails do, and the preferences page stops any.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from kit.db import Database
from notifications.message_models import DIGEST_KIND, Delivery, Message

DIGEST_EVENT_TYPE = "notifications.digest"
# Held deliveries gathered in one transaction at most (the rest in the next).
GATHER_BATCH = 500

_TEXTS = {
    "zh-CN": {
        "subject": "每日摘要：{n} 条消息",
        "intro": "以下是为您汇总的 {n} 条消息。",
    },
    "en": {
        "subject": "Your daily digest: {n} messages",
        "intro": "Here are your {n} messages, gathered.",
    },
}


@dataclass(frozen=True)
class Digest:
    """A digest's subject and bodies."""

    subject: str
    text: str
    html: str


def render(messages: Sequence[Message], locale: str) -> Digest:
    """One digest of `messages` (oldest first), in `locale` (zh-CN otherwise).

    The messages' HTML bodies were rendered by the sandboxed templates with
    their data escaped, so they are set in as they are (each with its own
    link, the portal's address before the rule's path); subjects are
    escaped here."""
    words = _TEXTS.get(locale, _TEXTS["zh-CN"])
    n = len(messages)
    parts, items = [], []
    for number, message in enumerate(messages, 1):
        parts.append(f"{number}. {message.subject}\n{message.body_text.strip()}")
        body = message.body_html or f"<p>{html.escape(message.body_text)}</p>"
        items.append(f"<li><h3>{html.escape(message.subject)}</h3>{body}</li>")
    intro = words["intro"].format(n=n)
    return Digest(
        subject=words["subject"].format(n=n),
        text=intro + "\n\n" + "\n\n".join(parts) + "\n",
        html=f"<p>{html.escape(intro)}</p><ol>{''.join(items)}</ol>",
    )


def gather(db: Database, channel: str, now: datetime) -> int:
    """Gather `channel`'s held deliveries due at `now` into digests, one per
    recipient, until none is due; the number of digests written."""
    written = 0
    while True:
        made, taken = _gather_batch(db, channel, now)
        written += made
        if taken < GATHER_BATCH:
            return written


def _gather_batch(db: Database, channel: str, now: datetime) -> tuple[int, int]:
    with db.unit_of_work() as uow:
        session = uow.session
        rows = session.execute(
            select(Delivery, Message)
            .join(Message, Message.id == Delivery.message_id)
            .where(
                Delivery.channel == channel,
                Delivery.state == "queued",
                Delivery.in_digest.is_(True),
                Delivery.not_before <= now,
            )
            .order_by(Message.recipient, Delivery.id)
            .limit(GATHER_BATCH)
            .with_for_update(of=Delivery, skip_locked=True)
        ).all()
        made = 0
        for recipient, group in groupby(rows, key=lambda row: row[1].recipient):
            held = [(delivery, message) for delivery, message in group]
            _write(session, channel, recipient, held, now)
            made += 1
        return made, len(rows)


def _write(
    session: Session,
    channel: str,
    recipient: str,
    held: list[tuple[Delivery, Message]],
    now: datetime,
) -> None:
    messages = [message for _, message in held]
    locale = messages[-1].locale  # the latest: the recipient's language now
    digest = render(messages, locale)
    row = Message(
        # Its first delivery's: unique with the recipient, so never written twice.
        event_id=f"digest-{held[0][0].id}",
        event_type=DIGEST_EVENT_TYPE,
        rule_key=f"digest.{channel}",
        recipient=recipient,
        kind=DIGEST_KIND,
        urgent=False,
        locale=locale,
        subject=digest.subject[:300],
        body_text=digest.text,
        body_html=digest.html,
        link="",
        created_at=now,
    )
    session.add(row)
    session.flush()
    session.add(
        Delivery(
            message_id=row.id,
            channel=channel,
            state="queued",
            created_at=now,
            updated_at=now,
        )
    )
    for delivery, _ in held:
        delivery.state = "digested"
        delivery.digest_id = row.id
        delivery.provider_answer = f"sent in the daily digest, message {row.id}"
        delivery.updated_at = now

"""Sending deliveries: each exactly once, retried with backoff, then dead.

States (`message_models.DELIVERY_STATES`):

    queued --claim--> sending --accepted--> sent
                         |  \\--transient failure--> failed --due--> sending ...
                         |                    \\--attempts ran out--> dead
                         \\--permanent failure (a 4xx)--> dead
    queued --no contact for the channel--> suppressed
    queued (held for a daily digest) --its hour--> digested, in one digest
        message whose own delivery goes as any other (notifications.digests)
    failed / dead --RetryDelivery (by hand)--> queued

"delivered" is the inbox's (written at once with the message); a provider's
delivery receipts would move "sent" on to "delivered" (not built yet: the
providers' receipt callbacks are not wired).

How a delivery is sent once:

1. Claim: in one transaction a sender selects due deliveries of one channel
   (queued and not held by `not_before`; failed whose `next_attempt_at` has
   come; sending whose lease ran out: a sender killed mid-send)
   `FOR UPDATE SKIP LOCKED`, sets them "sending" with `lease_until` =
   now + the lease and counts the attempt, and COMMITS, before any provider
   is called. A second sender skips the locked rows and, once committed,
   no longer sees them as due: two senders never hold one delivery.
2. Send, outside any transaction (no row lock is held while a provider
   takes its time).
3. Record the outcome in a second transaction, only while the delivery is
   still this sender's (`state = 'sending' AND lease_until = <its lease>`).

A sender claims no more than it can send within its lease (the lease is at
least twice the providers' timeout, see settings; a batch is the lease over
twice the timeout) and checks, before each send, that the lease still
covers a timeout: one it cannot cover is given back, not sent.

The residual window: a provider accepted the message and the sender died
(or lost its database) before step 3 committed. The lease runs out, another
sender claims the delivery again and sends it again. For SMS and WeChat the
`Idempotency-Key` (the delivery id) makes the provider answer the second
call with the first call's message id and send nothing twice
(`notifications.provider_server` does; a real provider must honour the key).
SMTP has no such key: the mail is sent again, with the same Message-ID
(made from the delivery id), which mail clients show once. That window is
one provider call long.

Rate limits: a token bucket per channel in each worker process (memory,
not the database): simple, no row every sender contends on, and a killed
worker's tokens die with it. The cost: N worker replicas send at most N
times the configured rate, so the rate is set to the provider's limit over
the replicas (settings).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from kit.db import Database
from kit.tables import utcnow
from notifications import delivery_metrics as metrics
from notifications import digests
from notifications.channels import (
    Accepted,
    Channel,
    Contacts,
    Outgoing,
    PermanentFailure,
    TransientFailure,
)
from notifications.message_models import (
    CHANNELS,
    DELIVERY_STATES,
    DIGEST_KIND,
    Delivery,
    Message,
)
from notifications.settings import ChannelSettings
from notifications.unsubscribe import Links

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: after the n-th failed attempt the next
    waits between half and all of min(cap, base * 2**(n-1)) seconds."""

    base: float
    cap: float

    def delay(self, attempt: int, rng: random.Random) -> float:
        full = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return rng.uniform(full / 2, full)


class TokenBucket:
    """`rate` sends a second, in bursts of at most `burst` (one process's)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self.tokens = self.burst
        self.clock = clock
        self.sleep = sleep
        self.at = clock()
        self.lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def available(self) -> int:
        with self.lock:
            self._refill()
            return int(self.tokens)

    def take(self) -> None:
        """Take one token, waiting for it when there is none."""
        while True:
            with self.lock:
                self._refill()
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            self.sleep(wait)


@dataclass(frozen=True)
class Claim:
    """A delivery this sender holds until `lease_until`, and what to send."""

    delivery_id: int
    channel: str
    attempts: int
    lease_until: datetime
    message: Outgoing
    message_row: int = 0  # the Message's id (its calendar is asked of it)


@dataclass
class Pass:
    """What one sending pass did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    suppressed: int = 0
    given_back: int = 0
    lost: int = 0
    digests: int = 0  # daily digests written (notifications.digests)

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.dead + self.suppressed


@dataclass
class Sender:
    """Sends due deliveries of every channel it has an adapter for."""

    db: Database
    channels: Mapping[str, Channel]
    contacts: Contacts
    settings: ChannelSettings
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)
    # The iCalendar (.ics) an email of a message carries, if any (a
    # session's: `notifications.calendars`, wired in the bootstrap). Asked
    # after the claim committed, outside its transaction: it may call
    # another service, and no row lock is held meanwhile.
    calendar_of: Callable[[Session, Message], bytes | None] = lambda session, message: None
    # The unsubscribe links an email carries, for (recipient, kind, channel)
    # (`notifications.unsubscribe.LinkMaker.links`, wired in the bootstrap);
    # a ValueError: none (a kind one cannot unsubscribe from).
    unsubscribe_links: Callable[[str, str, str], Links | None] = lambda address, kind, ch: None
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rates = {
            "email": self.settings.email_rate,
            "sms": self.settings.sms_rate,
            "wechat": self.settings.wechat_rate,
        }
        for name in self.channels:
            self.buckets.setdefault(name, TokenBucket(rates.get(name, 1.0)))
        metrics.start({name: channel.provider for name, channel in self.channels.items()})
        self.backoff = Backoff(self.settings.backoff_seconds, self.settings.backoff_max_seconds)
        lease, timeout = self.settings.lease_seconds, self.settings.provider_timeout
        self.batch = max(1, min(self.settings.send_batch, math.floor(lease / (2 * timeout))))

    # ------------------------------------------------------------ a pass
    def send_due(self, *, max_seconds: float | None = None) -> Pass:
        """Send what is due on every channel until none is, or `max_seconds` passed."""
        done = Pass()
        started = time.monotonic()
        for name in self.channels:
            # Held deliveries due for their daily digest become one each first.
            done.digests += digests.gather(self.db, name, self.clock())
            while True:
                wanted = max(1, min(self.batch, self.buckets[name].available()))
                claims = self.claim(name, wanted, done)
                for claim in claims:
                    self.send(claim, done)
                if len(claims) < wanted:
                    break
                if max_seconds is not None and time.monotonic() - started > max_seconds:
                    break
        return done

    def claim(self, channel: str, limit: int, done: Pass | None = None) -> list[Claim]:
        """Take up to `limit` due deliveries of `channel` and commit their leases."""
        done = done if done is not None else Pass()
        now = self.clock()
        lease_until = now + timedelta(seconds=self.settings.lease_seconds)
        due = or_(
            and_(
                Delivery.state == "queued",
                or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
            ),
            and_(Delivery.state == "failed", Delivery.next_attempt_at <= now),
            and_(Delivery.state == "sending", Delivery.lease_until < now),
        )
        claims: list[Claim] = []
        with self.db.unit_of_work() as uow:
            session = uow.session
            rows = session.execute(
                select(Delivery, Message)
                .join(Message, Message.id == Delivery.message_id)
                .where(Delivery.channel == channel, due)
                .order_by(Delivery.id)
                .limit(limit)
                .with_for_update(of=Delivery, skip_locked=True)
            ).all()
            for delivery, message in rows:
                if delivery.attempts >= self.settings.send_attempts:
                    # Its last attempt's sender stopped mid-send.
                    self._finish(delivery, "dead", now, error="attempts ran out mid-send")
                    done.dead += 1
                    continue
                contact = self.contacts.contact_of(session, message.recipient, channel)
                if not contact:
                    self._finish(
                        delivery,
                        "suppressed",
                        now,
                        error=f"no {channel} contact for {message.recipient}",
                    )
                    done.suppressed += 1
                    continue
                delivery.state = "sending"
                delivery.attempts += 1
                delivery.lease_until = lease_until
                delivery.provider = self.channels[channel].provider
                claims.append(
                    Claim(
                        delivery.id,
                        channel,
                        delivery.attempts,
                        lease_until,
                        Outgoing(
                            delivery_id=delivery.id,
                            channel=channel,
                            to=contact,
                            subject=message.subject,
                            text=message.body_text,
                            html=message.body_html,
                            link=message.link,
                            event_type=message.event_type,
                            kind=message.kind,
                            locale=message.locale,
                            unsubscribe=self._links(message, channel),
                        ),
                        message.id,
                    )
                )
        return claims

    def _links(self, message: Message, channel: str) -> Links | None:
        if channel != "email" or message.kind == DIGEST_KIND:
            return None  # a digest may hold several kinds: each kind's own emails carry them
        try:
            return self.unsubscribe_links(message.recipient, message.kind, channel)
        except ValueError as problem:
            log.warning("message %d goes without unsubscribe links: %s", message.id, problem)
            return None

    def _with_calendar(self, claim: Claim) -> Outgoing:
        """The claim's email with its message's calendar, if it has one."""
        if claim.channel != "email" or not claim.message_row:
            return claim.message
        with self.db.read() as session:
            message = session.get(Message, claim.message_row)
            calendar = self.calendar_of(session, message) if message is not None else None
        return replace(claim.message, calendar=calendar) if calendar else claim.message

    def _finish(self, delivery: Delivery, state: str, now: datetime, *, error: str) -> None:
        delivery.state = state
        delivery.lease_until = None
        delivery.next_attempt_at = None
        delivery.last_error = error
        delivery.updated_at = now
        metrics.outcomes_total.labels(channel=delivery.channel, state=state).inc()

    # ------------------------------------------------------------ one send
    def send(self, claim: Claim, done: Pass | None = None) -> str:
        """Send one claimed delivery and record the outcome; the state it is left in."""
        done = done if done is not None else Pass()
        channel = self.channels[claim.channel]
        margin = timedelta(seconds=self.settings.provider_timeout)
        outgoing = self._with_calendar(claim)
        self.buckets[claim.channel].take()
        if self.clock() + margin >= claim.lease_until:
            self._give_back(claim)
            done.given_back += 1
            return "sending"
        started = time.monotonic()
        try:
            accepted = channel.send(outgoing)
        except TransientFailure as exc:
            self._observe(channel, "transient", started)
            return self._failed(claim, str(exc), permanent=False, done=done)
        except PermanentFailure as exc:
            self._observe(channel, "permanent", started)
            return self._failed(claim, str(exc), permanent=True, done=done)
        self._observe(channel, "accepted", started)
        return self._sent(claim, accepted, done)

    @staticmethod
    def _observe(channel: Channel, outcome: str, started: float) -> None:
        metrics.provider_seconds.labels(provider=channel.provider, outcome=outcome).observe(
            time.monotonic() - started
        )

    def _update_held(self, claim: Claim, **values: object) -> bool:
        """Set `values` on the delivery while this sender still holds it."""
        with self.db.unit_of_work() as uow:
            result = uow.session.execute(
                update(Delivery)
                .where(
                    Delivery.id == claim.delivery_id,
                    Delivery.state == "sending",
                    Delivery.lease_until == claim.lease_until,
                )
                .values(lease_until=None, updated_at=self.clock(), **values)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def _record(self, claim: Claim, state: str, done: Pass, **values: object) -> str:
        if not self._update_held(claim, state=state, **values):
            log.warning(
                "delivery %d: its lease ran out before its outcome (%s) was recorded",
                claim.delivery_id,
                state,
            )
            metrics.lost_leases_total.labels(channel=claim.channel).inc()
            done.lost += 1
            return "lost"
        metrics.outcomes_total.labels(channel=claim.channel, state=state).inc()
        return state

    def _sent(self, claim: Claim, accepted: Accepted, done: Pass) -> str:
        now = self.clock()
        state = self._record(
            claim,
            "sent",
            done,
            provider=accepted.provider,
            provider_message_id=accepted.message_id[:200],
            provider_answer=accepted.answer[:2000],
            last_error="",
            next_attempt_at=None,
            sent_at=now,
        )
        if state == "sent":
            done.sent += 1
        return state

    def _failed(self, claim: Claim, error: str, *, permanent: bool, done: Pass) -> str:
        out_of_attempts = claim.attempts >= self.settings.send_attempts
        if permanent or out_of_attempts:
            state = self._record(claim, "dead", done, last_error=error[:2000], next_attempt_at=None)
            if state == "dead":
                done.dead += 1
                # The provider's words stay on the delivery: they may name the contact.
                log.warning(
                    "delivery %d is dead after %d attempts", claim.delivery_id, claim.attempts
                )
            return state
        wait = self.backoff.delay(claim.attempts, self.rng)
        state = self._record(
            claim,
            "failed",
            done,
            last_error=error[:2000],
            next_attempt_at=self.clock() + timedelta(seconds=wait),
        )
        if state == "failed":
            done.failed += 1
            log.info(
                "delivery %d failed (attempt %d), next in %.0fs",
                claim.delivery_id,
                claim.attempts,
                wait,
            )
        return state

    def _give_back(self, claim: Claim) -> None:
        """Let a claim whose lease would run out mid-send be claimed again, unsent."""
        self._update_held(claim, state="queued", attempts=Delivery.attempts - 1)

    # ------------------------------------------------------------ gauges
    def measure(self) -> None:
        """Set the gauges of deliveries by channel and state."""
        with self.db.read() as session:
            counts = session.execute(
                select(Delivery.channel, Delivery.state, func.count()).group_by(
                    Delivery.channel, Delivery.state
                )
            ).all()
        seen = {(c, s): n for c, s, n in counts}
        for channel in CHANNELS:
            for state in DELIVERY_STATES:
                metrics.deliveries.labels(channel=channel, state=state).set(
                    seen.get((channel, state), 0)
                )
            metrics.dead_deliveries.labels(channel=channel).set(seen.get((channel, "dead"), 0))

    def close(self) -> None:
        for channel in self.channels.values():
            closer = getattr(channel, "close", None)
            if closer is not None:
                closer()

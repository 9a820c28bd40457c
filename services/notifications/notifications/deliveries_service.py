"""The delivery log's use cases (DeliveryService): list deliveries with
filters, read one, and retry a failed or dead one by hand.

Only the admin and the standing committee office read the log or retry:
it shows every recipient's address and every event type of the district. It
never shows the message's text or the recipient's contact (an email address
or a phone is not on a delivery: the sender asks the preferences' contacts
when it sends).

A retry puts the delivery back to "queued" with its attempts counted from
nought, its lease, backoff and error cleared (audited with the caller); the
worker's sending timer then sends it like a new one. A retried delivery
keeps its id, so the provider's idempotency key and the email's Message-ID
stay the same: a dead delivery the provider had in fact accepted is not
sent twice through an idempotent provider.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import Principal, Role, require
from kit.convert import timestamp
from kit.db import Database
from kit.errors import FailedPrecondition, NotFound, PermissionDenied, Violations, invalid
from kit.records import MAX_ID, page
from kit.tables import utcnow
from liaison.notifications.v1 import deliveries_pb2 as pb
from notifications import addresses
from notifications.message_models import CHANNELS, DELIVERY_STATES, Delivery, Message

READERS = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE)
RETRYABLE = ("failed", "dead")
WHO_MAY = "only the admin and the standing committee office may"


def _reader(actor: Principal | None, doing: str) -> Principal:
    try:
        return require(actor, *READERS, doing=doing)
    except PermissionDenied:
        assert actor is not None
        raise PermissionDenied(f"{WHO_MAY} {doing}; role {actor.role.value} may not") from None


def _moment(v: Violations, field: str, text: str, *, end: bool) -> datetime | None:
    """An ISO date-time (naive: UTC) or date (its start, or the next day's at the end)."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            at = datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)
            return at
        at = datetime.fromisoformat(text)
        return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        v.add(field, f"{text!r} is not an ISO 8601 date-time or date (up to 9999-12-30)")
        return None


def _record(delivery: Delivery, message: Message) -> pb.DeliveryRecord:
    return pb.DeliveryRecord(
        id=delivery.id,
        message_id=delivery.message_id,
        channel=delivery.channel,
        state=delivery.state,
        event_type=message.event_type,
        recipient=message.recipient,
        kind=message.kind,
        urgent=message.urgent,
        attempts=delivery.attempts,
        provider=delivery.provider,
        provider_message_id=delivery.provider_message_id,
        last_error=delivery.last_error,
        not_before=timestamp(delivery.not_before),
        next_attempt_at=timestamp(delivery.next_attempt_at),
        sent_at=timestamp(delivery.sent_at),
        delivered_at=timestamp(delivery.delivered_at),
        created_at=timestamp(delivery.created_at),
        updated_at=timestamp(delivery.updated_at),
    )


class Deliveries:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(
        self, request: pb.ListDeliveriesRequest, actor: Principal | None
    ) -> tuple[list[pb.DeliveryRecord], Any]:
        _reader(actor, "read the delivery log")
        v = Violations()
        if request.state:
            v.one_of("state", request.state, DELIVERY_STATES)
        if request.channel:
            v.one_of("channel", request.channel, CHANNELS)
        if len(request.event_type) > 100:
            v.add("event_type", "is at most 100 characters")
        if request.recipient and not addresses.is_valid(request.recipient):
            try:
                addresses.parse(request.recipient)
            except ValueError as exc:
                v.add("recipient", str(exc))
        since = _moment(v, "created_from", request.created_from, end=False)
        until = _moment(v, "created_to", request.created_to, end=True)
        if since and until and since >= until:
            v.add("created_to", "must be after created_from")
        v.raise_if_any("the delivery log's filters are not valid")
        query = select(Delivery).join(Message, Message.id == Delivery.message_id)
        if request.state:
            query = query.where(Delivery.state == request.state)
        if request.channel:
            query = query.where(Delivery.channel == request.channel)
        if request.event_type:
            query = query.where(Message.event_type == request.event_type)
        if request.recipient:
            query = query.where(Message.recipient == request.recipient)
        if since:
            query = query.where(Delivery.created_at >= since)
        if until:
            query = query.where(Delivery.created_at < until)
        with self.db.read(consistent=True) as session:
            rows, info = page(session, query, Delivery.id, request.page, request)
            ids = {d.message_id for d in rows}
            messages = {
                m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))
            }
            return [_record(d, messages[d.message_id]) for d in rows], info

    def get(self, request: pb.GetDeliveryRequest, actor: Principal | None) -> pb.DeliveryRecord:
        _reader(actor, "read the delivery log")
        with self.db.read() as session:
            delivery, message = self._load(session, request.id)
            return _record(delivery, message)

    def retry(self, request: pb.RetryDeliveryRequest, actor: Principal | None) -> pb.DeliveryRecord:
        who = _reader(actor, "retry a delivery")
        with self.db.unit_of_work() as uow:
            session = uow.session
            delivery, message = self._load(session, request.id, lock=True)
            if delivery.state not in RETRYABLE:
                raise FailedPrecondition(
                    f"delivery {delivery.id} is {delivery.state}: only a failed or dead "
                    "delivery is retried; nothing was changed"
                )
            delivery.state = "queued"
            delivery.attempts = 0
            delivery.next_attempt_at = None
            delivery.lease_until = None
            delivery.last_error = ""
            delivery.updated_at = utcnow()
            session.flush()
            audit.record(
                session,
                who,
                "delivery_retried",
                "notification_delivery",
                delivery.id,
                ["state", "attempts", "next_attempt_at", "last_error"],
            )
            return _record(delivery, message)

    @staticmethod
    def _load(
        session: Session, delivery_id: int, *, lock: bool = False
    ) -> tuple[Delivery, Message]:
        if not 0 < delivery_id <= MAX_ID:
            raise invalid("id", "must be a positive id")
        delivery = session.get(Delivery, delivery_id, with_for_update=lock)
        if delivery is None:
            raise NotFound(f"delivery {delivery_id} does not exist")
        message = session.get(Message, delivery.message_id)
        assert message is not None  # a foreign key
        return delivery, message

"""A letter's trail in its table: appending an entry (chained to the newest
by `referral.trail`) and keeping its hash as the letter's head."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from kit.auth import Principal
from kit.db import UnitOfWork
from referral import models, trail


def entry_of(row: models.TrailEntry) -> trail.Entry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return trail.Entry(
        row.seq, row.kind, row.actor, at.astimezone(UTC), row.payload, row.prev_hash, row.hash
    )


def append(
    uow: UnitOfWork,
    letter: models.Letter,
    kind: str,
    who: Principal,
    payload: Any,
    at: datetime | None = None,
) -> trail.Entry:
    """Append an entry to the letter's trail (its row locked by the caller,
    or new) and keep its hash as the letter's head."""
    newest = uow.session.scalar(
        select(models.TrailEntry)
        .where(models.TrailEntry.letter_id == letter.id)
        .order_by(models.TrailEntry.seq.desc())
        .limit(1)
    )
    entry = trail.next_entry(
        entry_of(newest) if newest else None,
        kind,
        who.sub,
        at or datetime.now(UTC),
        payload,
    )
    uow.session.add(
        models.TrailEntry(
            letter_id=letter.id,
            seq=entry.seq,
            kind=entry.kind,
            actor=entry.actor,
            at=entry.at,
            payload=entry.payload,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )
    )
    letter.trail_head = entry.hash
    return entry

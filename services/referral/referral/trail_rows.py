"""A letter's trail in its table: appending an entry (chained to the newest
by `referral.trail`) and keeping its hash as the letter's head."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
    return append_after(uow, letter, entry_of(newest) if newest else None, kind, who, payload, at)


def newest_entries(session: Session, letter_ids: Collection[int]) -> dict[int, trail.Entry]:
    """The newest trail entry of each of `letter_ids` that has one, in one query
    (their rows locked by the caller)."""
    if not letter_ids:
        return {}
    newest = (
        select(models.TrailEntry.letter_id, func.max(models.TrailEntry.seq).label("seq"))
        .where(models.TrailEntry.letter_id.in_(letter_ids))
        .group_by(models.TrailEntry.letter_id)
        .subquery()
    )
    rows = session.scalars(
        select(models.TrailEntry).join(
            newest,
            (models.TrailEntry.letter_id == newest.c.letter_id)
            & (models.TrailEntry.seq == newest.c.seq),
        )
    )
    return {row.letter_id: entry_of(row) for row in rows}


def append_after(
    uow: UnitOfWork,
    letter: models.Letter,
    newest: trail.Entry | None,
    kind: str,
    who: Principal,
    payload: Any,
    at: datetime | None = None,
) -> trail.Entry:
    """Append an entry after `newest`, the letter's newest entry (None: it has
    none), and keep its hash as the letter's head."""
    entry = trail.next_entry(newest, kind, who.sub, at or datetime.now(UTC), payload)
    uow.session.add(row_of(letter.id, entry))
    letter.trail_head = entry.hash
    return entry


def row_of(letter_id: int, entry: trail.Entry) -> models.TrailEntry:
    """The table's row of `entry`, on the trail of `letter_id`."""
    return models.TrailEntry(
        letter_id=letter_id,
        seq=entry.seq,
        kind=entry.kind,
        actor=entry.actor,
        at=entry.at,
        payload=entry.payload,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )

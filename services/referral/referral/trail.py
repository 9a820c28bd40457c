"""A referral letter's audit trail: entries that cannot be edited unseen.

Each letter has a trail of entries, numbered 1, 2, ... in the order they
were written. An entry says what happened (`kind`: the letter opened, a hop
sent, a receipt, a sign-off, the answer, the rating, a reopening), who did
it (`actor`, the subject of their token), when (`at`, UTC) and its details
(`payload`, any JSON value). It carries the hash of the entry before it
(`GENESIS`, 64 hex zeros, for the first) and its own hash:

    SHA-256 of the canonical encoding of every field but `hash`

The canonical encoding is JSON with keys sorted, no white space, UTF-8 and
characters beyond ASCII as they are (ensure_ascii=False); datetimes, `at`
and any in the payload, are ISO-8601 in UTC with microseconds
("2026-11-26T08:30:00.000000+00:00"). The fields' names in it are those of
`Entry`: actor, at, kind, payload, prev_hash, seq.

Changing any field of an entry, removing, reordering or inserting one
breaks the chain and `verify` names the first entry where it breaks. Only a
cut at the end leaves a shorter chain that still holds together: to see it,
keep the last entry's hash beside the letter and pass it as `head`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kit.errors import Violations

GENESIS = "0" * 64

OPENED = "opened"
HOP_SENT = "hop_sent"
RECEIPT = "receipt"
SIGN_OFF = "sign_off"
ANSWER = "answer"
RATING = "rating"
REOPEN = "reopen"
OVERDUE = "overdue"  # an escalation by the supervision sweep
# Kinds named here; a letter's trail also holds each fact of its workflow
# under the name `referral.routing` gives it (any lowercase name fits).
KINDS = (OPENED, HOP_SENT, RECEIPT, SIGN_OFF, ANSWER, RATING, REOPEN, OVERDUE)

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Entry:
    """One entry of a letter's trail, as written and as stored."""

    seq: int
    kind: str
    actor: str
    at: datetime  # UTC
    payload: Any  # a JSON value, as the canonical encoding decodes it
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Break:
    """Where a trail stops holding together: the entry at `position` (0 is
    the first) numbered `seq`, and what is wrong with it."""

    position: int
    seq: int | None
    reason: str


def _iso(at: datetime) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a datetime in a trail entry must be timezone-aware, got {at!r}")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _encode_value(value: object) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable: {value!r}")


def canonical(value: object) -> bytes:
    """The canonical encoding (see the module's docstring)."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_encode_value,
    ).encode("utf-8")


def _fields(
    seq: int, kind: str, actor: str, at: datetime, payload: Any, prev_hash: str
) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": kind,
        "actor": actor,
        "at": _iso(at),
        "payload": payload,
        "prev_hash": prev_hash,
    }


def entry_hash(entry: Entry) -> str:
    """The hash `entry` should carry, from its other fields."""
    encoded = canonical(
        _fields(entry.seq, entry.kind, entry.actor, entry.at, entry.payload, entry.prev_hash)
    )
    return hashlib.sha256(encoded).hexdigest()


def next_entry(previous: Entry | None, kind: str, actor: str, at: datetime, payload: Any) -> Entry:
    """The entry that follows `previous` (None: the first of a trail). The
    payload is kept as its canonical encoding decodes (datetimes as text,
    tuples as lists), so an entry read back from storage is equal to it."""
    v = Violations()
    if not _KIND.match(kind):
        v.add("kind", f"{kind or '(empty)'} is not a kind: use 1-40 lower-case letters, digits, _")
    if not actor.strip():
        v.add("actor", "is required")
    v.raise_if_any("the trail entry is invalid")
    try:
        kept = json.loads(canonical(payload))
    except (TypeError, ValueError) as error:
        raise ValueError(f"the payload must be JSON-serialisable: {error}") from error
    seq = 1 if previous is None else previous.seq + 1
    prev_hash = GENESIS if previous is None else previous.hash
    at_utc = datetime.fromisoformat(_iso(at))
    draft = Entry(seq, kind, actor, at_utc, kept, prev_hash, hash="")
    return Entry(seq, kind, actor, at_utc, kept, prev_hash, entry_hash(draft))


def verify(entries: Sequence[Entry], head: str | None = None) -> Break | None:
    """The first entry whose sequence number, previous hash or own hash is
    wrong, or None when the trail holds together. `head`, the last entry's
    hash as recorded elsewhere, also catches entries cut off at the end."""
    expected_prev = GENESIS
    for position, entry in enumerate(entries):
        expected_seq = position + 1
        if entry.seq != expected_seq:
            return Break(
                position, entry.seq, f"sequence number {entry.seq} where {expected_seq} belongs"
            )
        if entry.prev_hash != expected_prev:
            before = "the start of the trail" if position == 0 else f"entry {position}'s hash"
            return Break(position, entry.seq, f"its previous hash is not {before}")
        try:
            recomputed = entry_hash(entry)
        except (TypeError, ValueError) as error:
            return Break(position, entry.seq, f"it cannot be encoded: {error}")
        if not _HASH.match(entry.hash) or entry.hash != recomputed:
            return Break(position, entry.seq, "its hash does not match its contents")
        expected_prev = entry.hash
    if head is not None and head != expected_prev:
        last = entries[-1].seq if entries else None
        return Break(
            len(entries),
            last,
            f"the trail ends after {len(entries)} entries at a hash other than the recorded head",
        )
    return None

"""A letter's audit trail without I/O: chains verify, any tampering (a
changed field, an entry removed, moved or inserted) is found at the first
entry it breaks, and the encoding is stable."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.errors import InvalidArgument
from referral.trail import (
    ANSWER,
    GENESIS,
    HOP_SENT,
    KINDS,
    OPENED,
    RECEIPT,
    Entry,
    canonical,
    next_entry,
    verify,
)

T0 = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


def chain(*steps: tuple[str, str, dict[str, Any]]) -> list[Entry]:
    entries: list[Entry] = []
    for i, (kind, actor, payload) in enumerate(steps):
        entries.append(
            next_entry(
                entries[-1] if entries else None, kind, actor, T0 + timedelta(hours=i), payload
            )
        )
    return entries


LETTER = chain(
    (OPENED, "staff-linhe-1", {"letter": "ZB-2026-0001", "route": "street"}),
    (HOP_SENT, "staff-linhe-1", {"to": "林和街道办事处"}),
    (RECEIPT, "dept-linhe-office", {"received_on": "2026-11-26"}),
    (ANSWER, "dept-linhe-office", {"summary": "已安排维修路灯", "pages": 2}),
)


def test_a_chain_is_numbered_linked_and_verifies() -> None:
    assert [e.seq for e in LETTER] == [1, 2, 3, 4]
    assert LETTER[0].prev_hash == GENESIS == "0" * 64
    assert [e.prev_hash for e in LETTER[1:]] == [e.hash for e in LETTER[:-1]]
    assert len({e.hash for e in LETTER}) == 4
    assert verify(LETTER) is None
    assert verify(LETTER, head=LETTER[-1].hash) is None
    assert verify([]) is None


def test_the_encoding_is_stable() -> None:
    at = datetime(2026, 11, 26, 16, 30, 5, 120, tzinfo=timezone(timedelta(hours=8)))
    entry = next_entry(None, OPENED, "staff-linhe-1", at, {"意见": "路灯不亮", "n": [1, 2.5]})
    # Computed here, independently of the module.
    fields = {
        "seq": 1,
        "kind": "opened",
        "actor": "staff-linhe-1",
        "at": "2026-11-26T08:30:05.000120+00:00",
        "payload": {"意见": "路灯不亮", "n": [1, 2.5]},
        "prev_hash": "0" * 64,
    }
    encoded = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert encoded.startswith('{"actor":"staff-linhe-1","at":"2026-11-26T08:30:05.000120+00:00"')
    assert "路灯不亮" in encoded
    assert entry.hash == hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    # And fixed: an encoding that changes changes every stored trail.
    assert entry.hash == "2142808bdcb86121ce283f27fc3470bbfabf1a64c9767fcb9e2e5801890d8723"
    assert entry.at == datetime(2026, 11, 26, 8, 30, 5, 120, tzinfo=UTC)
    assert entry.at.tzinfo == UTC


def test_the_payload_is_kept_as_it_is_stored() -> None:
    at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    entry = next_entry(None, RECEIPT, "dept", T0, {"at": at, "ids": (1, 2)})
    assert entry.payload == {"at": "2026-11-26T09:00:00.000000+00:00", "ids": [1, 2]}
    stored = json.loads(canonical(dataclasses.asdict(entry)))
    read_back = Entry(**{**stored, "at": datetime.fromisoformat(stored["at"])})
    assert read_back == entry and verify([read_back]) is None


def test_bad_entries_are_refused() -> None:
    with pytest.raises(InvalidArgument) as raised:
        next_entry(None, "Opened!", " ", T0, {})
    assert [v.field for v in raised.value.violations] == ["kind", "actor"]
    with pytest.raises(ValueError, match="JSON"):
        next_entry(None, OPENED, "staff", T0, {"x": {1, 2}})
    with pytest.raises(ValueError, match="JSON"):
        next_entry(None, OPENED, "staff", T0, {"x": float("nan")})
    with pytest.raises(ValueError, match="timezone-aware"):
        next_entry(None, OPENED, "staff", datetime(2026, 11, 26, 8, 30), {})
    assert all(next_entry(None, kind, "staff", T0, None).kind == kind for kind in KINDS)


def test_each_break_is_named() -> None:
    changed = [*LETTER]
    changed[2] = dataclasses.replace(LETTER[2], actor="someone-else")
    found = verify(changed)
    assert found is not None and (found.position, found.seq) == (2, 3)
    assert found.reason == "its hash does not match its contents"

    # Rewritten with a fresh hash: the next entry no longer points at it.
    rehashed = next_entry(LETTER[1], RECEIPT, "someone-else", LETTER[2].at, LETTER[2].payload)
    found = verify([*LETTER[:2], rehashed, LETTER[3]])
    assert found is not None and (found.position, found.seq) == (3, 4)
    assert found.reason == "its previous hash is not entry 3's hash"

    found = verify([LETTER[0], LETTER[2], LETTER[3]])
    assert found is not None and found.position == 1
    assert found.reason == "sequence number 3 where 2 belongs"

    found = verify(LETTER[:3], head=LETTER[-1].hash)
    assert found is not None and found.position == 3
    assert "recorded head" in found.reason

    found = verify([dataclasses.replace(LETTER[0], prev_hash="f" * 64)])
    assert found is not None and found.reason == "its previous hash is not the start of the trail"

    found = verify([dataclasses.replace(LETTER[0], at=datetime(2026, 11, 26, 8, 30))])
    assert found is not None and "cannot be encoded" in found.reason


# ---------------------------------------------------------------- random chains, random tampering

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
steps = st.tuples(
    st.sampled_from(KINDS),
    st.text(min_size=1, max_size=12).filter(lambda s: bool(s.strip())),
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    json_values,
)


def build(drawn: list[tuple[str, str, datetime, Any]]) -> list[Entry]:
    entries: list[Entry] = []
    for kind, actor, at, payload in drawn:
        entries.append(next_entry(entries[-1] if entries else None, kind, actor, at, payload))
    return entries


@settings(max_examples=100, deadline=None)
@given(st.lists(steps, min_size=1, max_size=8))
def test_random_chains_verify(drawn: list[tuple[str, str, datetime, Any]]) -> None:
    entries = build(drawn)
    assert verify(entries) is None
    assert verify(entries, head=entries[-1].hash) is None


def changed_field(entry: Entry, name: str, data: st.DataObject) -> Entry:
    """`entry` with one field set to another value (drawn, and nudged when
    the draw happens to equal the current one)."""
    current = getattr(entry, name)
    if name == "seq":
        value: Any = data.draw(st.integers(min_value=0, max_value=20))
        value = value if value != current else current + 1
    elif name == "at":
        value = current + data.draw(
            st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=9))
        )
    elif name in ("prev_hash", "hash"):
        value = data.draw(st.text("0123456789abcdef", min_size=64, max_size=64))
        if value == current:
            value = ("e" if current[0] == "f" else "f") + current[1:]
    elif name == "payload":
        value = data.draw(json_values)
        value = value if canonical(value) != canonical(current) else [current]
    else:
        value = current + data.draw(st.text(min_size=1, max_size=4))
    return dataclasses.replace(entry, **{name: value})


@settings(max_examples=300, deadline=None)
@given(
    drawn=st.lists(steps, min_size=2, max_size=8),
    how=st.sampled_from(["change", "remove", "swap", "insert_copy", "insert_new"]),
    data=st.data(),
)
def test_any_tampering_is_found(
    drawn: list[tuple[str, str, datetime, Any]], how: str, data: st.DataObject
) -> None:
    entries = build(drawn)
    head = entries[-1].hash
    tampered = list(entries)
    where = data.draw(st.integers(min_value=0, max_value=len(entries) - 1))
    if how == "change":
        name = data.draw(st.sampled_from([f.name for f in dataclasses.fields(Entry)]))
        tampered[where] = changed_field(entries[where], name, data)
    elif how == "remove":
        del tampered[where]
    elif how == "swap":
        other = data.draw(
            st.integers(min_value=0, max_value=len(entries) - 1).filter(lambda i: i != where)
        )
        tampered[where], tampered[other] = tampered[other], tampered[where]
    elif how == "insert_copy":
        copied = data.draw(st.sampled_from(entries))
        tampered.insert(where, copied)
    else:
        # A well-formed entry chained onto the one before `where`, slipped in.
        kind, actor, at, payload = data.draw(steps)
        tampered.insert(
            where, next_entry(entries[where - 1] if where else None, kind, actor, at, payload)
        )

    found = verify(tampered, head=head)
    assert found is not None
    assert found.position <= len(tampered)
    # Without the recorded head only a cut at the very end goes unseen.
    if not (how == "remove" and where == len(entries) - 1):
        first = verify(tampered)
        assert first is not None
        assert 0 <= first.position < len(tampered)
        assert verify(tampered[: first.position]) is None

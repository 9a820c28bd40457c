"""Supervision's sweep on PostgreSQL: reminders before a letter's legal
deadline and overdue escalations fire once per letter and round, whether
the sweep runs again or two workers sweep at the same moment; the gauges
the alert reads are set from what the sweep saw."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kit.events import Envelope
from kit.tables import outbox_events
from liaison.referral.v1 import events_pb2 as ev
from liaison.referral.v1 import referral_pb2 as pb
from referral import models, supervision
from referral.supervision import Supervision

pytestmark = [pytest.mark.postgres]


def in_hand(api: Any, open_letter: Any) -> tuple[int, datetime]:
    """A letter taken the street's way to the street office's receipt; its
    id and when its legal deadline ends."""
    letter_id = open_letter()
    api.as_("street-committee").DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_STREET)
    )
    for who in ("deputy", "street-deputy-director", "street-director"):
        api.as_(who).SignOff(pb.SignOffRequest(letter_id=letter_id))
    got = api.as_("street-office").AcknowledgeLetter(
        pb.AcknowledgeLetterRequest(letter_id=letter_id)
    )
    return letter_id, got.deadline.ends_at.ToDatetime(tzinfo=UTC)


def fired(api: Any, kind: str, letter_id: int) -> list[Any]:
    """The events of `kind` emitted for `letter_id`, oldest first."""
    message = {"letter_due_soon": ev.LetterDueSoon, "letter_overdue": ev.LetterOverdue}[kind]
    with api.db.read() as session:
        rows = session.execute(
            select(outbox_events.c.body)
            .where(outbox_events.c.type == kind)
            .order_by(outbox_events.c.sequence)
        ).all()
    found = [Envelope.from_body(r.body).payload_as(message) for r in rows]
    return [e for e in found if e.letter_id == letter_id]


def test_each_reminder_fires_once_and_only_on_its_day(api: Any, open_letter: Any) -> None:
    letter_id, ends_at = in_hand(api, open_letter)
    sweep = Supervision(api.db)
    # Eight days before the last day: nothing yet (the 30-day reminder's day has passed).
    last_day_start = ends_at - timedelta(days=1)
    sweep.sweep(last_day_start - timedelta(days=8))
    assert fired(api, "letter_due_soon", letter_id) == []
    # Seven days before: the 7-day reminder, once however often the sweep runs.
    for _ in range(3):
        sweep.sweep(last_day_start - timedelta(days=7) + timedelta(hours=2))
    reminders = fired(api, "letter_due_soon", letter_id)
    assert [r.days_before for r in reminders] == [7]
    assert reminders[0].handler.kind == pb.UNIT_KIND_STREET_OFFICE
    sweep.sweep(last_day_start - timedelta(days=1) + timedelta(hours=1))
    assert [r.days_before for r in fired(api, "letter_due_soon", letter_id)] == [7, 1]
    # An answered letter is not pressed.
    api.as_("street-office").AnswerLetter(pb.AnswerLetterRequest(letter_id=letter_id, text="已办"))
    sweep.sweep(ends_at + timedelta(days=40))
    assert fired(api, "letter_overdue", letter_id) == []


def test_two_workers_sweeping_at_once_escalate_each_level_once(api: Any, open_letter: Any) -> None:
    letter_id, ends_at = in_hand(api, open_letter)
    now = ends_at + timedelta(days=31)
    barrier = threading.Barrier(2)
    results: list[supervision.SweepResult] = []

    def work() -> None:
        barrier.wait()
        results.append(Supervision(api.db).sweep(now))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    escalations = fired(api, "letter_overdue", letter_id)
    assert sorted(e.level for e in escalations) == [1, 2]
    assert all(e.supervisor.kind == pb.UNIT_KIND_STREET_COMMITTEE for e in escalations)
    assert sum(r.escalations for r in results) >= 2
    with api.db.read() as session:
        marks = session.scalar(
            select(func.count()).where(models.SupervisionMark.letter_id == letter_id)
        )
    assert marks == 2
    # Each escalation is on the letter's trail, which still holds.
    check = api.as_("admin").VerifyTrail(pb.VerifyTrailRequest(letter_id=letter_id))
    assert check.intact
    with api.db.read() as session:
        kinds = session.scalars(
            select(models.TrailEntry.kind).where(models.TrailEntry.letter_id == letter_id)
        ).all()
    assert kinds.count("overdue") == 2
    # The gauges the alert and the dashboard read.
    result = results[-1]
    assert result.overdue >= 1 and result.oldest_overdue >= timedelta(days=31)
    assert supervision.letters_overdue._value.get() == result.overdue
    assert result.by_stage["in_hand"] >= 1
    # A third level later: once more, and only the new one.
    Supervision(api.db).sweep(ends_at + timedelta(days=91))
    assert sorted(e.level for e in fired(api, "letter_overdue", letter_id)) == [1, 2, 3]


def test_the_due_marks_of_a_deadline() -> None:
    ends_at = datetime(2026, 3, 31, 16, tzinfo=UTC)  # 24:00 on 31 March in Shanghai
    start_of_day = datetime(2026, 3, 30, 16, tzinfo=UTC)  # 00:00 on 31 March
    marks = supervision.due_marks(
        1, 1, ends_at, start_of_day - timedelta(days=30) + timedelta(hours=1)
    )
    assert [(m.kind, m.step) for m in marks] == [("reminder", 30)]
    # A day and more after a reminder's day, it is not sent late.
    assert supervision.due_marks(1, 1, ends_at, start_of_day - timedelta(days=28)) == []
    assert [(m.kind, m.step) for m in supervision.due_marks(1, 1, ends_at, ends_at)] == [
        ("overdue", 1)
    ]


def test_marks_fired_in_batches_chain_each_trail(
    api: Any, open_letter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marks are fired a few at a time, one letter's levels split across
    units of work: each fires once, and each trail still holds."""
    monkeypatch.setattr(supervision, "FIRE_BATCH", 3)
    letters = [in_hand(api, open_letter) for _ in range(3)]
    now = max(ends_at for _, ends_at in letters) + timedelta(days=31)
    first = Supervision(api.db).sweep(now)
    assert first.escalations >= 6
    assert Supervision(api.db).sweep(now).escalations == 0
    for letter_id, _ in letters:
        assert sorted(e.level for e in fired(api, "letter_overdue", letter_id)) == [1, 2]
        check = api.as_("admin").VerifyTrail(pb.VerifyTrailRequest(letter_id=letter_id))
        assert check.intact

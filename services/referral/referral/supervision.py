"""Supervision (督办): the sweep over open letters' legal deadlines.

Run by every worker on a timer (`referral.worker`). For each letter in hand
(received by its handling unit, not yet answered) it fires, once per letter
and round:
- a `letter_due_soon` reminder at the start (Asia/Shanghai) of the day N
  days before the deadline's last day, for each N of the configured
  reminder days (30, 7 and 1 by default; `referral.deadlines`);
- a `letter_overdue` escalation to the supervising body at each overdue
  level reached (`referral.deadlines.Overdue`), with a trail entry.

A firing is a row of `referral_supervision_marks` (whose key is the letter,
the round, the kind and the step), its event and, for an escalation, its
trail entry, committed together; the marks due are fired FIRE_BATCH at a
time, one unit of work each, which first locks their letters (in id order,
so that sweeps wait for each other and never deadlock) and drops marks of
letters answered or reopened since they were read. Two workers sweeping at
once both try; the locks make the second wait for the first's commit, and
then its insert finds the rows and fires nothing (`ON CONFLICT DO
NOTHING`), so each reminder and escalation fires exactly once. A reminder whose day has passed by more than a day when the
sweep first sees it (a letter received late in its period, or a worker
down for days) is not sent late: only the latest reminder due is.

The sweep also measures what the platform's alert and dashboard need:
letters open by stage, letters overdue, and the oldest overdue age.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from prometheus_client import Gauge
from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import load_only

from kit.auth import Principal
from kit.db import Database
from liaison.referral.v1 import events_pb2 as ev
from referral import deadlines, models, routing, trail, trail_rows
from referral.convert import unit_of, unit_pb
from referral.units import STANDING_COMMITTEE_OFFICE, Unit, street_committee

REMINDER = "reminder"
OVERDUE = "overdue"
SUPERVISOR = Principal.system("referral-supervision")
# Letters read per query of the sweep.
BATCH = 1000
# Marks fired per unit of work (their letters locked meanwhile).
FIRE_BATCH = 200
# What firing reads of a letter (not its workflow's JSON).
_FIRING_COLUMNS = (
    models.Letter.id,
    models.Letter.tracking_code,
    models.Letter.street_id,
    models.Letter.stage,
    models.Letter.round,
    models.Letter.route,
    models.Letter.handler_kind,
    models.Letter.handler_id,
    models.Letter.due_at,
    models.Letter.trail_head,
)
_marks = cast(Table, models.SupervisionMark.__table__)
# The marks' rows, many at once (the statement compiled once); those another
# sweep inserted first are not returned.
_INSERT_MARKS = (
    insert(_marks)
    .on_conflict_do_nothing()
    .returning(_marks.c.letter_id, _marks.c.round, _marks.c.kind, _marks.c.step)
)

letters_open = Gauge(
    "liaison_referral_letters_open",
    "Referral letters not closed, by stage (as of the last sweep).",
    ("stage",),
)
letters_overdue = Gauge(
    "liaison_referral_letters_overdue",
    "Letters in hand past their legal deadline without an answer (as of the last sweep).",
)
oldest_overdue = Gauge(
    "liaison_referral_oldest_overdue_seconds",
    "How long the most overdue letter has been past its deadline (0 when none is).",
)


@dataclass
class SweepResult:
    reminders: int = 0
    escalations: int = 0
    overdue: int = 0
    oldest_overdue: timedelta = timedelta(0)
    by_stage: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Due:
    """What an in-hand letter's deadline calls for now."""

    letter_id: int
    round: int
    kind: str
    step: int


def due_marks(
    letter_id: int,
    round: int,
    ends_at: datetime,
    now: datetime,
    reminder_days: Iterable[int] = deadlines.REMINDER_DAYS,
) -> list[_Due]:
    """The reminder (the latest one due, at most a day late) and the
    overdue levels reached, for a deadline ending at `ends_at`."""
    marks: list[_Due] = []
    last_day = deadlines.last_day_of(ends_at)
    reached = [
        n
        for n in sorted(set(reminder_days))
        if now >= deadlines.start_of(last_day - timedelta(days=n))
        and now < deadlines.start_of(last_day - timedelta(days=n - 1))
    ]
    if reached and now < ends_at:
        marks.append(_Due(letter_id, round, REMINDER, reached[0]))
    level = deadlines.overdue_level(ends_at, now)
    marks += [_Due(letter_id, round, OVERDUE, n) for n in range(1, int(level) + 1)]
    return marks


class Supervision:
    def __init__(
        self,
        db: Database,
        reminder_days: Iterable[int] = deadlines.REMINDER_DAYS,
    ) -> None:
        self.db = db
        self.reminder_days = tuple(sorted(set(reminder_days), reverse=True))
        self.horizon = timedelta(days=max(self.reminder_days, default=0) + 1)

    def sweep(self, now: datetime | None = None) -> SweepResult:
        now = now or datetime.now(UTC)
        result = SweepResult()
        after = 0
        while True:
            with self.db.read() as session:
                rows = session.execute(
                    select(
                        models.Letter.id,
                        models.Letter.round,
                        models.Letter.due_at,
                    )
                    .where(
                        models.Letter.stage == routing.Stage.IN_HAND.value,
                        models.Letter.due_at.is_not(None),
                        models.Letter.due_at <= now + self.horizon,
                        models.Letter.id > after,
                    )
                    .order_by(models.Letter.id)
                    .limit(BATCH)
                ).all()
                wanted = [
                    m
                    for r in rows
                    for m in due_marks(r.id, r.round, _aware(r.due_at), now, self.reminder_days)
                ]
                fired = _fired(session, {r.id for r in rows})
            for row in rows:
                late = now - _aware(row.due_at)
                if late >= timedelta(0):
                    result.overdue += 1
                    result.oldest_overdue = max(result.oldest_overdue, late)
            pending = [m for m in wanted if (m.letter_id, m.round, m.kind, m.step) not in fired]
            for start in range(0, len(pending), FIRE_BATCH):
                reminders, escalations = self._fire(pending[start : start + FIRE_BATCH], now)
                result.reminders += reminders
                result.escalations += escalations
            if len(rows) < BATCH:
                break
            after = rows[-1].id
        result.by_stage = self.open_by_stage()
        self._measure(result)
        return result

    def open_by_stage(self) -> dict[str, int]:
        with self.db.read() as session:
            counts = Counter(
                dict(
                    session.execute(
                        select(models.Letter.stage, func.count())
                        .where(models.Letter.stage != routing.Stage.CLOSED.value)
                        .group_by(models.Letter.stage)
                    ).all()
                )
            )
        return {s.value: counts.get(s.value, 0) for s in routing.Stage if s in routing.open_stages}

    @staticmethod
    def _measure(result: SweepResult) -> None:
        for stage, count in result.by_stage.items():
            letters_open.labels(stage=stage).set(count)
        letters_overdue.set(result.overdue)
        oldest_overdue.set(result.oldest_overdue.total_seconds())

    def _fire(self, marks: list[_Due], now: datetime) -> tuple[int, int]:
        """Fire `marks` in one unit of work; the reminders and escalations
        fired (not those another sweep fired first)."""
        with self.db.unit_of_work() as uow:
            letters = {
                row.id: row
                for row in uow.session.scalars(
                    select(models.Letter)
                    .where(models.Letter.id.in_({m.letter_id for m in marks}))
                    .order_by(models.Letter.id)
                    .with_for_update()
                    .options(load_only(*_FIRING_COLUMNS))
                )
            }
            # Still in hand in the same round: not answered or reopened since read.
            live = [
                m
                for m in marks
                if (row := letters.get(m.letter_id)) is not None
                and row.stage == routing.Stage.IN_HAND.value
                and row.round == m.round
                and row.due_at is not None
            ]
            if not live:
                return 0, 0
            inserted = {
                tuple(r)
                for r in uow.session.execute(
                    _INSERT_MARKS,
                    [
                        {"letter_id": m.letter_id, "round": m.round, "kind": m.kind,
                         "step": m.step, "fired_at": now}
                        for m in sorted(live, key=_key)
                    ],
                )
            }  # fmt: skip
            firing = [m for m in live if _key(m) in inserted]
            escalated = {m.letter_id for m in firing if m.kind == OVERDUE}
            newest = trail_rows.newest_entries(uow.session, escalated)
            for mark in firing:
                row = letters[mark.letter_id]
                if mark.kind == REMINDER:
                    uow.emit(self._reminder(row, mark))
                else:
                    supervisor, event = self._escalation(row, mark)
                    uow.emit(event)
                    newest[row.id] = trail_rows.append_after(
                        uow,
                        row,
                        newest.get(row.id),
                        trail.OVERDUE,
                        SUPERVISOR,
                        {
                            "level": mark.step,
                            "last_day": event.last_day,
                            "supervisor": str(supervisor),
                        },
                        at=now,
                    )
            reminders = sum(m.kind == REMINDER for m in firing)
            return reminders, len(firing) - reminders

    @staticmethod
    def _reminder(row: models.Letter, mark: _Due) -> ev.LetterDueSoon:
        return ev.LetterDueSoon(days_before=mark.step, **_about(row, mark))

    @staticmethod
    def _escalation(row: models.Letter, mark: _Due) -> tuple[Unit, ev.LetterOverdue]:
        supervisor = (
            street_committee(row.street_id)
            if row.route == routing.Route.STREET.value
            else STANDING_COMMITTEE_OFFICE
        )
        event = ev.LetterOverdue(
            level=mark.step, supervisor=unit_pb(supervisor), **_about(row, mark)
        )
        return supervisor, event


def _about(row: models.Letter, mark: _Due) -> dict[str, Any]:
    """What a reminder and an escalation both say of the letter."""
    assert row.due_at is not None
    return {
        "letter_id": row.id,
        "tracking_code": row.tracking_code,
        "street_id": row.street_id,
        "round": mark.round,
        "last_day": deadlines.last_day_of(_aware(row.due_at)).isoformat(),
        "handler": unit_pb(unit_of(row.handler_kind, row.handler_id)),
    }


def _key(mark: _Due) -> tuple[int, int, str, int]:
    return (mark.letter_id, mark.round, mark.kind, mark.step)


def _fired(session: object, letter_ids: set[int]) -> set[tuple[int, int, str, int]]:
    if not letter_ids:
        return set()
    found = session.execute(  # type: ignore[attr-defined]
        select(
            models.SupervisionMark.letter_id,
            models.SupervisionMark.round,
            models.SupervisionMark.kind,
            models.SupervisionMark.step,
        ).where(models.SupervisionMark.letter_id.in_(letter_ids))
    ).all()
    return {tuple(r) for r in found}


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)

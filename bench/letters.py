"""`make bench`, letters (the referral service; not named `referral.py`, which would
shadow the service's package on the path): letters opened from `opinion_handed_on` events and
the deadline sweep over 100,000 letters in hand, each beside a baseline
measured in the same run, on the local PostgreSQL.

1. Letters opened: `opinion_handed_on` bodies handed to kit's idempotent
   consumer (`kit.inbox.Inbox`, as the referral worker's handler does: the
   inbox row, `Referral.open_from_opinion` with its trail entry, its
   `letter_opened` event and the audit record, one commit), against a plain
   INSERT of the same letter row, one commit each, in alternating rounds of
   BENCH_REFERRAL_EVENTS (1000) each, BENCH_REFERRAL_ROUNDS (3) rounds:
   letters/s (median of rounds), p50 and p99 of one, and the CPU each costs
   this process.
2. The sweep (`referral.supervision.Supervision.sweep`) over
   BENCH_REFERRAL_LETTERS (100000) letters in hand, written with COPY (not
   through the service): received over the last half year, most within
   their three months, a tenth past them, so that the first sweep fires the
   reminders due today and the overdue escalations, and a second at the
   same instant fires nothing. Each sweep runs in a process of its own:
   its time, the marks it fired, and its peak resident memory above what
   the process held before it (VmHWM); the second sweep also once more
   under tracemalloc (Python's own allocations at their peak). The
   baseline: a plain SELECT of the rows the sweep reads (id, round, due
   date of the letters in hand due within its horizon), in the same kind of
   process.

A scratch database (`bench_referral_<hex>`) is made and dropped.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from writes import load, machine, percentile

from kit.auth import Role
from kit.db import Database
from kit.events import Envelope, new_envelope
from kit.inbox import DeadLetterPublisher, Inbox
from kit.migrations import upgrade
from kit.testrun import amqp_uri, throwaway_database, unique_suffix
from kit.workdays import WorkCalendar
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import opinions_pb2 as opb
from referral import deadlines, models, routing, state
from referral.bootstrap import MIGRATIONS
from referral.service import OPENER, Referral, actor_of
from referral.supervision import Supervision

EVENTS = int(os.environ.get("BENCH_REFERRAL_EVENTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_REFERRAL_ROUNDS", "3"))
LETTERS = int(os.environ.get("BENCH_REFERRAL_LETTERS", "100000"))
OVERDUE_SHARE = 0.1
CONTENT = "小区老旧电梯经常故障停运，老人上下楼困难，希望尽快更换电梯"
NOTE = "按转办函程序转有关部门办理"
HANDLER = "referral.on_opinion_handed_on"


# ---------------------------------------------------------------- 1. letters opened


def facts(opinion_id: int) -> rev.OpinionFacts:
    return rev.OpinionFacts(
        id=opinion_id,
        tracking_code=f"TH-2026-{opinion_id:06d}",
        source=opb.OPINION_SOURCE_RECEPTION,
        category=opb.OPINION_CATEGORY_PROPERTY,
        content=CONTENT,
        community_id=3,
        community_name="林和东社区",
        station_id=2,
        street_id=1 + opinion_id % 21,
        taken_by_deputy_id=1 + opinion_id % 350,
        status=opb.OPINION_STATUS_HANDED_ON,
    )


def handed_on(opinion_id: int) -> dict[str, Any]:
    """The body of an `opinion_handed_on` as the reception service publishes it."""
    event = rev.OpinionHandedOn(opinion=facts(opinion_id), note=NOTE)
    return new_envelope("reception", event, correlation_id="bench").to_body()


def consumer_round(inbox: Inbox, referral: Referral, first: int) -> dict[str, Any]:
    bodies = [handed_on(first + i) for i in range(EVENTS)]

    def effect(uow: Any, envelope: Envelope) -> None:
        event = envelope.payload_as(rev.OpinionHandedOn)
        referral.open_from_opinion(uow, OPENER, event.opinion, event.note)

    def one(i: int) -> None:
        outcome = inbox.handle(bodies[i], handler=HANDLER, queue="bench", effect=effect)
        assert outcome == "handled", outcome

    return timed(one)


def insert_round(db: Database, first: int) -> dict[str, Any]:
    """The same letter row, inserted plainly (no inbox, no trail, no event, no audit)."""
    table = models.Letter.__table__
    opened = routing.open_letter(
        actor_of(OPENER),
        datetime.now(UTC),
        street_id=1,
        deputy_id=1,
        category="property",
        community_id=3,
    ).letter
    letter_state = state.dump(opened)

    def one(i: int) -> None:
        f = facts(first + i)
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            conn.execute(
                table.insert().values(
                    opinion_id=f.id,
                    tracking_code=f.tracking_code,
                    street_id=f.street_id,
                    station_id=f.station_id,
                    community_id=f.community_id,
                    community_name=f.community_name,
                    category="property",
                    content=f.content,
                    deputy_id=f.taken_by_deputy_id,
                    note=NOTE,
                    stage="jurisdiction",
                    state=letter_state,
                    opened_at=now,
                    updated_at=now,
                )
            )

    return timed(one)


def timed(one: Callable[[int], None]) -> dict[str, Any]:
    latencies = []
    cpu = time.process_time()
    began = time.perf_counter()
    for i in range(EVENTS):
        started = time.perf_counter()
        one(i)
        latencies.append(time.perf_counter() - started)
    elapsed = time.perf_counter() - began
    return {
        "rate": EVENTS / elapsed,
        "latencies": latencies,
        "cpu_us": (time.process_time() - cpu) / EVENTS * 1e6,
    }


def opening(db: Database) -> dict[str, Any]:
    inbox = Inbox(db, max_retries=3, dead_letters=DeadLetterPublisher(amqp_uri()))
    referral = Referral(db)
    kinds: dict[str, Callable[[int], dict[str, Any]]] = {
        "consumer": lambda first: consumer_round(inbox, referral, first),
        "insert": lambda first: insert_round(db, first),
    }
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    base = 10_000_000
    for kind in kinds.values():  # warm: connections, prepared statements
        kind(base)
        base += EVENTS
    for r in range(ROUNDS):
        for name in list(kinds)[r % 2 :] + list(kinds)[: r % 2]:
            runs[name].append(kinds[name](base))
            base += EVENTS
    out = {}
    for name, rounds in runs.items():
        values = [x for run in rounds for x in run["latencies"]]
        out[name] = {
            "per_s": statistics.median(run["rate"] for run in rounds),
            "rounds": [round(run["rate"]) for run in rounds],
            "p50_ms": percentile(values, 50) * 1000,
            "p99_ms": percentile(values, 99) * 1000,
            "cpu_us": statistics.median(run["cpu_us"] for run in rounds),
        }
    return out


# ---------------------------------------------------------------- 2. the sweep


def in_hand_state(received_at: datetime) -> dict[str, Any]:
    """A district letter's workflow as stored once its department received it."""
    opened_at = received_at - timedelta(days=6)
    by = {
        role: routing.Actor(role=role)
        for role in (Role.WORKING_BODY, Role.STANDING_COMMITTEE_OFFICE, Role.GOVERNMENT_OFFICE)
    }
    committee = routing.Actor(role=Role.STREET_COMMITTEE, street_id=1)
    department = routing.Actor(role=Role.DEPARTMENT, department_id=52)
    letter = routing.open_letter(
        actor_of(OPENER), opened_at, street_id=1, deputy_id=1, category="property", community_id=3
    ).letter
    day = timedelta(days=1)
    letter = routing.decide_jurisdiction(
        letter, committee, opened_at + day, routing.Route.DISTRICT
    ).letter
    letter = routing.review(letter, by[Role.WORKING_BODY], opened_at + 2 * day, accept=True).letter
    letter = routing.dispatch(
        letter, by[Role.STANDING_COMMITTEE_OFFICE], opened_at + 3 * day
    ).letter
    letter = routing.assign(
        letter, by[Role.GOVERNMENT_OFFICE], opened_at + 4 * day, lead=52, co_handlers=[53]
    ).letter
    letter = routing.acknowledge(letter, department, received_at).letter
    return state.dump(letter)


def copy_letters(db: Database, now: datetime, count: int) -> float:
    """`count` letters in hand, written with COPY; the seconds it took."""
    rng = random.Random(2014)
    calendar = WorkCalendar()
    by_day: dict[date, deadlines.Deadline] = {}
    letter_state = json.dumps(in_hand_state(now - timedelta(days=40)), ensure_ascii=False)
    columns = (
        "opinion_id, tracking_code, street_id, station_id, community_id, community_name, "
        "category, content, deputy_id, note, stage, trail_head, state, route, handler_kind, "
        "handler_id, round, received_at, due_last_day, due_at, due_extended, holidays_known, "
        "opened_at, updated_at"
    )
    began = time.perf_counter()
    buffer = io.StringIO()
    for i in range(count):
        # Most received within the last three months, a tenth before.
        days = rng.uniform(0, 89) if rng.random() > OVERDUE_SHARE else rng.uniform(93, 200)
        received_at = now - timedelta(days=days)
        day = deadlines.local_day(received_at)
        if day not in by_day:
            by_day[day] = deadlines.legal_deadline(received_at, calendar=calendar)
        deadline = by_day[day]
        opened = received_at - timedelta(days=6)
        row = (
            50_000_000 + i, f"TH-2026-{i:06d}", 1 + i % 21, 1 + i % 40, 1 + i % 300,
            "林和东社区", "property", CONTENT, 1 + i % 350, NOTE, "in_hand", "",
            letter_state, "district", "department", 52 + i % 14, 1,
            received_at.isoformat(), deadline.last_day.isoformat(),
            deadline.ends_at.isoformat(), "f", "t" if deadline.holidays_known else "f",
            opened.isoformat(), received_at.isoformat(),
        )  # fmt: skip
        buffer.write("\t".join(_copy_text(v) for v in row) + "\n")
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY referral_letters ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE referral_letters")
    return time.perf_counter() - began


def _copy_text(value: Any) -> str:
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _hwm_kib() -> tuple[int, int]:
    """This process's resident memory now and at its peak (KiB)."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line.split(":")[0]] = int(line.split()[1])
    return found["VmRSS"], found["VmHWM"]


def _reset_hwm() -> bool:
    """Reset the peak resident memory to the current one (Linux: clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def child(url: str, what: str, now: datetime, traced: bool, out: Any) -> None:
    db = Database(url, "bench_referral")
    sweep = Supervision(db)
    with db.read() as session:  # connect and load the models before measuring
        session.execute(select(func.count()).select_from(models.Letter)).scalar_one()
    rss_before, _ = _hwm_kib()
    reset = _reset_hwm()
    if traced:
        tracemalloc.start()
    began = time.perf_counter()
    cpu = time.process_time()
    figures: dict[str, Any] = {}
    if what == "sweep":
        result = sweep.sweep(now)
        figures.update(
            reminders=result.reminders, escalations=result.escalations, overdue=result.overdue
        )
    else:
        with db.read() as session:
            rows = session.execute(
                select(models.Letter.id, models.Letter.round, models.Letter.due_at).where(
                    models.Letter.stage == routing.Stage.IN_HAND.value,
                    models.Letter.due_at.is_not(None),
                    models.Letter.due_at <= now + sweep.horizon,
                )
            ).all()
        figures["rows"] = len(rows)
    figures["seconds"] = time.perf_counter() - began
    figures["cpu_seconds"] = time.process_time() - cpu
    if traced:
        figures["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    _, hwm = _hwm_kib()
    figures["rss_peak_above_mib"] = (hwm - rss_before) / 1024 if reset else None
    db.dispose()
    out.put(figures)


def in_child(url: str, what: str, now: datetime, traced: bool = False) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=child, args=(url, what, now, traced, out))
    process.start()
    figures: dict[str, Any] = out.get(timeout=3600)
    process.join(30)
    return figures


def sweeping(url: str, db: Database) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    copied = copy_letters(db, now, LETTERS)
    with db.read() as session:
        in_hand = session.scalar(
            select(func.count()).where(models.Letter.stage == routing.Stage.IN_HAND.value)
        )
    return {
        "letters": in_hand,
        "copy_seconds": copied,
        "baseline": in_child(url, "select", now),
        "first": in_child(url, "sweep", now),
        "second": in_child(url, "sweep", now),
        "second_traced": in_child(url, "sweep", now, traced=True),
        "baseline_traced": in_child(url, "select", now, traced=True),
    }


# ---------------------------------------------------------------- main


def main() -> None:
    print(f"machine: {machine()}; PostgreSQL and this script share it; {load()}")
    with throwaway_database("bench_referral") as url:
        db = Database(url, f"bench_referral_{unique_suffix()}")
        try:
            upgrade(db, MIGRATIONS)
            o = opening(db)
            print(
                f"\nletters opened from opinion_handed_on, one thread, {ROUNDS} rounds of "
                f"{EVENTS} each kind (median of rounds)"
            )
            for name, label in (
                ("consumer", "kit.inbox.Inbox + open_from_opinion"),
                ("insert", "baseline: a plain INSERT of the row"),
            ):
                r = o[name]
                print(
                    f"  {label:38} {r['per_s']:>6.0f}/s  p50 {r['p50_ms']:.2f} ms, "
                    f"p99 {r['p99_ms']:.2f} ms, client CPU {r['cpu_us']:.0f} us  {r['rounds']}"
                )
            print(f"  consumer / baseline: {o['consumer']['per_s'] / o['insert']['per_s']:.2f}")
            db.dispose()
            s = sweeping(url, db)
            print(
                f"\nthe deadline sweep over {s['letters']} letters in hand (written with COPY in "
                f"{s['copy_seconds']:.1f} s), each run in a process of its own"
            )
            for name, label in (
                ("baseline", "baseline: SELECT the rows it reads"),
                ("first", "first sweep (fires)"),
                ("second", "second sweep (fires nothing)"),
            ):
                r = s[name]
                fired = (
                    f"{r['reminders']} reminders, {r['escalations']} escalations, "
                    f"{r['overdue']} overdue"
                    if "reminders" in r
                    else f"{r['rows']} rows"
                )
                rss = r["rss_peak_above_mib"]
                print(
                    f"  {label:36} {r['seconds']:>8.2f} s  CPU {r['cpu_seconds']:.2f} s  "
                    f"peak RSS +{rss:.1f} MiB  {fired}"
                    if rss is not None
                    else f"  {label:36} {r['seconds']:>8.2f} s  {fired}"
                )
            print(
                f"  tracemalloc peak: second sweep {s['second_traced']['traced_peak_mib']:.1f} "
                f"MiB, baseline {s['baseline_traced']['traced_peak_mib']:.1f} MiB"
            )
            print(load())
            print(json.dumps({"opening": o, "sweep": s}, default=float))
        finally:
            db.dispose()


if __name__ == "__main__":
    main()

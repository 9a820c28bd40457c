"""`make bench`, ballots (the duties service): votes per second at
concurrency 16 against one ballot, beside a baseline measured in the same
run, on the local PostgreSQL.

One ballot, BENCH_BALLOT_CODES (4000) codes issued through the service
(`duties.ballots.Ballots.issue_codes`, 500 a request, the ballot's whole
raised for the run); BENCH_BALLOT_CONCURRENCY (16) threads each take codes
from one shared queue and vote with them (`Ballots.cast_vote`: one statement
that spends the code while the ballot is open and writes the paper, and a
comment on every fifth; one commit each), a pool of 16 connections. At the
end the ballot is closed, and the papers counted must equal the codes, every
code spent once (the run fails otherwise); the closing's time (TRUNCATE and
the shuffled rewrite of every ballot's papers so far) is printed too.

The baseline: the same 16 threads each INSERT one row (a random key and a
choice) into a table of the same shape, one commit each, as many rows as
codes: what PostgreSQL on this machine gives a committed write at this
concurrency. In alternating rounds, BENCH_BALLOT_ROUNDS (3) of each (a
fresh ballot each round), the median printed with p50 and p99 of one.

A scratch database (`bench_ballots_<hex>`) is made and dropped.
"""

from __future__ import annotations

import json
import os
import queue
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from writes import load, machine, percentile

from duties import ballot_models as m
from duties import ballot_rules
from duties.ballot_rules import ResultRules
from duties.ballots import Ballots
from duties.bootstrap import MIGRATIONS
from duties.registry import DeputyFacts
from kit.auth import Principal, Role
from kit.db import Database
from kit.migrations import upgrade
from kit.testrun import throwaway_database, unique_suffix
from liaison.duties.v1 import ballots_pb2 as pb

CODES = int(os.environ.get("BENCH_BALLOT_CODES", "4000"))
CONCURRENCY = int(os.environ.get("BENCH_BALLOT_CONCURRENCY", "16"))
ROUNDS = int(os.environ.get("BENCH_BALLOT_ROUNDS", "3"))
COMMITTEE = Principal("bench-committee", Role.STREET_COMMITTEE, street_id=1)
CHOICES = (
    pb.BALLOT_CHOICE_SATISFIED,
    pb.BALLOT_CHOICE_BASICALLY_SATISFIED,
    pb.BALLOT_CHOICE_DISSATISFIED,
)
BASELINE_DDL = (
    "CREATE TABLE IF NOT EXISTS bench_plain_rows (id uuid PRIMARY KEY, ballot_id bigint, "
    "choice varchar(24))"
)


class OneDeputy:
    """The registry's answer for the bench's deputy (no registry is run)."""

    def deputy(self, deputy_id: int) -> DeputyFacts:
        return DeputyFacts(deputy_id, "bench", 1, 1, "district", True)

    def of_street(self, street_id: int) -> list[DeputyFacts]:
        return [self.deputy(1)]

    def all_active(self) -> list[DeputyFacts]:
        return [self.deputy(1)]


def concurrently(work: list[Any], one: Callable[[Any], None]) -> dict[str, Any]:
    """`one(item)` for every item, by CONCURRENCY threads: rate and latencies."""
    todo: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for item in work:
        todo.put(item)
    latencies: list[list[float]] = [[] for _ in range(CONCURRENCY)]
    failures: list[BaseException] = []
    start_line = threading.Barrier(CONCURRENCY + 1)

    def worker(n: int) -> None:
        start_line.wait()
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            began = time.perf_counter()
            try:
                one(item)
            except BaseException as exc:  # counted: the run fails on any
                failures.append(exc)
                return
            latencies[n].append(time.perf_counter() - began)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONCURRENCY)]
    for t in threads:
        t.start()
    start_line.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} writes failed, the first: {failures[0]!r}")
    flat = [x for per in latencies for x in per]
    return {
        "per_s": len(flat) / wall,
        "p50_ms": percentile(flat, 50) * 1000,
        "p99_ms": percentile(flat, 99) * 1000,
    }


def voting_round(ballots: Ballots, db: Database) -> dict[str, Any]:
    meeting = ballots.schedule(
        pb.ScheduleReportMeetingRequest(deputy_id=1, held_on="2026-01-15", venue="bench"),
        COMMITTEE,
    )
    ballot = ballots.open_ballot(meeting.id, COMMITTEE)
    codes: list[str] = []
    while len(codes) < CODES:
        issued = ballots.issue_codes(
            pb.IssueBallotCodesRequest(ballot_id=ballot.id, count=min(500, CODES - len(codes))),
            COMMITTEE,
        )
        codes.extend(issued.codes)
    work = [(n, code) for n, code in enumerate(codes)]

    def one(item: tuple[int, str]) -> None:
        n, code = item
        ballots.cast_vote(
            pb.CastVoteRequest(
                ballot_id=ballot.id,
                code=code,
                choice=CHOICES[n % 3],
                comment="请多来社区听听意见" if n % 5 == 0 else "",
            )
        )

    result = concurrently(work, one)
    with db.read() as s:
        spent = s.scalar(
            select(func.count())
            .select_from(m.BallotCode)
            .where(m.BallotCode.ballot_id == ballot.id, m.BallotCode.spent)
        )
    began = time.perf_counter()
    closed = ballots.close(ballot.id, COMMITTEE)
    result["close_s"] = time.perf_counter() - began
    if closed.papers_cast != len(codes) or spent != len(codes):
        raise RuntimeError(
            f"{closed.papers_cast} papers and {spent} spent codes for {len(codes)} codes"
        )
    result["papers"] = closed.papers_cast
    return result


def baseline_round(db: Database, rows: int) -> dict[str, Any]:
    ballot_id = int(time.time_ns())

    def one(n: int) -> None:
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO bench_plain_rows VALUES (:id, :ballot, :choice)"),
                {"id": uuid.uuid4(), "ballot": ballot_id, "choice": "satisfied"},
            )

    result = concurrently(list(range(rows)), one)
    with db.read() as s:
        written = s.scalar(
            text("SELECT count(*) FROM bench_plain_rows WHERE ballot_id = :b"), {"b": ballot_id}
        )
    if written != rows:
        raise RuntimeError(f"{written} rows written of {rows}")
    return result


def main() -> None:
    print(f"machine: {machine()}; PostgreSQL and this script share it; {load()}")
    # The bench's ballot is bigger than a meeting's hall.
    ballot_rules.MAX_CODES_PER_BALLOT = max(ballot_rules.MAX_CODES_PER_BALLOT, CODES)
    with throwaway_database("bench_ballots") as url:
        db = Database(
            url, f"bench_ballots_{unique_suffix()}", pool_size=CONCURRENCY, max_overflow=4
        )
        try:
            upgrade(db, MIGRATIONS)
            with db.engine.begin() as conn:
                conn.exec_driver_sql(BASELINE_DDL)
            ballots = Ballots(
                db,
                OneDeputy(),
                result_rules=ResultRules(),
                clock=lambda: datetime(2026, 1, 15, 8, tzinfo=UTC),
            )
            votes, plain = [], []
            for _ in range(ROUNDS):
                votes.append(voting_round(ballots, db))
                plain.append(baseline_round(db, CODES))
            print(
                f"\nvotes on one ballot, {CONCURRENCY} threads, {ROUNDS} rounds of {CODES} codes "
                "(median of rounds); every round: papers counted = codes = spent codes"
            )
            summary: dict[str, Any] = {}
            for name, label, rounds in (
                ("votes", "Ballots.cast_vote", votes),
                ("baseline", "baseline: a plain INSERT of a row", plain),
            ):
                per_s = statistics.median(r["per_s"] for r in rounds)
                p50 = statistics.median(r["p50_ms"] for r in rounds)
                p99 = statistics.median(r["p99_ms"] for r in rounds)
                summary[name] = {"per_s": per_s, "p50_ms": p50, "p99_ms": p99, "rounds": rounds}
                print(
                    f"  {label:36} {per_s:>7.0f}/s  p50 {p50:.2f} ms, p99 {p99:.2f} ms  "
                    f"{[round(r['per_s']) for r in rounds]}"
                )
            print(
                f"  votes / baseline: {summary['votes']['per_s'] / summary['baseline']['per_s']:.2f}"
            )
            closing = statistics.median(r["close_s"] for r in votes)
            print(
                f"  closing a ballot of {CODES} papers (count, TRUNCATE, shuffled rewrite of every ballot's rows): {closing:.2f} s"
            )
            print(load())
            print(json.dumps(summary, default=float))
        finally:
            db.dispose()


if __name__ == "__main__":
    main()

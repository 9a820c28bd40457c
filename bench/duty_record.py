"""`make bench`, the duty record: a deputy's public duty-record read of a
year, against a baseline in the same run, on the local PostgreSQL.

The table: a district of BENCH_RECORD_DEPUTIES (350) deputies, each with
BENCH_RECORD_YEARS (3) years of entries, a realistic year being 12
receptions attended, 8 opinions taken, 4 letters and 2 suggestions followed,
3 activities attended, a research reported, a visit received and, for a
third of the deputies, a duty report's ballot (about 32 entries;
suggestions are shared by three deputies, as co-signed ones are), written straight into `duty_record_sources` and
`duty_record_entries` of a scratch database (`bench_record_<hex>`, dropped
after); then 1000 of the entries again through the projection's own rule
(`DutyRecords.apply_state`: the source row locked, merged, written), as a
check that the written rows are what the rule writes.

The read, for a random deputy of the 350 and the newest year, each way
BENCH_RECORD_READS (2000) times, by BENCH_RECORD_CLIENTS (1 and 4) client
threads, the ways taking turns in BENCH_RECORD_ROUNDS (3) rounds:
- `grpc`: `GetDutyRecord` through the DutyRecordService's servicer on kit's
  gRPC server in this process (anonymous, one page of 50: the counts by kind
  and the entries; the registry's answer is the service's cached one, as it
  is once warm: a fixed list here);
- `use case`: `DutyRecords.get_record` called directly (no gRPC);
- `baseline`: a plain SELECT of the same rows (the deputy's shown entries
  of the year, first 50 by id) and a COUNT of them, one connection each
  thread, nothing else.
Figures: reads/s (median of rounds), p50 and p99 of one read.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from writes import load, machine, percentile

from duties import duty_record as dr
from duties.bootstrap import MIGRATIONS
from duties.record_api import DUTY_RECORD_SERVICE_NAME, with_duty_record
from duties.record_models import DutyRecordEntry, DutyRecordSource
from duties.record_service import DutyRecords
from duties.registry import DeputyFacts
from duties.settings import DutiesSettings
from kit.db import Database
from kit.migrations import upgrade
from kit.testrun import DevTokens, serving, throwaway_database, unique_suffix
from liaison.duties.v1 import record_pb2 as pb
from liaison.duties.v1 import record_pb2_grpc as pb_grpc

DEPUTIES = int(os.environ.get("BENCH_RECORD_DEPUTIES", "350"))
YEARS = int(os.environ.get("BENCH_RECORD_YEARS", "3"))
READS = int(os.environ.get("BENCH_RECORD_READS", "2000"))
ROUNDS = int(os.environ.get("BENCH_RECORD_ROUNDS", "3"))
CLIENTS = [int(c) for c in os.environ.get("BENCH_RECORD_CLIENTS", "1,4").split(",")]
YEAR = 2026
# A year of one deputy: (kind, source type, how many).
A_YEAR = (
    (dr.EntryKind.RECEPTION_ATTENDED, "reception_record", 12),
    (dr.EntryKind.OPINION_TAKEN, "opinion", 8),
    (dr.EntryKind.LETTER_FOLLOWED, "letter", 4),
    (dr.EntryKind.SUGGESTION_FOLLOWED, "suggestion", 2),
    (dr.EntryKind.ACTIVITY_ATTENDED, "activity", 3),
    (dr.EntryKind.RESEARCH_REPORTED, "research", 1),
    (dr.EntryKind.VISIT_RECEIVED, "visit", 1),
    (dr.EntryKind.REPORT_RATED, "ballot", 1),
)
SERVICE = {
    "reception_record": "reception",
    "opinion": "reception",
    "letter": "referral",
    "suggestion": "referral",
}


class District:
    """The registry's deputies, as the service's cached client answers."""

    def deputy(self, deputy_id: int) -> DeputyFacts:
        return DeputyFacts(deputy_id, f"代表{deputy_id}", 1 + deputy_id % 21, 1, "district", True)

    def of_street(self, street_id: int) -> list[DeputyFacts]:
        return []

    def all_active(self) -> list[DeputyFacts]:
        return []


def fill(db: Database) -> int:
    """The district's entries, written straight into the tables; how many."""
    rng = random.Random(20261127)
    sources: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    ids = dict.fromkeys((record_type for _, record_type, _ in A_YEAR), 0)
    at = datetime(YEAR, 12, 1, tzinfo=UTC)
    for year in range(YEAR - YEARS + 1, YEAR + 1):
        for deputy in range(1, DEPUTIES + 1):
            for kind, record_type, n in A_YEAR:
                for i in range(n):
                    if record_type == "suggestion" and deputy % 3:
                        continue  # co-signed: one suggestion names three deputies
                    if record_type == "ballot" and (deputy + year) % 3:
                        continue  # a third of the deputies report each year
                    ids[record_type] += 1
                    record_id = ids[record_type]
                    source_id = len(sources) + 1
                    sources.append(
                        {
                            "id": source_id,
                            "service": SERVICE.get(record_type, "duties"),
                            "record_type": record_type,
                            "record_id": record_id,
                            "part": 0,
                            "version_sequence": record_id * 3,
                            "version_at": at,
                            "updated_at": at,
                        }
                    )
                    day = date(year, 1 + (i * 12 // n) % 12, 15)
                    names = [deputy]
                    if record_type == "suggestion":
                        names = [deputy, min(DEPUTIES, deputy + 1), min(DEPUTIES, deputy + 2)]
                    for named in dict.fromkeys(names):
                        entries.append(
                            {
                                "source_id": source_id,
                                "service": SERVICE.get(record_type, "duties"),
                                "record_type": record_type,
                                "record_id": record_id,
                                "kind": kind.value,
                                "deputy_id": named,
                                "day": day + timedelta(days=rng.randrange(0, 10)),
                                "year": year,
                                "title": "property" if record_type != "reception_record" else "",
                                "status": "closed",
                                "completed": rng.random() < 0.8,
                                "detail": "",
                                "shown": True,
                            }
                        )
    with db.engine.begin() as conn:
        for i in range(0, len(sources), 5000):
            conn.execute(insert(DutyRecordSource), sources[i : i + 5000])
        for i in range(0, len(entries), 5000):
            conn.execute(insert(DutyRecordEntry), entries[i : i + 5000])
        # the sources' ids were given here: the sequence goes on after them
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('duty_record_sources', 'id'), "
            "(SELECT max(id) FROM duty_record_sources))"
        )
    return len(entries)


def through_the_rule(records: DutyRecords, n: int) -> float:
    """`n` more reception records through the projection's rule; seconds each."""
    began = time.perf_counter()
    for i in range(n):
        state = dr.SourceState(
            dr.SourceRecord("reception", "reception_record", 10_000_000 + i),
            dr.Version(i + 1, datetime.now(UTC)),
            tuple(
                dr.Entry(
                    1 + (i + k) % DEPUTIES,
                    dr.EntryKind.RECEPTION_ATTENDED,
                    date(YEAR, 1 + i % 12, 15),
                    "",
                    "locked",
                    True,
                    "person_times:9",
                )
                for k in range(3)
            ),  # fmt: skip
        )
        with records.db.unit_of_work() as uow:
            records.apply_state(uow.session, state)
    return (time.perf_counter() - began) / n


def baseline(db: Database) -> Callable[[int], Any]:
    e = DutyRecordEntry
    local = threading.local()

    def read(deputy: int) -> Any:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = db.engine.connect()
        mine = (e.deputy_id == deputy, e.year == YEAR, e.shown.is_(True))
        total = conn.execute(select(func.count()).where(*mine)).scalar_one()
        rows = conn.execute(select(e).where(*mine).order_by(e.id).limit(50)).all()
        conn.rollback()
        return total, rows

    return read


def run_round(read: Callable[[int], Any], clients: int) -> dict[str, Any]:
    per_client = READS // clients
    latencies: list[list[float]] = [[] for _ in range(clients)]

    def client(n: int) -> None:
        rng = random.Random(n)
        for _ in range(per_client):
            started = time.perf_counter()
            read(rng.randrange(1, DEPUTIES + 1))
            latencies[n].append(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {
        "rate": per_client * clients / elapsed,
        "latencies": [x for part in latencies for x in part],
    }


def main() -> None:
    print(f"machine: {machine()}; PostgreSQL and this script share it; {load()}")
    with throwaway_database("bench_record") as url:
        db = Database(url, f"bench_record_{unique_suffix()}")
        records = DutyRecords(db, District(), clock=lambda: datetime(YEAR, 12, 20, tzinfo=UTC))
        try:
            upgrade(db, MIGRATIONS)
            began = time.perf_counter()
            written = fill(db)
            filled = time.perf_counter() - began
            rule_ms = through_the_rule(records, 1000) * 1000
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            tokens = DevTokens()
            settings = dataclasses.replace(
                DutiesSettings.load("duties", "api"), database_url=db.url, auth=tokens.auth
            )
            with serving(
                settings,
                register=lambda s: with_duty_record(s, records),
                service_names=[DUTY_RECORD_SERVICE_NAME],
                readiness=db.ping,
            ) as (channel, _target):
                stub = pb_grpc.DutyRecordServiceStub(channel)
                one = stub.GetDutyRecord(pb.GetDutyRecordRequest(deputy_id=1, year=YEAR))
                kinds: dict[str, Callable[[int], Any]] = {
                    "grpc": lambda d: stub.GetDutyRecord(
                        pb.GetDutyRecordRequest(deputy_id=d, year=YEAR)
                    ),
                    "use case": lambda d: records.get_record(
                        pb.GetDutyRecordRequest(deputy_id=d, year=YEAR)
                    ),
                    "baseline": baseline(db),
                }
                # the same rows both ways
                total, rows = kinds["baseline"](1)
                assert total == one.page.total_size and len(rows) == len(one.entries), (
                    total,
                    one.page.total_size,
                )
                for read in kinds.values():  # warm: connections, prepared plans
                    for d in range(1, 50):
                        read(d)
                results: dict[str, Any] = {}
                for clients in CLIENTS:
                    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
                    for r in range(ROUNDS):
                        order = list(kinds)[r % 3 :] + list(kinds)[: r % 3]
                        for name in order:
                            runs[name].append(run_round(kinds[name], clients))
                    results[clients] = {
                        name: {
                            "per_s": statistics.median(x["rate"] for x in rounds),
                            "rounds": [round(x["rate"]) for x in rounds],
                            "p50_ms": percentile([v for x in rounds for v in x["latencies"]], 50)
                            * 1000,
                            "p99_ms": percentile([v for x in rounds for v in x["latencies"]], 99)
                            * 1000,
                        }
                        for name, rounds in runs.items()
                    }
            print(
                f"\nthe duty record of {DEPUTIES} deputies over {YEARS} years: {written} entries "
                f"written in {filled:.1f} s; a deputy's {YEAR}: {one.page.total_size} entries, "
                f"counts {[(c.kind, c.count) for c in one.counts]}"
            )
            print(f"  1000 reception records through the projection's rule: {rule_ms:.2f} ms each")
            for clients, figures in results.items():
                print(f"\nGetDutyRecord, {clients} client thread(s), {READS} reads a round")
                for name, label in (
                    ("grpc", "gRPC GetDutyRecord (anonymous)"),
                    ("use case", "DutyRecords.get_record, no gRPC"),
                    ("baseline", "baseline: plain SELECT + COUNT"),
                ):
                    f = figures[name]
                    print(
                        f"  {label:34} {f['per_s']:>7.0f}/s  p50 {f['p50_ms']:.2f} ms, "
                        f"p99 {f['p99_ms']:.2f} ms  {f['rounds']}"
                    )
                print(
                    f"  gRPC / baseline: {figures['grpc']['per_s'] / figures['baseline']['per_s']:.2f}"
                )
            print(load())
            print(json.dumps({"results": results, "rule_ms": rule_ms}, default=float))
        finally:
            db.dispose()


if __name__ == "__main__":
    main()

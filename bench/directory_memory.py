"""`make bench`, the public directory's read model: memory and load time.

For the demo district and for a synthetic province (BENCH_PROVINCE_DISTRICTS
districts, 100 by default: each one a demo district of its own seed, codes
prefixed, so 2,100 streets, 4,000 stations, 35,000 deputies, about 17,800
communities with the demo's sizes of names, keywords and biographies):

1. the registry's database: a throwaway PostgreSQL database, migrated; the
   demo district through the registry's own loader (`registry.cli
   load-demo`), the province by COPY into the registry's tables;
2. the real path: a registry api serving it, and in a fresh process the
   gateway's own `DirectoryFeed.load()` (StreamDirectory over gRPC, then
   `PublicDirectory.from_chunks`), timed end to end, with the time to the
   first chunk (the registry reads the whole snapshot before it sends one)
   and that process's resident memory (VmRSS) before and after; the
   registry api's resident memory and peak (VmHWM) after serving it;
3. the chunks the registry streamed, kept in a file: in another fresh
   process, the time to parse them and to build the PublicDirectory, and
   the resident memory it adds; then what a gateway process pays per request
   and per version: matching an address to a community, a station's answer
   made and its JSON body rendered (the first request for a community after
   each version), and the memory those cached answers and bodies take,
   measured on a sample and extrapolated to every community;
4. in a third fresh process, with tracemalloc: where the Python-level memory
   of the model goes (the protobuf messages' own storage is upb's, outside
   Python's allocator: tracemalloc does not see it, the RSS does).

Goals: a process holds the model in under 200 MB and loads it in under 5 s.
BENCH_STREAM_DEADLINE_SECONDS (default 300) bounds the stream here; the
gateway's own deadline is gateway.directory.feed.LOAD_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from roster_memory import memory_mib, registry_api
from sqlalchemy.engine import make_url

from kit.testrun import Platform, platform_environment, throwaway_database
from liaison.registry.v1 import registry_pb2 as pb
from registry.demo_data import build_district

DISTRICTS = int(os.environ.get("BENCH_PROVINCE_DISTRICTS", "100"))
STREAM_DEADLINE = float(os.environ.get("BENCH_STREAM_DEADLINE_SECONDS", "300"))
SAMPLE_ANSWERS = int(os.environ.get("BENCH_DIRECTORY_SAMPLE", "200"))
GOAL_MIB, GOAL_SECONDS = 200.0, 5.0
MIB = 1024 * 1024


def status_mib() -> dict[str, float]:
    """This process's VmRSS and VmHWM, in MiB."""
    return memory_mib(os.getpid())


# ---------------------------------------------------------------- the province, by COPY

_RECORD = ("id", "code", "name", "active", "created_at", "updated_at")
COLUMNS: dict[str, tuple[str, ...]] = {
    "streets": _RECORD,
    "areas": (*_RECORD, "street_id"),
    "communities": (*_RECORD, "street_id", "area_id"),
    "community_keywords": ("id", "community_id", "keyword"),
    "venues": (*_RECORD, "address", "street_id", "capacity", "opening_hours"),
    "stations": (*_RECORD, "area_id", "street_id", "venue_id", "opened_on"),
    "station_communities": ("station_id", "community_id"),
    "deputies": (
        *_RECORD,
        "gender",
        "level",
        "term",
        "term_start",
        "term_end",
        "street_id",
        "station_id",
        "profession",
        "biography",
    ),
    "deputy_expertise": ("id", "deputy_id", "tag"),
    "deputy_contact_communities": ("deputy_id", "community_id"),
    "deputy_contacts": ("deputy_id", "phone", "email", "workplace", "workplace_address"),
    "positions": (
        "id",
        "role",
        "station_id",
        "deputy_id",
        "holder_name",
        "holder_title",
        "started_on",
        "ended_on",
        "created_at",
        "updated_at",
    ),
}


def province_rows(districts: int) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of `districts` demo districts (seeds 10000…), in the registry's
    tables; codes prefixed per district. Only the positions of stations: the
    directory reads no other."""
    now = datetime.now(UTC)
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
    last: dict[str, int] = defaultdict(int)

    def new_id(table: str) -> int:
        last[table] += 1
        return last[table]

    for n in range(districts):
        d = build_district(10_000 + n)
        p = f"p{n:03d}-"
        ids: dict[str, dict[str, int]] = defaultdict(dict)

        def record(table: str, r: dict[str, Any], *rest: Any, ids: Any = ids, p: str = p) -> int:
            i = ids[table][r["code"]] = new_id(table)
            rows[table].append((i, p + r["code"], r["name"], True, now, now, *rest))
            return i

        for r in d.streets:
            record("streets", r)
        for r in d.areas:
            record("areas", r, ids["streets"][r["street"]])
        for r in d.communities:
            cid = record(
                "communities", r, ids["streets"][r["street"]], ids["areas"].get(r.get("area") or "")
            )
            for keyword in r["address_keywords"]:
                rows["community_keywords"].append((new_id("community_keywords"), cid, keyword))
        for r in d.venues:
            record(
                "venues",
                r,
                r["address"],
                ids["streets"][r["street"]],
                r["capacity"],
                r["opening_hours"],
            )
        for r in d.stations:
            sid = record(
                "stations",
                r,
                ids["areas"][r["area"]],
                ids["streets"][r["street"]],
                ids["venues"].get(r["venue"] or ""),
                r["opened_on"],
            )
            for code in r["communities"]:
                rows["station_communities"].append((sid, ids["communities"][code]))
        for r in d.deputies:
            did = record(
                "deputies",
                r,
                r["gender"],
                r["level"],
                r["term"],
                r["term_start"],
                r["term_end"],
                ids["streets"][r["street"]],
                ids["stations"].get(r["station"] or ""),
                r["profession"],
                r["biography"],
            )
            for tag in r["expertise"]:
                rows["deputy_expertise"].append((new_id("deputy_expertise"), did, tag))
            for code in r["contact_communities"]:
                rows["deputy_contact_communities"].append((did, ids["communities"][code]))
            rows["deputy_contacts"].append(
                (did, r["phone"], r["email"], r["workplace"], r["workplace_address"])
            )
        for r in d.positions:
            if not r.get("station"):
                continue
            rows["positions"].append(
                (
                    new_id("positions"),
                    r["role"],
                    ids["stations"][r["station"]],
                    ids["deputies"].get(r["deputy"] or ""),
                    r["holder_name"],
                    r["holder_title"],
                    r["started_on"],
                    r["ended_on"],
                    now,
                    now,
                )
            )
    return rows


def copy_into(database_url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """COPY the rows into a migrated registry database, then its sequences and statistics."""
    conninfo = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False)) as conn:
        with conn.cursor() as cur:
            for table, columns in COLUMNS.items():
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows[table]:
                        copy.write_row(row)
                if columns[0] == "id":
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


# ---------------------------------------------------------------- chunk files


def write_chunks(path: Path, chunks: Iterable[pb.DirectoryChunk]) -> int:
    size = 0
    with path.open("wb") as out:
        for chunk in chunks:
            data = chunk.SerializeToString()
            out.write(struct.pack("<I", len(data)))
            out.write(data)
            size += len(data)
    return size


def read_chunks(path: Path) -> list[pb.DirectoryChunk]:
    raw = path.read_bytes()
    chunks, at = [], 0
    while at < len(raw):
        (length,) = struct.unpack_from("<I", raw, at)
        chunks.append(pb.DirectoryChunk.FromString(raw[at + 4 : at + 4 + length]))
        at += 4 + length
    return chunks


# ---------------------------------------------------------------- the fresh processes


def child_stream(target: str, chunk_file: str) -> dict[str, Any]:
    """The gateway's DirectoryFeed.load() from a registry; the chunks kept to a file."""
    from prometheus_client import CollectorRegistry

    import gateway.directory.feed as feed_module
    from gateway.upstream import ServiceClient, Upstream
    from liaison.registry.v1 import registry_pb2_grpc as pb_grpc

    feed_module.LOAD_SECONDS = STREAM_DEADLINE
    client = ServiceClient(Upstream("registry", pb_grpc.RegistryServiceStub), target, 10.0)
    feed = feed_module.DirectoryFeed(client, None, CollectorRegistry())
    kept: list[Any] = []
    first_at: list[float] = []
    streaming = client.stream

    async def tee(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async for message in streaming(*args, **kwargs):
            if not first_at:
                first_at.append(time.perf_counter())
            kept.append(message)
            yield message

    client.stream = tee  # type: ignore[method-assign]
    gc.collect()
    before = status_mib()["VmRSS"]
    began = time.perf_counter()
    directory = asyncio.run(feed.load())
    seconds = time.perf_counter() - began
    gc.collect()
    after = status_mib()
    size = write_chunks(Path(chunk_file), kept)
    return {
        "seconds": seconds,
        "first_chunk_seconds": first_at[0] - began if first_at else float("nan"),
        "rss_added_mib": after["VmRSS"] - before,
        "hwm_mib": after["VmHWM"],
        "chunks": len(kept),
        "bytes": size,
        "version": directory.version,
        "over_gateway_deadline": seconds > 60.0,
    }


def _render(directory: Any, community_id: int) -> bytes:
    """The gateway's body for a community, as its find-station route makes it."""
    from gateway import schemas as s
    from gateway.convert import message_to_dict
    from gateway.routes.lookups import _json

    return _json(
        s.FindStationResult.model_validate(message_to_dict(directory.station_answer(community_id)))
    )


def _timed(calls: Iterable[Callable[[], Any]]) -> tuple[list[float], int]:
    """Each call's seconds; how many raised a DomainError (an answer too)."""
    from kit.errors import DomainError

    seconds, refused = [], 0
    for call in calls:
        began = time.perf_counter()
        try:
            call()
        except DomainError:
            refused += 1
        seconds.append(time.perf_counter() - began)
    return seconds, refused


def child_build(chunk_file: str) -> dict[str, Any]:
    """from_chunks in a fresh process; then the per-request and per-version costs."""
    from kit.errors import DomainError
    from registry.lookup import PublicDirectory

    gc.collect()
    before = status_mib()["VmRSS"]
    began = time.perf_counter()
    chunks = read_chunks(Path(chunk_file))
    parsed = time.perf_counter()
    directory = PublicDirectory.from_chunks(chunks)
    built = time.perf_counter()
    del chunks
    gc.collect()
    model = status_mib()["VmRSS"]
    result: dict[str, Any] = {
        "parse_seconds": parsed - began,
        "build_seconds": built - parsed,
        "rss_added_mib": model - before,
        "counts": {
            "streets": len(directory.streets),
            "communities": len(directory.communities),
            "venues": len(directory.venues),
            "stations": len(directory.stations),
            "deputies": len(directory.deputies),
            "station_heads": len(directory.heads),
        },
    }
    # What a request costs: an address matched (every request), a station's
    # answer made and rendered (the first request per community and version).
    communities = sorted(directory.communities.values(), key=lambda c: c.id)
    step = max(1, len(communities) // SAMPLE_ANSWERS)
    sample = [c for c in communities[::step] if c.address_keywords][:SAMPLE_ANSWERS]
    requests = [
        pb.FindStationRequest(address=f"{c.address_keywords[0]}{10 + i % 90}号")
        for i, c in enumerate(sample)
    ]
    match, refused = _timed(lambda r=r: directory.index.community_for(r) for r in requests)
    # One answer first, outside the sample: the rendering's imports and caches.
    with contextlib.suppress(DomainError):
        _render(directory, communities[-1].id)
    gc.collect()
    before_bodies = status_mib()["VmRSS"]
    sizes: list[int] = []

    def render(cid: int) -> None:
        sizes.append(
            len(directory.prepared(("find-station", cid), lambda: _render(directory, cid)))
        )

    answer, no_station = _timed(lambda cid=c.id: render(cid) for c in sample)
    gc.collect()
    # Resident memory is coarse for a small sample: never less than the bodies' bytes.
    per_body = max(
        (status_mib()["VmRSS"] - before_bodies) / max(1, len(sizes)),
        sum(sizes) / MIB / max(1, len(sizes)),
    )
    result.update(
        {
            "match_ms": _summary(match),
            "match_refused": refused,
            "answer_ms": _summary(answer),
            "answer_refused": no_station,
            "sample": len(sample),
            "body_bytes_mean": sum(sizes) / max(1, len(sizes)),
            "cached_answer_mib_each": per_body,
            "cached_answers_all_mib": per_body * len(communities),
            "first_answers_all_seconds": sum(answer) / max(1, len(answer)) * len(communities),
        }
    )
    return result


def _summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds) or [float("nan")]
    return {
        "p50": ordered[len(ordered) // 2] * 1000,
        "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000,
        "mean": sum(ordered) / len(ordered) * 1000,
    }


def child_trace(chunk_file: str) -> dict[str, Any]:
    """Where the model's Python-level memory goes (tracemalloc, by line)."""
    from registry.lookup import PublicDirectory

    gc.collect()
    before = status_mib()["VmRSS"]
    tracemalloc.start()
    chunks = read_chunks(Path(chunk_file))
    directory = PublicDirectory.from_chunks(chunks)
    del chunks
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = status_mib()["VmRSS"] - before
    top = [
        {
            "where": f"{Path(stat.traceback[0].filename).name}:{stat.traceback[0].lineno}",
            "mib": stat.size / MIB,
            "blocks": stat.count,
        }
        for stat in snapshot.statistics("lineno")[:8]
    ]
    return {"traced_mib": traced / MIB, "rss_added_mib": rss, "top": top, "kept": directory.version}


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, timeout=1800
    )
    if out.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- the parent


def measure(name: str, fill: Callable[[Platform, str], float]) -> None:
    with throwaway_database("liaison_bench_directory") as database_url:
        platform = Platform(platform_environment({"LIAISON_LOG_LEVEL": "ERROR"}))
        platform.add_service("registry", database_url)
        try:
            platform.run("registry.migrate")
            fill_seconds = fill(platform, database_url)
            with tempfile.TemporaryDirectory() as scratch:
                chunk_file = str(Path(scratch) / "chunks.bin")
                with registry_api(platform) as (process, _):
                    stream = run_child("stream", platform.grpc_target("registry"), chunk_file)
                    registry = memory_mib(process.pid)
                build = run_child("build", chunk_file)
                trace = run_child("trace", chunk_file)
        finally:
            platform.close()
    report(name, fill_seconds, stream, registry, build, trace)


def fill_demo(platform: Platform, _: str) -> float:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "registry.cli", "load-demo"],
        env=platform.env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def fill_province(_: Platform, database_url: str) -> float:
    began = time.perf_counter()
    copy_into(database_url, province_rows(DISTRICTS))
    return time.perf_counter() - began


def report(
    name: str,
    fill_seconds: float,
    stream: dict[str, Any],
    registry: dict[str, float],
    build: dict[str, Any],
    trace: dict[str, Any],
) -> None:
    counts = build["counts"]
    print(
        f"\n{name}: {counts['streets']} streets, {counts['communities']} communities, "
        f"{counts['stations']} stations, {counts['deputies']} deputies; database filled in "
        f"{fill_seconds:.1f} s; {os.getloadavg()[0]:.2f} load"
    )
    print(
        f"  StreamDirectory -> gateway DirectoryFeed.load(), a fresh process: "
        f"{stream['seconds']:.2f} s end to end ({stream['first_chunk_seconds']:.2f} s to the "
        f"first chunk), {stream['chunks']} chunks, {stream['bytes'] / MIB:.1f} MiB on the wire; "
        f"+{stream['rss_added_mib']:.1f} MiB resident (peak {stream['hwm_mib']:.0f} MiB)"
        + ("; OVER the gateway's 60 s deadline" if stream["over_gateway_deadline"] else "")
    )
    print(
        f"  registry api after serving it: resident {registry['VmRSS']:.0f} MiB, "
        f"peak {registry['VmHWM']:.0f} MiB"
    )
    print(
        f"  from_chunks, a fresh process: parse {build['parse_seconds']:.2f} s + build "
        f"{build['build_seconds']:.2f} s; +{build['rss_added_mib']:.1f} MiB resident"
    )
    match, answer = build["match_ms"], build["answer_ms"]
    print(
        f"  per request, address -> community ({build['sample']} addresses): "
        f"p50 {match['p50']:.3f} ms, p99 {match['p99']:.3f} ms"
        f" ({build['match_refused']} ambiguous or not found"
        + (": the districts repeat road names)" if build["match_refused"] else ")")
    )
    print(
        f"  first request per community and version, answer + body: p50 {answer['p50']:.2f} ms, "
        f"p99 {answer['p99']:.2f} ms; body {build['body_bytes_mean'] / 1024:.1f} KiB; cached "
        f"{build['cached_answer_mib_each'] * 1024:.1f} KiB each, so "
        f"~{build['cached_answers_all_mib']:.0f} MiB once every community was asked "
        f"(~{build['first_answers_all_seconds']:.0f} s of first answers per version)"
    )
    held = build["rss_added_mib"]
    load = max(stream["seconds"], build["parse_seconds"] + build["build_seconds"])
    print(
        f"  goal: under {GOAL_MIB:.0f} MB and {GOAL_SECONDS:.0f} s: "
        f"model {held:.0f} MiB ({'met' if held * MIB / 1e6 < GOAL_MIB else 'NOT met'}), "
        f"with every answer cached {held + build['cached_answers_all_mib']:.0f} MiB "
        f"({'met' if (held + build['cached_answers_all_mib']) * MIB / 1e6 < GOAL_MIB else 'NOT met'}), "
        f"load {load:.1f} s ({'met' if load < GOAL_SECONDS else 'NOT met'})"
    )
    print(
        f"  tracemalloc: {trace['traced_mib']:.1f} MiB of Python objects; the rest of the "
        f"+{held:.1f} MiB resident, ~{max(0.0, held - trace['traced_mib']):.1f} MiB, is the "
        "protobuf messages' own storage (upb arenas, which tracemalloc does not see). Top lines:"
    )
    for line in trace["top"]:
        print(f"    {line['mib']:>7.1f} MiB {line['blocks']:>9} blocks  {line['where']}")
    print(json.dumps({"directory": name, "stream": stream, "build": build, "trace": trace}))


def main() -> None:
    import platform as host

    from google.protobuf.internal import api_implementation

    print(
        f"\npublic directory read model: memory and load time ({os.cpu_count()} cores, "
        f"Python {host.python_version()}, protobuf {api_implementation.Type()})"
    )
    measure("demo district", fill_demo)
    measure(f"province of {DISTRICTS} districts", fill_province)


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "stream": child_stream,
    "build": child_build,
    "trace": child_trace,
}

if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(CHILDREN[sys.argv[1]](*sys.argv[2:]), default=float))
    else:
        main()

"""`make bench`: figures for the registry and the gateway.

1. The gateway's find-my-station-and-deputies read (GET /api/v1/find-station
   by address) at concurrency 1, 16 and 64: requests/s, p50, p99.
2. Outbox-to-consumer event latency at a steady rate of writes: from the
   event's occurred_at (the write's transaction) to its arrival at a RabbitMQ
   consumer bound to registry.events, p50 and p99.

Everything runs on this one machine (load generator included), on PostgreSQL
and RabbitMQ, with the demo district loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform as host
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, datetime

import grpc
import httpx
import kombu

from kit.grpc_client import with_bearer
from kit.testrun import Platform, amqp_uri, running_platform
from liaison.registry.v1 import registry_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as pb_grpc
from registry.demo_data import build_district

READ_SECONDS = float(os.environ.get("BENCH_READ_SECONDS", "10"))
EVENT_RATE = float(os.environ.get("BENCH_EVENT_RATE", "50"))
EVENT_SECONDS = float(os.environ.get("BENCH_EVENT_SECONDS", "10"))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def read_load(base_url: str, addresses: list[str], concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + READ_SECONDS
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def one_client(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < stop_at:
                address = addresses[i % len(addresses)]
                i += concurrency
                started = time.perf_counter()
                try:
                    response = await client.get("/api/v1/find-station", params={"address": address})
                except httpx.HTTPError:  # a dropped connection counts as an error
                    errors += 1
                    continue
                elapsed = time.perf_counter() - started
                if response.status_code == 200:
                    latencies.append(elapsed)
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client(k) for k in range(concurrency)))
        wall = time.perf_counter() - began
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _percentile_ms(wrk_output: str, q: int) -> float:
    """A percentile from wrk's "Latency Distribution" block (its own lines)."""
    block = wrk_output.split("Latency Distribution", 1)[1]
    found = re.search(rf"^\s*{q}%\s+(\S+)\s*$", block, re.MULTILINE)
    assert found, f"wrk printed no {q}th percentile:\n{wrk_output}"
    return _ms(found.group(1))


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk_load(base_url: str, addresses: list[str], concurrency: int) -> dict[str, float]:
    """The same read driven by wrk (C, event loop): far less client CPU."""
    paths = ", ".join(f'"/api/v1/find-station?address={urllib.parse.quote(a)}"' for a in addresses)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % paths)
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{min(2, concurrency)}",
                f"-c{concurrency}",
                f"-d{READ_SECONDS:.0f}s",
                "--latency",
                "--timeout",
                "30s",
                "-s",
                script.name,
                base_url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (
        sum(int(x) for x in socket.groups()) if socket else 0
    )
    return {
        "concurrency": concurrency,
        "requests": requests - errors,
        "errors": errors,
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _percentile_ms(out, 50),
        "p99_ms": _percentile_ms(out, 99),
    }


def event_latency(platform: Platform) -> dict[str, float]:
    """Write streets at a steady rate; time each event to a consumer."""
    queue_name = f"bench-latency-{uuid.uuid4().hex[:8]}"
    exchange = kombu.Exchange("registry.events", type="topic", durable=True)
    queue = kombu.Queue(
        queue_name, exchange=exchange, routing_key="street_changed", auto_delete=True
    )
    latencies: list[float] = []
    expected: set[str] = set()
    done = threading.Event()
    ready = threading.Event()

    def consume() -> None:
        with kombu.Connection(amqp_uri()) as conn:

            def on_message(body: dict, message: kombu.Message) -> None:  # type: ignore[type-arg]
                arrived = datetime.now(UTC)
                if body.get("payload", {}).get("street", {}).get("code") in expected:
                    occurred = datetime.fromisoformat(body["occurred_at"])
                    latencies.append((arrived - occurred).total_seconds())
                message.ack()

            with conn.Consumer([queue], callbacks=[on_message], accept=["json"]):
                ready.set()
                while not done.is_set():
                    with contextlib.suppress(TimeoutError):
                        conn.drain_events(timeout=0.5)

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    ready.wait(10)
    channel = grpc.insecure_channel(platform.grpc_target("registry"))
    stub = pb_grpc.RegistryServiceStub(with_bearer(channel, platform.token("admin")))
    interval = 1.0 / EVENT_RATE
    count = int(EVENT_RATE * EVENT_SECONDS)
    next_at = time.perf_counter()
    run = uuid.uuid4().hex[:6]
    for i in range(count):
        code = f"bench-{run}-{i}"
        expected.add(code)
        stub.CreateStreet(
            pb.CreateStreetRequest(street=pb.Street(code=code, name=f"测试街道{i}")), timeout=10
        )
        next_at += interval
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    deadline = time.monotonic() + 30
    while len(latencies) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    done.set()
    consumer.join(5)
    return {
        "rate_per_s": EVENT_RATE,
        "events": count,
        "received": len(latencies),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


def main() -> None:
    district = build_district()
    addresses = [
        f"广州市天河区{c['address_keywords'][0]}{10 + i % 90}号"
        for i, c in enumerate(district.communities)
        if c["address_keywords"]
    ]
    print(
        f"machine: {os.cpu_count()} cores, {host.machine()}, Python {host.python_version()}; "
        "load generator, gateway, registry api and worker, PostgreSQL and RabbitMQ "
        "all share this machine"
    )
    # One load generator is one client: lift its read limit, so the figures
    # are the read path's and not the rate limiter's 429s.
    unlimited = {"LIAISON_GATEWAY_READ_RATE_PER_MINUTE": str(10**9)}
    with running_platform(extra_env=unlimited) as platform:
        # The registry keeps answers per community until its data changes:
        # measure the steady state, after one pass over every address.
        with httpx.Client(base_url=platform.base_url, timeout=30) as client:
            for address in addresses:
                client.get("/api/v1/find-station", params={"address": address})
        use_wrk = shutil.which("wrk") is not None
        print(
            f"\nfind-station by address over HTTP, {len(addresses)} addresses in turn, "
            f"warm ({READ_SECONDS:.0f} s per level); load from "
            + ("wrk" if use_wrk else "a Python httpx client (install wrk for less client CPU)")
        )
        print(
            f"{'concurrency':>11} {'requests':>9} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        )
        for concurrency in (1, 16, 64):
            if use_wrk:
                r = wrk_load(platform.base_url, addresses, concurrency)
            else:
                r = asyncio.run(read_load(platform.base_url, addresses, concurrency))
            print(
                f"{r['concurrency']:>11} {r['requests']:>9} {r['errors']:>6} {r['rps']:>8.1f} "
                f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}"
            )
        e = event_latency(platform)
        print(
            f"\noutbox -> consumer latency at {e['rate_per_s']:.0f} writes/s for "
            f"{EVENT_SECONDS:.0f} s: received {e['received']}/{e['events']}, "
            f"p50 {e['p50_ms']:.1f} ms, p99 {e['p99_ms']:.1f} ms, mean {e['mean_ms']:.1f} ms"
        )
        print(json.dumps({"event_latency": e}, default=float))


if __name__ == "__main__":
    main()

"""The gateway as several worker processes (`python -m gateway` with
LIAISON_GATEWAY_WORKERS=2), in front of the running registry.

Which worker accepts a connection is the kernel's choice, so the tests
choose for it: a worker paused with SIGSTOP accepts nothing, and every new
connection goes to the other. The supervisor replaces a worker that leaves
its ping unanswered for LIAISON_GATEWAY_WORKER_TIMEOUT_SECONDS: here longer
than any pause.

- Requests are counted once, whichever worker answered them and whichever
  worker answers the scrape: `liaison_gateway_http_requests_total` and
  kit's `grpc_client_handled_total` are the sums of both workers' files.
- The directory's version is the lowest any live worker serves and its age
  the oldest: a worker held back while the other has loaded a newer
  snapshot shows in both.
- A killed worker is replaced; its live gauges are removed (the count of
  workers is 2 again, not 3) and its counters stay; the new worker becomes
  ready.
- SIGTERM ends the supervisor and every worker within the pod's grace
  period, and the supervisor's metrics directory goes with them.
- Rate limits: with Redis one count per client across the workers; without
  it each worker counts on its own.
- One process given PROMETHEUS_MULTIPROC_DIR (the chart's `workers: 1`)
  keeps its metrics there, without an earlier run's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import redis
from google.protobuf.field_mask_pb2 import FieldMask
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from gateway.ratelimit import KEY_PREFIX
from kit.grpc_client import with_bearer
from kit.testrun import Platform, running_platform
from liaison.registry.v1 import registry_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

WORKERS = 2
FIND = "/api/v1/find-station"
BY_ADDRESS = {"address": "林和路"}
# The pod's grace period (charts/) less its preStop pause.
STOP_SECONDS = 25
# Longest a worker is kept paused while the test waits for the other, and
# how long the supervisor lets a worker leave its ping unanswered.
PAUSE_SECONDS = 15.0
WORKER_TIMEOUT_SECONDS = 60
# One request's own limit.
REQUEST_SECONDS = 5.0


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    # Every service: the gateway is ready once each one it calls is serving.
    with running_platform(
        gateway=False,
        demo_template=True,
        extra_env={
            "LIAISON_GATEWAY_WORKERS": str(WORKERS),
            "LIAISON_GATEWAY_WORKER_TIMEOUT_SECONDS": str(WORKER_TIMEOUT_SECONDS),
        },
    ) as running:
        yield running


@contextlib.contextmanager
def started_gateway(platform: Platform, env: dict[str, str] | None = None) -> Iterator[int]:
    """A gateway, every worker ready; its supervisor's pid. Stopped after."""
    popen = platform.start_gateway(env)
    try:
        platform.wait_ready()
        yield popen.pid
    finally:
        if "gateway" in platform.processes:
            platform.stop("gateway")


@pytest.fixture
def gateway(platform: Platform) -> Iterator[int]:
    """A gateway of the test's own."""
    with started_gateway(platform) as pid:
        yield pid


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid`."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # The name (field 2) is in parentheses and may hold spaces.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
    return found


def workers(supervisor: int) -> set[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    found = set()
    for pid in children(supervisor):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
    return found


def metrics_dir(worker: int) -> Path:
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    (value,) = [v for v in environ if v.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    return Path(value.split(b"=", 1)[1].decode())


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextlib.contextmanager
def paused(pid: int) -> Iterator[None]:
    """The worker stopped (SIGSTOP) for the block: the other one accepts."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def get(platform: Platform, path: str, **params: Any) -> httpx.Response:
    """One request on a connection of its own (a kept-alive one stays with its worker)."""
    with httpx.Client(base_url=platform.base_url, timeout=REQUEST_SECONDS) as client:
        return client.get(path, params=params)


def scrape(platform: Platform) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = get(platform, "/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def counted(scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], route: str) -> float:
    return value(
        scraped, "liaison_gateway_http_requests_total", route=route, method="GET", status="200"
    )


def own_count(directory: Path, pid: int, route: str) -> float:
    """What one worker's own counter file holds for the route."""
    (metric,) = [
        m
        for m in MultiProcessCollector.merge([str(directory / f"counter_{pid}.db")])
        if m.name == "liaison_gateway_http_requests"
    ]
    return sum(
        s.value
        for s in metric.samples
        if s.labels.get("route") == route and s.name.endswith("_total")
    )


def counted_by(directory: Path, pid: int, route: str, expected: float) -> float:
    """One worker's own count for the route once it reaches `expected` (a
    worker counts a request just after its answer is sent), or after 5 s."""
    deadline = time.monotonic() + 5
    while (found := own_count(directory, pid, route)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def own_gauge(directory: Path, pid: int, mode: str, name: str) -> float:
    """The value one worker's own gauge file holds."""
    merged = MultiProcessCollector.merge([str(directory / f"gauge_{mode}_{pid}.db")])
    (sample,) = [s for m in merged if m.name == name for s in m.samples]
    return float(sample.value)


def test_each_request_is_counted_once_whichever_worker_answers_or_scrapes(
    platform: Platform, gateway: int
) -> None:
    first, second = sorted(workers(gateway))
    directory = metrics_dir(first)
    before = scrape(platform)
    # Finds from the directory in memory; streets from the registry, over gRPC.
    with paused(second):
        for _ in range(3):
            assert get(platform, FIND, **BY_ADDRESS).status_code == 200
        assert get(platform, "/api/v1/streets").status_code == 200
    with paused(first):
        for _ in range(4):
            assert get(platform, FIND, **BY_ADDRESS).status_code == 200
        assert get(platform, "/api/v1/streets").status_code == 200
    # Each worker answered its share, in its own file.
    assert counted_by(directory, first, FIND, 3) == 3
    assert counted_by(directory, second, FIND, 4) == 4
    for scraper, other in ((first, second), (second, first)):
        with paused(other):
            scraped = scrape(platform)
        assert counted(scraped, FIND) - counted(before, FIND) == 7, f"scraped by {scraper}"
        streets = value(
            scraped,
            "grpc_client_handled_total",
            grpc_type="unary",
            grpc_service="liaison.registry.v1.RegistryService",
            grpc_method="ListStreets",
            grpc_code="OK",
        ) - value(
            before,
            "grpc_client_handled_total",
            grpc_type="unary",
            grpc_service="liaison.registry.v1.RegistryService",
            grpc_method="ListStreets",
            grpc_code="OK",
        )
        assert streets == 2, f"scraped by {scraper}"
        assert value(scraped, "liaison_gateway_workers") == WORKERS
        # Histograms are summed too.
        assert (
            value(
                scraped,
                "liaison_gateway_http_request_duration_seconds_count",
                route=FIND,
                method="GET",
            )
            - value(
                before,
                "liaison_gateway_http_request_duration_seconds_count",
                route=FIND,
                method="GET",
            )
            == 7
        )


def _rename_a_street(platform: Platform) -> None:
    with grpc.insecure_channel(platform.grpc_target("registry")) as channel:
        registry = pb_grpc.RegistryServiceStub(with_bearer(channel, platform.token("admin")))
        street = registry.ListStreets(pb.ListStreetsRequest(), timeout=10).streets[0]
        registry.UpdateStreet(
            pb.UpdateStreetRequest(
                street=pb.Street(id=street.id, name=f"{street.name}·"),
                update_mask=FieldMask(paths=["name"]),
            ),
            timeout=10,
        )


def _served_version(platform: Platform) -> int:
    return int(get(platform, FIND, **BY_ADDRESS).headers["x-directory-version"])


def test_the_directory_gauges_show_the_stalest_worker(platform: Platform, gateway: int) -> None:
    age = "liaison_gateway_directory_age_seconds"
    held, current = sorted(workers(gateway))
    directory = metrics_dir(held)
    old = _served_version(platform)
    scraped = scrape(platform)
    assert value(scraped, "liaison_gateway_directory_version") == old
    assert 0 <= value(scraped, age) < 60
    with paused(held):
        _rename_a_street(platform)
        deadline = time.monotonic() + PAUSE_SECONDS
        new = old
        while new == old and time.monotonic() < deadline:
            new = _served_version(platform)  # the current worker answers
        assert new > old, "the running worker did not load the change in time"
        scraped = scrape(platform)
        held_age = own_gauge(directory, held, "livemax", age)
        current_age = own_gauge(directory, current, "livemax", age)
    # The lowest version served is the held worker's. Both follow the
    # registry's events, so neither is behind (the age is 0; a worker that
    # stopped following, its broker lost, says how long: gateway/tests).
    assert value(scraped, "liaison_gateway_directory_version") == old
    assert max(held_age, current_age, value(scraped, age)) < 1.0

    # Resumed, the held worker catches up and the gauges follow.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        scraped = scrape(platform)
        if value(scraped, "liaison_gateway_directory_version") == new:
            break
        time.sleep(0.2)
    assert value(scraped, "liaison_gateway_directory_version") == new
    assert value(scraped, age) < 20


def test_a_killed_worker_is_replaced_and_becomes_ready(platform: Platform, gateway: int) -> None:
    killed, kept = sorted(workers(gateway))
    directory = metrics_dir(killed)
    with paused(kept):
        assert get(platform, FIND, **BY_ADDRESS).status_code == 200  # the killed one counts it
    assert counted_by(directory, killed, FIND, 1) == 1
    os.kill(killed, signal.SIGKILL)

    # The supervisor may be waiting on a ping it sent the worker just before
    # it died (its pipe's other end is still open in the supervisor, so no
    # EOF comes): it learns of the death when that ping times out.
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS + 30
    while time.monotonic() < deadline and not workers(gateway) - {kept, killed}:
        time.sleep(0.1)
    (replacement,) = workers(gateway) - {kept, killed}
    assert workers(gateway) == {kept, replacement} and not alive(killed)
    # Its live gauges go with it (the supervisor removes them once the
    # replacement is started); its counts stay in the totals.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and list(directory.glob(f"gauge_live*_{killed}.db")):
        time.sleep(0.1)
    assert not list(directory.glob(f"gauge_live*_{killed}.db"))
    assert own_count(directory, killed, FIND) == 1

    # The replacement answers /readyz itself once its directory is loaded.
    # Its app is built once its gauges have a file; only then is the other
    # worker paused, so a pause never waits out the replacement's start.
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline and not (directory / f"gauge_livesum_{replacement}.db").exists()
    ):
        time.sleep(0.1)
    ready = None
    while time.monotonic() < deadline:
        with paused(kept), contextlib.suppress(httpx.TransportError):
            ready = get(platform, "/readyz")
        if ready is not None and ready.status_code == 200:
            break
        time.sleep(0.5)
    assert ready is not None and ready.status_code == 200, ready and ready.text
    assert ready.json()["directory"] == "loaded"
    assert value(scrape(platform), "liaison_gateway_workers") == WORKERS


def test_sigterm_ends_the_supervisor_and_every_worker_in_time(
    platform: Platform, gateway: int
) -> None:
    processes = children(gateway)  # the workers and multiprocessing's resource tracker
    assert len(workers(gateway)) == WORKERS
    directory = metrics_dir(next(iter(workers(gateway))))
    assert directory.is_dir()

    started = time.monotonic()
    assert platform.stop("gateway", timeout=STOP_SECONDS) == 0
    assert time.monotonic() - started < STOP_SECONDS
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in processes):
        time.sleep(0.1)
    assert not [pid for pid in processes if alive(pid)]
    assert not directory.exists(), "the supervisor's metrics directory is removed"


READS_PER_MINUTE = 3
REDIS_URL = "redis://127.0.0.1:6379/0"


def _reads(platform: Platform, count: int) -> list[int]:
    return [get(platform, FIND, **BY_ADDRESS).status_code for _ in range(count)]


def _local_counts(connection: redis.Redis) -> list[bytes]:
    """The shared counts of this machine's own address."""
    return list(connection.scan_iter(f"{KEY_PREFIX}*ip:127.0.0.1*"))


@pytest.fixture
def redis_counts() -> Iterator[redis.Redis]:
    """Redis (a ConnectionError when it is down), without this machine's
    counts before and after the test."""
    with redis.Redis.from_url(REDIS_URL) as connection:
        for key in _local_counts(connection):
            connection.delete(key)
        yield connection
        for key in _local_counts(connection):
            connection.delete(key)


@pytest.mark.redis
def test_with_redis_the_workers_share_one_rate_limit(
    platform: Platform, redis_counts: redis.Redis
) -> None:
    env = {
        "LIAISON_RATE_LIMIT_REDIS_URL": REDIS_URL,
        "LIAISON_GATEWAY_READ_RATE_PER_MINUTE": str(READS_PER_MINUTE),
    }
    with started_gateway(platform, env) as supervisor:
        first, second = sorted(workers(supervisor))
        with paused(second):
            answered = _reads(platform, 2)
        with paused(first):
            answered += _reads(platform, 2)
        with paused(second):
            answered += _reads(platform, 1)
    assert answered == [200, 200, 200, 429, 429]
    assert _local_counts(redis_counts), "counted in Redis"


def test_without_redis_each_worker_counts_on_its_own(platform: Platform) -> None:
    env = {"LIAISON_GATEWAY_READ_RATE_PER_MINUTE": str(READS_PER_MINUTE)}
    with started_gateway(platform, env) as supervisor:
        first, second = sorted(workers(supervisor))
        with paused(second):
            by_first = _reads(platform, READS_PER_MINUTE + 1)
        with paused(first):
            by_second = _reads(platform, READS_PER_MINUTE + 1)
    # A client gets the rate from each worker: workers x rate a minute per pod.
    assert by_first == by_second == [200] * READS_PER_MINUTE + [429]


# An earlier run of the gateway that left its files: 1000 finds counted, a
# directory of version 1 served.
EARLIER_RUN = """
from gateway.directory.feed import DirectoryFeed
from gateway.observability import GatewayMetrics
metrics = GatewayMetrics()
metrics.http_requests.labels("/api/v1/find-station", "GET", "200").inc(1000)
DirectoryFeed(None, None, metrics.registry).version.set(1)
"""


def test_one_process_given_a_metrics_directory_starts_it_afresh(
    platform: Platform, tmp_path: Path
) -> None:
    given = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", EARLIER_RUN], env={**os.environ, **given}, check=True)
    assert list(tmp_path.glob("*.db"))
    with started_gateway(platform, {"LIAISON_GATEWAY_WORKERS": "1", **given}) as process:
        assert not workers(process), "one process serves alone"
        served = _served_version(platform)
        scraped = scrape(platform)
        files = {path.name for path in tmp_path.glob("*.db")}
    assert value(scraped, "liaison_gateway_directory_version") == served > 1
    assert counted(scraped, FIND) == 1
    assert value(scraped, "liaison_gateway_workers") == 1
    assert files and all(name.endswith(f"_{process}.db") for name in files)

"""Worker processes: their number, their metrics directory, and how their
metrics add up (the supervisor itself runs in tests/e2e/test_gateway_workers.py).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.multiprocess import mark_process_dead
from prometheus_client.parser import text_string_to_metric_families

from gateway import cli, config
from gateway.config import GatewaySettings
from gateway.observability import MULTIPROC_DIR_ENV, GatewayMetrics, multiprocess_dir
from kit.settings import SettingsError


def test_workers_default_to_the_cpus_the_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIAISON_GATEWAY_WORKERS", raising=False)
    monkeypatch.setattr(config.os, "sched_getaffinity", lambda _pid: {0, 2, 5})
    assert GatewaySettings.load().workers == 3
    monkeypatch.setattr(config.os, "sched_getaffinity", lambda _pid: set())
    assert GatewaySettings.load().workers == 1
    monkeypatch.setenv("LIAISON_GATEWAY_WORKERS", "4")
    assert GatewaySettings.load().workers == 4


@pytest.mark.parametrize(
    "name", ["LIAISON_GATEWAY_WORKERS", "LIAISON_GATEWAY_WORKER_TIMEOUT_SECONDS"]
)
@pytest.mark.parametrize("raw", ["0", "-2", "two"])
def test_workers_and_their_timeout_are_whole_numbers_from_one(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str
) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(SettingsError, match=name):
        GatewaySettings.load()
    monkeypatch.setenv(name, "7")
    loaded = GatewaySettings.load()
    assert 7 in (loaded.workers, loaded.worker_timeout_seconds)


def test_a_given_metrics_directory_is_emptied_of_an_earlier_runs_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_12.db").write_bytes(b"old")
    (given / "gauge_livemax_12.db").write_bytes(b"old")
    (given / "README").write_text("not ours")
    monkeypatch.setenv(MULTIPROC_DIR_ENV, str(given))
    with cli.metrics_directory() as path:
        assert Path(path) == given
        assert sorted(p.name for p in given.iterdir()) == ["README"]
    assert given.is_dir(), "the operator's directory stays"


def test_without_one_a_private_directory_lives_as_long_as_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROC_DIR_ENV, raising=False)
    with cli.metrics_directory() as path:
        made = Path(path)
        assert made.is_dir() and not list(made.iterdir())
        assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert not made.exists()


def test_in_one_process_the_metrics_are_its_own_and_refreshed_at_each_scrape() -> None:
    assert multiprocess_dir() is None
    metrics = GatewayMetrics()
    scrapes: list[int] = []
    metrics.refresh(lambda: scrapes.append(1))
    text = metrics.exposition().decode()
    assert scrapes == [1]
    assert "liaison_gateway_workers 1.0" in text
    # The process-wide registry too: kit's client metrics, the process collectors.
    assert "python_info{" in text


# One worker: counts `n` requests and serves a directory of version 100 + n,
# loaded n seconds ago; prints its pid.
WORKER = """
import os, sys, time
from gateway.directory.feed import DirectoryFeed
from gateway.observability import GatewayMetrics
n = int(sys.argv[1])
metrics = GatewayMetrics()
for _ in range(n):
    metrics.http_requests.labels("/api/v1/find-station", "GET", "200").inc()
    metrics.http_latency.labels("/api/v1/find-station", "GET").observe(0.01 * n)
feed = DirectoryFeed(None, None, metrics.registry)
feed.loaded_at = time.time() - n
feed.version.set(100 + n)
feed.refresh_age()
print(os.getpid())
"""
SCRAPE = """
import sys
from gateway.observability import GatewayMetrics
sys.stdout.buffer.write(GatewayMetrics().exposition())
"""


def _run(code: str, *args: str, directory: Path) -> str:
    env = {**os.environ, MULTIPROC_DIR_ENV: str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode()


def _samples(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels or sample.labels.get("route") == "/api/v1/find-station"
        if "le" not in sample.labels
    }


def test_across_processes_counts_add_up_and_gauges_show_the_stalest_live_one(
    tmp_path: Path,
) -> None:
    pids = {n: int(_run(WORKER, str(n), directory=tmp_path)) for n in (2, 5, 9)}
    # The scraping process counts itself as a worker, with no directory of its own.
    found = _samples(_run(SCRAPE, directory=tmp_path))
    assert found["liaison_gateway_http_requests_total"] == 16
    assert found["liaison_gateway_http_request_duration_seconds_count"] == 16
    assert found["liaison_gateway_workers"] == 4
    assert found["liaison_gateway_directory_version"] == 102
    assert 9 <= found["liaison_gateway_directory_age_seconds"] < 15
    assert "process_cpu_seconds_total" not in found, "a scrape speaks for every worker"

    # Once a worker is reaped, its gauges drop out and its counts stay.
    mark_process_dead(pids[9], str(tmp_path))
    mark_process_dead(pids[2], str(tmp_path))
    found = _samples(_run(SCRAPE, directory=tmp_path))
    assert found["liaison_gateway_http_requests_total"] == 16
    assert found["liaison_gateway_directory_version"] == 105
    assert 5 <= found["liaison_gateway_directory_age_seconds"] < 9

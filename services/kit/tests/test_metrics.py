"""The metric definitions and the /metrics, /healthz, /readyz server."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from prometheus_client import REGISTRY

from kit import metrics
from kit.testrun import free_port


def _get(port: int, path: str, accept: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if accept is not None:
        request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def _wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _get_when_up(port: int, path: str) -> tuple[int, str, str]:
    end = time.monotonic() + 5
    while True:
        try:
            return _get(port, path)
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


EXPECTED_LABELS = {
    "grpc_server_started_total": ("grpc_type", "grpc_service", "grpc_method"),
    "grpc_server_handled_total": ("grpc_type", "grpc_service", "grpc_method", "grpc_code"),
    "grpc_server_handling_seconds": ("grpc_type", "grpc_service", "grpc_method"),
    "grpc_client_started_total": ("grpc_type", "grpc_service", "grpc_method"),
    "grpc_client_handled_total": ("grpc_type", "grpc_service", "grpc_method", "grpc_code"),
    "grpc_client_handling_seconds": ("grpc_type", "grpc_service", "grpc_method"),
    "liaison_events_published_total": ("service", "type"),
    "liaison_events_consumed_total": ("service", "type", "handler"),
    "liaison_events_duplicate_total": ("service", "type", "handler"),
    "liaison_events_failed_total": ("service", "type", "handler"),
    "liaison_events_dead_lettered_total": ("service", "type", "handler"),
    "liaison_outbox_backlog": ("service",),
    "liaison_outbox_oldest_age_seconds": ("service",),
    "liaison_consumer_lag_messages": ("service", "queue"),
    "liaison_event_latency_seconds": ("service", "type"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_LABELS))
def test_metric_is_defined_with_its_labels(name: str) -> None:
    metric = getattr(metrics, name)
    assert tuple(metric._labelnames) == EXPECTED_LABELS[name]
    assert metric in REGISTRY._collector_to_names
    # The exposed name is the documented one (Counters add _total themselves).
    exposed = {family.name for family in metric.collect()}
    assert exposed == {name.removesuffix("_total")}


def test_grpc_code_labels_are_go_names() -> None:
    assert metrics.grpc_code_label(grpc.StatusCode.OK) == "OK"
    assert metrics.grpc_code_label(grpc.StatusCode.NOT_FOUND) == "NotFound"
    assert metrics.grpc_code_label(grpc.StatusCode.CANCELLED) == "Canceled"
    assert metrics.grpc_code_label(grpc.StatusCode.DEADLINE_EXCEEDED) == "DeadlineExceeded"
    assert metrics.grpc_code_label(None) == "Unknown"
    labels = {metrics.grpc_code_label(code) for code in grpc.StatusCode}
    assert len(labels) == len(grpc.StatusCode)
    assert all(re.fullmatch(r"OK|[A-Z][a-z]+(?:[A-Z][a-z]+)*", label) for label in labels)


def test_event_metrics_record() -> None:
    labels = {"service": "referral", "type": "letter_routed"}
    before = REGISTRY.get_sample_value("liaison_events_published_total", labels) or 0.0
    metrics.liaison_events_published_total.labels(**labels).inc()
    assert REGISTRY.get_sample_value("liaison_events_published_total", labels) == before + 1

    metrics.liaison_outbox_backlog.labels(service="referral").set(12)
    assert REGISTRY.get_sample_value("liaison_outbox_backlog", {"service": "referral"}) == 12

    metrics.liaison_event_latency_seconds.labels(**labels).observe(0.3)
    bucket = REGISTRY.get_sample_value(
        "liaison_event_latency_seconds_bucket", {**labels, "le": "0.5"}
    )
    assert bucket is not None and bucket >= 1


def test_port_zero_starts_nothing() -> None:
    threads = {t.name for t in threading.enumerate()}
    metrics.start_metrics_server(0)
    assert {t.name for t in threading.enumerate()} == threads


def test_metrics_health_and_readiness_endpoints() -> None:
    state: dict[str, bool | None] = {"health": True, "ready": False}

    def ready() -> bool:
        if state["ready"] is None:
            raise RuntimeError("cannot tell")
        return bool(state["ready"])

    port = free_port()
    metrics.start_metrics_server(port, health=lambda: bool(state["health"]), ready=ready)
    metrics.liaison_events_consumed_total.labels(
        service="duties", type="letter_answered", handler="record_answer"
    ).inc()

    status, content_type, body = _get_when_up(port, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    assert "# TYPE grpc_server_handled_total counter" in body
    assert (
        'liaison_events_consumed_total{handler="record_answer",service="duties",'
        'type="letter_answered"}' in body
    )

    status, content_type, body = _get(port, "/metrics", accept="application/openmetrics-text")
    assert status == 200
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")

    assert _get(port, "/healthz")[0] == 200
    assert _get(port, "/readyz")[0] == 503
    state["ready"] = True
    assert _get(port, "/readyz")[0] == 200
    state["ready"] = None  # a check that raises is a failing check
    assert _get(port, "/readyz")[0] == 503
    state["health"] = False
    assert _get(port, "/healthz")[0] == 503
    assert _get(port, "/healthz?verbose=1")[0] == 503
    assert _get(port, "/nothing")[0] == 404


def test_checks_default_to_healthy() -> None:
    port = free_port()
    metrics.start_metrics_server(port)
    assert _get_when_up(port, "/healthz")[0] == 200
    assert _get(port, "/readyz")[0] == 200


EVENTLET_SCRIPT = textwrap.dedent(
    """
    import eventlet

    eventlet.monkey_patch()

    import sys

    from kit import metrics

    real_threading = eventlet.patcher.original("threading")
    main_thread = real_threading.get_ident()


    def in_the_hub():
        # True only when called from the main OS thread, where the hub runs.
        return real_threading.get_ident() == main_thread


    port, stale = int(sys.argv[1]), float(sys.argv[2])
    metrics.CHECK_STALE_SECONDS = stale
    metrics.start_metrics_server(port, health=in_the_hub, ready=in_the_hub)
    metrics.liaison_events_failed_total.labels(service="s", type="t", handler="h").inc()
    eventlet.sleep(0.3)  # the checks run once in the hub
    names = {t.name for t in real_threading.enumerate()}
    print("started", "metrics-http-%d" % port in names, flush=True)
    # Block the hub with the real sleep: a greenthread server would stall now.
    eventlet.patcher.original("time").sleep(30)
    """
)


@contextlib.contextmanager
def _patched_process(tmp_path: Path, stale: float) -> Iterator[int]:
    """A process that monkey-patches, starts the server, then blocks its hub."""
    script = tmp_path / "patched.py"
    script.write_text(EVENTLET_SCRIPT)
    port = free_port()
    errors = tmp_path / "stderr.txt"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(script), str(port), str(stale)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "started True", errors.read_text()
        yield port
    finally:
        process.kill()
        process.wait()


def test_server_runs_on_a_real_thread_under_eventlet(tmp_path: Path) -> None:
    with _patched_process(tmp_path, stale=60) as port:
        # The main thread's hub is blocked, yet the server answers, and the
        # checks (which ran in the hub) pass.
        status, _, body = _get_when_up(port, "/metrics")
        assert status == 200
        assert 'liaison_events_failed_total{handler="h",service="s",type="t"} 1.0' in body
        assert _get(port, "/healthz")[0] == 200
        assert _get(port, "/readyz")[0] == 200


def test_a_stuck_hub_fails_the_checks(tmp_path: Path) -> None:
    with _patched_process(tmp_path, stale=0.5) as port:
        assert _wait_until(lambda: _get(port, "/healthz")[0] == 503)
        assert _get(port, "/readyz")[0] == 503
        assert _get(port, "/metrics")[0] == 200

"""`make bench`'s notifications figures (bench/notifications_bench.py) run at
a tiny size, as `make bench` runs them (a process of its own, on the local
PostgreSQL and RabbitMQ, the service's own worker and mail relay): every
event published came out as one message to its booker, every event reached
the baselines' bare consumers, every booker's email was sent by the worker
and recorded once by the relay,
and each latency is measured from every event published at the steady rate.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.skipif(
        shutil.which("rabbitmqctl") is None,
        reason="the bench's virtual host of its own needs rabbitmqctl on the PATH",
    ),
]

BENCH = Path(__file__).resolve().parents[1] / "bench" / "notifications_bench.py"
EVENTS, EMAILS, RATE, SECONDS = 30, 8, 20, 1


def test_the_bench_counts_every_event_message_and_email_at_a_tiny_size() -> None:
    env = {
        **os.environ,
        "BENCH_NOTIFY_EVENTS": str(EVENTS),
        "BENCH_NOTIFY_WORKERS": "1",
        "BENCH_NOTIFY_EMAILS": str(EMAILS),
        "BENCH_NOTIFY_RATE": str(RATE),
        "BENCH_NOTIFY_SECONDS": str(SECONDS),
    }
    done = subprocess.run(
        [sys.executable, str(BENCH)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=BENCH.parents[1],
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("machine: ")
    figures = json.loads(lines[-1])

    (burst,) = figures["bursts"]
    assert burst["workers"] == 1 and burst["messages"] == EVENTS
    assert burst["per_s"] > 0 and burst["to_inbox_s"] > 0
    # Every booker's email sent by the worker, received once by the relay.
    assert burst["emails_sent"] == burst["emails_recorded"] == EVENTS
    assert burst["states"] == {
        "inbox delivered": EVENTS,
        "email sent": EVENTS,
        "sms suppressed": EVENTS,
        "wechat suppressed": EVENTS,
    }
    assert burst["emails_per_s"] > 0
    assert figures["kombu_ack"]["received"] == EVENTS
    assert figures["plain_insert"]["per_s"] > 0
    assert figures["plain_emails"]["emails"] == EMAILS and figures["plain_emails"]["per_s"] > 0

    worker, bare = figures["latency"]["worker"], figures["latency"]["kombu"]
    assert worker["count"] == bare["count"] == RATE * SECONDS
    assert 0 < worker["p50_ms"] <= worker["p99_ms"] <= worker["max_ms"]
    assert 0 < bare["p50_ms"] <= bare["p99_ms"] <= bare["max_ms"]
    assert "event to inbox at" in done.stdout and "baseline: bare kombu" in done.stdout

"""schemathesis against the running platform: the gateway in front of the
registry on PostgreSQL, as clients reach it.

Every operation of /openapi.json, every check, every phase (examples,
coverage, fuzzing, and the stateful phase, whose links schemathesis infers
from the schemas and the Location headers of creates), as the admin (who may
call every operation). With a fixed seed in every test run, so a failure
reproduces; with a random one, printed, by `make explore` (marker
`explore`), so that each such run explores further. No 5xx, no status
code or response the schema does not document, no request the schema refuses
accepted, and none it allows refused by the gateway (the services' rules
across records, which OpenAPI cannot state, may refuse it: a referenced
record must be active, a station has one head).

The figures of each run (operations, cases generated, failures) are printed
and written to var/schemathesis-<seed>.txt.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import fuzzing
from kit.testrun import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

ROOT = Path(__file__).resolve().parents[2]
FIXED_SEED = 20261126
# Cases per operation and phase: enough to find what the in-process run
# cannot (the registry's own answers), within a few minutes on two cores.
MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def platform(unlimited_platform: Platform) -> Platform:
    # The fuzzer is one client making thousands of calls.
    return unlimited_platform


def run_schemathesis(platform: Platform, seed: int) -> str:
    """The CLI's run against the platform; its output. Fails on any failure."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(fuzzing.CONFIG_FILE),
        "--no-color",
        "run",
        f"{platform.base_url}/openapi.json",
        "--checks",
        "all",
        # What a schema allows, the services' rules across records may still
        # refuse: gateway.fuzzing's check holds the gateway alone to it.
        "--exclude-checks",
        "positive_data_acceptance",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--seed",
        str(seed),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--header",
        f"Authorization: Bearer {platform.token('admin')}",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "gateway.fuzzing"}
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1500, check=False
    )
    output = done.stdout + done.stderr
    report = ROOT / "var" / f"schemathesis-{seed}.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(output)
    print(summary(output))
    assert done.returncode == 0, f"schemathesis found failures (seed {seed}):\n{output[-20000:]}"
    return output


def summary(output: str) -> str:
    """The run's closing figures, as schemathesis prints them."""
    lines = [line for line in output.splitlines() if line.strip()]
    keep = [
        line
        for line in lines
        if re.search(r"operations|test cases|generated|passed|failed|Seed|phase", line, re.I)
    ]
    return "\n".join(keep[-20:])


# A whole run over every operation (138 of them) takes minutes on a busy
# machine, past the suite's default of 300 s per test; it has its own limit
# (the subprocess's 1500 s).
LONG = pytest.mark.timeout(1600)


@LONG
def test_no_failure_with_a_fixed_seed(platform: Platform) -> None:
    output = run_schemathesis(platform, FIXED_SEED)
    assert re.search(r"Stateful", output), "the stateful phase ran"


@LONG
@pytest.mark.explore
def test_no_failure_with_a_random_seed(platform: Platform) -> None:
    seed = random.SystemRandom().randrange(2**31)
    print(f"schemathesis seed {seed} (run again with it to reproduce)")
    run_schemathesis(platform, seed)

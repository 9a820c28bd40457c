"""The example department client (examples/department_client) against the
running platform: it gets its token from the gateway's development issuer
as the demo department's system, watches the referral service's gRPC port,
and acknowledges and answers the letter the government office assigns to
the department, through the gateway, while it watches."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kit.testrun import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "examples" / "department_client" / "client.py"


@pytest.fixture(scope="module")
def platform(unlimited_platform: Platform) -> Platform:
    return unlimited_platform


@pytest.fixture(scope="module")
def http(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as client:
        yield client


def headers(http: httpx.Client, account: str) -> dict[str, str]:
    reply = http.post("/api/v1/dev/tokens", json={"account": account})
    assert reply.status_code == 200, reply.text
    return {"authorization": f"Bearer {reply.json()['access_token']}"}


def step(http: httpx.Client, letter_id: int, action: str, account: str, **body: Any) -> Any:
    reply = http.post(
        f"/api/v1/letters/{letter_id}:{action}", json=body, headers=headers(http, account)
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def letter_at_assignment(http: httpx.Client) -> int:
    """A letter opened from an opinion of street 1 handed on, taken the
    district's way to the government office."""
    admin = headers(http, "admin")
    station = http.get("/api/v1/stations", params={"street_id": 1}).json()["items"][0]
    body = {"category": "transport", "content": "楼道照明损坏", "raiser_name": "王女士",
            "raiser_phone": "13900000000", "community_id": station["community_ids"][0]}  # fmt: skip
    opinion = http.post("/api/v1/opinions", json=body, headers=admin)
    assert opinion.status_code == 201, opinion.text
    code = opinion.json()["tracking_code"]
    handed = http.post(f"/api/v1/opinions/{opinion.json()['id']}:hand-on", json={}, headers=admin)
    assert handed.status_code == 200, handed.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = http.get("/api/v1/letters", params={"page_size": 500}, headers=admin).json()
        found = [x for x in page["items"] if x["tracking_code"] == code]
        if found:
            letter_id = int(found[0]["id"])
            step(http, letter_id, "decide-jurisdiction", "street-committee", route="district")
            step(http, letter_id, "review", "working-body", accept=True)
            step(http, letter_id, "dispatch", "standing-committee-office")
            return letter_id
        time.sleep(0.3)
    raise AssertionError(f"no letter for {code} after 60 s")


def test_the_example_client_answers_a_letter_assigned_while_it_watches(
    platform: Platform, http: httpx.Client, tmp_path: Path
) -> None:
    letter_id = letter_at_assignment(http)
    state = tmp_path / "position"
    base = [sys.executable, str(CLIENT), "--gateway", platform.base_url,
            "--target", platform.grpc_target("referral"), "--state", str(state)]  # fmt: skip
    # A system started on a district with letters already: it works through
    # the demo's letters sent to the department first, keeping its position.
    backlog = subprocess.run([*base, "--seconds", "15", "--answer", ""], capture_output=True,
                             text=True, cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert backlog.returncode == 0, backlog.stdout + backlog.stderr
    assert state.read_text().strip(), "the position was not kept"
    command = [*base, "--max-letters", "1", "--seconds", "120", "--answer", "已修复楼道照明"]
    client = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    try:
        time.sleep(3)  # watching already: the assignment comes after
        assert client.poll() is None, client.communicate()[0]
        got = step(http, letter_id, "assign", "government-office", lead_department_id=52)
        assert got["stage"] == "awaiting_receipt"
        out, _ = client.communicate(timeout=120)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert client.returncode == 0, out
    assert f"letter {letter_id}" in out and "acknowledged receipt" in out, out
    assert "handled 1 letter(s)" in out, out
    letter = http.get(f"/api/v1/letters/{letter_id}", headers=headers(http, "admin")).json()
    assert letter["stage"] == "answered"
    assert letter["answers"][-1]["text"] == "已修复楼道照明"
    assert int(state.read_text()) > 0

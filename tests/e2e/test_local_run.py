"""`make up` loads the demo district once: a restart keeps what people
changed through the API instead of loading the demo over it."""

from __future__ import annotations

from typing import Any

import pytest

# `make up` loads every service's demo into its SQLite files: minutes on two
# busy cores, past the suite's 300 s a test (its start has its own limit).
pytestmark = [pytest.mark.e2e, pytest.mark.rabbitmq, pytest.mark.timeout(1200)]


def streets(run: Any) -> list[dict[str, Any]]:
    status, page = run.call("GET", "/api/v1/streets?page_size=500&include_inactive=true")
    assert status == 200, page
    assert page["next_page_token"] is None
    return list(page["items"])


def test_a_restart_keeps_a_changed_street_code(local_run: Any) -> None:
    local_run.start()
    status, token = local_run.call("POST", "/api/v1/dev/tokens", {"account": "admin"})
    assert status == 200, token
    before = streets(local_run)
    street = before[0]
    old_code, new_code = street["code"], f"{street['code']}-renamed"
    status, changed = local_run.call(
        "PATCH", f"/api/v1/streets/{street['id']}", {"code": new_code}, token["access_token"]
    )
    assert status == 200, changed
    assert local_run.stop() == 0

    local_run.start()

    after = streets(local_run)
    assert len(after) == len(before), "a street came back as a second record"
    codes = {s["id"]: s["code"] for s in after}
    assert codes[street["id"]] == new_code
    assert old_code not in codes.values()
    assert "the demo district was not loaded" in local_run.log()

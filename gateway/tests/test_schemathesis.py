"""Schemathesis against /openapi.json: every operation, every check, a fixed seed.

The gateway runs in process over the fake registry of conftest.py (the
reception and referral services' operations are left to the run against the platform),
so what this finds is the gateway's: a 5xx, a response unlike its schema, a request
the schema allows but the gateway refuses, or the other way round.

The rules of the API that OpenAPI cannot say are kept by positive cases
through gateway.fuzzing's hook, shared with the run against the running
platform (tests/e2e/test_schemathesis_e2e.py), which adds the stateful phase.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import schemathesis
from grpc_health.v1 import health_pb2
from schemathesis import Case

from gateway import fuzzing
from gateway.app import create_app
from gateway.auth import DEMO_ACCOUNTS
from gateway.config import GatewaySettings
from gateway.upstream import UPSTREAMS
from kit.auth import AuthSettings, DevIssuer

SEED = 20261126
CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": 25},
    "checks": {"enabled": True},
    # The in-process run over a fake: examples, coverage and fuzzing. The
    # stateful phase runs against the real platform (tests/e2e).
    "phases": {"stateful": {"enabled": False}},
    "operations": tomllib.loads(fuzzing.CONFIG_FILE.read_text())["operations"],
}


# Built at import, for schemathesis to read its schema; the fake registry's
# address is known only once its fixture runs (see `registry_address`).
SETTINGS = GatewaySettings(
    targets={u.name: "unset:0" for u in UPSTREAMS},
    read_rate_per_minute=10**9,
    write_rate_per_minute=10**9,
    auth=AuthSettings(env="test", dev_issuer=True).with_secret(),
    directory=False,
)
APP = create_app(SETTINGS)
ADMIN_TOKEN = DevIssuer(SETTINGS.auth).issue(next(a for a in DEMO_ACCOUNTS if a.account == "admin"))
# Over the fake registry only: the reception and referral services'
# operations are fuzzed against the real services (tests/e2e/test_schemathesis_e2e.py),
# Open311's too (they read the reception service: tests/e2e/test_open311_e2e.py).
schema = (
    schemathesis.openapi.from_asgi(
        "/openapi.json", APP, config=schemathesis.Config.from_dict(CONFIG)
    )
    .exclude(tag="reception")
    .exclude(tag="referral")
    .exclude(tag="open311")
    .exclude(tag="duties")  # fuzzed against the real duties service (tests/e2e)
    .exclude(tag="notifications")  # fuzzed against the real notifications service (tests/e2e)
)
schema.config.update(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})


@pytest.fixture(scope="module", autouse=True)
def fake_registry(registry_server: Any) -> None:
    # Module-scoped: hypothesis runs many cases per test and refuses a
    # function-scoped fixture. The records the cases create pile up, which is
    # what a registry in use looks like.
    registry_server.fake.reset()
    registry_server.health.set("", health_pb2.HealthCheckResponse.SERVING)
    # Each client opens its channel on the first call; the fake's server
    # answers every service's health (and the reception service's audit).
    for upstream in UPSTREAMS:
        APP.state.upstreams[upstream.name].target = registry_server.target


@schema.parametrize()
def test_the_api_keeps_its_schema(case: Case) -> None:
    case.call_and_validate()

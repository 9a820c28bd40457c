"""Schemathesis against /openapi.json: every operation, every check, a fixed seed.

The gateway runs in process over the fake registry of conftest.py, so what
this finds is the gateway's: a 5xx, a response unlike its schema, a request
the schema allows but the gateway refuses, or the other way round.

Two rules of the API are beyond what OpenAPI can say, so positive cases are
made to keep them (negative cases are left as generated):
- a page token is opaque: only one the registry gave out is valid;
- find-station takes exactly one of `community_id`, `community_code`,
  `address`.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from grpc_health.v1 import health_pb2
from schemathesis import Case, HookContext
from schemathesis.core.parameters import ParameterLocation

from gateway.app import create_app
from gateway.auth import DEMO_ACCOUNTS
from gateway.config import GatewaySettings
from kit.auth import AuthSettings, DevIssuer

SEED = 20261126
FIND_STATION_KEYS = ("community_id", "community_code", "address")
CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": 25},
    "checks": {"enabled": True},
    # Examples, coverage and fuzzing; stateful testing needs OpenAPI links,
    # which the API does not declare.
    "phases": {"stateful": {"enabled": False}},
    "operations": [
        {
            # An uploaded file is bytes whatever the schema says of it, and
            # whether they are a roster is the registry's to say: neither a
            # "valid" nor an "invalid" file means anything to these two
            # checks. Every other check still runs on the import.
            "include-operation-id": "import_roster",
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                "negative_data_rejection": {"enabled": False},
            },
        }
    ],
}


def _query_is_positive(case: Case) -> bool:
    return not (case.meta and case.meta.is_negative_at(ParameterLocation.QUERY))


def map_case(context: HookContext, case: Case) -> Case:
    if case.query and _query_is_positive(case):
        case.query.pop("page_token", None)
    if case.operation.path == "/api/v1/find-station" and _query_is_positive(case):
        query = case.query if case.query is not None else {}
        given = [k for k in FIND_STATION_KEYS if query.get(k) is not None]
        for extra in given[1:]:
            del query[extra]
        if not given:
            query["address"] = "林和东路"
        case.query = query
    return case


# Built at import, for schemathesis to read its schema; the fake registry's
# address is known only once its fixture runs (see `registry_address`).
SETTINGS = GatewaySettings(
    targets={"registry": "unset:0"},
    read_rate_per_minute=10**9,
    write_rate_per_minute=10**9,
    auth=AuthSettings(env="test", dev_issuer=True).with_secret(),
)
APP = create_app(SETTINGS)
ADMIN_TOKEN = DevIssuer(SETTINGS.auth).issue(next(a for a in DEMO_ACCOUNTS if a.account == "admin"))
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", APP, config=schemathesis.Config.from_dict(CONFIG)
)
schema.config.update(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
schema.hook(map_case)


@pytest.fixture(scope="module", autouse=True)
def fake_registry(registry_server: Any) -> None:
    # Module-scoped: hypothesis runs many cases per test and refuses a
    # function-scoped fixture. The records the cases create pile up, which is
    # what a registry in use looks like.
    registry_server.fake.reset()
    registry_server.health.set("", health_pb2.HealthCheckResponse.SERVING)
    # The registry client opens its channel on the first call.
    APP.state.upstreams["registry"].target = registry_server.target


@schema.parametrize()
def test_the_api_keeps_its_schema(case: Case) -> None:
    case.call_and_validate()

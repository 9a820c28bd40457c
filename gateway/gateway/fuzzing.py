"""How the API is fuzzed with schemathesis: the rules of the API that
OpenAPI cannot state, kept by positive cases (negative cases are left as
generated):

- a page token is opaque: only one the service gave out is valid;
- find-station takes exactly one of `community_id`, `community_code`,
  `address`.

Loaded by the in-process test over a fake registry (gateway/tests) and, as
`SCHEMATHESIS_HOOKS=gateway.fuzzing`, by the run of schemathesis's CLI
against the running platform (tests/e2e). The gateway itself never imports it.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from schemathesis import Case, HookContext
from schemathesis.core.parameters import ParameterLocation

FIND_STATION_KEYS = ("community_id", "community_code", "address")
# The configuration both runs share (per-operation checks): see the file.
CONFIG_FILE = Path(__file__).resolve().parents[1] / "schemathesis.toml"


def _query_is_positive(case: Case) -> bool:
    return not (case.meta and case.meta.is_negative_at(ParameterLocation.QUERY))


@schemathesis.hook
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


# The parts of a request the gateway validates itself, as its problems name them.
GATEWAY_VALIDATED = ("body", "path", "query", "header")


@schemathesis.check
def refused_only_by_a_services_rules(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """A request the schema allows may be refused (422) only by a service's
    rules across records, which OpenAPI cannot state (a referenced record
    must be active, a station has one head, a position needs its holder),
    never by the gateway's own validation of what its schema allows.

    It stands in for schemathesis's positive_data_acceptance where real
    services answer; over a fake registry that check runs as it is."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    if any(value is None for value in (case.path_parameters or {}).values()):
        # A link that carried a null (a position without a deputy) into a
        # path: a request the schema refuses, whatever the case is called.
        return None
    errors = response.json().get("errors") or []
    own = [
        e.get("field", "") for e in errors if e.get("field", "").split(".")[0] in GATEWAY_VALIDATED
    ]
    if own or not errors:
        raise AssertionError(
            f"the gateway refused a request its schema allows: {', '.join(own) or 'no field named'}"
        )
    return None

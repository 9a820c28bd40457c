"""The release's NetworkPolicies, judged by what they let through.

A small evaluator applies the rendered policies the way Kubernetes does
(a pod selected by no policy of a direction is open that way; otherwise a
connection needs a rule on the sender's egress side and one on the
receiver's ingress side) to connections between the release's pods, pods in
other namespaces and outside addresses. The tests then say who may talk to
whom, and who may not.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest
from chart_support import (
    NAMESPACE,
    Manifest,
    manifest_id,
    selector_matches,
    selects_some_pod,
    workloads,
)

pytestmark = pytest.mark.chart

PROFILES_WITH_POLICIES = ("default", "ci", "all-services", "dev-policies")


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels) or an outside address."""

    name: str
    namespace: str = ""
    namespace_labels: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] | None = None
    ip: str | None = None


def _pod(component: str, service: str | None = None) -> Endpoint:
    """A pod of the release: the gateway, <service>'s api/worker/migrate, or a dev server."""
    name = service or component
    return Endpoint(
        f"{name}-{component}",
        NAMESPACE,
        {"kubernetes.io/metadata.name": NAMESPACE},
        {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/instance": "liaison",
            "app.kubernetes.io/component": component,
        },
    )


def _elsewhere(namespace: str, **labels: str) -> Endpoint:
    return Endpoint(
        f"{namespace}/{labels}", namespace, {"kubernetes.io/metadata.name": namespace}, labels
    )


def _outside(ip: str) -> Endpoint:
    return Endpoint(ip, ip=ip)


GATEWAY = _pod("gateway")
POSTGRESQL = _pod("database", "postgresql")
RABBITMQ = _pod("broker", "rabbitmq")
PROMETHEUS = _elsewhere("monitoring", **{"app.kubernetes.io/name": "prometheus"})
INGRESS_CONTROLLER = _elsewhere("ingress-nginx", **{"app.kubernetes.io/name": "ingress-nginx"})
DNS = _elsewhere("kube-system", **{"k8s-app": "kube-dns"})
STRANGER = _elsewhere(NAMESPACE, app="something-else")
DATABASE_HOST = _outside("203.0.113.10")
BROKER_HOST = _outside("203.0.113.20")
TOKEN_ISSUER = _outside("198.51.100.1")
REDIS = _outside("10.30.0.7")
OTHER_REDIS = _outside("10.30.0.8")
DEPARTMENT = _outside("10.20.1.1")
MAIL_RELAY = _outside("192.0.2.25")


def _peer_matches(peer: dict[str, Any], target: Endpoint) -> bool:
    if "ipBlock" in peer:
        if target.ip is None:
            return False  # pod addresses are not what ipBlock is for
        block = peer["ipBlock"]
        address = ipaddress.ip_address(target.ip)
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", [])
        )
    if target.labels is None:
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], target.namespace_labels):
            return False
    elif target.namespace != NAMESPACE:
        return False
    return selector_matches(peer.get("podSelector", {}), target.labels)


def _port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports)


def _admits(
    policies: list[Manifest], pod: Endpoint, direction: str, peer: Endpoint, port: int, proto: str
) -> bool:
    """Whether `pod`'s policies of `direction` ("Ingress"/"Egress") admit `peer` on the port."""
    if pod.labels is None or pod.namespace != NAMESPACE:
        return True  # not ours to police
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = [
        p
        for p in policies
        if direction in p["spec"]["policyTypes"]
        and selector_matches(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    return any(
        _port_matches(rule, port, proto)
        and (not rule.get(peers_key) or any(_peer_matches(x, peer) for x in rule[peers_key]))
        for policy in selecting
        for rule in policy["spec"].get(key) or []
    )


def _allowed(
    manifests: list[Manifest], source: Endpoint, target: Endpoint, port: int, proto: str = "TCP"
) -> bool:
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    return _admits(policies, source, "Egress", target, port, proto) and _admits(
        policies, target, "Ingress", source, port, proto
    )


@pytest.fixture(params=PROFILES_WITH_POLICIES)
def with_policies(
    request: pytest.FixtureRequest, rendered_profiles: dict[str, list[Manifest]]
) -> list[Manifest]:
    return rendered_profiles[str(request.param)]


def _processes(manifests: list[Manifest]) -> list[Endpoint]:
    found = []
    for workload in workloads(manifests):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        name, component = labels["app.kubernetes.io/name"], labels["app.kubernetes.io/component"]
        found.append(_pod(component, None if name == component else name))
    return found


def test_every_pod_of_the_release_is_denied_by_default_and_has_its_own_policy(
    with_policies: list[Manifest],
) -> None:
    policies = [m for m in with_policies if m["kind"] == "NetworkPolicy"]
    (deny,) = [p for p in policies if p["metadata"]["name"] == "liaison-default-deny"]
    assert deny["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/instance": "liaison"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [],
        "egress": [],
    }
    for workload in workloads(with_policies):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        own = [
            p
            for p in policies
            if p is not deny and selector_matches(p["spec"]["podSelector"], labels)
        ]
        assert selector_matches(deny["spec"]["podSelector"], labels), manifest_id(workload)
        assert len(own) == 1, manifest_id(workload)
        assert own[0]["spec"]["policyTypes"] == ["Ingress", "Egress"], manifest_id(own[0])


def test_in_namespace_peers_select_rendered_pods(with_policies: list[Manifest]) -> None:
    for policy in (m for m in with_policies if m["kind"] == "NetworkPolicy"):
        assert selects_some_pod(policy["spec"]["podSelector"], with_policies), manifest_id(policy)
        rules = [*policy["spec"]["ingress"], *policy["spec"]["egress"]]
        for rule in rules:
            assert rule["ports"], manifest_id(policy)
            for peer in rule.get("from", []) + rule.get("to", []):
                # Other namespaces (monitoring, ingress, DNS) and addresses are not ours.
                if "namespaceSelector" in peer or "ipBlock" in peer:
                    continue
                assert selects_some_pod(peer["podSelector"], with_policies), (
                    f"{manifest_id(policy)}: {peer}"
                )


def test_every_process_resolves_names(with_policies: list[Manifest]) -> None:
    for process in _processes(with_policies):
        if process.labels and process.labels["app.kubernetes.io/component"] == "database":
            continue  # PostgreSQL looks nothing up
        assert _allowed(with_policies, process, DNS, 53, "UDP"), process.name
        assert _allowed(with_policies, process, DNS, 53, "TCP"), process.name
        assert not _allowed(with_policies, process, DNS, 80), process.name


def test_the_gateway_is_reached_by_the_ingress_and_prometheus_only(
    with_policies: list[Manifest],
) -> None:
    assert _allowed(with_policies, INGRESS_CONTROLLER, GATEWAY, 8000)
    assert _allowed(with_policies, PROMETHEUS, GATEWAY, 8000)
    assert not _allowed(with_policies, STRANGER, GATEWAY, 8000)
    assert not _allowed(with_policies, INGRESS_CONTROLLER, GATEWAY, 9100)


# Who calls whom with every service on (values.yaml `callers`).
CALLS = {
    "registry": {"reception", "referral", "duties", "notifications"},
    "reception": {"referral", "duties", "notifications"},
    "referral": {"duties"},
    "duties": set(),
    "notifications": set(),
}


def test_apis_take_grpc_from_the_gateway_and_their_callers_only(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    manifests = rendered_profiles["all-services"]
    for service, callers in CALLS.items():
        api = _pod("api", service)
        assert _allowed(manifests, GATEWAY, api, 50051), service
        for other in CALLS:
            for process in ("api", "worker"):
                expected = other in callers
                assert _allowed(manifests, _pod(process, other), api, 50051) == expected, (
                    f"{other} {process} -> {service} api"
                )
        # Metrics are for Prometheus, gRPC is not.
        assert _allowed(manifests, PROMETHEUS, api, 9100)
        assert not _allowed(manifests, PROMETHEUS, api, 50051)
        assert not _allowed(manifests, GATEWAY, api, 9100)
        assert not _allowed(manifests, INGRESS_CONTROLLER, api, 50051)
        assert not _allowed(manifests, STRANGER, api, 50051)
        # Only referral publishes its API to a department's systems.
        assert _allowed(manifests, DEPARTMENT, api, 50051) == (service == "referral")
        assert not _allowed(manifests, DEPARTMENT, api, 9100)


def test_workers_and_migrations_take_nothing_but_scrapes(with_policies: list[Manifest]) -> None:
    for process in ("worker", "migrate"):
        pod = _pod(process, "registry")
        assert _allowed(with_policies, PROMETHEUS, pod, 9100) == (process == "worker")
        assert not _allowed(with_policies, GATEWAY, pod, 9100)
        assert not _allowed(with_policies, _pod("api", "registry"), pod, 50051)


def test_external_database_broker_and_issuer_are_reached_by_those_that_need_them(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    manifests = rendered_profiles["all-services"]
    for process in ("api", "worker", "migrate"):
        pod = _pod(process, "registry")
        assert _allowed(manifests, pod, DATABASE_HOST, 5432), process
        assert _allowed(manifests, pod, BROKER_HOST, 5672) == (process == "worker"), process
        assert _allowed(manifests, pod, TOKEN_ISSUER, 443) == (process != "migrate"), process
        assert not _allowed(manifests, pod, TOKEN_ISSUER, 80), process
    # Referral's and duties' migrates declare their workers' queues (events
    # published before the worker first runs wait there); registry's consumes nothing.
    for declares in ("referral", "duties"):
        assert _allowed(manifests, _pod("migrate", declares), BROKER_HOST, 5672), declares
        assert not _allowed(manifests, _pod("migrate", declares), TOKEN_ISSUER, 443), declares
    assert not _allowed(manifests, GATEWAY, DATABASE_HOST, 5432)
    # The gateway's public directory listens to registry.events.
    assert _allowed(manifests, GATEWAY, BROKER_HOST, 5672)
    assert _allowed(manifests, GATEWAY, TOKEN_ISSUER, 443)
    # The apis call one another only as `callers` says.
    assert _allowed(manifests, _pod("api", "referral"), _pod("api", "registry"), 50051)
    assert not _allowed(manifests, _pod("api", "registry"), _pod("api", "referral"), 50051)


def test_the_gateway_reaches_redis_only_when_the_rate_limits_live_there(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    shared = rendered_profiles["all-services"]
    assert _allowed(shared, GATEWAY, REDIS, 6379)
    assert not _allowed(shared, GATEWAY, OTHER_REDIS, 6379)
    assert not _allowed(shared, _pod("api", "registry"), REDIS, 6379)
    per_replica = rendered_profiles["default"]
    assert not _allowed(per_replica, GATEWAY, REDIS, 6379)
    # No token issuer configured: nobody fetches keys.
    assert not _allowed(per_replica, GATEWAY, TOKEN_ISSUER, 443)


def test_the_dev_servers_are_reached_by_pod_and_by_their_clients_only(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    manifests = rendered_profiles["dev-policies"]
    for process in ("api", "worker", "migrate"):
        pod = _pod(process, "registry")
        assert _allowed(manifests, pod, POSTGRESQL, 5432), process
        assert _allowed(manifests, pod, RABBITMQ, 5672) == (process == "worker"), process
        # In-chart servers: nothing outside is opened for them.
        assert not _allowed(manifests, pod, DATABASE_HOST, 5432), process
    assert not _allowed(manifests, GATEWAY, POSTGRESQL, 5432)
    assert not _allowed(manifests, GATEWAY, RABBITMQ, 5672)
    assert not _allowed(manifests, STRANGER, POSTGRESQL, 5432)
    assert not _allowed(manifests, POSTGRESQL, DATABASE_HOST, 5432)


def test_the_migration_policy_comes_before_its_hook_job(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    # On an upgrade the default deny already holds when the migration hook
    # runs, so its policy must be a hook too, created before the Job.
    manifests = rendered_profiles["default"]
    policy = next(
        m
        for m in manifests
        if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == "liaison-registry-migrate"
    )
    job = next(m for m in manifests if m["kind"] == "Job")
    policy_hook, job_hook = policy["metadata"]["annotations"], job["metadata"]["annotations"]
    assert policy_hook["helm.sh/hook"] == job_hook["helm.sh/hook"]
    assert int(policy_hook["helm.sh/hook-weight"]) < int(job_hook["helm.sh/hook-weight"])
    assert "hook-succeeded" in policy_hook["helm.sh/hook-delete-policy"]


def test_without_policies_nothing_is_rendered(rendered_profiles: dict[str, list[Manifest]]) -> None:
    assert [m for m in rendered_profiles["dev"] if m["kind"] == "NetworkPolicy"] == []


def test_the_notifications_worker_alone_reaches_the_mail_relay(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    manifests = rendered_profiles["all-services"]
    worker = _pod("worker", "notifications")
    # SMTP submission to the mail relay; the providers' HTTPS APIs on 443.
    assert _allowed(manifests, worker, MAIL_RELAY, 587)
    assert _allowed(manifests, worker, MAIL_RELAY, 443)
    assert not _allowed(manifests, worker, MAIL_RELAY, 25)
    for process in ("api", "migrate"):
        assert not _allowed(manifests, _pod(process, "notifications"), MAIL_RELAY, 587), process
    for other in ("registry", "reception", "referral", "duties"):
        assert not _allowed(manifests, _pod("worker", other), MAIL_RELAY, 587), other
    assert not _allowed(manifests, GATEWAY, MAIL_RELAY, 587)

"""values.schema.json and the template checks catch wrong values with a
message naming the key; adding a service is one entry in `services:`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import helm_python as helm
import pytest
import yaml
from chart_support import CHART, LIBRARY, Manifest, find

pytestmark = pytest.mark.chart


@pytest.mark.parametrize(
    ("values", "named"),
    [
        # an unknown key in a service entry
        ({"services": {"registry": {"apii": {"replicas": 2}}}}, "apii"),
        # a wrong type
        (
            {"services": {"registry": {"api": {"replicas": "two"}}}},
            "/services/registry/api/replicas",
        ),
        ({"services": {"registry": {"enabled": "yes"}}}, "/services/registry/enabled"),
        ({"gateway": {"autoscaling": {"maxReplicas": -1}}}, "/gateway/autoscaling/maxReplicas"),
        # a service name that cannot become LIAISON_<SVC>_DATABASE_URL
        ({"services": {"Public-Records": {}}}, "Public-Records"),
        # a typo at the top level and in the defaults of the generic chart
        ({"monitorng": {}}, "monitorng"),
        ({"liaison-service": {"serviceDefaults": {"api": {"replica": 1}}}}, "replica"),
        ({"liaison-service": {"serviceDefaults": {"worker": {"pdb": {"enabled": 1}}}}}, "enabled"),
        # network, TLS and gateway values
        ({"services": {"referral": {"grpcFromCidrs": ["10.20.0.0"]}}}, "grpcFromCidrs"),
        (
            {"networkPolicy": {"postgresql": {"cidrs": ["db.internal"]}}},
            "/networkPolicy/postgresql",
        ),
        ({"grpcTls": {"enabeld": True}}, "enabeld"),
        ({"gateway": {"ingress": {"proxyBodySize": "12 MB"}}}, "proxyBodySize"),
        ({"gateway": {"maxUploadBytes": "10MB"}}, "/gateway/maxUploadBytes"),
        ({"gateway": {"rateLimit": {"redisUrl": "localhost:6379"}}}, "redisUrl"),
        ({"gateway": {"workers": 0}}, "/gateway/workers"),
        ({"auth": {"jwksUrl": "id.example.org/jwks"}}, "jwksUrl"),
    ],
)
def test_wrong_values_fail_naming_the_key(
    chart: helm.Chart, values: dict[str, Any], named: str
) -> None:
    with pytest.raises(helm.HelmError) as failure:
        chart.render(values=values, name="liaison")
    assert named in str(failure.value)


def test_unknown_caller_fails_naming_it(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmError, match='services.registry.callers: "refferal"'):
        chart.render(values={"services": {"registry": {"callers": ["refferal"]}}}, name="liaison")


def test_dev_database_with_a_migration_hook_fails(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmError, match="migrations.hook=false"):
        chart.render(values={"dev": {"postgresql": {"enabled": True}}}, name="liaison")


DEV_SERVERS = {"dev": {"postgresql": {"enabled": True}, "rabbitmq": {"enabled": True}}}


@pytest.mark.parametrize("server", ["postgresql", "rabbitmq"])
@pytest.mark.parametrize(
    "production",
    [
        {"global": {"environment": "production"}},
        # LIAISON_ENV set by hand counts as much as global.environment.
        {"global": {"environment": "development", "env": {"LIAISON_ENV": "production"}}},
        {
            "global": {"environment": "development"},
            "services": {"registry": {"env": {"LIAISON_ENV": "production"}}},
        },
    ],
)
def test_the_dev_servers_refuse_to_render_in_production(
    chart: helm.Chart, server: str, production: dict[str, Any]
) -> None:
    values = {"migrations": {"hook": False}, "dev": {server: {"enabled": True}}} | production
    with pytest.raises(helm.HelmError, match=f"dev.{server}.enabled is for laptop clusters"):
        chart.render(values=values, name="liaison")


def test_the_dev_servers_render_in_development(
    render: Callable[[dict[str, Any] | None], list[Manifest]],
) -> None:
    manifests = render(
        {"global": {"environment": "development"}, "migrations": {"hook": False}} | DEV_SERVERS
    )
    assert {"liaison-postgresql", "liaison-rabbitmq"} <= _names(manifests, "StatefulSet")


@pytest.mark.parametrize(
    ("gateway", "named"),
    [
        ({"ingress": {"enabled": True, "proxyBodySize": "8m"}}, "proxyBodySize 8m (8388608 bytes)"),
        (
            {"ingress": {"enabled": True, "proxyBodySize": "2m"}, "maxUploadBytes": 4194304},
            "largest body (4194304 bytes",
        ),
        (
            {"ingress": {"enabled": True, "proxyBodySize": "512k"}, "maxUploadBytes": 1000},
            "largest body (1048576 bytes",
        ),
    ],
)
def test_an_ingress_body_limit_below_the_gateways_fails(
    chart: helm.Chart, gateway: dict[str, Any], named: str
) -> None:
    with pytest.raises(helm.HelmError, match=re.escape(named)):
        chart.render(values={"gateway": gateway}, name="liaison")


@pytest.mark.parametrize("size", ["0", "11m", "10485760", "1g", "20M"])
def test_an_ingress_body_limit_at_or_above_the_gateways_renders(
    chart: helm.Chart, size: str
) -> None:
    chart.render(values={"gateway": {"ingress": {"enabled": True, "proxyBodySize": size}}})


@pytest.mark.parametrize(
    ("workers", "cpu", "named"),
    [
        (3, "1500m", "gateway.workers (3) is more than the 2 CPU(s)"),
        (2, "1", "gateway.workers (2) is more than the 1 CPU(s)"),
        (4, 2.5, "gateway.workers (4) is more than the 3 CPU(s)"),
    ],
)
def test_more_gateway_workers_than_the_cpu_limit_allows_fail(
    chart: helm.Chart, workers: int, cpu: Any, named: str
) -> None:
    gateway = {"workers": workers, "resources": {"limits": {"cpu": cpu}}}
    with pytest.raises(helm.HelmError, match=re.escape(named)):
        chart.render(values={"gateway": gateway}, name="liaison")


@pytest.mark.parametrize(("workers", "cpu"), [(2, "1500m"), (3, 2.5), (4, "4"), (8, None)])
def test_gateway_workers_within_the_cpu_limit_render(
    chart: helm.Chart, workers: int, cpu: Any
) -> None:
    limits = {"cpu": cpu} if cpu is not None else {}
    chart.render(values={"gateway": {"workers": workers, "resources": {"limits": limits}}})


def test_a_redis_url_from_a_value_and_a_secret_at_once_fails(chart: helm.Chart) -> None:
    rate_limit = {"redisUrl": "redis://redis:6379/0", "redisUrlSecret": {"name": "liaison-redis"}}
    with pytest.raises(helm.HelmError, match="redisUrl or redisUrlSecret.name, not both"):
        chart.render(values={"gateway": {"rateLimit": rate_limit}}, name="liaison")


def _names(manifests: list[Manifest], kind: str) -> set[str]:
    return {m["metadata"]["name"] for m in manifests if m["kind"] == kind}


def test_adding_a_service_is_one_entry(
    render: Callable[[dict[str, Any] | None], list[Manifest]],
) -> None:
    before = render(None)
    after = render(
        {
            "services": {"archive": {"callers": ["registry"]}},
            "monitoring": {"serviceMonitor": {"enabled": True}},
        }
    )
    added = {(m["kind"], m["metadata"]["name"]) for m in after} - {
        (m["kind"], m["metadata"]["name"]) for m in before
    }
    assert added >= {
        ("ServiceAccount", "liaison-archive"),
        ("ConfigMap", "liaison-archive"),
        ("Deployment", "liaison-archive-api"),
        ("Deployment", "liaison-archive-worker"),
        ("Service", "liaison-archive-api"),
        ("Service", "liaison-archive-metrics"),
        ("Job", "liaison-archive-migrate"),
        ("HorizontalPodAutoscaler", "liaison-archive-api"),
        ("HorizontalPodAutoscaler", "liaison-archive-worker"),
        ("PodDisruptionBudget", "liaison-archive-api"),
        ("PodDisruptionBudget", "liaison-archive-worker"),
        ("NetworkPolicy", "liaison-archive-api"),
        ("NetworkPolicy", "liaison-archive-worker"),
        ("ServiceMonitor", "liaison-archive-metrics"),
    }
    # The others learn where to call it.
    gateway_settings = find(after, "ConfigMap", "liaison-gateway")
    assert (
        gateway_settings["data"]["LIAISON_ARCHIVE_GRPC_TARGET"]
        == "dns:///liaison-archive-api:50051"
    )
    api = find(after, "Deployment", "liaison-archive-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["archive.api"]
    assert container["image"] == "ghcr.io/deputy-liaison/liaison-archive:0.1.0"


def test_a_disabled_service_renders_nothing(
    render: Callable[[dict[str, Any] | None], list[Manifest]],
) -> None:
    manifests = render({"services": {"registry": {"enabled": False}}})
    assert not [
        m
        for m in manifests
        if m["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "registry"
    ]


def test_a_false_override_beats_a_true_default(
    render: Callable[[dict[str, Any] | None], list[Manifest]],
) -> None:
    manifests = render(
        {"services": {"registry": {"api": {"autoscaling": {"enabled": False}, "replicas": 3}}}}
    )
    assert "liaison-registry-api" not in _names(manifests, "HorizontalPodAutoscaler")
    api = find(manifests, "Deployment", "liaison-registry-api")
    assert api["spec"]["replicas"] == 3


def test_skaffold_style_image_reference(
    render: Callable[[dict[str, Any] | None], list[Manifest]],
) -> None:
    digest = "sha256:" + "ab" * 32
    image = {"repository": "localhost:5000/liaison-registry", "tag": f"3f2c1d0@{digest}"}
    manifests = render({"services": {"registry": {"image": image}}})
    api = find(manifests, "Deployment", "liaison-registry-api")
    (container,) = api["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"localhost:5000/liaison-registry:3f2c1d0@{digest}"
    assert api["metadata"]["labels"]["app.kubernetes.io/version"] == "3f2c1d0"


def test_both_schemas_describe_a_service_alike() -> None:
    # The umbrella checks `services:` entries, the generic chart its
    # serviceDefaults: one shape, kept in two files, so they must not drift.
    umbrella = json.loads((CHART / "values.schema.json").read_text())
    library = json.loads((LIBRARY / "values.schema.json").read_text())
    for definition in library["definitions"]:
        assert umbrella["definitions"][definition] == library["definitions"][definition], definition


def test_every_default_service_key_is_in_the_schema(chart: helm.Chart) -> None:
    library = json.loads((LIBRARY / "values.schema.json").read_text())
    with helm.Chart.load(LIBRARY) as library_chart:
        defaults = library_chart.values["serviceDefaults"]
    assert set(defaults) == set(library["definitions"]["service"]["properties"])


@pytest.mark.parametrize(
    ("notifications", "named"),
    [
        (
            {"env": {"LIAISON_NOTIFICATIONS_PUBLIC_URL": ""}},
            "LIAISON_NOTIFICATIONS_PUBLIC_URL must",
        ),
        (
            {"env": {"LIAISON_NOTIFICATIONS_PUBLIC_URL": "http://liaison.example.org"}},
            'not "http://liaison.example.org"',
        ),
        ({"secretEnv": []}, "must give LIAISON_NOTIFICATIONS_UNSUBSCRIBE_SECRET"),
    ],
)
def test_production_notifications_want_their_public_address_and_signing_secret(
    chart: helm.Chart, notifications: dict[str, Any], named: str
) -> None:
    with pytest.raises(helm.HelmError, match=re.escape(named)):
        chart.render(values={"services": {"notifications": notifications}}, name="liaison")


def test_notifications_get_their_signing_secret_and_development_needs_none(
    render: Callable[[dict[str, Any] | None], list[Manifest]], chart: helm.Chart
) -> None:
    def secret_names(manifests: list[Manifest]) -> set[str]:
        found = set()
        for m in manifests:
            if m["kind"] != "Deployment" or "notifications" not in m["metadata"]["name"]:
                continue
            for container in m["spec"]["template"]["spec"]["containers"]:
                found |= {
                    e["valueFrom"]["secretKeyRef"]["name"]
                    for e in container.get("env", [])
                    if "secretKeyRef" in e.get("valueFrom", {})
                }
        return found

    assert "liaison-notifications" in secret_names(render(None))
    dev = yaml.safe_load((CHART / "values-dev.yaml").read_text())
    assert "liaison-notifications" not in secret_names(render(dev))
    # Disabled, nothing is asked of it.
    chart.render(
        values={"services": {"notifications": {"enabled": False, "secretEnv": []}}},
        name="liaison",
    )

"""What each process is told: the settings and files the chart gives the
gateway, the apis and the workers, as the processes read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from chart_support import ALL_SERVICES, CHART, REPO, SERVICES, Manifest, find, workloads

pytestmark = pytest.mark.chart

KIT_SETTINGS = (REPO / "services" / "kit" / "kit" / "settings.py").read_text()
TOKEN_SETTINGS = {
    "LIAISON_JWT_JWKS_URL": ALL_SERVICES["auth"]["jwksUrl"],
    "LIAISON_JWT_ISSUER": ALL_SERVICES["auth"]["issuer"],
    "LIAISON_JWT_AUDIENCE": ALL_SERVICES["auth"]["audience"],
}


def _container(manifests: list[Manifest], name: str) -> dict[str, Any]:
    (workload,) = [w for w in workloads(manifests) if w["metadata"]["name"].startswith(name)]
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return dict(container) | {"__pod__": workload["spec"]["template"]["spec"]}


def _settings(manifests: list[Manifest], container: dict[str, Any]) -> dict[str, Any]:
    """Every setting a container sees: its ConfigMap, then its own env (which wins)."""
    settings: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        settings |= find(manifests, "ConfigMap", source["configMapRef"]["name"])["data"]
    for env in container.get("env", []):
        settings[env["name"]] = env.get("value", env.get("valueFrom"))
    return settings


def test_the_gateway_listens_where_its_service_reaches_it(
    manifests: list[Manifest],
) -> None:
    # The gateway's own default is 127.0.0.1, which no Service reaches.
    settings = _settings(manifests, _container(manifests, "liaison-gateway"))
    assert settings["LIAISON_GATEWAY_HOST"] == "0.0.0.0"
    assert settings["LIAISON_GATEWAY_PORT"] == "8000"


def test_the_gateway_host_cannot_be_set_back_to_loopback(
    render: Callable[[dict[str, Any] | None], list[Manifest]],
) -> None:
    manifests = render({"gateway": {"env": {"LIAISON_GATEWAY_HOST": "127.0.0.1"}}})
    settings = _settings(manifests, _container(manifests, "liaison-gateway"))
    assert settings["LIAISON_GATEWAY_HOST"] == "0.0.0.0"


def test_the_gateway_gets_its_body_limits_proxies_and_rate_limit_store(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    defaults = rendered_profiles["default"]
    settings = _settings(defaults, _container(defaults, "liaison-gateway"))
    assert settings["LIAISON_GATEWAY_MAX_BODY_BYTES"] == "1048576"
    assert settings["LIAISON_GATEWAY_MAX_UPLOAD_BYTES"] == "10485760"
    assert settings["LIAISON_GATEWAY_TRUSTED_PROXIES"] == ""
    assert "LIAISON_RATE_LIMIT_REDIS_URL" not in settings  # each replica counts alone

    shared = rendered_profiles["all-services"]
    settings = _settings(shared, _container(shared, "liaison-gateway"))
    assert settings["LIAISON_GATEWAY_TRUSTED_PROXIES"] == "10.96.0.0/12"
    assert settings["LIAISON_RATE_LIMIT_REDIS_URL"] == {
        "secretKeyRef": {"name": "liaison-redis", "key": "url"}
    }


def test_a_redis_url_given_as_a_value_reaches_the_gateway(
    render: Callable[[dict[str, Any] | None], list[Manifest]],
) -> None:
    manifests = render(
        {
            "gateway": {
                "rateLimit": {"redisUrl": "redis://redis.liaison:6379/0"},
                "trustedProxies": ["10.0.0.0/8", "192.168.0.0/16"],
            }
        }
    )
    settings = _settings(manifests, _container(manifests, "liaison-gateway"))
    assert settings["LIAISON_RATE_LIMIT_REDIS_URL"] == "redis://redis.liaison:6379/0"
    assert settings["LIAISON_GATEWAY_TRUSTED_PROXIES"] == "10.0.0.0/8,192.168.0.0/16"


def test_the_ingress_passes_the_largest_body_the_gateway_takes_and_waits_for_an_import(
    rendered_profiles: dict[str, list[Manifest]],
    render: Callable[[dict[str, Any] | None], list[Manifest]],
) -> None:
    ingress = find(rendered_profiles["all-services"], "Ingress", "liaison-gateway")
    assert ingress["metadata"]["annotations"] == {
        "nginx.ingress.kubernetes.io/proxy-body-size": "12m",
        # A roster import may take up to its deadline (120 s by default).
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "150",
    }
    # An annotation given by hand wins, and others stay.
    manifests = render(
        {
            "gateway": {
                "ingress": {
                    "enabled": True,
                    "annotations": {
                        "nginx.ingress.kubernetes.io/proxy-body-size": "20m",
                        "cert-manager.io/cluster-issuer": "letsencrypt",
                    },
                }
            }
        }
    )
    annotations = find(manifests, "Ingress", "liaison-gateway")["metadata"]["annotations"]
    assert annotations == {
        "nginx.ingress.kubernetes.io/proxy-body-size": "20m",
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "150",
        "cert-manager.io/cluster-issuer": "letsencrypt",
    }


def test_every_process_that_verifies_tokens_knows_the_issuer(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    manifests = rendered_profiles["all-services"]
    names = ["liaison-gateway"] + [f"liaison-{s}-{p}" for s in SERVICES for p in ("api", "worker")]
    for name in names:
        settings = _settings(manifests, _container(manifests, name))
        assert {k: settings.get(k) for k in TOKEN_SETTINGS} == TOKEN_SETTINGS, name
    # The migration verifies nothing.
    migrate = _settings(manifests, _container(manifests, "liaison-registry-migrate"))
    assert not set(TOKEN_SETTINGS) & set(migrate)
    # Only a migration that declares its worker's queues knows the broker.
    for declares in ("referral", "duties"):
        broker = {e["name"] for e in _container(manifests, f"liaison-{declares}-migrate")["env"]}
        assert "LIAISON_AMQP_URI" in broker, declares
    assert "LIAISON_AMQP_URI" not in {
        e["name"] for e in _container(manifests, "liaison-registry-migrate")["env"]
    }
    # Unset, each process keeps its own default (production refuses to start).
    defaults = rendered_profiles["default"]
    gateway = _settings(defaults, _container(defaults, "liaison-gateway"))
    assert not set(TOKEN_SETTINGS) & set(gateway)


def _mounts(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Volume mounts by path, each with its volume."""
    volumes = {v["name"]: v for v in container["__pod__"]["volumes"]}
    return {m["mountPath"]: m | {"volume": volumes[m["name"]]} for m in container["volumeMounts"]}


def test_grpc_tls_files_reach_the_processes_that_use_them(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    manifests = rendered_profiles["all-services"]
    directory = "/etc/liaison/grpc-tls"
    for name, files in (
        ("liaison-registry-api", {"ca.crt", "tls.crt", "tls.key"}),
        ("liaison-registry-worker", {"ca.crt"}),
        ("liaison-gateway", {"ca.crt"}),
    ):
        container = _container(manifests, name)
        mount = _mounts(container)[directory]
        assert mount["readOnly"] is True, name
        secret = mount["volume"]["secret"]
        assert secret["secretName"] == "liaison-grpc-tls", name
        # Only the servers hold the private key; 0440 for the pod's group.
        assert {item["path"] for item in secret["items"]} == files, name
        assert secret["defaultMode"] == 0o440, name
        settings = _settings(manifests, container)
        expected = {
            "LIAISON_GRPC_TLS_CA_FILE": f"{directory}/ca.crt",
            "LIAISON_GRPC_TLS_CERT_FILE": f"{directory}/tls.crt" if "tls.crt" in files else None,
            "LIAISON_GRPC_TLS_KEY_FILE": f"{directory}/tls.key" if "tls.key" in files else None,
        }
        assert {k: settings.get(k) for k in expected} == expected, name
    migrate = _container(manifests, "liaison-registry-migrate")
    assert directory not in _mounts(migrate)


def test_the_tls_settings_are_the_ones_kit_reads() -> None:
    for name in (
        "LIAISON_GRPC_TLS_CERT_FILE",
        "LIAISON_GRPC_TLS_KEY_FILE",
        "LIAISON_GRPC_TLS_CA_FILE",
        "LIAISON_GRPC_HEALTH_PORT",
    ):
        assert f'"{name}"' in KIT_SETTINGS, name


def test_without_grpc_tls_nothing_is_mounted(manifests: list[Manifest], profile: str) -> None:
    if profile == "all-services":
        return
    for workload in workloads(manifests):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            paths = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/etc/liaison/grpc-tls" not in paths
            names = {e["name"] for e in container.get("env", [])}
            assert not {n for n in names if n.startswith("LIAISON_GRPC_TLS_")}


def test_the_gateway_reaches_the_broker_for_its_public_directory(
    rendered_profiles: dict[str, list[Manifest]],
) -> None:
    gateway = find(rendered_profiles["default"], "Deployment", "liaison-gateway")
    (container,) = gateway["spec"]["template"]["spec"]["containers"]
    secret_env = {e["name"] for e in container.get("env", []) if "valueFrom" in e}
    assert "LIAISON_AMQP_URI" in secret_env


def test_the_gateway_runs_its_workers_sharing_metrics_in_a_directory_of_its_own(
    rendered_profiles: dict[str, list[Manifest]],
    render: Callable[[dict[str, Any] | None], list[Manifest]],
) -> None:
    defaults = rendered_profiles["default"]
    container = _container(defaults, "liaison-gateway")
    settings = _settings(defaults, container)
    values = yaml.safe_load((CHART / "values.yaml").read_text())["gateway"]
    assert settings["LIAISON_GATEWAY_WORKERS"] == str(values["workers"])
    # Its own memory-backed emptyDir, writable under a read-only root filesystem.
    directory = settings["PROMETHEUS_MULTIPROC_DIR"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == directory]
    (volume,) = [v for v in container["__pod__"]["volumes"] if v["name"] == mount["name"]]
    assert volume["emptyDir"]["medium"] == "Memory"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    # A quarter CPU requested per worker, at least.
    requested = str(container["resources"]["requests"]["cpu"])
    millicores = int(requested[:-1]) if requested.endswith("m") else int(float(requested) * 1000)
    assert millicores >= 250 * values["workers"]
    # No other process shares metrics that way: its values would join the gateway's.
    for workload in workloads(defaults):
        if workload["metadata"]["name"].startswith("liaison-gateway"):
            continue
        for other in workload["spec"]["template"]["spec"]["containers"]:
            assert "PROMETHEUS_MULTIPROC_DIR" not in _settings(defaults, other)

    four = render({"gateway": {"workers": 4}})
    assert _settings(four, _container(four, "liaison-gateway"))["LIAISON_GATEWAY_WORKERS"] == "4"

"""Every rendered manifest, under every profile: valid against the
Kubernetes 1.30 schemas (strict) and free of the usual mistakes."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pytest
import yaml
from chart_support import (
    CHART,
    KUBE_VERSION,
    Manifest,
    find,
    labels_match,
    manifest_id,
    selects_some_pod,
    strip_source,
    workloads,
)

pytestmark = pytest.mark.chart

# Custom resources of the Prometheus operator: no schema in
# kubernetes-validate, so their shape is checked by hand below.
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule"}
REQUIRED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/version",
)
# Processes built from this repository's Dockerfile (uid 10001).
OWN_PROCESSES = {"api", "worker", "migrate", "gateway"}


def _component(workload: Manifest) -> str:
    return str(workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"])


def test_something_renders(manifests: list[Manifest]) -> None:
    kinds = {m["kind"] for m in manifests}
    assert {"Deployment", "Service", "Job", "ConfigMap", "ServiceAccount"} <= kinds


def test_manifests_are_valid_kubernetes(manifests: list[Manifest]) -> None:
    failures = []
    for manifest in manifests:
        if manifest["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(strip_source(manifest), KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            failures.append(f"{manifest_id(manifest)}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            failures.append(f"{manifest_id(manifest)}: {error.message}")
    assert failures == []


def test_object_names_are_unique(manifests: list[Manifest]) -> None:
    seen = [(m["kind"], m["metadata"]["name"]) for m in manifests]
    assert len(seen) == len(set(seen))


def test_no_manifest_hard_codes_a_namespace(manifests: list[Manifest]) -> None:
    assert [manifest_id(m) for m in manifests if "namespace" in m["metadata"]] == []


def test_labels_follow_the_kubernetes_conventions(manifests: list[Manifest]) -> None:
    for manifest in manifests:
        labels = manifest["metadata"].get("labels", {})
        missing = [key for key in REQUIRED_LABELS if not labels.get(key)]
        assert missing == [], manifest_id(manifest)
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/instance"] == "liaison"
        assert labels["app.kubernetes.io/part-of"] == "deputy-liaison-platform"
    for workload in workloads(manifests):
        pod_labels = workload["spec"]["template"]["metadata"]["labels"]
        assert [key for key in REQUIRED_LABELS if not pod_labels.get(key)] == [], manifest_id(
            workload
        )
        selector = workload["spec"].get("selector", {}).get("matchLabels")
        if selector is not None:
            assert labels_match(selector, pod_labels), manifest_id(workload)
            # Selectors are immutable: the version must never be part of one.
            assert "app.kubernetes.io/version" not in selector, manifest_id(workload)


def test_every_pod_is_locked_down(manifests: list[Manifest]) -> None:
    for workload in workloads(manifests):
        pod = workload["spec"]["template"]["spec"]
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, manifest_id(workload)
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, manifest_id(workload)
        assert pod["automountServiceAccountToken"] is False, manifest_id(workload)
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, manifest_id(workload)
            assert security["readOnlyRootFilesystem"] is True, manifest_id(workload)
            assert security["capabilities"]["drop"] == ["ALL"], manifest_id(workload)
            resources = container["resources"]
            assert resources["requests"]["cpu"] and resources["requests"]["memory"], manifest_id(
                workload
            )
            assert resources["limits"]["memory"], manifest_id(workload)
            # A read-only root needs somewhere to write.
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounts, manifest_id(workload)
            volumes = {volume["name"]: volume for volume in pod["volumes"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], manifest_id(workload)
        if _component(workload) in OWN_PROCESSES:
            assert context["runAsUser"] == 10001, manifest_id(workload)


def test_every_long_running_container_has_probes(manifests: list[Manifest]) -> None:
    for workload in workloads(manifests):
        if workload["kind"] == "Job":
            continue
        for container in workload["spec"]["template"]["spec"]["containers"]:
            assert "livenessProbe" in container, manifest_id(workload)
            assert "readinessProbe" in container, manifest_id(workload)


def _containers_by_component(manifests: list[Manifest], component: str) -> list[dict[str, Any]]:
    return [
        container
        for workload in workloads(manifests)
        if _component(workload) == component
        for container in workload["spec"]["template"]["spec"]["containers"]
    ]


def test_api_probes_ask_grpc_health_for_liveness_and_readiness_apart(
    profile: str, manifests: list[Manifest]
) -> None:
    # Liveness (and startup) ask for "liveness", which the database does not
    # touch; readiness asks for the server as a whole, which it does. With
    # gRPC TLS they go to the plaintext health port the api then serves.
    apis = _containers_by_component(manifests, "api")
    assert apis
    tls = profile == "all-services"
    for container in apis:
        port = 50052 if tls else 50051
        assert container["startupProbe"]["grpc"] == {"port": port, "service": "liveness"}
        assert container["livenessProbe"]["grpc"] == {"port": port, "service": "liveness"}
        assert container["readinessProbe"]["grpc"] == {"port": port}
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports.get("grpc-health") == (50052 if tls else None)
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        assert env.get("LIAISON_GRPC_HEALTH_PORT") == ("50052" if tls else None)


def test_worker_and_gateway_probes_use_healthz_and_readyz(manifests: list[Manifest]) -> None:
    for component, port in (("worker", "metrics"), ("gateway", "http")):
        for container in _containers_by_component(manifests, component):
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
            assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}


def test_services_read_their_settings_and_secrets(manifests: list[Manifest]) -> None:
    config_maps = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "ConfigMap"}
    for workload in workloads(manifests):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        component, service = labels["app.kubernetes.io/component"], labels["app.kubernetes.io/name"]
        if component not in {"api", "worker", "migrate"}:
            continue
        container = workload["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [f"{service}.{component}"]
        secrets = {
            env["name"]: env["valueFrom"]["secretKeyRef"]
            for env in container.get("env", [])
            if "valueFrom" in env
        }
        assert f"LIAISON_{service.upper()}_DATABASE_URL" in secrets, manifest_id(workload)
        if component == "migrate":
            # A hook may run before the ConfigMap exists: settings are inline.
            plain = {env["name"] for env in container["env"] if "value" in env}
            assert {"LIAISON_ENV", "LIAISON_LOG_LEVEL"} <= plain
        else:
            assert "LIAISON_AMQP_URI" in secrets, manifest_id(workload)
            (source,) = container["envFrom"]
            settings = config_maps[source["configMapRef"]["name"]]["data"]
            assert settings["LIAISON_GRPC_PORT"] == "50051"
            assert settings["LIAISON_METRICS_PORT"] == "9100"
            assert all(isinstance(value, str) for value in settings.values())


def test_migrations_run_as_a_hook_before_install_and_upgrade(
    profile: str, manifests: list[Manifest]
) -> None:
    jobs = [m for m in manifests if m["kind"] == "Job"]
    assert jobs
    for job in jobs:
        annotations = job["metadata"].get("annotations", {})
        if profile.startswith("dev"):
            assert "helm.sh/hook" not in annotations  # the dev database comes with the release
            continue
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert int(annotations["helm.sh/hook-weight"]) < 0
        assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_every_service_selects_rendered_pods_on_declared_ports(manifests: list[Manifest]) -> None:
    for service in (m for m in manifests if m["kind"] == "Service"):
        selector = service["spec"]["selector"]
        pods = [
            w
            for w in workloads(manifests)
            if labels_match(selector, w["spec"]["template"]["metadata"]["labels"])
        ]
        assert pods, f"{manifest_id(service)} selects no pods"
        for port in service["spec"]["ports"]:
            for pod in pods:
                if pod["kind"] == "Job":
                    continue
                names = {
                    p["name"]
                    for c in pod["spec"]["template"]["spec"]["containers"]
                    for p in c.get("ports", [])
                }
                assert port["targetPort"] in names, (
                    f"{manifest_id(service)} port {port['targetPort']} not on {manifest_id(pod)}"
                )


def test_autoscalers_and_budgets_point_at_rendered_deployments(manifests: list[Manifest]) -> None:
    deployments = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "Deployment"}
    for hpa in (m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments, manifest_id(hpa)
        # With an HPA the Deployment must not fight it over replicas.
        assert "replicas" not in deployments[target["name"]]["spec"], manifest_id(hpa)
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    for budget in (m for m in manifests if m["kind"] == "PodDisruptionBudget"):
        assert selects_some_pod(budget["spec"]["selector"], manifests), manifest_id(budget)


def test_prometheus_operator_objects_have_the_right_shape(
    profile: str, manifests: list[Manifest]
) -> None:
    monitors = [m for m in manifests if m["kind"] == "ServiceMonitor"]
    rules = [m for m in manifests if m["kind"] == "PrometheusRule"]
    if profile in {"default", "dev", "dev-policies"}:
        # Offline there is no monitoring.coreos.com API and the flags are off.
        assert monitors == rules == []
        return
    services = [m for m in manifests if m["kind"] == "Service"]
    assert {m["metadata"]["labels"]["app.kubernetes.io/name"] for m in monitors} >= {
        "registry",
        "gateway",
    }
    for monitor in monitors:
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert set(monitor["spec"]) == {"selector", "endpoints"}
        matched = [
            s
            for s in services
            if labels_match(monitor["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])
        ]
        assert len(matched) == 1, manifest_id(monitor)
        port_names = {port["name"] for port in matched[0]["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] in port_names and endpoint["path"] == "/metrics"
            targets = {relabel["targetLabel"] for relabel in endpoint["relabelings"]}
            assert targets == {"liaison_service", "liaison_process"}
    (rule,) = rules
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    # One source: the PrometheusRule is files/alerts.yaml verbatim.
    assert rule["spec"] == yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    for group in rule["spec"]["groups"]:
        assert group["name"] and group["rules"]
        for alert in group["rules"]:
            assert set(alert) <= {"alert", "expr", "for", "labels", "annotations"}
            assert alert["labels"]["severity"] in {"critical", "warning"}


def test_grafana_dashboard_ships_in_a_labelled_config_map(manifests: list[Manifest]) -> None:
    dashboards = find(manifests, "ConfigMap", "liaison-dashboards")
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    for name, text in dashboards["data"].items():
        dashboard = json.loads(text)
        assert name.endswith(".json") and dashboard["uid"] and dashboard["title"]
        panels = dashboard["panels"]
        assert len({panel["id"] for panel in panels}) == len(panels)
        for panel in panels:
            if panel["type"] != "row":
                assert panel["targets"] and all(target["expr"] for target in panel["targets"])

"""What the chart tests share: paths, profiles, and rendered manifests.

Everything is offline: helm-python-sdk bundles Helm's Go SDK, and
kubernetes-validate carries the Kubernetes JSON schemas.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "liaison"
LIBRARY = REPO / "charts" / "liaison-service"
KUBE_VERSION = "1.30.0"
RELEASE = "liaison"
NAMESPACE = "liaison-test"


def _load_values(name: str) -> dict[str, Any]:
    return yaml.safe_load((CHART / name).read_text()) or {}


# Every service the chart has an entry for (those not built yet too).
SERVICES = tuple(_load_values("values.yaml")["services"])

# Every service the platform will have, all enabled, with monitoring, the
# ingress, gRPC TLS, the token issuer, shared rate limits and a department
# calling referral: the largest render, so every template is exercised.
ALL_SERVICES: dict[str, Any] = {
    "services": {name: {"enabled": True} for name in SERVICES}
    | {"referral": {"enabled": True, "grpcFromCidrs": ["10.20.0.0/16"]}},
    "auth": {
        "jwksUrl": "https://id.liaison.example.org/.well-known/jwks.json",
        "issuer": "https://id.liaison.example.org",
        "audience": "liaison",
    },
    "grpcTls": {"enabled": True},
    "gateway": {
        "ingress": {"enabled": True, "tlsSecretName": "liaison-tls"},
        "trustedProxies": ["10.96.0.0/12"],
        "rateLimit": {"redisUrlSecret": {"name": "liaison-redis"}},
    },
    "networkPolicy": {"redis": {"cidrs": ["10.30.0.7/32"], "port": 6379}},
    "monitoring": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}},
}


def _dev_with_policies() -> dict[str, Any]:
    """The laptop profile on a cluster that enforces NetworkPolicies."""
    values = _load_values("values-dev.yaml")
    values["networkPolicy"] = {"enabled": True}
    return values


PROFILES: dict[str, Callable[[], dict[str, Any]]] = {
    "default": dict,
    "dev": lambda: _load_values("values-dev.yaml"),
    "dev-policies": _dev_with_policies,
    "ci": lambda: _load_values("values-ci.yaml"),
    "all-services": lambda: copy.deepcopy(ALL_SERVICES),
}

Manifest = dict[str, Any]


def split_manifests(rendered: dict[str, str]) -> list[Manifest]:
    """Every non-empty YAML document of a render, tagged with its template."""
    manifests: list[Manifest] = []
    for template, text in sorted(rendered.items()):
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                document.setdefault("metadata", {})
                manifests.append(document | {"__template__": template})
    return manifests


def strip_source(manifest: Manifest) -> Manifest:
    return {k: v for k, v in manifest.items() if k != "__template__"}


def find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    """The one rendered object of this kind and name."""
    (found,) = [m for m in manifests if m["kind"] == kind and m["metadata"].get("name") == name]
    return found


WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


def manifest_id(manifest: Manifest) -> str:
    return f"{manifest['kind']}/{manifest['metadata'].get('name')} ({manifest['__template__']})"


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in WORKLOAD_KINDS]


def pod_labels(manifests: list[Manifest]) -> list[dict[str, str]]:
    return [w["spec"]["template"]["metadata"]["labels"] for w in workloads(manifests)]


def labels_match(wanted: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in wanted.items())


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions) against labels."""
    assert set(selector) <= {"matchLabels", "matchExpressions"}, selector
    if not labels_match(selector.get("matchLabels", {}), labels):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def selects_some_pod(selector: dict[str, Any], manifests: list[Manifest]) -> bool:
    return any(selector_matches(selector, labels) for labels in pod_labels(manifests))

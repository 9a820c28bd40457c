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


# Every service the chart has an entry for (those not built yet too), all
# enabled, with monitoring and the ingress on: the largest render, so every
# template is exercised.
ALL_SERVICES: dict[str, Any] = {
    "services": {name: {"enabled": True} for name in _load_values("values.yaml")["services"]},
    "gateway": {"ingress": {"enabled": True, "tlsSecretName": "liaison-tls"}},
    "monitoring": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}},
}

PROFILES: dict[str, Callable[[], dict[str, Any]]] = {
    "default": dict,
    "dev": lambda: _load_values("values-dev.yaml"),
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

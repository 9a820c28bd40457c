"""Serving pods drain before they stop; every other pod stops at once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

GATEWAY_CLI = Path(__file__).resolve().parents[2] / "gateway" / "gateway" / "cli.py"


def _containers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return list(manifest["spec"]["template"]["spec"]["containers"])


def test_api_and_gateway_pods_pause_before_stopping(manifests: list[Any]) -> None:
    deployments = [m for m in manifests if m["kind"] == "Deployment"]
    serving = [
        d
        for d in deployments
        if d["metadata"]["labels"].get("app.kubernetes.io/component") in ("api", "gateway")
    ]
    assert serving, "no api or gateway Deployment rendered"
    for deployment in serving:
        spec = deployment["spec"]["template"]["spec"]
        assert spec["terminationGracePeriodSeconds"] >= 15
        for container in _containers(deployment):
            command = container["lifecycle"]["preStop"]["exec"]["command"]
            assert command[0] == "python", deployment["metadata"]["name"]
    for deployment in deployments:
        if deployment in serving:
            continue
        for container in _containers(deployment):
            assert "lifecycle" not in container, deployment["metadata"]["name"]


def test_grpc_services_are_headless_so_clients_balance_over_replicas(
    manifests: list[Any],
) -> None:
    grpc_services = [
        m
        for m in manifests
        if m["kind"] == "Service"
        and any(p.get("name") == "grpc" for p in m["spec"].get("ports", []))
    ]
    assert grpc_services, "no gRPC Service rendered"
    for service in grpc_services:
        assert service["spec"].get("clusterIP") == "None", service["metadata"]["name"]


def test_the_gateway_workers_stop_within_the_grace_period(manifests: list[Any]) -> None:
    # The preStop pause, then each worker's graceful stop (gateway.cli), then
    # its lifespan's shutdown: all before the kubelet's SIGKILL.
    (graceful,) = re.findall(
        r"^GRACEFUL_SHUTDOWN_SECONDS = (\d+)", GATEWAY_CLI.read_text(), re.MULTILINE
    )
    (gateway,) = [
        m
        for m in manifests
        if m["kind"] == "Deployment"
        and m["metadata"]["labels"].get("app.kubernetes.io/component") == "gateway"
    ]
    spec = gateway["spec"]["template"]["spec"]
    (container,) = _containers(gateway)
    pause = float(container["lifecycle"]["preStop"]["exec"]["command"][-1].rsplit("(", 1)[1][:-1])
    assert pause + int(graceful) + 3 <= spec["terminationGracePeriodSeconds"]

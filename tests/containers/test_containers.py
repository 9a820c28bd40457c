"""The images, built and run the way the chart runs them.

`make images` builds every service's image and the gateway's (docker, else
podman; base images made from Debian's packages where no registry is
reachable), and the whole platform starts from them as containers of the
rendered chart (scripts/containers/chartrun.py): the chart's user, a
read-only root filesystem with only its writable mounts, every capability
dropped, its args, environment and probes. Then:

- every api answers grpc.health.v1 SERVING (overall and for its service),
  every worker /readyz, the gateway its portal and find-station;
- a write at the gateway (a station renamed in the registry) reaches its
  consumer (the reception worker's read model) as an event;
- each container runs as the chart says (user, read-only root, no
  capabilities, only the declared writable mounts);
- stopping every container as the kubelet does (preStop, SIGTERM) ends it
  with exit code 0 within the pod's grace period.

Skips (with the reason) only where no container can run; under CI it fails.
Figures (image sizes, start seconds) are printed: `pytest -s` shows them.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from kit.required_tools import in_ci
from kit.services import SERVICES

# On a fresh machine the module's platform first builds its base and
# service images (minutes), past the suite's default of 300 s per test.
pytestmark = [pytest.mark.containers, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[2]


def _chartrun() -> ModuleType:
    path = REPO / "scripts" / "containers" / "chartrun.py"
    spec = importlib.util.spec_from_file_location("chartrun", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["chartrun"] = module
    spec.loader.exec_module(module)
    return module


chartrun = _chartrun()


@pytest.fixture(scope="module")
def platform() -> Iterator[Any]:
    ok, why = chartrun.can_run_containers()
    if not ok:
        reason = f"no container can run here: {why}; `make test-deps` installs podman"
        if in_ci():
            pytest.fail(f"{reason}. CI is set, so this fails instead of skipping.", pytrace=False)
        pytest.skip(reason)
    started = time.monotonic()
    with chartrun.running_platform() as running:
        print(f"\nbuilt and started in {time.monotonic() - started:.0f}s")
        print(chartrun.report(running))
        yield running


@pytest.fixture(scope="module")
def http(platform: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url(), timeout=30) as client:
        yield client


def workload(platform: Any, name: str) -> Any:
    return platform.loads[f"{chartrun.RELEASE}-{name}"]


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_every_api_answers_grpc_health_serving(platform: Any, service: str) -> None:
    api = workload(platform, f"{service}-api")
    address = f"{platform.ip(api.name)}:{api.ports['grpc']}"
    grpc_service = next(s.grpc_service for s in SERVICES if s.name == service)
    for name in ("", grpc_service):
        assert chartrun.grpc_serving(address, name, timeout=5), f"{service} api: {name!r}"


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_every_worker_is_ready(platform: Any, service: str) -> None:
    worker = workload(platform, f"{service}-worker")
    ip = platform.ip(worker.name)
    assert chartrun.http_ok(f"http://{ip}:{worker.ports['metrics']}/readyz", timeout=5)


def test_the_gateway_serves_the_portal_and_finds_a_station(http: httpx.Client) -> None:
    portal = http.get("/")
    assert portal.status_code == 200, portal.text
    assert portal.headers["content-type"].startswith("text/html")
    found = http.get("/api/v1/find-station", params={"address": "广州市天河区林和路8号"})
    assert found.status_code == 200, found.text
    assert found.json()["station"]["code"] == "linhe-1"
    assert found.json()["deputies"]


def test_a_write_reaches_its_consumer_as_an_event(platform: Any, http: httpx.Client) -> None:
    token = http.post("/api/v1/dev/tokens", json={"account": "admin"})
    assert token.status_code == 200, token.text
    headers = {"authorization": f"Bearer {token.json()['access_token']}"}
    name = f"联络站{uuid.uuid4().hex[:6]}"
    renamed = http.patch("/api/v1/stations/1", json={"name": name}, headers=headers)
    assert renamed.status_code == 200, renamed.text

    # The reception worker applies the registry's StationChanged to its own
    # read model, in reception's database.
    postgres = f"{chartrun.RELEASE}-postgresql"
    query = "select name from registry_stations where id = 1"
    deadline = time.monotonic() + 30
    seen = ""
    while time.monotonic() < deadline:
        seen = platform.cli(
            "exec",
            platform.container(postgres),
            "psql",
            "-U",
            "liaison",
            "-d",
            "reception",
            "-tAc",
            query,
        )
        if seen == name:
            return
        time.sleep(0.5)
    raise AssertionError(f"reception's read model still has {seen!r}, not {name!r}")


def test_each_container_runs_as_the_chart_declares(platform: Any) -> None:
    checked = []
    for name in platform.started:
        w = platform.loads.get(name)
        if w is None or w.kind == "Job":
            continue
        state = platform.inspect(name)
        assert state["user"] == w.user, name
        assert set(w.groups) <= set(state["groups"]), name
        assert w.cap_drop == ["ALL"] and state["effective_caps"] == 0, name
        assert state["bounding_caps"] == 0, name
        assert state["no_new_privs"] is w.no_new_privileges is True, name
        assert state["read_only"] is w.read_only is True, name
        assert state["tmpfs"] == platform.resolve(name, w.tmpfs), name
        assert state["binds"] == sorted(w.files), name
        assert state["args"] == w.args, name
        assert state["memory_mib"] == chartrun._mebibytes(w.memory), name
        checked.append(name)
        # Nothing writable to its user but the declared mounts.
        mounts = platform.resolve(name, w.tmpfs)
        candidates = ["/", "/app", "/app/.venv/lib", "/etc", "/usr", "/var", "/home", *mounts]
        writable = platform.cli(
            "exec",
            platform.container(name),
            "sh",
            "-c",
            'for d in "$@"; do if [ -w "$d" ]; then echo "$d"; fi; done',
            "sh",
            *candidates,
        ).split()
        assert sorted(writable) == mounts, f"{name}: writable {writable}"
    assert len(checked) == 2 + 2 * len(SERVICES) + 1, checked


def test_every_container_stops_on_sigterm_within_its_grace_period(platform: Any) -> None:
    # Last: stops the platform. The gateway first, then the services, then
    # the servers, as a cluster drains.
    stopped: dict[str, tuple[float, int]] = {}
    for name in reversed(platform.started):
        w = platform.loads.get(name)
        if w is None or w.kind == "Job":
            continue
        stopped[name] = platform.stop(name)
    print("\nstop seconds, exit code:", {k: (round(s, 1), c) for k, (s, c) in stopped.items()})
    for name, (seconds, code) in stopped.items():
        grace = platform.loads[name].grace
        assert code == 0, f"{name} exited {code} on SIGTERM (137: killed at the grace period)"
        assert seconds < grace, f"{name} took {seconds:.1f}s, its grace period is {grace}s"

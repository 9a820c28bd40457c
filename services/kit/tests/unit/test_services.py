"""The one list of services (kit/services.toml): what it says is true of the
repository, and a wrong entry is refused naming the entry and the key."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool

from kit import services
from kit.services import SERVICES, ServiceListError, parse
from kit.settings import Settings, grpc_target

REPO = Path(__file__).resolve().parents[4]

GOOD = """
[services.registry]
grpc_port = 50051
api_metrics_port = 9101
worker_metrics_port = 9201
grpc_service = "liaison.registry.v1.RegistryService"
"""


def test_every_listed_service_exists_with_its_processes_and_grpc_service() -> None:
    assert services.names()[0] == "registry"
    for service in SERVICES:
        folder = REPO / service.source_dir
        for process in ("api", "worker", "migrate", "cli", "bootstrap", "settings"):
            assert (folder / f"{process}.py").is_file(), f"{service.name} lacks {process}.py"
        assert (REPO / "services" / service.name / "migrations").is_dir()
        package = ".".join(service.grpc_service.split(".")[:-1])
        for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
            importlib.import_module(f"{package}.{module.name}")
        assert descriptor_pool.Default().FindServiceByName(service.grpc_service)
        module, stub = service.grpc_stub
        assert hasattr(importlib.import_module(module), stub), f"{module}.{stub}"


def test_settings_and_clients_take_their_ports_from_the_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LIAISON_GRPC_PORT", "LIAISON_METRICS_PORT", "LIAISON_REGISTRY_GRPC_TARGET"):
        monkeypatch.delenv(name, raising=False)
    for service in SERVICES:
        api = Settings.load(service.name, "api")
        worker = Settings.load(service.name, "worker")
        assert api.grpc_port == service.grpc_port
        assert (api.metrics_port, worker.metrics_port) == (
            service.api_metrics_port,
            service.worker_metrics_port,
        )
        assert grpc_target(service.name) == f"127.0.0.1:{service.grpc_port}"


def test_an_unlisted_service_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="no service 'recepton'.*registry"):
        services.service("recepton")


def test_the_makefile_type_checks_every_listed_service() -> None:
    if shutil.which("make") is None:
        pytest.fail("this test reads the Makefile's commands with make", pytrace=False)
    commands = subprocess.run(
        ["make", "--no-print-directory", "-n", "lint"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (kit_mypy,) = [line for line in commands.splitlines() if "mypy services/kit/kit" in line]
    checked = kit_mypy.split("mypy", 1)[1].split()
    assert checked == ["services/kit/kit", *(s.source_dir for s in SERVICES)]


def test_a_good_list_parses() -> None:
    (registry,) = parse(GOOD)
    assert registry.name == "registry" and registry.grpc_port == 50051
    assert registry.module("worker") == "registry.worker"
    assert registry.metrics_port("worker") == 9201 and registry.metrics_port("api") == 9101


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (GOOD.replace("grpc_port = 50051\n", ""), "services.registry: lacks grpc_port"),
        (GOOD + "colour = 'red'\n", "has unknown key colour"),
        (GOOD.replace("50051", "70000"), "services.registry.grpc_port: 70000 is not a TCP port"),
        (GOOD.replace("50051", '"50051"'), "services.registry.grpc_port"),
        (GOOD.replace("9201", "9101"), "port 9101 is also services.registry.api_metrics_port"),
        (GOOD.replace("[services.registry]", "[services.Public-Records]"), "Public-Records"),
        (GOOD.replace('"liaison.registry.v1.RegistryService"', '"Registry"'), "grpc_service"),
        ("[servicez.registry]\n", "unknown top-level keys ['servicez']"),
        ("", "no [services.<name>] entries"),
        ("[services.registry\n", "services.toml"),
    ],
)
def test_a_wrong_entry_is_refused_naming_it(text: str, named: str) -> None:
    with pytest.raises(ServiceListError) as refused:
        parse(text)
    assert named in str(refused.value)

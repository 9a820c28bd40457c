"""The platform's services, from `services.toml` beside this module.

    from kit.services import SERVICES, service
    for svc in SERVICES: ...            # in start order
    service("registry").grpc_port       # 50051

The Makefile reads the names from the file itself (with sed).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

SERVICES_FILE = Path(__file__).resolve().parent / "services.toml"

# A name becomes a package, LIAISON_<NAME>_DATABASE_URL and a Kubernetes name.
_NAME = re.compile(r"^[a-z][a-z0-9]*$")


class ServiceListError(ValueError):
    """services.toml does not describe the services correctly."""


@dataclass(frozen=True)
class Service:
    name: str
    grpc_port: int
    api_metrics_port: int
    worker_metrics_port: int
    grpc_service: str

    @property
    def package(self) -> str:
        """The Python package: its modules are <package>.api, .worker, .migrate, .cli."""
        return self.name

    @property
    def source_dir(self) -> str:
        """Its package's folder, relative to the repository's root."""
        return f"services/{self.name}/{self.name}"

    def module(self, process: str) -> str:
        """The module that runs `process` (api, worker, migrate, cli)."""
        return f"{self.package}.{process}"

    @property
    def grpc_stub(self) -> tuple[str, str]:
        """The generated module and class of its gRPC client stub, by the
        protos' convention: liaison.<name>.v1.<name>.proto holds the service."""
        package, _, short = self.grpc_service.rpartition(".")
        return f"{package}.{self.name}_pb2_grpc", f"{short}Stub"

    def metrics_port(self, process: str) -> int:
        return self.worker_metrics_port if process == "worker" else self.api_metrics_port

    @property
    def env_prefix(self) -> str:
        return f"LIAISON_{self.name.upper()}"


_PORT_FIELDS = ("grpc_port", "api_metrics_port", "worker_metrics_port")


def parse(text: str, source: str = "services.toml") -> tuple[Service, ...]:
    """The services described by `text`; ServiceListError names what is wrong."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ServiceListError(f"{source}: {exc}") from None
    unknown = set(document) - {"services"}
    if unknown:
        raise ServiceListError(f"{source}: unknown top-level keys {sorted(unknown)}")
    entries = document.get("services")
    if not isinstance(entries, dict) or not entries:
        raise ServiceListError(f"{source}: no [services.<name>] entries")
    wanted = {f.name for f in fields(Service)} - {"name"}
    found: list[Service] = []
    ports: dict[int, str] = {}
    for name, entry in entries.items():
        where = f"{source}: services.{name}"
        if not _NAME.fullmatch(name):
            raise ServiceListError(f"{where}: a name is lower-case letters and digits")
        if not isinstance(entry, dict):
            raise ServiceListError(f"{where}: is not a table")
        missing, extra = wanted - set(entry), set(entry) - wanted
        if missing or extra:
            problems = [f"lacks {k}" for k in sorted(missing)] + [
                f"has unknown key {k}" for k in sorted(extra)
            ]
            raise ServiceListError(f"{where}: {', '.join(problems)}")
        for key in _PORT_FIELDS:
            port = entry[key]
            if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
                raise ServiceListError(f"{where}.{key}: {port!r} is not a TCP port")
            if port in ports:
                raise ServiceListError(f"{where}.{key}: port {port} is also {ports[port]}")
            ports[port] = f"services.{name}.{key}"
        if not isinstance(entry["grpc_service"], str) or "." not in entry["grpc_service"]:
            raise ServiceListError(
                f"{where}.grpc_service: a full name such as liaison.x.v1.XService"
            )
        found.append(Service(name=name, **entry))
    return tuple(found)


def load(path: Path = SERVICES_FILE) -> tuple[Service, ...]:
    return parse(path.read_text(encoding="utf-8"), source=str(path))


SERVICES: tuple[Service, ...] = load()


def names() -> tuple[str, ...]:
    return tuple(s.name for s in SERVICES)


def service(name: str) -> Service:
    """The listed service of this name; KeyError naming the ones there are."""
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no service {name!r} in {SERVICES_FILE.name}; there are {', '.join(names())}")

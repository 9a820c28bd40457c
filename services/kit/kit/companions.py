"""Companions: local stand-ins of the systems outside the platform that a
service speaks to (a mail relay, an SMS provider), run beside the platform
in a local run (`make up`, kit.devrun) and in the tests' platform
(kit.testrun.running_platform), never in a deployment.

A service that has some says so in a module `<package>.localrun` with

    def companions(var: Path, port: Callable[[int], int]) -> list[Companion]

`var` is the folder the companions keep their records in; `port(default)`
gives the port to listen on (the default in a local run, a free one in
tests). Each companion names the environment that points the platform's
processes at it; the runner starts it, waits until its port accepts, and
adds that environment before any service starts.
"""

from __future__ import annotations

import importlib
import importlib.util
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kit.services import Service


@dataclass(frozen=True)
class Companion:
    name: str  # e.g. "notifications-mail"
    module: str  # run as `python -m <module> <args>`
    args: tuple[str, ...]
    port: int  # ready once it accepts TCP here (on 127.0.0.1)
    env: dict[str, str] = field(default_factory=dict)  # what points the platform at it
    record: Path | None = None  # where it writes what it received, if anywhere


def companions_of(service: Service, var: Path, port: Callable[[int], int]) -> list[Companion]:
    """The companions `service` declares in `<package>.localrun` (none without one)."""
    name = f"{service.package}.localrun"
    if importlib.util.find_spec(name) is None:
        return []
    found: list[Companion] = importlib.import_module(name).companions(var, port)
    return found


def wait_port(port: int, seconds: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Whether 127.0.0.1:`port` accepts a connection within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False

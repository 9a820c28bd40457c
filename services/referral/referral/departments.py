"""Which units are the district government's departments: asked of the
registry (its public `GetUnit`) when the government office assigns a
letter, so that a letter goes only to a unit that exists, is a department
and is active. Answers are kept a few minutes: departments change rarely,
and an assignment names a handful.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import grpc

from kit.errors import Unavailable, Violations
from liaison.registry.v1 import registry_pb2 as rpb

CACHE_SECONDS = 300.0


class Departments(Protocol):
    def check(self, lead: int, co_handlers: Sequence[int]) -> None:
        """Raise InvalidArgument naming each id that is not an active
        department (`lead_department_id`, `co_handler_ids`)."""
        ...


class RegistryDepartments:
    def __init__(self, registry: Any, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self.registry = registry
        self.cache_seconds = cache_seconds
        self._known: dict[int, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def why_not(self, unit_id: int) -> str | None:
        """None when `unit_id` is an active department; else why it is not."""
        now = time.monotonic()
        with self._lock:
            cached = self._known.get(unit_id)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        try:
            unit = self.registry.GetUnit(rpb.GetRequest(id=unit_id), timeout=5)
        except grpc.RpcError as error:
            if error.code() is grpc.StatusCode.NOT_FOUND:
                reason: str | None = f"{unit_id} is no unit of the registry"
            else:
                raise Unavailable(
                    "the registry cannot be reached to check the departments; nothing was "
                    "changed: try again"
                ) from None
        else:
            if unit.kind != rpb.UNIT_KIND_DEPARTMENT:
                reason = f"{unit_id} ({unit.name}) is not a department"
            elif not unit.active:
                reason = f"{unit_id} ({unit.name}) is no longer active"
            else:
                reason = None
        with self._lock:
            self._known[unit_id] = (now, reason)
        return reason

    def check(self, lead: int, co_handlers: Sequence[int]) -> None:
        v = Violations()
        if lead and (why := self.why_not(lead)):
            v.add("lead_department_id", why)
        for unit_id in dict.fromkeys(co_handlers):
            if why := self.why_not(unit_id):
                v.add("co_handler_ids", why)
        v.raise_if_any("the letter cannot be assigned to those units")

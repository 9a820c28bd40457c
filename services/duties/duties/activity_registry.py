"""What activities and research ask the registry besides who a deputy is
(`duties.registry`): which street a station serves (its public
`GetStation`), and a budget line a grant is drawn on with the street its
unit belongs to (`GetBudgetLine`, `GetUnit`).

The registry serves budget lines (their amounts) to staff only, so a line
is read with the approving street committee's own token, as the caller
presented it to this service: the registry decides what that caller may
see, and the amount is never kept here. A line's answer is not cached
(the registry may lower an amount at any time); a station's is, a few
minutes.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

import grpc

from duties.research import BudgetLine
from kit.errors import NotFound, PermissionDenied, Unavailable
from liaison.registry.v1 import registry_pb2 as rpb

CACHE_SECONDS = 300.0


class RegistryLookups(Protocol):
    def station_street(self, station_id: int) -> int | None:
        """The street of an active station; None when deactivated;
        NOT_FOUND when the registry has none."""
        ...

    def budget_line(self, line_id: int, bearer: str) -> BudgetLine:
        """The line as the caller (`bearer`: their `authorization` value)
        may read it, with its unit's street; NOT_FOUND or PERMISSION_DENIED
        as the registry answers."""
        ...


def _refused(error: grpc.RpcError, what: str) -> Exception:
    code = error.code()
    if code is grpc.StatusCode.NOT_FOUND:
        return NotFound(f"the registry has no {what}")
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        return PermissionDenied(f"the registry does not show {what} to this caller")
    return Unavailable(
        f"the registry cannot be reached to read {what}; nothing was changed: try again"
    )


class GrpcRegistryLookups:
    """`RegistryLookups` over the registry's gRPC stub."""

    def __init__(self, registry: Any, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self.registry = registry
        self.cache_seconds = cache_seconds
        self._stations: dict[int, tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    def station_street(self, station_id: int) -> int | None:
        now = time.monotonic()
        with self._lock:
            hit = self._stations.get(station_id)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        try:
            station = self.registry.GetStation(rpb.GetRequest(id=station_id), timeout=5)
        except grpc.RpcError as error:
            raise _refused(error, f"station {station_id}") from None
        street = station.street_id if station.active else None
        with self._lock:
            self._stations[station_id] = (now, street)
        return street

    def budget_line(self, line_id: int, bearer: str) -> BudgetLine:
        what = f"budget line {line_id}"
        try:
            line = self.registry.GetBudgetLine(
                rpb.GetRequest(id=line_id), timeout=5, metadata=[("authorization", bearer)]
            )
        except grpc.RpcError as error:
            raise _refused(error, what) from None
        try:
            unit = self.registry.GetUnit(rpb.GetRequest(id=line.unit_id), timeout=5)
        except grpc.RpcError as error:
            raise _refused(error, f"unit {line.unit_id} of {what}") from None
        street = unit.street_id if unit.kind == rpb.UNIT_KIND_STREET_COMMITTEE else None
        return BudgetLine(
            id=line.id,
            unit_id=line.unit_id,
            street_id=street or None,
            year=line.year,
            operations=line.kind == rpb.BUDGET_LINE_KIND_OPERATIONS,
            active=line.active,
            amount_yuan=line.amount_yuan,
        )

    def street_operations_line(self, street_id: int, year: int, bearer: str) -> int | None:
        """The id of the street committee's active operations line of `year`
        as the caller (`bearer`) may list it; None when the registry has
        none. The street's committee is found through the registry's public
        units, its lines with the caller's token (the demo's research asks;
        no use case does)."""
        try:
            units = self.registry.ListUnits(
                rpb.ListUnitsRequest(kind=rpb.UNIT_KIND_STREET_COMMITTEE, street_id=street_id),
                timeout=5,
            ).units
            for unit in units:
                lines = self.registry.ListBudgetLines(
                    rpb.ListBudgetLinesRequest(unit_id=unit.id, year=year),
                    timeout=5,
                    metadata=[("authorization", bearer)],
                ).budget_lines
                for line in lines:
                    if line.active and line.kind == rpb.BUDGET_LINE_KIND_OPERATIONS:
                        return int(line.id)
        except grpc.RpcError as error:
            raise _refused(error, f"the budget lines of street {street_id}") from None
        return None

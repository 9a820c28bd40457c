"""The registry's protobuf enums and their stored names."""

from __future__ import annotations

from kit.convert import EnumNames, deactivation, iso, timestamp
from liaison.registry.v1 import registry_pb2 as pb

__all__ = [
    "BUDGET_KIND",
    "LEVEL",
    "ROLE",
    "ROSTER_FORMAT",
    "ROSTER_KIND",
    "UNIT_KIND",
    "EnumNames",
    "deactivation",
    "iso",
    "timestamp",
]

LEVEL = EnumNames(pb.DeputyLevel, "DEPUTY_LEVEL")
UNIT_KIND = EnumNames(pb.UnitKind, "UNIT_KIND")
ROLE = EnumNames(pb.PositionRole, "POSITION_ROLE")
BUDGET_KIND = EnumNames(pb.BudgetLineKind, "BUDGET_LINE_KIND")
ROSTER_KIND = EnumNames(pb.RosterKind, "ROSTER_KIND")
ROSTER_FORMAT = EnumNames(pb.RosterFormat, "ROSTER_FORMAT")

"""The registry's settings: the platform's (kit.settings) and its own.

| variable                             | default                                     |
|--------------------------------------|---------------------------------------------|
| LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN | 370000: the yearly funds (personnel plus operations, yuan) below which a street committee's budget check fails |
| LIAISON_REGISTRY_ROSTER_<CAP>        | the caps on a roster file (registry.roster.RosterLimits: MAX_BYTES, MAX_ROWS, MAX_COLUMNS, ...) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from kit.settings import Settings, read_int
from registry.roster import RosterLimits

BUDGET_MINIMUM_YUAN = 370_000


@dataclass(frozen=True)
class RegistrySettings(Settings):
    budget_minimum_yuan: int = BUDGET_MINIMUM_YUAN
    roster_limits: RosterLimits = field(default_factory=RosterLimits)

    @classmethod
    def from_environment(cls, service: str, process: str) -> dict[str, Any]:
        return super().from_environment(service, process) | {
            "budget_minimum_yuan": read_int(
                "LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN", BUDGET_MINIMUM_YUAN, minimum=0
            ),
            "roster_limits": RosterLimits.from_environ(os.environ),
        }

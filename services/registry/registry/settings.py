"""The registry's settings: the platform's (kit.settings) and its own.

| variable                             | default                                     |
|--------------------------------------|---------------------------------------------|
| LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN | 370000: the yearly funds (personnel plus operations, yuan) below which a street committee's budget check fails |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kit.settings import Settings, read_int

BUDGET_MINIMUM_YUAN = 370_000


@dataclass(frozen=True)
class RegistrySettings(Settings):
    budget_minimum_yuan: int = BUDGET_MINIMUM_YUAN

    @classmethod
    def from_environment(cls, service: str, process: str) -> dict[str, Any]:
        return super().from_environment(service, process) | {
            "budget_minimum_yuan": read_int(
                "LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN", BUDGET_MINIMUM_YUAN, minimum=0
            )
        }

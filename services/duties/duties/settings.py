"""The duties service's settings: the platform's (kit.settings) and its own.

| variable                                   | default                                   |
|--------------------------------------------|-------------------------------------------|
| LIAISON_REGISTRY_GRPC_TARGET               | where the registry is asked who a deputy is (kit.settings) |
| LIAISON_DUTIES_BALLOT_MIN_TURNOUT          | 10: papers cast below which nothing of a ballot is shown (docs/BALLOTS.md) |
| LIAISON_DUTIES_REELECTION_SHARE            | 0.6: a share of satisfied + basically satisfied strictly below it flags the deputy for re-nomination |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from duties.ballot_rules import DEFAULT_MIN_TURNOUT, DEFAULT_REELECTION_SHARE
from kit.errors import SettingsError
from kit.settings import Settings, grpc_target, read_float, read_int


@dataclass(frozen=True)
class DutiesSettings(Settings):
    registry_target: str = ""
    ballot_min_turnout: int = DEFAULT_MIN_TURNOUT
    reelection_share: float = DEFAULT_REELECTION_SHARE

    @classmethod
    def from_environment(cls, service: str, process: str) -> dict[str, Any]:
        return super().from_environment(service, process) | {
            "registry_target": grpc_target("registry"),
            "ballot_min_turnout": read_int(
                "LIAISON_DUTIES_BALLOT_MIN_TURNOUT", DEFAULT_MIN_TURNOUT, minimum=1
            ),
            "reelection_share": _share("LIAISON_DUTIES_REELECTION_SHARE", DEFAULT_REELECTION_SHARE),
        }


def _share(name: str, default: float) -> float:
    value = read_float(name, default)
    if value > 1:
        raise SettingsError(f"{name} must be a share between 0 and 1, not {value}")
    return value

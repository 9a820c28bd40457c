"""The reception service's settings: the platform's (kit.settings) and its own.

| variable                                  | default                                   |
|-------------------------------------------|-------------------------------------------|
| LIAISON_RECEPTION_MONTHS_AHEAD            | 3: the worker keeps this month's sessions and this many months ahead scheduled (every hour) |
| LIAISON_RECEPTION_REGISTRY_RELOAD_SECONDS | 21600: how often the api loads the registry's snapshot again, repairing what events missed |
| LIAISON_RECEPTION_ROTA_MIN_DEPUTIES       | 2: deputies a session's rota needs, a station head or deputy head among them |
| LIAISON_REGISTRY_GRPC_TARGET              | where the registry's snapshot is asked (kit.settings) |
| LIAISON_RECEPTION_DEFAULT_SLOT_CAPACITY   | 20: the bookings a slot takes when its venue's capacity is not known |
| LIAISON_RECEPTION_REMINDER_SECONDS        | 900: how often each worker reminds the bookers of tomorrow's sessions |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kit.settings import Settings, grpc_target, read_int
from reception.bookings import DEFAULT_SLOT_CAPACITY

MONTHS_AHEAD = 3
# How often the worker's timer schedules (cheap when nothing is missing).
SCHEDULE_EVERY_SECONDS = 3600
REGISTRY_RELOAD_SECONDS = 6 * 3600
ROTA_MIN_DEPUTIES = 2
REMINDER_SECONDS = 900


@dataclass(frozen=True)
class ReceptionSettings(Settings):
    months_ahead: int = MONTHS_AHEAD
    registry_reload_seconds: int = REGISTRY_RELOAD_SECONDS
    registry_target: str = ""
    default_slot_capacity: int = DEFAULT_SLOT_CAPACITY
    rota_min_deputies: int = ROTA_MIN_DEPUTIES

    @classmethod
    def from_environment(cls, service: str, process: str) -> dict[str, Any]:
        return super().from_environment(service, process) | {
            "months_ahead": read_int("LIAISON_RECEPTION_MONTHS_AHEAD", MONTHS_AHEAD, minimum=0),
            "registry_reload_seconds": read_int(
                "LIAISON_RECEPTION_REGISTRY_RELOAD_SECONDS", REGISTRY_RELOAD_SECONDS, minimum=60
            ),
            "registry_target": grpc_target("registry"),
            "default_slot_capacity": read_int(
                "LIAISON_RECEPTION_DEFAULT_SLOT_CAPACITY", DEFAULT_SLOT_CAPACITY, minimum=1
            ),
            "rota_min_deputies": read_int(
                "LIAISON_RECEPTION_ROTA_MIN_DEPUTIES", ROTA_MIN_DEPUTIES, minimum=1
            ),
        }


def reminder_seconds() -> int:
    """How often the worker's timer reminds bookers (read once, when the
    worker's class is defined: nameko's timers take their interval then)."""
    return read_int("LIAISON_RECEPTION_REMINDER_SECONDS", REMINDER_SECONDS, minimum=5)

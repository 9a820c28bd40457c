"""A letter's workflow state (`referral.routing.Letter`) as JSON, to store
with its row, and back.

cattrs unstructures the frozen dataclasses into plain JSON values (times as
ISO 8601 with their offset, dates as ISO dates, enums as their values) and
structures them back, so `load(dump(letter)) == letter` for every letter
the rules can make (checked by a property test).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from cattrs.preconf.json import make_converter

from referral.routing import Letter

_converter = make_converter()
_converter.register_unstructure_hook(datetime, datetime.isoformat)
_converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
_converter.register_unstructure_hook(date, date.isoformat)
_converter.register_structure_hook(date, lambda v, _: date.fromisoformat(v))
_converter.register_unstructure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, Enum), lambda e: e.value
)


def dump(letter: Letter) -> dict[str, Any]:
    value: dict[str, Any] = _converter.unstructure(letter)
    return value


def load(value: dict[str, Any]) -> Letter:
    return _converter.structure(value, Letter)

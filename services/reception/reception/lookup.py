"""Loading a record a request names by id: INVALID_ARGUMENT naming the field
for an id no record can have, NOT_FOUND for one no record has."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kit.errors import NotFound, invalid
from kit.records import MAX_ID


def load(session: Session, model: type[Any], record_id: int, noun: str, field: str) -> Any:
    if not 0 < record_id <= MAX_ID:
        raise invalid(field, "must be a positive number")
    found = session.get(model, record_id)
    if found is None:
        raise NotFound(f"no {noun} has id {record_id}")
    return found

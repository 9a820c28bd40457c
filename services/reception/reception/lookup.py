"""What every use case of the service checks the same way: loading a record
a request names by id (INVALID_ARGUMENT naming the field for an id no record
can have, NOT_FOUND for one no record has), and a reason given in words."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kit.errors import NotFound, Violations, invalid
from kit.records import MAX_ID

MAX_REASON = 500


def load(session: Session, model: type[Any], record_id: int, noun: str, field: str) -> Any:
    if not 0 < record_id <= MAX_ID:
        raise invalid(field, "must be a positive number")
    found = session.get(model, record_id)
    if found is None:
        raise NotFound(f"no {noun} has id {record_id}")
    return found


def check_reason(v: Violations, field: str, text: str) -> str:
    """`text` stripped, or a violation of `field`: missing, longer than
    MAX_REASON, or holding a control character (newlines and tabs allowed)."""
    reason = text.strip()
    if not reason:
        v.add(field, "is required: say why")
    elif len(reason) > MAX_REASON:
        v.add(field, f"is longer than {MAX_REASON} characters")
    elif any(ord(c) < 32 and c not in "\n\t" for c in reason):
        v.add(field, "holds a control character")
    return reason

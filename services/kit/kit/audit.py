"""Every service's append-only audit: who changed which record, when.

A use case records its change in the same transaction as the change, so an
entry exists exactly when the change does. Only names of fields are kept,
never their values: the audit holds no personal data. On PostgreSQL a
trigger refuses UPDATE and DELETE on the table, so not even the service's
own code can rewrite history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kit.auth import Principal
from kit.convert import timestamp
from kit.logging import get_correlation_id
from kit.tables import audit_entries
from liaison.common.v1 import auth_pb2

_APPEND_ONLY_SQL = (
    """
    CREATE OR REPLACE FUNCTION liaison_audit_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'audit_entries is append-only';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_entries_append_only
    BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION liaison_audit_append_only()
    """,
)


def make_append_only(bind: Connection) -> None:
    """Refuse UPDATE and DELETE of audit entries (PostgreSQL)."""
    if bind.dialect.name != "postgresql":
        return
    for statement in _APPEND_ONLY_SQL:
        bind.exec_driver_sql(statement)


def record(
    session: Session,
    actor: Principal,
    action: str,
    record_kind: str,
    record_id: int,
    changed_fields: Iterable[str] = (),
) -> None:
    """Add one entry in the session's transaction."""
    session.execute(
        audit_entries.insert().values(
            occurred_at=datetime.now(UTC),
            actor_subject=actor.sub,
            actor_role=actor.role.value,
            actor_street_id=actor.street_id,
            action=action,
            record_kind=record_kind,
            record_id=record_id,
            changed_fields=",".join(sorted(set(changed_fields))),
            correlation_id=get_correlation_id() or "",
        )
    )


def entry_pb(row: Any) -> auth_pb2.AuditEntry:
    return auth_pb2.AuditEntry(
        id=row.id,
        occurred_at=timestamp(row.occurred_at),
        actor_subject=row.actor_subject,
        actor_role=row.actor_role,
        actor_street_id=row.actor_street_id or 0,
        action=row.action,
        record_kind=row.record_kind,
        record_id=row.record_id,
        changed_fields=[f for f in row.changed_fields.split(",") if f],
        correlation_id=row.correlation_id,
    )


def query(request: auth_pb2.ListAuditEntriesRequest) -> Any:
    """The entries a ListAuditEntries request asks for (paged by the caller)."""
    q = select(audit_entries)
    if request.record_kind:
        q = q.where(audit_entries.c.record_kind == request.record_kind)
    if request.record_id:
        q = q.where(audit_entries.c.record_id == request.record_id)
    if request.actor_subject:
        q = q.where(audit_entries.c.actor_subject == request.actor_subject)
    return q

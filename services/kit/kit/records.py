"""The record engine: one create / update / deactivate / get / list flow for
every kind of record of every service.

A service describes each kind once with a `RecordKind` (its table, its
protobuf message, how a message is applied to a row, which fields a caller
may set, its natural key, its list filters, the streets it belongs to, who
may read and write it, and the event that tells others it changed); the
engine does the rest the same way everywhere:

- reads: role check for non-public kinds, opaque page tokens bound to the
  query they page, filters declared per kind, `%` and `_` in searches
  matching themselves, and each record as the caller may see it (`view`);
- writes: the caller's role, then the record's street before the change,
  the payload's problems all at once (INVALID_ARGUMENT naming each field),
  then the streets of the record after the change and of every record the
  command names; uniqueness as ALREADY_EXISTS checked before the flush and
  also mapped from the database's constraint; the change, its events (the
  transactional outbox) and its audit entry in one transaction.

Anything particular to a kind is a hook on the kind, never a branch here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Select, func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import DISTRICT_ROLES, Principal, Role, require, require_streets
from kit.db import Database, UnitOfWork
from kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Violations,
    invalid,
)
from liaison.common.v1 import envelope_pb2

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_ID = 2**63 - 1

# Who writes a kind unless it says otherwise: the district's offices, and a
# street committee within its own street.
DEFAULT_WRITERS = frozenset(DISTRICT_ROLES | {Role.STREET_COMMITTEE})

Apply = Callable[[Session, Any, Any, set[str], Violations], None]


@dataclass(frozen=True)
class Filter:
    """One filter of a kind's List request: the request field it reads and
    the condition it adds. The condition builder returns None to add nothing.
    Unless `always`, a zero or empty value adds nothing."""

    field: str
    where: Callable[[Any], Any]
    always: bool = False


def search(*columns: Any) -> Callable[[str], Any]:
    """A filter condition matching `text` anywhere in any of `columns`,
    case-insensitively, with `%` and `_` matching themselves."""

    def where(text: str) -> Any:
        text = text.strip()
        if not text:
            return None
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return or_(*(c.ilike(f"%{escaped}%", escape="\\") for c in columns))

    return where


@dataclass(frozen=True)
class RecordKind:
    """What the engine needs to know of one kind of record."""

    noun: str  # "deputy"
    model: type[Any]
    message: type[Message]
    request_field: str  # the record's field in Create/Update requests
    to_pb: Callable[[Any], Message]
    apply: Apply
    # Fields a create must give; the others take their defaults.
    required: tuple[str, ...]
    settable: frozenset[str]
    natural_key: tuple[str, ...] = ("code",)
    has_active: bool = True
    # Uniqueness of the natural key only among active records (the others
    # stay as history).
    unique_among_active: bool = False
    # The kind's event for a change ("created" | "updated" | "deactivated"),
    # or None when there is nothing to tell.
    event: Callable[[Session, Any, str, list[str]], Message | None] | None = None
    filters: tuple[Filter, ...] = ()
    # None: anyone may read, even without a token. Else the roles that may.
    readers: frozenset[Role] | None = None
    writers: frozenset[Role] = DEFAULT_WRITERS
    # Actions ("create", "update", "deactivate") that only district roles take.
    district_only: frozenset[str] = frozenset()
    hooks: KindHooks = field(default_factory=lambda: KindHooks())

    def create_fields(self, message: Message) -> set[str]:
        """The fields a create (or a whole-record upsert) sets from `message`:
        every settable one, defaults included, and those its hook adds."""
        fields = {f for f in self.settable if "." not in f}
        if self.hooks.create_fields:
            fields |= self.hooks.create_fields(message)
        return fields

    def natural_key_of(self, m: Any) -> dict[str, Any]:
        return {k: getattr(m, k) for k in self.natural_key}


@dataclass(frozen=True)
class KindHooks:
    """What a kind adds to the flow; each defaults to nothing."""

    # The streets a record belongs to (None: district level), with those of
    # the records that `fields` of it reference. Called with no fields for
    # the record alone.
    streets: Callable[[Session, Any, set[str]], set[int | None]] | None = None
    # More fields a create sets, given the message (e.g. an optional part).
    create_fields: Callable[[Message], set[str]] | None = None
    # Rules across records, checked before the change is flushed.
    check: Callable[[Session, Any], None] | None = None
    # Before a record is deactivated, in its transaction (e.g. end what hangs on it).
    on_deactivate: Callable[[RecordStore, UnitOfWork, Principal, Any, str], None] | None = None
    # More events after the kind's own (e.g. a deputy moved to another station).
    more_events: Callable[[UnitOfWork, Any, str, list[str], dict[str, Any]], None] | None = None
    # The record as `viewer` may see it: clear what the viewer's role may not read.
    view: Callable[[Principal | None, Message], Message] | None = None


# ---------------------------------------------------------------- paging


def _query_digest(request: Message | None) -> str:
    """A short digest of a List request without its page: a token is good
    only for the query that gave it out."""
    if request is None:
        return ""
    copy = type(request)()
    copy.CopyFrom(request)
    if "page" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("page")  # type: ignore[arg-type]
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()[:12]


def encode_token(last_id: int, digest: str) -> str:
    raw = json.dumps({"after": last_id, "q": digest}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, digest: str) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        after = int(data["after"])
        matches = data["q"] == digest
    except Exception as exc:
        raise invalid("page.page_token", "is not a token this service gave out") from exc
    if not matches:
        raise invalid("page.page_token", "was given out for another query")
    if not 0 <= after <= MAX_ID:
        raise invalid("page.page_token", "is not a token this service gave out")
    return after


def page(
    session: Session,
    query: Select[Any],
    id_column: Any,
    page_request: envelope_pb2.PageRequest,
    request: Message | None = None,
) -> tuple[list[Any], envelope_pb2.PageInfo]:
    """One page of `query` in id order, and its PageInfo."""
    size = page_request.page_size or DEFAULT_PAGE_SIZE
    if not 0 < size <= MAX_PAGE_SIZE:
        raise invalid("page.page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    digest = _query_digest(request)
    after = decode_token(page_request.page_token, digest)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    result = session.execute(query.where(id_column > after).order_by(id_column).limit(size + 1))
    # A query of one mapped class gives its objects; a table's gives rows.
    described = query.column_descriptions
    one_entity = len(described) == 1 and described[0]["entity"] is described[0]["type"]
    rows = list(result.scalars() if one_entity else result)
    more = len(rows) > size
    items = rows[:size]
    last_id = getattr(items[-1], "id", None) if items else None
    return items, envelope_pb2.PageInfo(
        next_page_token=encode_token(last_id, digest) if more and last_id else "",
        total_size=int(total or 0),
    )


# ---------------------------------------------------------------- masks


def fields_for_update(kind: RecordKind, mask: Sequence[str]) -> set[str]:
    if not mask:
        raise invalid("update_mask", "name the fields to change")
    unknown = [p for p in mask if p not in kind.settable]
    if unknown:
        raise InvalidArgument(
            f"cannot change {', '.join(unknown)} of a {kind.noun}",
            [
                FieldViolation("update_mask", f"{p} is not a field that can be changed")
                for p in unknown
            ],
        )
    return set(mask)


def _snapshot(kind: RecordKind, model: Any) -> dict[str, Any]:
    """The settable fields' values, to tell what an update changed."""
    message = kind.to_pb(model)
    snap: dict[str, Any] = {}
    for name in kind.settable:
        target: Any = message
        for part in name.split("."):
            target = getattr(target, part, None)
        if isinstance(target, Message):
            snap[name] = target.SerializeToString()
        elif isinstance(target, str | int | float | bool) or target is None:
            snap[name] = target
        else:  # a repeated field
            snap[name] = list(target)
    return snap


_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_lengths(model: Any, v: Violations, prefix: str = "") -> None:
    """Text longer than its column holds, or holding control characters, on
    the record and on the rows it owns (a contact, a list of keywords): a
    violation naming the field, not the database's error."""
    mapper = sa_inspect(type(model))
    for column in mapper.columns:
        length = getattr(column.type, "length", None)
        value = getattr(model, column.key, None)
        if not isinstance(value, str):
            continue
        if length and len(value) > length:
            v.add(f"{prefix}{column.key}", f"is longer than {length} characters")
        # A line of text (a bounded column) holds no control characters; longer
        # text may hold line breaks and tabs. None of them survive a spreadsheet.
        controls = _LINE_CONTROLS if length else _TEXT_CONTROLS
        if controls.search(value):
            v.add(f"{prefix}{column.key}", "holds a control character")
    for relationship in mapper.relationships:
        if relationship.direction.name == "MANYTOONE":
            continue  # a reference, not a part of this record
        owned = model.__dict__.get(relationship.key)  # only what this change loaded or set
        for child in owned if isinstance(owned, list) else [owned] if owned else []:
            check_lengths(child, v, f"{prefix}{relationship.key}.")


def _summary(kind: RecordKind, v: Violations) -> str:
    names = ", ".join(dict.fromkeys(i.field for i in v.items))
    return f"the {kind.noun} is not valid: check {names}"


def _is_unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":  # psycopg: unique_violation
        return True
    return "UNIQUE constraint failed" in str(orig)  # sqlite


# ---------------------------------------------------------------- the engine


class RecordStore:
    """The engine over one service's Database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reads

    def check_read(self, kind: RecordKind, actor: Principal | None) -> None:
        if kind.readers is not None:
            require(actor, *kind.readers, doing=f"read {kind.noun} records")

    def view(self, kind: RecordKind, actor: Principal | None, model: Any) -> Message:
        message = kind.to_pb(model)
        return kind.hooks.view(actor, message) if kind.hooks.view else message

    def get(self, kind: RecordKind, record_id: int, actor: Principal | None) -> Message:
        self.check_read(kind, actor)
        with self.db.read() as session:
            return self.view(kind, actor, self.load(session, kind, record_id))

    def list_page(
        self, kind: RecordKind, request: Any, actor: Principal | None
    ) -> tuple[list[Message], envelope_pb2.PageInfo]:
        """One page of `kind` as `request` (a List request message) asks."""
        self.check_read(kind, actor)
        query = select(kind.model)
        if kind.has_active and not getattr(request, "include_inactive", False):
            query = query.where(kind.model.active.is_(True))
        for f in kind.filters:
            value = getattr(request, f.field)
            if not value and not f.always:
                continue
            condition = f.where(value)
            if condition is not None:
                query = query.where(condition)
        with self.db.read() as session:
            rows, info = page(session, query, kind.model.id, request.page, request)
            return [self.view(kind, actor, r) for r in rows], info

    def load(self, session: Session, kind: RecordKind, record_id: int) -> Any:
        if not 0 < record_id <= MAX_ID:
            raise invalid("id", "must be a positive number")
        found = session.get(kind.model, record_id)
        if found is None:
            raise NotFound(f"no {kind.noun} has id {record_id}")
        return found

    # -- writes, each one transaction

    def create(self, kind: RecordKind, message: Message, actor: Principal | None) -> Message:
        with self.db.unit_of_work() as uow:
            model = self.create_in(uow, kind, message, actor)
            return self.view(kind, actor, model)

    def update(
        self, kind: RecordKind, message: Message, mask: Sequence[str], actor: Principal | None
    ) -> Message:
        who = self.writer(kind, actor, "update")
        fields = fields_for_update(kind, mask)
        with self.db.unit_of_work() as uow:
            model = self.load(uow.session, kind, message.id)  # type: ignore[attr-defined]
            self.update_in(uow, kind, model, message, fields, who)
            return self.view(kind, actor, model)

    def deactivate(
        self, kind: RecordKind, record_id: int, reason: str, actor: Principal | None
    ) -> Message:
        who = self.writer(kind, actor, "deactivate")
        if not reason.strip():
            raise invalid("reason", "is required: say why the record is deactivated")
        with self.db.unit_of_work() as uow:
            model = self.load(uow.session, kind, record_id)
            self.check_streets(uow.session, kind, who, model, set(), "deactivate")
            if not model.active:
                raise FailedPrecondition(
                    f"{kind.noun} {record_id} was already deactivated at "
                    f"{model.deactivated_at.isoformat()}"
                )
            if kind.hooks.on_deactivate:
                kind.hooks.on_deactivate(self, uow, who, model, reason)
            model.active = False
            model.deactivated_at = datetime.now(UTC)
            model.deactivation_reason = reason.strip()
            uow.session.flush()
            self.changed(uow, kind, who, model, "deactivated", [], {})
            return self.view(kind, actor, model)

    # -- the same inside a caller's unit of work (imports, composed use cases)

    def create_in(
        self,
        uow: UnitOfWork,
        kind: RecordKind,
        message: Message,
        actor: Principal | None,
        extra_fields: frozenset[str] = frozenset(),
    ) -> Any:
        who = self.writer(kind, actor, "create")
        v = Violations()
        for name in kind.required:
            v.require(name, getattr(message, name))
        model = kind.model()
        fields = kind.create_fields(message) | extra_fields
        session = uow.session
        self._apply(session, kind, who, model, message, fields, v, "create")
        session.add(model)
        self._flush(session, kind)
        self.changed(uow, kind, who, model, "created", sorted(fields), {})
        return model

    def update_in(
        self,
        uow: UnitOfWork,
        kind: RecordKind,
        model: Any,
        message: Message,
        fields: set[str],
        actor: Principal | None,
    ) -> list[str]:
        """Apply `fields` of `message` to `model`; the names of those that changed."""
        who = self.writer(kind, actor, "update")
        session = uow.session
        # The record's street as stored: a street committee may not touch
        # another street's record, whatever the payload says.
        self.check_streets(session, kind, who, model, set(), "change")
        if kind.has_active and not model.active:
            raise FailedPrecondition(f"{kind.noun} {model.id} is deactivated")
        before = _snapshot(kind, model)
        self._apply(session, kind, who, model, message, fields, Violations(), "change")
        self._flush(session, kind)
        after = _snapshot(kind, model)
        changed = sorted(f for f in after if before.get(f) != after.get(f))
        if changed:
            self.changed(uow, kind, who, model, "updated", changed, before)
        return changed

    def _apply(
        self,
        session: Session,
        kind: RecordKind,
        who: Principal,
        model: Any,
        message: Message,
        fields: set[str],
        v: Violations,
        doing: str,
    ) -> None:
        """Apply `fields` of `message` to `model` and check the result: every
        problem of the payload at once, then the streets of the record and of
        what it references, the kind's own rules, and uniqueness."""
        # No autoflush: a half-applied change must not reach the database
        # before every check passed (a taken code would surface as the
        # database's constraint error instead of ALREADY_EXISTS).
        with session.no_autoflush:
            kind.apply(session, model, message, fields, v)
            check_lengths(model, v)
            v.raise_if_any(_summary(kind, v))
            self.check_streets(session, kind, who, model, fields, doing)
            if kind.hooks.check:
                kind.hooks.check(session, model)
            self._check_unique(session, kind, model)

    def changed(
        self,
        uow: UnitOfWork,
        kind: RecordKind,
        actor: Principal,
        model: Any,
        change: str,
        fields: list[str],
        before: dict[str, Any],
    ) -> None:
        """Record a change: its audit entry and the events that tell others."""
        audit.record(uow.session, actor, change, kind.noun, model.id, fields)
        if kind.event is not None:
            event = kind.event(uow.session, model, change, fields if change == "updated" else [])
            if event is not None:
                uow.emit(event)
        if kind.hooks.more_events:
            kind.hooks.more_events(uow, model, change, fields, before)

    # -- checks

    def writer(self, kind: RecordKind, actor: Principal | None, action: str) -> Principal:
        """The caller, when its role may take `action` on `kind`."""
        who = require(actor, *kind.writers, doing=f"{action} {kind.noun} records")
        if action in kind.district_only and not who.is_district:
            raise PermissionDenied(f"only the district's offices may {action} a {kind.noun}")
        return who

    def check_streets(
        self,
        session: Session,
        kind: RecordKind,
        actor: Principal,
        model: Any,
        fields: set[str],
        doing: str,
    ) -> None:
        """Refuse unless `actor` may act in every street of `model` and of the
        records its `fields` reference."""
        if actor.is_district:
            return
        if kind.hooks.streets is None:  # not of any street: the district's alone
            raise PermissionDenied(f"only the district's offices may {doing} a {kind.noun}")
        streets = kind.hooks.streets(session, model, fields)
        require_streets(actor, streets, f"{doing} this {kind.noun}")

    def _check_unique(self, session: Session, kind: RecordKind, model: Any) -> None:
        if not kind.natural_key:
            return
        key = kind.natural_key_of(model)
        query = select(kind.model.id).where(
            *(getattr(kind.model, k) == value for k, value in key.items())
        )
        if model.id:
            query = query.where(kind.model.id != model.id)
        if kind.unique_among_active:
            query = query.where(kind.model.active.is_(True))
        twin = session.scalars(query.limit(1)).first()
        if twin is not None:
            shown = ", ".join(f"{k}={v}" for k, v in key.items())
            raise AlreadyExists(f"a {kind.noun} with {shown} exists already (id {twin})")

    def _flush(self, session: Session, kind: RecordKind) -> None:
        try:
            session.flush()
        except IntegrityError as exc:
            # Checked before the flush; a concurrent writer can still win the race.
            if _is_unique_violation(exc):
                raise AlreadyExists(f"a {kind.noun} with the same key exists already") from exc
            raise FailedPrecondition(
                f"the {kind.noun} conflicts with a record changed at the same time: try again"
            ) from exc

    # -- the audit

    def audit_page(self, request: Any, actor: Principal | None) -> tuple[list[Any], Any]:
        return audit_page(self.db, request, actor)


def audit_page(db: Database, request: Any, actor: Principal | None) -> tuple[list[Any], Any]:
    """One page of a service's audit (`ListAuditEntries`): admin only."""
    require(actor, Role.ADMIN, doing="read the audit")
    with db.read() as session:
        rows, info = page(
            session, audit.query(request), audit.audit_entries.c.id, request.page, request
        )
        return [audit.entry_pb(r) for r in rows], info

"""Domain errors and their one mapping onto gRPC status codes with details.

Domain code raises these; the gRPC server bootstrap turns them into a status
code plus `google.rpc.Status` details (`BadRequest` field violations,
`ErrorInfo`), and the gateway turns those back into problem+json. One table,
used both ways, so a code never means two things.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2

ERROR_DOMAIN = "liaison"


class SettingsError(ValueError):
    """An environment variable holds a value the platform cannot use (or the
    variables together describe something unsafe): the process stops at start
    with a line naming the variable."""


@dataclass(frozen=True)
class FieldViolation:
    """One field of a request and what is wrong with it."""

    field: str
    description: str


@dataclass
class DomainError(Exception):
    """Base of the errors that domain and service code raise on purpose."""

    message: str
    violations: list[FieldViolation] = field(default_factory=list)
    # Extra protobuf messages sent as status details (e.g. RosterImportErrors).
    details: list[Message] = field(default_factory=list)

    code = grpc.StatusCode.UNKNOWN
    reason = "UNKNOWN"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidArgument(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND
    reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class DeadlineExceeded(DomainError):
    """The caller's deadline passed before the work was done; nothing was kept."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = "DEADLINE_EXCEEDED"


class Unavailable(DomainError):
    """Something this answer needs (another service) cannot be reached now;
    nothing was changed: the caller may try again."""

    code = grpc.StatusCode.UNAVAILABLE
    reason = "UNAVAILABLE"


# A record's natural key: what people type and spreadsheets carry.
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Violations:
    """Collects every problem of a request, so one answer names them all."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def __bool__(self) -> bool:
        return bool(self.items)

    def require(self, field: str, value: object) -> None:
        if value is None or (isinstance(value, str) and not value.strip()) or value == 0:
            self.add(field, "is required")

    def code(self, field: str, value: str) -> None:
        if not value:
            self.add(field, "is required")
        elif not CODE_RE.match(value):
            self.add(
                field,
                f"{value!r} is not a valid code: use 1-64 letters, digits, '.', '_' or '-'",
            )

    def one_of(self, field: str, value: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        if value not in allowed:
            shown = value or "(empty)"
            self.add(field, f"{shown} is not one of: {', '.join(allowed)}")

    def iso_date(self, field: str, value: str, *, required: bool = False) -> date | None:
        if not value:
            if required:
                self.add(field, "is required")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.add(field, f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def raise_if_any(self, summary: str) -> None:
        """Raise InvalidArgument naming every field at once (each problem once)."""
        if self.items:
            unique = list(dict.fromkeys(self.items))
            raise InvalidArgument(summary, unique)


def invalid(field_name: str, description: str) -> InvalidArgument:
    """An InvalidArgument naming one field: `raise invalid("name", "is required")`."""
    return InvalidArgument(
        f"{field_name}: {description}", [FieldViolation(field_name, description)]
    )


def to_rpc_status(error: DomainError, service: str) -> status_pb2.Status:
    """The `google.rpc.Status` (with details) that carries `error` over gRPC."""
    details: list[Message] = [
        error_details_pb2.ErrorInfo(reason=error.reason, domain=f"{service}.{ERROR_DOMAIN}")
    ]
    if error.violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description
                    )
                    for v in error.violations
                ]
            )
        )
    details.extend(error.details)
    packed = []
    for message in details:
        any_message = any_pb2.Any()
        any_message.Pack(message)
        packed.append(any_message)
    return status_pb2.Status(
        code=getattr(code_pb2, error.code.name),
        message=error.message,
        details=packed,
    )


def violations_from_status(status: status_pb2.Status) -> list[FieldViolation]:
    """The field violations carried in a `google.rpc.Status`, if any."""
    found: list[FieldViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            found.extend(
                FieldViolation(v.field, v.description) for v in bad_request.field_violations
            )
    return found

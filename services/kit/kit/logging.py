"""Structured logs: JSON lines on stderr carrying the correlation id.

The correlation id lives in a context variable, so it follows a request
through threads' own contexts, asyncio tasks and greenlets alike. The gRPC
bootstrap sets it from the `x-correlation-id` metadata, the event consumer
from the envelope; every log line written meanwhile carries it.

`configure_logging(settings)` once at process start. Each line has
`timestamp` (ISO 8601, UTC), `level`, `logger`, `message`, `service`,
`process` (api, worker, ...), `correlation_id` and whatever was passed in
`extra=`; `exc_info` holds a traceback when there is one.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from kit.settings import Settings

__all__ = [
    "CorrelationIdFilter",
    "configure_logging",
    "correlation_id",
    "correlation_scope",
    "get_correlation_id",
    "new_correlation_id",
]

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)


def get_correlation_id() -> str | None:
    """The correlation id of the work in hand, if any."""
    return correlation_id.get()


def new_correlation_id() -> str:
    """A fresh correlation id (a UUID4 as 32 hex digits)."""
    return uuid.uuid4().hex


@contextmanager
def correlation_scope(cid: str | None = None) -> Iterator[str]:
    """Run a block under correlation id `cid` (a new one when None).

    Yields the id in force, and restores the previous one afterwards.
    """
    value = cid or new_correlation_id()
    token = correlation_id.set(value)
    try:
        yield value
    finally:
        correlation_id.reset(token)


def _utc_iso(created: float) -> str:
    return (
        datetime.fromtimestamp(created, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class CorrelationIdFilter(logging.Filter):
    """Stamps each record with the current correlation id.

    Attached to the handler rather than a logger, so that records of every
    logger (libraries included) get it. An explicit `extra={"correlation_id":
    ...}` wins.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = correlation_id.get()
        return True


class _JsonLineFormatter(JsonFormatter):
    def __init__(self, service: str, process: str) -> None:
        # ensure_ascii off: names and addresses are Chinese and should stay readable.
        super().__init__(json_ensure_ascii=False)
        self._service = service
        self._process = process

    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        # The fixed fields first, in a stable order; then extras and exc_info.
        log_data["timestamp"] = _utc_iso(record.created)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        log_data["service"] = self._service
        # `process` on a LogRecord is the pid, so the process kind is set here
        # instead of through the record.
        log_data["process"] = self._process
        log_data["correlation_id"] = getattr(record, "correlation_id", None)
        super().add_fields(log_data, record, message_dict)


class _TextFormatter(logging.Formatter):
    def __init__(self, service: str, process: str) -> None:
        super().__init__(
            f"%(asctime)s %(levelname)-7s {service}/{process} %(name)s "
            "[%(correlation_id)s] %(message)s"
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_iso(record.created)


# Marks the handler configure_logging installed, so a second call replaces it.
_HANDLER_FLAG = "_kit_handler"


def configure_logging(settings: Settings) -> None:
    """Send the root logger's records to stderr as JSON lines (or text).

    Idempotent: a second call replaces the handler the first one installed
    (picking up changed settings) and leaves other handlers alone.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_FLAG, False):
            root.removeHandler(existing)
            existing.close()

    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _HANDLER_FLAG, True)
    handler.addFilter(CorrelationIdFilter())
    formatter: logging.Formatter
    if settings.log_format == "text":
        formatter = _TextFormatter(settings.service, settings.process)
    else:
        formatter = _JsonLineFormatter(settings.service, settings.process)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Python's own warnings become log lines too, instead of bare stderr text.
    logging.captureWarnings(True)

"""Structured logging: JSON lines, the correlation id, idempotent setup."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from kit.logging import (
    configure_logging,
    correlation_id,
    correlation_scope,
    get_correlation_id,
    new_correlation_id,
)
from kit.settings import Settings


def _settings(**overrides: Any) -> Settings:
    return dataclasses.replace(Settings.load("registry", "api"), **overrides)


def _kit_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, "_kit_handler", False)]


@pytest.fixture
def capture() -> Iterator[Callable[[Settings], io.StringIO]]:
    """Configure logging and send the kit handler's output to a buffer."""
    root = logging.getLogger()
    level = root.level

    def configure(settings: Settings) -> io.StringIO:
        configure_logging(settings)
        buffer = io.StringIO()
        (handler,) = _kit_handlers()
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
        return buffer

    yield configure
    for handler in _kit_handlers():
        root.removeHandler(handler)
    root.setLevel(level)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_new_correlation_id_is_uuid4_hex() -> None:
    first, second = new_correlation_id(), new_correlation_id()
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_correlation_scope_sets_and_restores() -> None:
    assert get_correlation_id() is None
    with correlation_scope("outer") as outer:
        assert outer == "outer"
        assert get_correlation_id() == "outer"
        with correlation_scope(None) as inner:
            assert re.fullmatch(r"[0-9a-f]{32}", inner)
            assert get_correlation_id() == inner
        assert get_correlation_id() == "outer"
    assert get_correlation_id() is None
    assert correlation_id.get() is None


def test_correlation_scope_restores_after_an_exception() -> None:
    with pytest.raises(ValueError), correlation_scope("doomed"):
        raise ValueError("boom")
    assert get_correlation_id() is None


def test_json_line_has_the_fields(capture: Callable[[Settings], io.StringIO]) -> None:
    buffer = capture(_settings(service="registry", process="worker", log_format="json"))
    log = logging.getLogger("kit.test")
    with correlation_scope("cid-42"):
        log.info("street %s saved", "linhe", extra={"street_id": 7, "street_name": "林和街道"})
    log.warning("outside")

    first, second = _lines(buffer)
    assert first["message"] == "street linhe saved"
    assert first["level"] == "INFO"
    assert first["logger"] == "kit.test"
    assert first["service"] == "registry"
    assert first["process"] == "worker"
    assert first["correlation_id"] == "cid-42"
    assert first["street_id"] == 7
    assert first["street_name"] == "林和街道"
    stamp = datetime.fromisoformat(first["timestamp"])
    assert stamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60
    assert list(first)[:7] == [
        "timestamp",
        "level",
        "logger",
        "message",
        "service",
        "process",
        "correlation_id",
    ]
    assert second["correlation_id"] is None
    assert second["level"] == "WARNING"
    # Non-ASCII text stays readable in the raw line.
    assert "林和街道" in buffer.getvalue()


def test_explicit_correlation_id_wins(capture: Callable[[Settings], io.StringIO]) -> None:
    buffer = capture(_settings(log_format="json"))
    with correlation_scope("ambient"):
        logging.getLogger("kit.test").info("x", extra={"correlation_id": "explicit"})
    (line,) = _lines(buffer)
    assert line["correlation_id"] == "explicit"


def test_exception_traceback_is_logged(capture: Callable[[Settings], io.StringIO]) -> None:
    buffer = capture(_settings(log_format="json"))
    try:
        raise KeyError("missing")
    except KeyError:
        logging.getLogger("kit.test").exception("failed")
    (line,) = _lines(buffer)
    assert line["level"] == "ERROR"
    assert "KeyError" in line["exc_info"]
    assert "Traceback" in line["exc_info"]


def test_configure_logging_is_idempotent(capture: Callable[[Settings], io.StringIO]) -> None:
    capture(_settings(log_format="json"))
    buffer = capture(_settings(log_format="json", log_level="DEBUG"))
    assert len(_kit_handlers()) == 1
    assert logging.getLogger().level == logging.DEBUG
    logging.getLogger("kit.test").debug("once")
    assert len(_lines(buffer)) == 1


def test_level_filters(capture: Callable[[Settings], io.StringIO]) -> None:
    buffer = capture(_settings(log_format="json", log_level="WARNING"))
    logging.getLogger("kit.test").info("hidden")
    logging.getLogger("kit.test").warning("shown")
    assert [line["message"] for line in _lines(buffer)] == ["shown"]


def test_text_format(capture: Callable[[Settings], io.StringIO]) -> None:
    buffer = capture(_settings(service="duties", process="api", log_format="text"))
    with correlation_scope("cid-text"):
        logging.getLogger("kit.test").info("plain")
    text = buffer.getvalue()
    assert "[cid-text]" in text
    assert "duties/api" in text
    assert "plain" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)

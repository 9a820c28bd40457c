"""Settings from the environment: one documented variable per setting.

Every default works for a local run on one machine (a SQLite file per service
under ./var, RabbitMQ on localhost). In Kubernetes the chart sets them. Only
this module (and each service's `<svc>/settings.py`, built on it) reads the
environment; a value it cannot use stops the process with a SettingsError
that names the variable.

| variable                          | default                                   |
|-----------------------------------|-------------------------------------------|
| LIAISON_ENV                       | development (or test, or production)      |
| LIAISON_VAR_DIR                   | ./var (SQLite files, local logs)          |
| LIAISON_<SERVICE>_DATABASE_URL    | sqlite:///<var>/<service>.db              |
| LIAISON_AMQP_URI                  | amqp://guest:guest@127.0.0.1:5672/        |
| LIAISON_GRPC_PORT                 | the service's port (kit/services.toml)    |
| LIAISON_METRICS_PORT              | per service and process (kit/services.toml) |
| LIAISON_LOG_LEVEL                 | INFO (DEBUG, WARNING, ERROR, CRITICAL)    |
| LIAISON_LOG_FORMAT                | json (or text)                            |
| LIAISON_<SERVICE>_GRPC_TARGET     | 127.0.0.1:<port> (where clients call it)  |
| LIAISON_GRPC_DEADLINE_SECONDS     | 5 (default deadline of client calls)      |
| LIAISON_OUTBOX_BATCH_SIZE         | 200 (events the relay takes per pass)     |
| LIAISON_OUTBOX_POLL_SECONDS       | 0.2 (relay pause when the outbox is empty)|
| LIAISON_CONSUMER_MAX_RETRIES      | 5 (then the event goes to the DLQ)        |
| LIAISON_GATEWAY_PORT              | 8000 (the gateway's HTTP port)            |

A service's own settings are in its `<svc>/settings.py` (the registry's:
LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from kit.services import service as listed_service

# What LIAISON_ENV may say: production turns off everything meant for a
# developer (the demo token issuer); test is what the test suites run as.
ENVIRONMENTS = ("development", "test", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")
GATEWAY_HTTP_PORT = 8000


class SettingsError(ValueError):
    """An environment variable holds a value the platform cannot use."""


def read_str(name: str, default: str) -> str:
    """The variable's value; the default when it is unset or empty."""
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def read_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = read_str(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def read_float(name: str, default: float) -> float:
    """A positive number of seconds, items, ..."""
    raw = read_str(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not value > 0:  # also refuses nan
        raise SettingsError(f"{name} must be above 0, not {raw}")
    return value


def read_choice(name: str, default: str, choices: Sequence[str], *, upper: bool = False) -> str:
    """One of `choices` (compared in upper case when `upper`)."""
    value = read_str(name, default)
    if upper:
        value = value.upper()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; it is {value!r}")
    return value


def environment() -> str:
    """LIAISON_ENV: development, test or production; nothing else starts."""
    return read_choice("LIAISON_ENV", "development", ENVIRONMENTS)


def var_dir() -> Path:
    return Path(read_str("LIAISON_VAR_DIR", "var")).resolve()


def grpc_target(service: str) -> str:
    """Where clients reach `service`'s gRPC api."""
    port = listed_service(service).grpc_port
    return read_str(f"LIAISON_{service.upper()}_GRPC_TARGET", f"127.0.0.1:{port}")


def grpc_deadline_seconds() -> float:
    """The deadline of a client call that has none of its own."""
    return read_float("LIAISON_GRPC_DEADLINE_SECONDS", 5.0)


def gateway_port() -> int:
    return read_int("LIAISON_GATEWAY_PORT", GATEWAY_HTTP_PORT, minimum=0)


@dataclass(frozen=True)
class Settings:
    """The settings every process of a service has. A service with settings
    of its own extends it (a frozen dataclass) and adds them in
    `from_environment`."""

    service: str
    process: str  # "api", "worker", "migrate", "cli", "gateway"
    env: str
    database_url: str
    amqp_uri: str
    grpc_port: int
    metrics_port: int
    log_level: str
    log_format: str
    grpc_deadline_seconds: float
    outbox_batch_size: int
    outbox_poll_seconds: float
    consumer_max_retries: int

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def load(cls, service: str, process: str) -> Self:
        """Read every setting of `service`'s `process`; SettingsError on a bad value."""
        return cls(**cls.from_environment(service, process))

    @classmethod
    def from_environment(cls, service: str, process: str) -> dict[str, Any]:
        """The fields' values from the environment (extended by subclasses)."""
        try:
            listed = listed_service(service)
            grpc_port, metrics_port = listed.grpc_port, listed.metrics_port(process)
        except KeyError:  # the gateway, or a service of a test's own
            grpc_port, metrics_port = 0, 9100
        default_db = f"sqlite:///{var_dir() / (service + '.db')}"
        return {
            "service": service,
            "process": process,
            "env": environment(),
            "database_url": read_str(f"LIAISON_{service.upper()}_DATABASE_URL", default_db),
            "amqp_uri": read_str("LIAISON_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
            "grpc_port": read_int("LIAISON_GRPC_PORT", grpc_port, minimum=0),
            "metrics_port": read_int("LIAISON_METRICS_PORT", metrics_port, minimum=0),
            "log_level": read_choice("LIAISON_LOG_LEVEL", "INFO", LOG_LEVELS, upper=True),
            "log_format": read_choice("LIAISON_LOG_FORMAT", "json", LOG_FORMATS),
            "grpc_deadline_seconds": grpc_deadline_seconds(),
            "outbox_batch_size": read_int("LIAISON_OUTBOX_BATCH_SIZE", 200, minimum=1),
            "outbox_poll_seconds": read_float("LIAISON_OUTBOX_POLL_SECONDS", 0.2),
            "consumer_max_retries": read_int("LIAISON_CONSUMER_MAX_RETRIES", 5, minimum=1),
        }

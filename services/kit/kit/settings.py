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
| LIAISON_JWT_JWKS_URL              | the identity provider's JWKS (https; required in production) |
| LIAISON_JWT_ISSUER                | liaison-dev (required in production)      |
| LIAISON_JWT_AUDIENCE              | liaison                                   |
| LIAISON_DEV_ISSUER                | off; `1` enables the development token issuer (never in production, never with a JWKS URL) |
| LIAISON_JWT_DEV_SECRET            | random per process; the local run sets one for all its processes |
| LIAISON_REGISTRY_ROSTER_MAX_BYTES | 16777216 (a roster file as sent)          |
| LIAISON_REGISTRY_ROSTER_MAX_ROWS  | 20000 (sheet rows, header included)       |
| LIAISON_REGISTRY_ROSTER_MAX_COLUMNS | 64                                      |
| LIAISON_REGISTRY_ROSTER_MAX_UNZIPPED_BYTES | 52428800 (an XLSX's parts, unzipped) |
| LIAISON_REGISTRY_ROSTER_MAX_PART_BYTES | 41943040 (one XLSX part, unzipped)   |
| LIAISON_REGISTRY_ROSTER_MAX_COMPRESSION_RATIO | 100 (of an XLSX part over 1 MiB) |
| LIAISON_REGISTRY_ROSTER_MAX_ZIP_DIRECTORY_BYTES | 262144 (an XLSX's zip directory) |
| LIAISON_GRPC_TLS_CERT_FILE        | empty (PEM certificate chain the api serves)  |
| LIAISON_GRPC_TLS_KEY_FILE         | empty (PEM private key of that certificate)   |
| LIAISON_GRPC_TLS_CA_FILE          | empty (PEM CA that clients verify servers by) |
| LIAISON_GRPC_HEALTH_PORT          | 0 (none: a plaintext port serving only grpc.health.v1) |

gRPC is plaintext unless these are set: with a certificate and its key the
api serves TLS only; with a CA every client channel (kit.grpc_client)
verifies the server's certificate against it. The kubelet's gRPC probes
cannot speak TLS, so a TLS api also serves its health on
LIAISON_GRPC_HEALTH_PORT, and nothing else there.

A service's own settings are in its `<svc>/settings.py` (the registry's:
LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from kit.auth import AuthSettings
from kit.errors import SettingsError
from kit.services import service as listed_service

# What LIAISON_ENV may say: production turns off everything meant for a
# developer (the demo token issuer); test is what the test suites run as.
ENVIRONMENTS = ("development", "test", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")
GATEWAY_HTTP_PORT = 8000


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


def _flag(name: str) -> bool:
    return read_str(name, "").strip().lower() in {"1", "true", "yes", "on", "enabled"}


def auth_settings() -> AuthSettings:
    """How this process verifies bearer tokens (see kit.auth)."""
    return AuthSettings(
        env=environment(),
        issuer=read_str("LIAISON_JWT_ISSUER", "liaison-dev"),
        audience=read_str("LIAISON_JWT_AUDIENCE", "liaison"),
        jwks_url=read_str("LIAISON_JWT_JWKS_URL", ""),
        dev_issuer=_flag("LIAISON_DEV_ISSUER"),
        dev_secret=read_str("LIAISON_JWT_DEV_SECRET", ""),
    )


@dataclass(frozen=True)
class GrpcTls:
    """Where the gRPC certificate, its key and the CA are (PEM files)."""

    cert_file: str = ""
    key_file: str = ""
    ca_file: str = ""

    @classmethod
    def load(cls) -> GrpcTls:
        tls = cls(
            cert_file=read_str("LIAISON_GRPC_TLS_CERT_FILE", ""),
            key_file=read_str("LIAISON_GRPC_TLS_KEY_FILE", ""),
            ca_file=read_str("LIAISON_GRPC_TLS_CA_FILE", ""),
        )
        if bool(tls.cert_file) != bool(tls.key_file):
            missing = "LIAISON_GRPC_TLS_KEY_FILE" if tls.cert_file else "LIAISON_GRPC_TLS_CERT_FILE"
            raise SettingsError(
                f"{missing} is empty: a TLS server needs both a certificate and its key"
            )
        return tls

    @property
    def serves_tls(self) -> bool:
        return bool(self.cert_file and self.key_file)

    @property
    def verifies_servers(self) -> bool:
        return bool(self.ca_file)


def read_pem(variable: str, path: str) -> bytes:
    """The bytes of a PEM file named by `variable`, or an error naming both."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SettingsError(f"{variable}={path}: {exc.strerror or exc}") from exc


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
    auth: AuthSettings = AuthSettings()
    grpc_tls: GrpcTls = GrpcTls()
    grpc_health_port: int = 0

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
            "auth": auth_settings(),
            "grpc_tls": GrpcTls.load(),
            "grpc_health_port": read_int("LIAISON_GRPC_HEALTH_PORT", 0, minimum=0),
        }

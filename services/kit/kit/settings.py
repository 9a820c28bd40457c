"""Settings from the environment: one documented variable per setting.

Every default works for a local run on one machine (a SQLite file per service
under ./var, RabbitMQ on localhost). In Kubernetes the chart sets them.

| variable                          | default                                   |
|-----------------------------------|-------------------------------------------|
| LIAISON_ENV                       | development (or production)               |
| LIAISON_VAR_DIR                   | ./var (SQLite files, local logs)          |
| LIAISON_<SERVICE>_DATABASE_URL    | sqlite:///<var>/<service>.db              |
| LIAISON_AMQP_URI                  | amqp://guest:guest@127.0.0.1:5672/        |
| LIAISON_GRPC_PORT                 | the service's port (registry 50051, ...)  |
| LIAISON_METRICS_PORT              | per service and process (see PORTS)       |
| LIAISON_LOG_LEVEL                 | INFO                                      |
| LIAISON_LOG_FORMAT                | json (or text)                            |
| LIAISON_<SERVICE>_GRPC_TARGET     | 127.0.0.1:<port> (where clients call it)  |
| LIAISON_GRPC_DEADLINE_SECONDS     | 5 (default deadline of client calls)      |
| LIAISON_OUTBOX_BATCH_SIZE         | 200 (events the relay takes per pass)     |
| LIAISON_OUTBOX_POLL_SECONDS       | 0.2 (relay pause when the outbox is empty)|
| LIAISON_CONSUMER_MAX_RETRIES      | 5 (then the event goes to the DLQ)        |
| LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN | 370000 (a street committee's yearly minimum) |
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
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kit.auth import AuthSettings

SERVICES = ("registry", "reception", "referral", "duties", "notifications")

# gRPC port of each service's api, and metrics ports of (api, worker), for a
# local run where every process shares one host. In Kubernetes every pod has
# its own address and the chart sets LIAISON_GRPC_PORT / LIAISON_METRICS_PORT.
PORTS: dict[str, tuple[int, int, int]] = {
    "registry": (50051, 9101, 9201),
    "reception": (50052, 9102, 9202),
    "referral": (50053, 9103, 9203),
    "duties": (50054, 9104, 9204),
    "notifications": (50055, 9105, 9205),
}
GATEWAY_HTTP_PORT = 8000


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def var_dir() -> Path:
    return Path(_env("LIAISON_VAR_DIR", "var")).resolve()


def _flag(name: str) -> bool:
    return _env(name, "").strip().lower() in {"1", "true", "yes", "on", "enabled"}


def auth_settings() -> AuthSettings:
    """How this process verifies bearer tokens (see kit.auth)."""
    return AuthSettings(
        env=_env("LIAISON_ENV", "development"),
        issuer=_env("LIAISON_JWT_ISSUER", "liaison-dev"),
        audience=_env("LIAISON_JWT_AUDIENCE", "liaison"),
        jwks_url=_env("LIAISON_JWT_JWKS_URL", ""),
        dev_issuer=_flag("LIAISON_DEV_ISSUER"),
        dev_secret=_env("LIAISON_JWT_DEV_SECRET", ""),
    )


class ConfigurationError(RuntimeError):
    """The environment does not describe a process that can run."""


@dataclass(frozen=True)
class GrpcTls:
    """Where the gRPC certificate, its key and the CA are (PEM files)."""

    cert_file: str = ""
    key_file: str = ""
    ca_file: str = ""

    @classmethod
    def load(cls) -> GrpcTls:
        tls = cls(
            cert_file=_env("LIAISON_GRPC_TLS_CERT_FILE", ""),
            key_file=_env("LIAISON_GRPC_TLS_KEY_FILE", ""),
            ca_file=_env("LIAISON_GRPC_TLS_CA_FILE", ""),
        )
        if bool(tls.cert_file) != bool(tls.key_file):
            missing = "LIAISON_GRPC_TLS_KEY_FILE" if tls.cert_file else "LIAISON_GRPC_TLS_CERT_FILE"
            raise ConfigurationError(
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
        raise ConfigurationError(f"{variable}={path}: {exc.strerror or exc}") from exc


def grpc_target(service: str) -> str:
    """Where clients reach `service`'s gRPC api."""
    return _env(f"LIAISON_{service.upper()}_GRPC_TARGET", f"127.0.0.1:{PORTS[service][0]}")


@dataclass(frozen=True)
class Settings:
    service: str
    process: str  # "api", "worker", "migrate", "gateway"
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
    def load(cls, service: str, process: str) -> Settings:
        grpc_port, api_metrics, worker_metrics = PORTS.get(service, (0, 9100, 9100))
        default_metrics = worker_metrics if process == "worker" else api_metrics
        default_db = f"sqlite:///{var_dir() / (service + '.db')}"
        return cls(
            service=service,
            process=process,
            env=_env("LIAISON_ENV", "development"),
            database_url=_env(f"LIAISON_{service.upper()}_DATABASE_URL", default_db),
            amqp_uri=_env("LIAISON_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
            grpc_port=int(_env("LIAISON_GRPC_PORT", str(grpc_port))),
            metrics_port=int(_env("LIAISON_METRICS_PORT", str(default_metrics))),
            log_level=_env("LIAISON_LOG_LEVEL", "INFO").upper(),
            log_format=_env("LIAISON_LOG_FORMAT", "json"),
            grpc_deadline_seconds=float(_env("LIAISON_GRPC_DEADLINE_SECONDS", "5")),
            outbox_batch_size=int(_env("LIAISON_OUTBOX_BATCH_SIZE", "200")),
            outbox_poll_seconds=float(_env("LIAISON_OUTBOX_POLL_SECONDS", "0.2")),
            consumer_max_retries=int(_env("LIAISON_CONSUMER_MAX_RETRIES", "5")),
            auth=auth_settings(),
            grpc_tls=GrpcTls.load(),
            grpc_health_port=int(_env("LIAISON_GRPC_HEALTH_PORT", "0")),
        )

"""The gateway's settings, read once from the environment.

| variable                              | default                                  |
|---------------------------------------|------------------------------------------|
| LIAISON_ENV                           | development (or test, or production)     |
| LIAISON_GATEWAY_HOST                  | 127.0.0.1                                |
| LIAISON_GATEWAY_PORT                  | 8000                                     |
| LIAISON_GATEWAY_WORKERS               | the CPUs this process may use (at least 1): worker processes (gateway.cli) |
| LIAISON_GATEWAY_WORKER_TIMEOUT_SECONDS | 5 (a worker that leaves the supervisor's ping unanswered this long is replaced) |
| LIAISON_<SERVICE>_GRPC_TARGET         | 127.0.0.1:<port> (kit.settings)          |
| LIAISON_GRPC_DEADLINE_SECONDS         | 5                                        |
| LIAISON_GATEWAY_IMPORT_DEADLINE_SECONDS | 120 (a roster import's own deadline)   |
| LIAISON_GATEWAY_DIRECTORY             | on: the public directory in memory (off: every read asks the registry) |
| LIAISON_AMQP_URI                      | the broker whose registry.events keep the directory current |
| LIAISON_JWT_JWKS_URL, LIAISON_JWT_ISSUER, LIAISON_JWT_AUDIENCE, LIAISON_DEV_ISSUER, LIAISON_JWT_DEV_SECRET | how tokens are verified: kit.settings and kit.auth |
| LIAISON_GATEWAY_READ_RATE_PER_MINUTE  | 600 (reads per client per minute)        |
| LIAISON_GATEWAY_WRITE_RATE_PER_MINUTE | 120 (writes per client per minute)       |
| LIAISON_RATE_LIMIT_REDIS_URL          | (empty: each worker of each replica counts in memory) |
| LIAISON_GATEWAY_TRUSTED_PROXIES       | (empty: trust no X-Forwarded-For)        |
| LIAISON_GATEWAY_MAX_BODY_BYTES        | 1048576 (any request body)               |
| LIAISON_GATEWAY_MAX_UPLOAD_BYTES      | 10485760 (roster upload request body)    |
| LIAISON_LOG_LEVEL, LIAISON_LOG_FORMAT | INFO, json (read by kit.logging)         |
| LIAISON_CONSOLE_OIDC_ISSUER           | (empty: the development issuer at /dev-issuer when LIAISON_DEV_ISSUER is set; else the console cannot sign in) |
| LIAISON_CONSOLE_OIDC_CLIENT_ID        | liaison-console (a public client: authorization code with PKCE) |
| LIAISON_CONSOLE_OIDC_SCOPE            | openid profile                           |
| LIAISON_OPEN311_API_KEYS              | (empty: in development and test the demo key `open311-demo-key`; in production no key, so Open311's POST requests answers 403) |
| LIAISON_OPEN311_CONTACT               | who answers for the Open311 endpoint (its discovery's `contact`) |
| LIAISON_OPEN311_KEY_SERVICE           | where an Open311 API key is asked for (its discovery's `key_service`) |

The staff console (`/console`) signs in with OpenID Connect against
LIAISON_CONSOLE_OIDC_ISSUER (https in production), the identity provider that
issues the tokens LIAISON_JWT_JWKS_URL verifies; its redirect URI is
`<gateway origin>/console/`.

LIAISON_RATE_LIMIT_REDIS_URL is a redis:// or rediss:// URL shared by every
replica and worker. LIAISON_GATEWAY_TRUSTED_PROXIES is a comma-separated list of
addresses or CIDRs (e.g. the ingress controller's pod network) whose
X-Forwarded-For names the client.

LIAISON_GATEWAY_WORKERS counts the CPUs of the process's affinity
(`os.sched_getaffinity`), which a container's CPU limit does not narrow: in
Kubernetes the chart sets it from `gateway.workers`.

LIAISON_OPEN311_API_KEYS is a comma-separated list of the keys Open311
clients send as `api_key` to raise an opinion (`POST /open311/v2/requests`,
docs/OPEN311.md); a key is a secret, never logged. The demo key is refused
in production.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from kit import settings as kit_settings
from kit.auth import AuthConfigurationError, AuthSettings

# The environment does not describe a gateway that can run safely.
ConfigurationError = AuthConfigurationError


# The Open311 API key of the local run and the tests (never in production).
OPEN311_DEMO_KEY = "open311-demo-key"
OPEN311_CONTACT = (
    "天河区人大常委会办公室 (the standing committee office of the district people's congress)"
)
OPEN311_KEY_SERVICE = (
    "Ask the standing committee office of the district people's congress for a key."
)


def available_cpus() -> int:
    """The CPUs this process may run on, at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


@dataclass(frozen=True)
class GatewaySettings:
    env: str = "development"
    host: str = "127.0.0.1"
    port: int = kit_settings.GATEWAY_HTTP_PORT
    # Processes serving the port (gateway.cli); an app built in a test is one.
    workers: int = 1
    worker_timeout_seconds: int = 5
    # Where each service is reached, by name; others as kit's settings say.
    targets: dict[str, str] = field(default_factory=dict)
    grpc_deadline_seconds: float = 5.0
    import_deadline_seconds: float = 120.0
    # The public directory in memory, kept current by the registry's events.
    directory: bool = True
    amqp_uri: str = ""
    auth: AuthSettings = AuthSettings()
    read_rate_per_minute: int = 600
    write_rate_per_minute: int = 120
    rate_limit_redis_url: str = ""
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    # The staff console's OpenID Connect provider and client (gateway.routes.console).
    console_oidc_issuer: str = ""
    console_oidc_client_id: str = "liaison-console"
    console_oidc_scope: str = "openid profile"
    # The public portal's client of the same provider, for constituents (gateway.routes.portal).
    portal_oidc_client_id: str = "liaison-portal"
    # Open311 GeoReport v2 (gateway.routes.open311): the keys that may POST requests.
    open311_api_keys: tuple[str, ...] = ()
    open311_contact: str = OPEN311_CONTACT
    open311_key_service: str = OPEN311_KEY_SERVICE

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def load(cls) -> GatewaySettings:
        return cls(
            env=kit_settings.environment(),
            host=_env("LIAISON_GATEWAY_HOST", "127.0.0.1"),
            port=kit_settings.gateway_port(),
            workers=kit_settings.read_int("LIAISON_GATEWAY_WORKERS", available_cpus(), minimum=1),
            worker_timeout_seconds=kit_settings.read_int(
                "LIAISON_GATEWAY_WORKER_TIMEOUT_SECONDS", 5, minimum=1
            ),
            grpc_deadline_seconds=kit_settings.grpc_deadline_seconds(),
            import_deadline_seconds=kit_settings.read_float(
                "LIAISON_GATEWAY_IMPORT_DEADLINE_SECONDS", 120.0
            ),
            directory=kit_settings.read_choice("LIAISON_GATEWAY_DIRECTORY", "on", ("on", "off"))
            == "on",
            amqp_uri=_env("LIAISON_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
            auth=kit_settings.auth_settings(),
            read_rate_per_minute=int(_env("LIAISON_GATEWAY_READ_RATE_PER_MINUTE", "600")),
            write_rate_per_minute=int(_env("LIAISON_GATEWAY_WRITE_RATE_PER_MINUTE", "120")),
            rate_limit_redis_url=_env("LIAISON_RATE_LIMIT_REDIS_URL", ""),
            trusted_proxies=tuple(
                entry.strip()
                for entry in _env("LIAISON_GATEWAY_TRUSTED_PROXIES", "").split(",")
                if entry.strip()
            ),
            max_body_bytes=int(_env("LIAISON_GATEWAY_MAX_BODY_BYTES", str(1024 * 1024))),
            max_upload_bytes=int(_env("LIAISON_GATEWAY_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024))),
            console_oidc_issuer=_env("LIAISON_CONSOLE_OIDC_ISSUER", "").rstrip("/"),
            console_oidc_client_id=_env("LIAISON_CONSOLE_OIDC_CLIENT_ID", "liaison-console"),
            console_oidc_scope=_env("LIAISON_CONSOLE_OIDC_SCOPE", "openid profile"),
            portal_oidc_client_id=_env("LIAISON_PORTAL_OIDC_CLIENT_ID", "liaison-portal"),
            open311_api_keys=_open311_keys(kit_settings.environment()),
            open311_contact=_env("LIAISON_OPEN311_CONTACT", OPEN311_CONTACT),
            open311_key_service=_env("LIAISON_OPEN311_KEY_SERVICE", OPEN311_KEY_SERVICE),
        )

    def validate(self) -> None:
        """Refuse settings the gateway cannot run with, and production without
        a safe way to verify tokens (kit.auth)."""
        for name, value in (
            ("LIAISON_GATEWAY_WORKERS", self.workers),
            ("LIAISON_GATEWAY_WORKER_TIMEOUT_SECONDS", self.worker_timeout_seconds),
            ("LIAISON_GATEWAY_READ_RATE_PER_MINUTE", self.read_rate_per_minute),
            ("LIAISON_GATEWAY_WRITE_RATE_PER_MINUTE", self.write_rate_per_minute),
            ("LIAISON_GATEWAY_MAX_BODY_BYTES", self.max_body_bytes),
            ("LIAISON_GATEWAY_MAX_UPLOAD_BYTES", self.max_upload_bytes),
        ):
            if value < 1:
                raise ConfigurationError(f"{name} must be at least 1, not {value}")
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ConfigurationError(
                    f"LIAISON_GATEWAY_TRUSTED_PROXIES: {entry!r} is not an address or CIDR"
                ) from exc
        if self.rate_limit_redis_url and not self.rate_limit_redis_url.startswith(
            ("redis://", "rediss://")
        ):
            raise ConfigurationError("LIAISON_RATE_LIMIT_REDIS_URL must be a redis:// URL")
        issuer = self.console_oidc_issuer
        if issuer and not issuer.startswith(("https://", "http://")):
            raise ConfigurationError("LIAISON_CONSOLE_OIDC_ISSUER must be an http(s) URL")
        if self.is_production and issuer and not issuer.startswith("https://"):
            raise ConfigurationError("LIAISON_CONSOLE_OIDC_ISSUER must be https in production")
        if self.is_production and OPEN311_DEMO_KEY in self.open311_api_keys:
            raise ConfigurationError(
                "LIAISON_OPEN311_API_KEYS must not hold the demo key in production"
            )
        self.auth.validate()


def _open311_keys(env: str) -> tuple[str, ...]:
    given = tuple(
        key.strip() for key in _env("LIAISON_OPEN311_API_KEYS", "").split(",") if key.strip()
    )
    if given or env == "production":
        return given
    return (OPEN311_DEMO_KEY,)

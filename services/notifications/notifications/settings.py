"""The notifications service's settings: the platform's (kit.settings) and its own.

| variable                                   | default                                   |
|--------------------------------------------|-------------------------------------------|
| LIAISON_REGISTRY_GRPC_TARGET               | the registry (kit.settings)               |
| LIAISON_RECEPTION_GRPC_TARGET              | the reception service (kit.settings)      |
| LIAISON_NOTIFICATIONS_SMTP_HOST            | 127.0.0.1: the mail relay email is sent through |
| LIAISON_NOTIFICATIONS_SMTP_PORT            | 2525 (the local run's `notifications.mail_server`) |
| LIAISON_NOTIFICATIONS_SMTP_FROM            | notifications@liaison.local: the From address |
| LIAISON_NOTIFICATIONS_SMTP_STARTTLS        | off; `1` upgrades the connection with STARTTLS before sending |
| LIAISON_NOTIFICATIONS_SMTP_USERNAME        | empty (no AUTH); with a password, logs in after STARTTLS |
| LIAISON_NOTIFICATIONS_SMTP_PASSWORD        | empty                                     |
| LIAISON_NOTIFICATIONS_MESSAGE_ID_DOMAIN    | liaison.local: the right side of every Message-ID |
| LIAISON_NOTIFICATIONS_SMS_URL              | http://127.0.0.1:8025 (the local run's `notifications.provider_server`) |
| LIAISON_NOTIFICATIONS_SMS_KEY              | empty: the SMS provider's API key (sent as a bearer token) |
| LIAISON_NOTIFICATIONS_WECHAT_URL           | http://127.0.0.1:8025                     |
| LIAISON_NOTIFICATIONS_WECHAT_KEY           | empty: the WeChat template-message provider's API key |
| LIAISON_NOTIFICATIONS_PROVIDER_TIMEOUT     | 10: seconds a provider (or the mail relay) may take to answer |
| LIAISON_NOTIFICATIONS_SEND_ATTEMPTS        | 6: attempts of one delivery before it is dead |
| LIAISON_NOTIFICATIONS_BACKOFF_SECONDS      | 30: the wait after the first failed attempt, doubled after each |
| LIAISON_NOTIFICATIONS_BACKOFF_MAX_SECONDS  | 3600: the longest wait between attempts   |
| LIAISON_NOTIFICATIONS_LEASE_SECONDS        | 120: how long a sender holds a delivery it is sending (above the timeout) |
| LIAISON_NOTIFICATIONS_SEND_BATCH           | 50: deliveries one sender claims per pass |
| LIAISON_NOTIFICATIONS_SEND_SECONDS         | 5: how often each worker's sending timer runs |
| LIAISON_NOTIFICATIONS_EMAIL_RATE           | 10: emails per second one worker process sends at most |
| LIAISON_NOTIFICATIONS_SMS_RATE             | 5: SMS per second one worker process sends at most |
| LIAISON_NOTIFICATIONS_WECHAT_RATE          | 10: WeChat messages per second one worker process sends at most |
| LIAISON_NOTIFICATIONS_PUBLIC_URL           | http://127.0.0.1:<LIAISON_GATEWAY_PORT> (8000): the portal's public address, that emails' links (unsubscribe) start with; required in production, https there |
| LIAISON_NOTIFICATIONS_UNSUBSCRIBE_SECRET   | signs unsubscribe links (at least 32 characters); required in production, a fixed development value elsewhere. The api and the worker need the same one |

The rate limits are per worker process (a token bucket in memory, see
`notifications.delivery`): with N worker replicas the service sends at most N
times the rate; set it to the provider's limit divided by the replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kit.errors import SettingsError
from kit.settings import (
    Settings,
    environment,
    gateway_port,
    grpc_target,
    read_float,
    read_int,
    read_str,
)

UNSUBSCRIBE_SECRET = "LIAISON_NOTIFICATIONS_UNSUBSCRIBE_SECRET"
PUBLIC_URL = "LIAISON_NOTIFICATIONS_PUBLIC_URL"
# Known to everyone: good for a local run and tests only (refused in production).
DEVELOPMENT_UNSUBSCRIBE_SECRET = "development-only-unsubscribe-links-secret"

SEND_SECONDS = 5


def send_seconds() -> int:
    """How often the worker's sending timer runs (read once, when the worker's
    class is defined: nameko's timers take their interval then)."""
    return read_int("LIAISON_NOTIFICATIONS_SEND_SECONDS", SEND_SECONDS, minimum=1)


def _flag(name: str) -> bool:
    raw = read_str(name, "0").lower()
    if raw not in {"0", "1", "true", "false", "yes", "no", "on", "off"}:
        raise SettingsError(f"{name} must be 1 or 0, not {raw!r}")
    return raw in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ChannelSettings:
    """How each channel reaches its provider, and the sender's pace."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_from: str = "notifications@liaison.local"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    message_id_domain: str = "liaison.local"
    sms_url: str = "http://127.0.0.1:8025"
    sms_key: str = ""
    wechat_url: str = "http://127.0.0.1:8025"
    wechat_key: str = ""
    provider_timeout: float = 10.0
    send_attempts: int = 6
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 120.0
    send_batch: int = 50
    email_rate: float = 10.0
    sms_rate: float = 5.0
    wechat_rate: float = 10.0

    @classmethod
    def load(cls) -> ChannelSettings:
        p = "LIAISON_NOTIFICATIONS_"
        timeout = read_float(p + "PROVIDER_TIMEOUT", cls.provider_timeout)
        lease = read_float(p + "LEASE_SECONDS", cls.lease_seconds)
        if lease <= 2 * timeout:
            raise SettingsError(
                f"{p}LEASE_SECONDS ({lease}) must be above twice {p}PROVIDER_TIMEOUT ({timeout}):"
                " a sender still waiting for a provider would lose its lease to another"
            )
        return cls(
            smtp_host=read_str(p + "SMTP_HOST", cls.smtp_host),
            smtp_port=read_int(p + "SMTP_PORT", cls.smtp_port, minimum=1),
            smtp_from=read_str(p + "SMTP_FROM", cls.smtp_from),
            smtp_starttls=_flag(p + "SMTP_STARTTLS"),
            smtp_username=read_str(p + "SMTP_USERNAME", ""),
            smtp_password=read_str(p + "SMTP_PASSWORD", ""),
            message_id_domain=read_str(p + "MESSAGE_ID_DOMAIN", cls.message_id_domain),
            sms_url=read_str(p + "SMS_URL", cls.sms_url),
            sms_key=read_str(p + "SMS_KEY", ""),
            wechat_url=read_str(p + "WECHAT_URL", cls.wechat_url),
            wechat_key=read_str(p + "WECHAT_KEY", ""),
            provider_timeout=timeout,
            send_attempts=read_int(p + "SEND_ATTEMPTS", cls.send_attempts, minimum=1),
            backoff_seconds=read_float(p + "BACKOFF_SECONDS", cls.backoff_seconds),
            backoff_max_seconds=read_float(p + "BACKOFF_MAX_SECONDS", cls.backoff_max_seconds),
            lease_seconds=lease,
            send_batch=read_int(p + "SEND_BATCH", cls.send_batch, minimum=1),
            email_rate=read_float(p + "EMAIL_RATE", cls.email_rate),
            sms_rate=read_float(p + "SMS_RATE", cls.sms_rate),
            wechat_rate=read_float(p + "WECHAT_RATE", cls.wechat_rate),
        )


@dataclass(frozen=True)
class NotificationsSettings(Settings):
    registry_target: str = ""
    reception_target: str = ""
    channels: ChannelSettings = ChannelSettings()
    unsubscribe_secret: str = DEVELOPMENT_UNSUBSCRIBE_SECRET
    public_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_environment(cls, service: str, process: str) -> dict[str, Any]:
        return super().from_environment(service, process) | {
            "registry_target": grpc_target("registry"),
            "reception_target": grpc_target("reception"),
            "channels": ChannelSettings.load(),
            "unsubscribe_secret": _unsubscribe_secret(),
            "public_url": _public_url(),
        }


def _public_url() -> str:
    """Where people reach the portal (and the gateway's /api/v1 under it):
    the links of emails start with it. A local run and the tests' platform
    serve the gateway on 127.0.0.1:LIAISON_GATEWAY_PORT, the default."""
    url = read_str(PUBLIC_URL, "").rstrip("/")
    if not url:
        if environment() == "production":
            raise SettingsError(
                f"{PUBLIC_URL} must be set to the portal's https:// address in production "
                "(the unsubscribe links of emails start with it)"
            )
        return f"http://127.0.0.1:{gateway_port()}"
    parts = urlsplit(url)
    schemes = ("https",) if environment() == "production" else ("http", "https")
    if parts.scheme not in schemes or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(
            f"{PUBLIC_URL} must be an {' or '.join(s + '://' for s in schemes)} address "
            f"without a query or fragment, not {url!r}"
        )
    return url


def _unsubscribe_secret() -> str:
    secret = read_str(UNSUBSCRIBE_SECRET, "")
    if environment() == "production":
        if len(secret) < 32 or secret == DEVELOPMENT_UNSUBSCRIBE_SECRET:
            raise SettingsError(
                f"{UNSUBSCRIBE_SECRET} must be set to a secret of at least 32 characters "
                "in production (it signs the unsubscribe links of emails and texts)"
            )
        return secret
    if secret and len(secret) < 16:
        raise SettingsError(f"{UNSUBSCRIBE_SECRET} must be at least 16 characters")
    return secret or DEVELOPMENT_UNSUBSCRIBE_SECRET

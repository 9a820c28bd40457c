"""The notifications service's companions in a local run and the tests'
platform (kit.companions): stand-ins of the outside systems it sends through.

- `notifications-mail`: an SMTP server (`notifications.mail_server`) that
  records every email it is given (a JSON line each) and sends nothing on;
- `notifications-provider`: the SMS and WeChat template-message provider
  (`notifications.provider_server`) that records every message it accepts,
  once per idempotency key.

A deployment points LIAISON_NOTIFICATIONS_SMTP_* and _SMS_URL/_WECHAT_URL at
the real relay and providers instead; these never run there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kit.companions import Companion

MAIL_PORT = 2525
PROVIDER_PORT = 8025


def companions(var: Path, port: Callable[[int], int]) -> list[Companion]:
    var.mkdir(parents=True, exist_ok=True)
    mail, provider = port(MAIL_PORT), port(PROVIDER_PORT)
    mail_record, provider_record = var / "mail.jsonl", var / "provider.jsonl"
    provider_url = f"http://127.0.0.1:{provider}"
    return [
        Companion(
            name="notifications-mail",
            module="notifications.mail_server",
            args=("--port", str(mail), "--record", str(mail_record)),
            port=mail,
            env={
                "LIAISON_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
                "LIAISON_NOTIFICATIONS_SMTP_PORT": str(mail),
            },
            record=mail_record,
        ),
        Companion(
            name="notifications-provider",
            module="notifications.provider_server",
            args=("--port", str(provider), "--record", str(provider_record)),
            port=provider,
            env={
                "LIAISON_NOTIFICATIONS_SMS_URL": provider_url,
                "LIAISON_NOTIFICATIONS_WECHAT_URL": provider_url,
            },
            record=provider_record,
        ),
    ]

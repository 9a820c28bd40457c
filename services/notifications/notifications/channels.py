"""The channels a delivery goes out on, each through its provider.

A `Channel` sends one `Outgoing` (a rendered message, to one contact) and
answers what the provider said (`Accepted`), or raises:

- `TransientFailure`: worth another attempt later (a timeout, a refused or
  dropped connection, a 5xx, a 429);
- `PermanentFailure`: another attempt would fail the same way (a 4xx naming
  the problem: an unknown number, a template the provider does not know).

Adapters:

- `EmailChannel`: SMTP (smtplib), From/To/Subject, the text with an HTML
  alternative, an optional iCalendar attachment, STARTTLS and AUTH when set.
  An email with unsubscribe links (`Outgoing.unsubscribe`) carries them as
  RFC 8058 asks, `List-Unsubscribe: <one-click URL>` with
  `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and as a footer of
  its text and HTML bodies (the portal's page, in the message's language).
  DKIM signing, which RFC 8058 expects of the sender, is the mail relay's
  (not built here).
  Its Message-ID is made from the delivery id (`message_id`), so a message
  sent twice (see `notifications.delivery` on the residual window) is the
  same message to the recipient's mail client.
- `ProviderChannel`: SMS and WeChat template messages through a provider's
  HTTP API (httpx, JSON, the API key as a bearer token, a timeout) with an
  `Idempotency-Key` of the delivery id: the provider answers a repeated call
  with the first call's message id and sends nothing again.
  `notifications.provider_server` speaks that API (the local run, tests);
  a real provider's API is put behind it by an adapter of the same shape
  (not built yet: no contract with a provider is chosen).

The inbox is no channel here: its delivery is written "delivered" with the
message.

Where a recipient's email address, phone or WeChat openid comes from is the
preferences' (contacts per address): `Contacts` is what the sender asks.
`NoContacts` knows none: until the preferences' contacts are wired in
`notifications.bootstrap`, every email, SMS and WeChat delivery is
suppressed "no contact".
"""

from __future__ import annotations

import html
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import httpx
from sqlalchemy.orm import Session

from notifications.settings import ChannelSettings
from notifications.unsubscribe import Links

SENT_CHANNELS = ("email", "sms", "wechat")


class TransientFailure(Exception):
    """The provider could not take it now; another attempt may succeed."""


class PermanentFailure(Exception):
    """The provider refused it for good (the message says why)."""


@dataclass(frozen=True)
class Outgoing:
    """One delivery's message, rendered, for one contact."""

    delivery_id: int
    channel: str
    to: str  # the contact: an email address, a phone number, an openid
    subject: str
    text: str
    html: str = ""
    link: str = ""
    event_type: str = ""
    kind: str = ""
    locale: str = "zh-CN"
    calendar: bytes | None = None  # an iCalendar (.ics) attachment
    unsubscribe: Links | None = None  # what stops this kind on this channel


@dataclass(frozen=True)
class Accepted:
    """The provider took the message: its id for it, and its answer as sent."""

    provider: str
    message_id: str
    answer: str = ""


class Channel(Protocol):
    name: str
    provider: str

    def send(self, message: Outgoing) -> Accepted: ...


class Contacts(Protocol):
    """Where `address` is reached on `channel` (an email address, a phone
    number, a WeChat openid), or None when it has none there."""

    def contact_of(self, session: Session, address: str, channel: str) -> str | None: ...


class NoContacts:
    """Knows no contact (until the preferences' contacts are wired in)."""

    def contact_of(self, session: Session, address: str, channel: str) -> str | None:
        return None


def message_id(delivery_id: int, domain: str) -> str:
    """The Message-ID of a delivery's email: the same on every attempt."""
    return f"<delivery-{delivery_id}@{domain}>"


@dataclass
class EmailChannel:
    settings: ChannelSettings
    name: str = "email"
    provider: str = "smtp"

    def compose(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.smtp_from
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = message_id(message.delivery_id, self.settings.message_id_domain)
        mail["Content-Language"] = message.locale
        text, body_html = message.text, message.html
        if message.unsubscribe is not None:
            mail["List-Unsubscribe"] = f"<{message.unsubscribe.one_click}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            text, body_html = with_footer(text, body_html, message.unsubscribe, message.locale)
        mail.set_content(text)
        if body_html:
            mail.add_alternative(body_html, subtype="html")
        if message.calendar is not None:
            # As text with its charset, base64 like the bodies: a mail client
            # reads its names and places as UTF-8, whatever relays it passes.
            mail.add_attachment(
                message.calendar.decode("utf-8"),
                subtype="calendar",
                charset="utf-8",
                cte="base64",
                filename="invite.ics",
                params={"method": "PUBLISH"},
            )
        return mail

    def send(self, message: Outgoing) -> Accepted:
        mail = self.compose(message)
        s = self.settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.provider_timeout) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _smtp_failure(code, text, "the recipient was refused") from None
        except smtplib.SMTPResponseException as exc:
            raise _smtp_failure(exc.smtp_code, exc.smtp_error, "the mail relay refused") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentFailure(f"the mail relay does not support it: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientFailure(f"the mail relay was not reached: {exc!r}") from None
        if refused:
            raise PermanentFailure("the recipient was refused")
        return Accepted(self.provider, str(mail["Message-ID"]), "250 accepted")


# The footer of an email with unsubscribe links, by language ("zh-CN" else).
FOOTERS = {
    "zh-CN": ("不想再收到此类邮件？退订：", "不想再收到此类邮件？", "退订"),
    "en": ("Do not want these emails? Unsubscribe: ", "Do not want these emails? ", "Unsubscribe"),
}


def with_footer(text: str, body_html: str, links: Links, locale: str) -> tuple[str, str]:
    """The text and HTML bodies with the unsubscribe page's link at their foot
    (no HTML body stays none)."""
    plain, asked, action = FOOTERS.get(locale, FOOTERS["zh-CN"])
    text = f"{text.rstrip()}\n\n--\n{plain}{links.page}\n"
    if body_html:
        href = html.escape(links.page, quote=True)
        body_html = (
            f"{body_html.rstrip()}\n<hr>\n"
            f'<p style="font-size:small;color:#666">{html.escape(asked)}'
            f'<a href="{href}">{html.escape(action)}</a></p>\n'
        )
    return text, body_html


def _smtp_failure(code: int, text: bytes | str, what: str) -> Exception:
    said = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    error = f"{what}: {code} {said}"
    return TransientFailure(error) if 400 <= code < 500 else PermanentFailure(error)


@dataclass
class ProviderChannel:
    """SMS or WeChat through a provider's HTTP API: POST <url>/v1/messages."""

    name: str
    url: str
    key: str
    timeout: float
    provider: str = ""
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.provider = self.provider or f"{self.name}-http"
        self.client = httpx.Client(
            base_url=self.url.rstrip("/"),
            timeout=httpx.Timeout(self.timeout),
            headers={"Authorization": f"Bearer {self.key}"} if self.key else {},
        )

    def body(self, message: Outgoing) -> dict[str, Any]:
        """What the provider is sent: a template named by the event and its
        parameters (a WeChat template message; an SMS provider's template
        with its text)."""
        return {
            "channel": self.name,
            "to": message.to,
            "template": message.event_type or message.kind or "notice",
            "params": {"subject": message.subject, "text": message.text, "link": message.link},
            "locale": message.locale,
        }

    def send(self, message: Outgoing) -> Accepted:
        try:
            answer = self.client.post(
                "/v1/messages",
                json=self.body(message),
                headers={"Idempotency-Key": str(message.delivery_id)},
            )
        except httpx.TimeoutException:
            raise TransientFailure(
                f"{self.provider} did not answer within {self.timeout:g}s"
            ) from None
        except httpx.TransportError as exc:
            raise TransientFailure(f"{self.provider} was not reached: {exc!r}") from None
        said = answer.text[:500]
        if answer.status_code == 429 or answer.status_code >= 500:
            raise TransientFailure(f"{self.provider} answered {answer.status_code}: {said}")
        if answer.status_code >= 400:
            raise PermanentFailure(f"{self.provider} refused it ({answer.status_code}): {said}")
        try:
            provider_id = str(answer.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise TransientFailure(
                f"{self.provider} answered {answer.status_code} without a message id: {said}"
            ) from None
        return Accepted(self.provider, provider_id, said)

    def close(self) -> None:
        self.client.close()


def channels_of(settings: ChannelSettings) -> dict[str, Channel]:
    """Every sent channel, by name, as the settings configure them."""
    return {
        "email": EmailChannel(settings),
        "sms": ProviderChannel(
            "sms", settings.sms_url, settings.sms_key, settings.provider_timeout
        ),
        "wechat": ProviderChannel(
            "wechat", settings.wechat_url, settings.wechat_key, settings.provider_timeout
        ),
    }

"""Unsubscribe links that work without signing in.

An email or text message carries a link whose token names one address, one
kind of message and one channel, signed with the service's secret
(HMAC-SHA256, `LIAISON_NOTIFICATIONS_UNSUBSCRIBE_SECRET`). Whoever holds the
link may stop that kind of message on that channel for that address, and
nothing else: not read the inbox, not see or change a contact. The token
holds no personal data (an address is a pseudonymous subject, a deputy's id
or an office), and does not expire, as a link in an old email should still
work (RFC 8058's one-click unsubscribe posts to it).

A token altered in any character, or signed with another secret, is
refused; so is one naming a kind or channel the service does not have.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from notifications import addresses
from notifications.message_models import CHANNELS
from notifications.preferences import KINDS

VERSION = "u1"
MAX_TOKEN = 600


def links(base_url: str, token: str) -> tuple[str, str]:
    """The page a person opens from a message (it says what the link stops
    and stops it with one button) and the RFC 8058 one-click URL a mail
    client posts to (`List-Unsubscribe: <...>` with `List-Unsubscribe-Post:
    List-Unsubscribe=One-Click`), under the portal's public `base_url`."""
    base = base_url.rstrip("/")
    return f"{base}/#/unsubscribe/{token}", f"{base}/api/v1/unsubscribe/{token}"


@dataclass(frozen=True)
class Links:
    """A message's unsubscribe links (see `links`)."""

    page: str  # for a person: the portal's page with one button
    one_click: str  # for a mail client: RFC 8058's POST


class LinkMaker:
    """The unsubscribe links of what is sent to an address: its token issued
    with the service's secret, under the portal's public address
    (LIAISON_NOTIFICATIONS_PUBLIC_URL)."""

    def __init__(self, tokens: UnsubscribeTokens, public_url: str) -> None:
        self.tokens = tokens
        self.public_url = public_url

    def links(self, address: str, kind: str, channel: str) -> Links:
        """The links that stop `kind` by `channel` to `address` (ValueError
        naming what the service does not have)."""
        page, one_click = links(self.public_url, self.tokens.issue(address, kind, channel))
        return Links(page, one_click)


class BadToken(ValueError):
    """A token this service did not give out (or no longer understands)."""


@dataclass(frozen=True)
class Unsubscription:
    """What a link stops: `kind` by `channel` to `address`."""

    address: str
    kind: str
    channel: str


class UnsubscribeTokens:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the unsubscribe secret must be at least 16 characters")
        self._key = hashlib.sha256(b"liaison-unsubscribe:" + secret.encode()).digest()

    def issue(self, address: str, kind: str, channel: str) -> str:
        """The token of a link that stops `kind` by `channel` to `address`."""
        _check(address, kind, channel)
        payload = _b64(f"{address}\n{kind}\n{channel}".encode())
        return f"{VERSION}.{payload}.{self._sign(payload)}"

    def read(self, token: str) -> Unsubscription:
        """What `token` stops; BadToken saying why it is refused."""
        parts = token.split(".") if isinstance(token, str) and len(token) <= MAX_TOKEN else []
        if len(parts) != 3 or parts[0] != VERSION:
            raise BadToken("is not an unsubscribe link this service gave out")
        _, payload, signature = parts
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise BadToken("does not match its signature: the link was altered or is not ours")
        try:
            address, kind, channel = _unb64(payload).decode("utf-8").split("\n")
        except (ValueError, UnicodeDecodeError):
            raise BadToken("is not an unsubscribe link this service gave out") from None
        try:
            _check(address, kind, channel)
        except ValueError as problem:
            raise BadToken(f"names what this service does not have: {problem}") from None
        return Unsubscription(address, kind, channel)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{VERSION}.{payload}".encode(), hashlib.sha256).digest())


def _check(address: str, kind: str, channel: str) -> None:
    addresses.parse(address)
    if kind not in KINDS:
        raise ValueError(f"{kind!r} is not a kind of message: {', '.join(KINDS)}")
    if channel not in CHANNELS or channel == "inbox":
        raise ValueError(f"{channel!r} is not a channel one unsubscribes from: email, sms, wechat")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise BadToken("is not an unsubscribe link this service gave out") from None

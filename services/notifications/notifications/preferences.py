"""Recipients' preferences and what they decide: on which channels, and
when, a message goes (`choose`), and where each channel reaches an address
(`StoredContacts`, the sending's `notifications.channels.Contacts`).

Per address (`notifications.addresses`):
- contacts: an email address, a mobile phone (E.164), a WeChat openid.
  Personal data: never logged, never in events or the audit's text; shown
  whole only to the address's holder and the admin, masked otherwise
  (`mask`);
- a language (zh-CN or en) the messages are rendered in;
- quiet hours (local times in Asia/Shanghai, e.g. 22:00-08:00), off until
  set: a message that is not urgent waits until they end;
- per kind of message (`KINDS`): the channels chosen (the inbox is always
  on), or muted (the inbox only), and a daily digest at a chosen hour instead
  of each message on its own.

`choose` is a pure rule over a `Preferences` value and a clock reading, so
it is tested without a database. A rule (`rules`) names the channels a
message may use; the recipient's choice narrows them and never widens
them: nobody is sent an SMS a rule does not send.

The digest itself (the held deliveries gathered into one message at the
hour) is `notifications.digests`'; this module says which deliveries wait
for it, and until when.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from kit.errors import Violations
from notifications.message_models import CHANNELS, LOCALES
from notifications.preference_models import AddressPreferences, KindPreferences

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The kinds of message preferences are chosen by (a rule names its kind).
KINDS = ("bookings", "sessions", "opinions", "letters", "duties", "conversations")
# The channels that reach someone outside the platform, each by one contact.
OUTSIDE_CHANNELS = tuple(c for c in CHANNELS if c != "inbox")
CONTACT_OF_CHANNEL = {"email": "email", "sms": "phone", "wechat": "wechat_openid"}
DEFAULT_QUIET_START = time(22, 0)
DEFAULT_QUIET_END = time(8, 0)
DEFAULT_LOCALE = "zh-CN"

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_OPENID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class ContactDetails:
    """Where an address is reached outside the platform ("" = not given)."""

    email: str = ""
    phone: str = ""
    wechat_openid: str = ""

    def for_channel(self, channel: str) -> str | None:
        """The contact `channel` sends to; None when there is none (the
        inbox is reached by the address itself)."""
        name = CONTACT_OF_CHANNEL.get(channel)
        if name is None:
            return None
        value: str = getattr(self, name)
        return value or None


@dataclass(frozen=True)
class QuietHours:
    """Local times (Asia/Shanghai) between which nothing that is not urgent
    goes out; `start` after `end` spans midnight (22:00-08:00)."""

    enabled: bool = False
    start: time = DEFAULT_QUIET_START
    end: time = DEFAULT_QUIET_END

    def ends_after(self, at: datetime) -> datetime | None:
        """When the quiet hours `at` falls in end (aware, in Asia/Shanghai);
        None when `at` is outside them (or they are off)."""
        if not self.enabled or self.start == self.end:
            return None
        local = at.astimezone(SHANGHAI)
        now = local.time().replace(tzinfo=None)
        day = local.date()
        if self.start < self.end:
            inside = self.start <= now < self.end
            end_day = day
        elif now >= self.start:
            inside, end_day = True, day + timedelta(days=1)
        else:
            inside, end_day = now < self.end, day
        if not inside:
            return None
        return datetime.combine(end_day, self.end, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class KindChoice:
    """An address's choice for one kind of message."""

    channels: frozenset[str] = frozenset(CHANNELS)
    muted: bool = False
    digest_hour: int | None = None  # 0-23 Asia/Shanghai; None: each message at once


@dataclass(frozen=True)
class Preferences:
    address: str
    contacts: ContactDetails = ContactDetails()
    locale: str = DEFAULT_LOCALE
    quiet: QuietHours = QuietHours()
    kinds: Mapping[str, KindChoice] = field(default_factory=dict)

    def kind(self, kind: str) -> KindChoice:
        return self.kinds.get(kind) or KindChoice()


class Send(NamedTuple):
    """One channel a message goes on, not before `not_before` (None: at once);
    `digest`: gathered into the recipient's daily digest then
    (`notifications.digests`) rather than sent on its own."""

    channel: str
    not_before: datetime | None
    digest: bool = False


@dataclass(frozen=True)
class Choice:
    """Where a message goes and when, and the channels of its rule it does
    not go on, each with why (a delivery "suppressed" with that reason)."""

    sends: tuple[Send, ...]
    suppressed: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------- the rule


def decide(
    prefs: Preferences,
    kind: str,
    urgent: bool,
    rule_channels: Iterable[str],
    now: datetime,
) -> Choice:
    """The channels of `rule_channels` a message of `kind` goes on for the
    address of `prefs`, and when:

    - the inbox always, at once;
    - a muted kind: nothing else;
    - a channel the address turned off for the kind (or unsubscribed from),
      or without a contact for it: not at all, and why;
    - urgent: at once; otherwise a digest kind waits for its next digest
      hour, and whatever falls in the quiet hours waits until they end.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    wanted = tuple(dict.fromkeys(rule_channels))
    unknown = [c for c in wanted if c not in CHANNELS]
    if unknown:
        raise ValueError(f"{', '.join(unknown)} is not a channel: {', '.join(CHANNELS)}")
    choice = prefs.kind(kind)
    sends = [Send("inbox", None)]
    suppressed: list[tuple[str, str]] = []
    when = None if urgent else _held_until(prefs.quiet, choice.digest_hour, now)
    digest = not urgent and choice.digest_hour is not None
    for channel in (c for c in CHANNELS if c in wanted and c != "inbox"):
        if choice.muted:
            suppressed.append((channel, f"muted: the recipient muted {kind} (inbox only)"))
        elif channel not in choice.channels:
            suppressed.append(
                (channel, f"turned off: the recipient does not take {kind} by {channel}")
            )
        elif prefs.contacts.for_channel(channel) is None:
            suppressed.append(
                (channel, f"no contact: the recipient has given no {_contact_name(channel)}")
            )
        else:
            sends.append(Send(channel, when, digest))
    return Choice(tuple(sends), tuple(suppressed))


def choose(
    prefs: Preferences,
    kind: str,
    urgent: bool,
    rule_channels: Iterable[str],
    now: datetime,
) -> list[Send]:
    """`decide`'s sends only: [(channel, not_before)]."""
    return list(decide(prefs, kind, urgent, rule_channels, now).sends)


def _held_until(quiet: QuietHours, digest_hour: int | None, now: datetime) -> datetime | None:
    at = now
    if digest_hour is not None:
        local = now.astimezone(SHANGHAI)
        at = local.replace(hour=digest_hour, minute=0, second=0, microsecond=0)
        if at < local:
            at += timedelta(days=1)
    quiet_end = quiet.ends_after(at)
    if quiet_end is not None:
        at = quiet_end
    return None if at == now else at.astimezone(UTC)


def _contact_name(channel: str) -> str:
    return {"email": "email address", "sms": "mobile phone", "wechat": "WeChat account"}[channel]


# ---------------------------------------------------------------- contacts


def clean_email(v: Violations, field_name: str, text: str) -> str:
    """An email address ("" clears it), or a violation naming the field."""
    text = text.strip()
    if not text:
        return ""
    if len(text) > 254 or not _EMAIL.match(text):
        v.add(field_name, "is not an email address (name@example.com)")
        return ""
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def clean_phone(v: Violations, field_name: str, text: str) -> str:
    """A mobile phone in E.164 ("" clears it): +<country><number>, or a
    Chinese mobile's 11 digits (made +86...). SMS reach mobiles only."""
    text = text.strip()
    if not text:
        return ""
    if len(text) > 30:
        v.add(field_name, "is not a phone number")
        return ""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        v.add(field_name, "is not a phone number: +<country code><number>, or 11 digits")
        return ""
    mobile = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in mobile:
        v.add(field_name, "is not a valid mobile number (text messages reach mobiles only)")
        return ""
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def clean_openid(v: Violations, field_name: str, text: str) -> str:
    """A WeChat openid ("" clears it): 16-64 letters, digits, '_' or '-'."""
    text = text.strip()
    if text and not _OPENID.match(text):
        v.add(field_name, "is not a WeChat openid (16-64 letters, digits, '_' or '-')")
        return ""
    return text


def mask(channel: str, value: str) -> str:
    """A contact as those who are not its holder see it: enough to tell
    which one it is, not enough to use it."""
    if not value:
        return ""
    if channel == "email" and "@" in value:
        local, domain = value.rsplit("@", 1)
        return f"{local[:1]}***@{domain}"
    if channel == "sms":
        return f"{value[:6]}****{value[-2:]}" if len(value) > 8 else "****"
    return f"{value[:3]}***{value[-2:]}" if len(value) > 5 else "***"


def parse_time(v: Violations, field_name: str, text: str, default: time) -> time:
    """A local time HH:MM ("" = `default`)."""
    if not text:
        return default
    match = _HHMM.match(text)
    if not match:
        v.add(field_name, f"{text!r} is not a time of day (HH:MM, 00:00-23:59)")
        return default
    return time(int(match.group(1)), int(match.group(2)))


def hhmm(at: time) -> str:
    return at.strftime("%H:%M")


def check_locale(v: Violations, field_name: str, text: str) -> str:
    if not text:
        return DEFAULT_LOCALE
    v.one_of(field_name, text, LOCALES)
    return text


def check_channels(v: Violations, field_name: str, channels: Iterable[str]) -> frozenset[str]:
    """Chosen channels: each one of CHANNELS; the inbox added (always on)."""
    chosen = set(channels)
    for channel in sorted(chosen - set(CHANNELS)):
        v.add(field_name, f"{channel or '(empty)'} is not one of: {', '.join(CHANNELS)}")
    return frozenset(chosen & set(CHANNELS)) | {"inbox"}


# ---------------------------------------------------------------- storage


def load(session: Session, address: str) -> Preferences:
    """The preferences of `address` (the defaults where it chose nothing)."""
    row = session.scalar(select(AddressPreferences).where(AddressPreferences.address == address))
    kinds = {
        k.kind: KindChoice(
            channels=frozenset(c for c in k.channels.split(",") if c) | {"inbox"},
            muted=k.muted,
            digest_hour=k.digest_hour,
        )
        for k in session.scalars(select(KindPreferences).where(KindPreferences.address == address))
    }
    if row is None:
        return Preferences(address, kinds=kinds)
    return Preferences(
        address,
        contacts=ContactDetails(row.email, row.phone, row.wechat_openid),
        locale=row.locale,
        quiet=QuietHours(
            row.quiet_enabled,
            _stored_time(row.quiet_start, DEFAULT_QUIET_START),
            _stored_time(row.quiet_end, DEFAULT_QUIET_END),
        ),
        kinds=kinds,
    )


def _stored_time(text: str, default: time) -> time:
    v = Violations()
    return parse_time(v, "", text, default)


class StoredContacts:
    """`notifications.channels.Contacts` from the addresses' preferences: the
    sender asks it just before it sends, so a contact changed since the
    message was made counts. The inbox is the address itself; email, sms and
    wechat their contact, None when not given."""

    def contact_of(self, session: Session, address: str, channel: str) -> str | None:
        if channel == "inbox":
            return address
        name = CONTACT_OF_CHANNEL.get(channel)
        if name is None:
            raise ValueError(f"{channel} is not a channel: {', '.join(CHANNELS)}")
        value = session.scalar(
            select(getattr(AddressPreferences, name)).where(AddressPreferences.address == address)
        )
        return str(value) if value else None

"""Preferences' use cases, and unsubscribe links.

- `get`: the address's holder and the admin (`addresses.may_manage`) see it
  whole; the standing committee office sees any address's with its contacts
  masked (to tell why someone was not reached); anyone else is refused;
- `update`: the holder and the admin; the contacts checked (email syntax, a
  mobile in E.164), the fields changed audited by name only;
- `describe_unsubscribe`, `unsubscribe`: no token; a link's signed token
  (`notifications.unsubscribe`) mutes its kind on its channel for its
  address, audited as done by the link ("system:unsubscribe-link").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import Principal, Role
from kit.convert import timestamp
from kit.db import Database
from kit.errors import PermissionDenied, Unauthenticated, Violations, invalid
from liaison.notifications.v1 import preferences_pb2 as pb
from notifications import addresses
from notifications import preferences as rules
from notifications.message_models import CHANNELS
from notifications.preference_models import AddressPreferences, KindPreferences
from notifications.unsubscribe import BadToken, UnsubscribeTokens, Unsubscription

Clock = Callable[[], datetime]
RECORD_KIND = "notification_preferences"
LINK = Principal.system("unsubscribe-link")
CONTACT_PATHS = ("contacts.email", "contacts.phone", "contacts.wechat_openid")
PATHS = (*CONTACT_PATHS, "locale", "quiet_hours", "kinds")
# Who reads any address's preferences, its contacts masked.
MASKED_READERS = frozenset({Role.STANDING_COMMITTEE_OFFICE})


class PreferenceUseCases:
    def __init__(
        self, db: Database, tokens: UnsubscribeTokens, *, clock: Clock | None = None
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------ read

    def get(self, request: pb.GetPreferencesRequest, actor: Principal | None) -> pb.Preferences:
        who, address = _address(actor, request.address, "read notification preferences")
        manages = addresses.may_manage(who, address)
        if not manages and who.role not in MASKED_READERS:
            raise PermissionDenied(
                f"only the holder of {address} and the admin (or the standing committee "
                "office, masked) may read its notification preferences"
            )
        with self.db.read(consistent=True) as session:
            return _preferences_pb(session, address, masked=not manages)

    # ------------------------------------------------------------ change

    def update(
        self, request: pb.UpdatePreferencesRequest, actor: Principal | None
    ) -> pb.Preferences:
        who, address = _address(actor, request.address, "change notification preferences")
        if not addresses.may_manage(who, address):
            raise PermissionDenied(
                f"only the holder of {address} and the admin may change its notification "
                "preferences"
            )
        paths = list(request.update_mask.paths) or list(PATHS)
        v = Violations()
        for path in paths:
            if path not in PATHS:
                v.add("update_mask", f"{path!r} is not one of: {', '.join(PATHS)}")
        given = request.preferences
        email = rules.clean_email(v, "preferences.contacts.email", given.contacts.email)
        phone = rules.clean_phone(v, "preferences.contacts.phone", given.contacts.phone)
        openid = rules.clean_openid(
            v, "preferences.contacts.wechat_openid", given.contacts.wechat_openid
        )
        locale = rules.check_locale(v, "preferences.locale", given.locale)
        quiet = given.quiet_hours
        start = rules.parse_time(
            v, "preferences.quiet_hours.start", quiet.start, rules.DEFAULT_QUIET_START
        )
        end = rules.parse_time(v, "preferences.quiet_hours.end", quiet.end, rules.DEFAULT_QUIET_END)
        if quiet.enabled and start == end:
            v.add("preferences.quiet_hours.end", "must differ from the start")
        kinds: dict[str, KindPreferences] = {}
        if "kinds" in paths:
            for i, kind in enumerate(given.kinds):
                name = f"preferences.kinds[{i}]"
                v.one_of(f"{name}.kind", kind.kind, rules.KINDS)
                if kind.kind in kinds:
                    v.add(f"{name}.kind", f"{kind.kind} is given twice")
                channels = rules.check_channels(v, f"{name}.channels", kind.channels)
                if kind.digest and not 0 <= kind.digest_hour <= 23:
                    v.add(f"{name}.digest_hour", "must be an hour between 0 and 23")
                kinds[kind.kind] = KindPreferences(
                    address=address,
                    kind=kind.kind,
                    channels=",".join(c for c in CHANNELS if c in channels),
                    muted=kind.muted,
                    digest_hour=kind.digest_hour if kind.digest else None,
                )
        v.raise_if_any("the notification preferences are not valid")
        with self.db.unit_of_work() as uow:
            session = uow.session
            row = _locked_row(session, address)
            changed: list[str] = []
            values: dict[str, object] = {}
            if "contacts.email" in paths:
                values["email"] = email
            if "contacts.phone" in paths:
                values["phone"] = phone
            if "contacts.wechat_openid" in paths:
                values["wechat_openid"] = openid
            if "locale" in paths:
                values["locale"] = locale
            if "quiet_hours" in paths:
                values |= {
                    "quiet_enabled": quiet.enabled,
                    "quiet_start": rules.hhmm(start),
                    "quiet_end": rules.hhmm(end),
                }
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
                    changed.append(name)
            for kind, wanted in kinds.items():
                if _replace_kind(session, wanted):
                    changed.append(f"kinds.{kind}")
            if changed:
                row.updated_at = self.clock()
                session.flush()
                audit.record(session, who, "updated", RECORD_KIND, row.id, changed)
            return _preferences_pb(session, address, masked=False)

    # ------------------------------------------------------------ links

    def describe_unsubscribe(self, request: pb.UnsubscribeRequest) -> pb.UnsubscribeLink:
        link = self._read(request.token)
        with self.db.read(consistent=True) as session:
            prefs = rules.load(session, link.address)
        return _link_pb(link.kind, link.channel, prefs)

    def unsubscribe(self, request: pb.UnsubscribeRequest) -> pb.UnsubscribeLink:
        link = self._read(request.token)
        with self.db.unit_of_work() as uow:
            session = uow.session
            row = _locked_row(session, link.address)
            current = rules.load(session, link.address).kind(link.kind)
            if link.channel in current.channels:
                _replace_kind(
                    session,
                    KindPreferences(
                        address=link.address,
                        kind=link.kind,
                        channels=",".join(
                            c for c in CHANNELS if c in current.channels and c != link.channel
                        ),
                        muted=current.muted,
                        digest_hour=current.digest_hour,
                    ),
                )
                row.updated_at = self.clock()
                session.flush()
                audit.record(
                    session, LINK, "unsubscribed", RECORD_KIND, row.id, [f"kinds.{link.kind}"]
                )
            return _link_pb(link.kind, link.channel, rules.load(session, link.address))

    def _read(self, token: str) -> Unsubscription:
        try:
            return self.tokens.read(token)
        except BadToken as problem:
            raise invalid("token", str(problem)) from None


# ---------------------------------------------------------------- helpers


def _address(actor: Principal | None, address: str, doing: str) -> tuple[Principal, str]:
    if actor is None:
        raise Unauthenticated(f"a bearer token is required to {doing}")
    if not address:
        if actor.kind != "user" or actor.role is Role.SYSTEM:
            raise PermissionDenied(
                f"a {actor.kind} token has no notification preferences of its own: only "
                "people signed in have them"
            )
        return actor, addresses.user(actor.sub)
    try:
        return actor, str(addresses.parse(address))
    except ValueError as problem:
        raise invalid("address", str(problem)) from None


def _locked_row(session: Session, address: str) -> AddressPreferences:
    """The address's row, made with the defaults when it has none, locked."""
    query = select(AddressPreferences).where(AddressPreferences.address == address)
    row = session.scalar(query.with_for_update())
    if row is None:
        try:
            with session.begin_nested():
                session.add(AddressPreferences(address=address))
        except IntegrityError:  # made at the same moment by another call: use it
            pass
        row = session.scalar(query.with_for_update())
    assert row is not None
    return row


def _replace_kind(session: Session, wanted: KindPreferences) -> bool:
    """Store one kind's choice; whether it changed."""
    row = session.scalar(
        select(KindPreferences).where(
            KindPreferences.address == wanted.address, KindPreferences.kind == wanted.kind
        )
    )
    if row is None:
        default = rules.KindChoice()
        if (
            wanted.channels == ",".join(c for c in CHANNELS if c in default.channels)
            and not wanted.muted
            and wanted.digest_hour is None
        ):
            return False
        session.add(wanted)
        return True
    same = (row.channels, row.muted, row.digest_hour) == (
        wanted.channels,
        wanted.muted,
        wanted.digest_hour,
    )
    if not same:
        row.channels, row.muted, row.digest_hour = (
            wanted.channels,
            wanted.muted,
            wanted.digest_hour,
        )
    return not same


def _preferences_pb(session: Session, address: str, *, masked: bool) -> pb.Preferences:
    prefs = rules.load(session, address)
    updated = session.scalar(
        select(AddressPreferences.updated_at).where(AddressPreferences.address == address)
    )
    c = prefs.contacts
    show = (lambda channel, value: rules.mask(channel, value)) if masked else (lambda _, x: x)
    return pb.Preferences(
        address=address,
        contacts=pb.Contacts(
            email=show("email", c.email),
            phone=show("sms", c.phone),
            wechat_openid=show("wechat", c.wechat_openid),
        ),
        contacts_masked=masked,
        locale=prefs.locale,
        quiet_hours=pb.QuietHours(
            enabled=prefs.quiet.enabled,
            start=rules.hhmm(prefs.quiet.start),
            end=rules.hhmm(prefs.quiet.end),
        ),
        kinds=[
            pb.KindPreference(
                kind=kind,
                channels=[ch for ch in CHANNELS if ch in choice.channels],
                muted=choice.muted,
                digest=choice.digest_hour is not None,
                digest_hour=choice.digest_hour or 0,
            )
            for kind in rules.KINDS
            for choice in (prefs.kind(kind),)
        ],
        updated_at=timestamp(updated),
    )


def _link_pb(kind: str, channel: str, prefs: rules.Preferences) -> pb.UnsubscribeLink:
    choice = prefs.kind(kind)
    return pb.UnsubscribeLink(
        kind=kind, channel=channel, unsubscribed=channel not in choice.channels
    )

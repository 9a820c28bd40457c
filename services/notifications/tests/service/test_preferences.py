"""Preferences and unsubscribe links over gRPC on a real PostgreSQL: the
holder and the admin read and change an address's preferences (the standing
committee office reads them masked), contacts are checked and never written
into the audit, and a signed link mutes one kind on one channel without a
token."""

from __future__ import annotations

import itertools
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import select

from kit.tables import audit_entries
from liaison.notifications.v1 import preferences_pb2 as pb
from notifications import preferences as rules

pytestmark = pytest.mark.postgres

_numbers = itertools.count(1)
PHONE = "+8613800138000"
EMAIL = "zhang.san@example.com"


def person(role: str = "constituent", **claims: Any) -> dict[str, Any]:
    return {"sub": f"prefs-test-{next(_numbers)}", "role": role, "name": "测试"} | claims


def contacts_update(**contacts: str) -> pb.UpdatePreferencesRequest:
    return pb.UpdatePreferencesRequest(
        preferences=pb.Preferences(contacts=pb.Contacts(**contacts)),
        update_mask=FieldMask(paths=[f"contacts.{k}" for k in contacts]),
    )


def audit_rows(api: Any) -> list[Any]:
    with api.db.read() as session:
        return list(
            session.execute(
                select(audit_entries).where(
                    audit_entries.c.record_kind == "notification_preferences"
                )
            )
        )


def test_an_account_starts_with_the_defaults(api: Any) -> None:
    me = person()
    got = api.preferences(me).GetPreferences(pb.GetPreferencesRequest())
    assert got.address == f"user:{me['sub']}"
    assert got.locale == "zh-CN" and not got.contacts_masked
    assert (got.quiet_hours.enabled, got.quiet_hours.start, got.quiet_hours.end) == (
        False,
        "22:00",
        "08:00",
    )
    assert [k.kind for k in got.kinds] == list(rules.KINDS)
    assert all(list(k.channels) == ["inbox", "email", "sms", "wechat"] for k in got.kinds)
    assert not got.HasField("updated_at")


def test_the_holder_sets_contacts_quiet_hours_and_kinds(api: Any) -> None:
    me = person()
    stub = api.preferences(me)
    got = stub.UpdatePreferences(
        pb.UpdatePreferencesRequest(
            preferences=pb.Preferences(
                contacts=pb.Contacts(email=EMAIL, phone="138 0013 8000"),
                locale="en",
                quiet_hours=pb.QuietHours(enabled=True, start="21:30", end="07:00"),
                kinds=[
                    pb.KindPreference(
                        kind="letters", channels=["email"], digest=True, digest_hour=18
                    ),
                    pb.KindPreference(kind="bookings", muted=True, channels=["sms"]),
                ],
            )
        )
    )
    assert (got.contacts.email, got.contacts.phone) == (EMAIL, PHONE)
    assert got.locale == "en" and got.quiet_hours.start == "21:30"
    kinds = {k.kind: k for k in got.kinds}
    assert list(kinds["letters"].channels) == ["inbox", "email"]
    assert kinds["letters"].digest and kinds["letters"].digest_hour == 18
    assert kinds["bookings"].muted
    assert list(kinds["duties"].channels) == ["inbox", "email", "sms", "wechat"]
    with api.db.read() as session:
        stored = rules.load(session, f"user:{me['sub']}")
    assert stored.kind("letters") == rules.KindChoice(frozenset({"inbox", "email"}), False, 18)
    # Only the fields named change.
    again = stub.UpdatePreferences(contacts_update(email=""))
    assert again.contacts.email == "" and again.contacts.phone == PHONE and again.locale == "en"


def test_contacts_and_choices_are_checked_naming_each_field_and_nothing_changes(api: Any) -> None:
    me = person()
    stub = api.preferences(me)
    stub.UpdatePreferences(contacts_update(email=EMAIL))
    error = api.refused(
        lambda: stub.UpdatePreferences(
            pb.UpdatePreferencesRequest(
                preferences=pb.Preferences(
                    contacts=pb.Contacts(email="no-at-sign", phone="12345", wechat_openid="x"),
                    locale="fr",
                    quiet_hours=pb.QuietHours(enabled=True, start="25:00", end="08:00"),
                    kinds=[
                        pb.KindPreference(
                            kind="weather", channels=["fax"], digest=True, digest_hour=24
                        )
                    ],
                )
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(api.field_errors(error)) == {
        "preferences.contacts.email",
        "preferences.contacts.phone",
        "preferences.contacts.wechat_openid",
        "preferences.locale",
        "preferences.quiet_hours.start",
        "preferences.kinds[0].kind",
        "preferences.kinds[0].channels",
        "preferences.kinds[0].digest_hour",
    }
    assert "no-at-sign" not in error.details()
    kept = stub.GetPreferences(pb.GetPreferencesRequest())
    assert kept.contacts.email == EMAIL and kept.locale == "zh-CN"
    bad_mask = api.refused(
        lambda: stub.UpdatePreferences(
            pb.UpdatePreferencesRequest(update_mask=FieldMask(paths=["address"]))
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "update_mask" in api.field_errors(bad_mask)


def test_the_audit_names_the_fields_changed_never_the_contacts(api: Any) -> None:
    me = person()
    api.preferences(me).UpdatePreferences(contacts_update(email=EMAIL, phone=PHONE))
    mine = [r for r in audit_rows(api) if r.actor_subject == me["sub"]]
    assert [(r.action, r.changed_fields) for r in mine] == [("updated", "email,phone")]
    assert not any(EMAIL in str(tuple(r)) or PHONE in str(tuple(r)) for r in audit_rows(api))
    # Nothing changed: nothing audited.
    api.preferences(me).UpdatePreferences(contacts_update(email=EMAIL))
    assert len([r for r in audit_rows(api) if r.actor_subject == me["sub"]]) == 1


def test_others_are_refused_the_admin_sees_all_the_office_sees_masked(api: Any) -> None:
    me, other = person(), person()
    api.preferences(me).UpdatePreferences(contacts_update(email=EMAIL, phone=PHONE))
    mine = f"user:{me['sub']}"
    for call in ("GetPreferences", "UpdatePreferences"):
        request = (
            pb.GetPreferencesRequest(address=mine)
            if call == "GetPreferences"
            else pb.UpdatePreferencesRequest(address=mine)
        )
        error = api.refused(
            lambda call=call, request=request: getattr(api.preferences(other), call)(request),
            grpc.StatusCode.PERMISSION_DENIED,
        )
        assert "only the holder" in error.details()
    admin = api.preferences("admin").GetPreferences(pb.GetPreferencesRequest(address=mine))
    assert admin.contacts.email == EMAIL and not admin.contacts_masked
    office = api.preferences("standing-committee-office").GetPreferences(
        pb.GetPreferencesRequest(address=mine)
    )
    assert office.contacts_masked
    assert office.contacts.email == "z***@example.com" and PHONE not in office.contacts.phone
    api.refused(
        lambda: api.preferences("standing-committee-office").UpdatePreferences(
            pb.UpdatePreferencesRequest(address=mine)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )


def test_an_office_s_people_manage_its_mailbox_of_their_street_only(api: Any) -> None:
    office = "role:street_committee@street:1"
    got = api.preferences("street-committee").UpdatePreferences(
        pb.UpdatePreferencesRequest(
            address=office,
            preferences=pb.Preferences(contacts=pb.Contacts(email="jd@street.example.cn")),
            update_mask=FieldMask(paths=["contacts.email"]),
        )
    )
    assert got.address == office
    api.refused(
        lambda: api.preferences(person("street_committee", street_id=2)).GetPreferences(
            pb.GetPreferencesRequest(address=office)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    error = api.refused(
        lambda: api.preferences("admin").GetPreferences(pb.GetPreferencesRequest(address="nobody")),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "address" in api.field_errors(error)
    with api.db.read() as session:
        assert api.boot.contacts.contact_of(session, office, "email") == "jd@street.example.cn"
        assert api.boot.contacts.contact_of(session, office, "sms") is None
        assert api.boot.contacts.contact_of(session, office, "inbox") == office


def test_an_unsubscribe_link_works_without_a_token_once(api: Any) -> None:
    me = person()
    address = f"user:{me['sub']}"
    token = api.boot.unsubscribe_tokens.issue(address, "bookings", "email")
    anonymous = api.preferences(None)
    shown = anonymous.DescribeUnsubscribe(pb.UnsubscribeRequest(token=token))
    assert (shown.kind, shown.channel, shown.unsubscribed) == ("bookings", "email", False)
    done = anonymous.Unsubscribe(pb.UnsubscribeRequest(token=token))
    assert done.unsubscribed
    assert anonymous.Unsubscribe(pb.UnsubscribeRequest(token=token)).unsubscribed  # again: fine
    kinds = {
        k.kind: list(k.channels)
        for k in api.preferences(me).GetPreferences(pb.GetPreferencesRequest()).kinds
    }
    assert kinds["bookings"] == ["inbox", "sms", "wechat"]
    assert kinds["letters"] == ["inbox", "email", "sms", "wechat"]
    by_link = [r for r in audit_rows(api) if r.actor_subject == "system:unsubscribe-link"]
    assert [(r.action, r.changed_fields) for r in by_link][-1:] == [
        ("unsubscribed", "kinds.bookings")
    ]


def test_an_altered_link_is_refused_and_changes_nothing(api: Any) -> None:
    me = person()
    token = api.boot.unsubscribe_tokens.issue(f"user:{me['sub']}", "letters", "sms")
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for call in ("DescribeUnsubscribe", "Unsubscribe"):
        error = api.refused(
            lambda call=call: getattr(api.preferences(None), call)(
                pb.UnsubscribeRequest(token=altered)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert "signature" in api.field_errors(error)["token"]
    kinds = {
        k.kind: list(k.channels)
        for k in api.preferences(me).GetPreferences(pb.GetPreferencesRequest()).kinds
    }
    assert "sms" in kinds["letters"]
    api.refused(
        lambda: api.preferences(None).GetPreferences(pb.GetPreferencesRequest()),
        grpc.StatusCode.UNAUTHENTICATED,
    )


def test_a_system_token_has_no_preferences_of_its_own(api: Any) -> None:
    error = api.refused(
        lambda: api.preferences("department-system").GetPreferences(pb.GetPreferencesRequest()),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "only people signed in" in error.details()

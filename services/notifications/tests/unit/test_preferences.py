"""The preference rules without I/O, on a controlled clock (Asia/Shanghai is
UTC+8, no daylight saving): which channels a message goes on, and when."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from kit.errors import Violations
from notifications import preferences as p
from notifications.preferences import (
    ContactDetails,
    KindChoice,
    Preferences,
    QuietHours,
    Send,
    choose,
    decide,
)

ALL = ("inbox", "email", "sms", "wechat")
EVERY_CONTACT = ContactDetails("a@example.com", "+8613800138000", "oABCDEFGHIJKLMNOP123")


def shanghai(hour: int, minute: int = 0, day: int = 27) -> datetime:
    """A reading of the clock at `hour`:`minute` in Shanghai, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=p.SHANGHAI).astimezone(UTC)


def prefs(**changes: object) -> Preferences:
    values: dict[str, object] = {"address": "user:abc", "contacts": EVERY_CONTACT} | changes
    return Preferences(**values)  # type: ignore[arg-type]


def test_without_choices_every_channel_of_the_rule_goes_at_once() -> None:
    assert choose(prefs(), "bookings", False, ALL, shanghai(12)) == [
        Send("inbox", None),
        Send("email", None),
        Send("sms", None),
        Send("wechat", None),
    ]


def test_the_rule_bounds_the_channels_and_the_inbox_is_always_on() -> None:
    assert choose(prefs(), "letters", False, ["email"], shanghai(12)) == [
        Send("inbox", None),
        Send("email", None),
    ]


def test_a_muted_kind_goes_to_the_inbox_only_even_when_urgent() -> None:
    muted = prefs(kinds={"bookings": KindChoice(muted=True)})
    choice = decide(muted, "bookings", True, ALL, shanghai(12))
    assert choice.sends == (Send("inbox", None),)
    assert [c for c, _ in choice.suppressed] == ["email", "sms", "wechat"]
    assert all(reason.startswith("muted") for _, reason in choice.suppressed)
    # Another kind is not muted.
    assert len(choose(muted, "letters", False, ALL, shanghai(12))) == 4


def test_a_channel_turned_off_for_a_kind_is_suppressed_and_says_why() -> None:
    off = prefs(kinds={"duties": KindChoice(channels=frozenset({"inbox", "email"}))})
    choice = decide(off, "duties", False, ALL, shanghai(12))
    assert [s.channel for s in choice.sends] == ["inbox", "email"]
    assert dict(choice.suppressed) == {
        "sms": "turned off: the recipient does not take duties by sms",
        "wechat": "turned off: the recipient does not take duties by wechat",
    }


def test_channels_without_a_contact_are_dropped_with_the_reason() -> None:
    only_email = prefs(contacts=ContactDetails(email="a@example.com"))
    choice = decide(only_email, "bookings", False, ALL, shanghai(12))
    assert [s.channel for s in choice.sends] == ["inbox", "email"]
    assert dict(choice.suppressed) == {
        "sms": "no contact: the recipient has given no mobile phone",
        "wechat": "no contact: the recipient has given no WeChat account",
    }


QUIET = QuietHours(enabled=True, start=time(22), end=time(8))


@pytest.mark.parametrize(
    ("at", "held_until"),
    [
        (shanghai(23, 30), shanghai(8, day=28)),  # before midnight: the next morning
        (shanghai(2), shanghai(8)),  # after midnight: this morning
        (shanghai(22), shanghai(8, day=28)),  # the start is inside
        (shanghai(8), None),  # the end is outside
        (shanghai(21, 59), None),
        (shanghai(12), None),
    ],
)
def test_quiet_hours_hold_what_is_not_urgent_until_they_end(
    at: datetime, held_until: datetime | None
) -> None:
    sends = choose(prefs(quiet=QUIET), "sessions", False, ["inbox", "sms"], at)
    assert sends == [Send("inbox", None), Send("sms", held_until)]


def test_urgent_messages_go_at_once_in_quiet_hours() -> None:
    sends = choose(prefs(quiet=QUIET), "sessions", True, ["inbox", "sms"], shanghai(23))
    assert sends == [Send("inbox", None), Send("sms", None)]


def test_quiet_hours_off_hold_nothing_and_a_window_within_a_day_works() -> None:
    off = QuietHours(enabled=False, start=time(22), end=time(8))
    assert choose(prefs(quiet=off), "sessions", False, ["sms"], shanghai(23))[1].not_before is None
    lunch = QuietHours(enabled=True, start=time(12), end=time(14))
    assert choose(prefs(quiet=lunch), "sessions", False, ["sms"], shanghai(13))[1] == Send(
        "sms", shanghai(14)
    )


def test_a_digest_kind_waits_for_its_next_hour() -> None:
    digest = prefs(kinds={"opinions": KindChoice(digest_hour=18)})
    assert choose(digest, "opinions", False, ["email"], shanghai(9))[1] == Send(
        "email", shanghai(18), digest=True
    )
    assert choose(digest, "opinions", False, ["email"], shanghai(19))[1] == Send(
        "email", shanghai(18, day=28), digest=True
    )
    # Urgent ones do not wait for the digest; the inbox never waits.
    assert choose(digest, "opinions", True, ["email"], shanghai(9)) == [
        Send("inbox", None),
        Send("email", None),
    ]


def test_a_digest_hour_inside_the_quiet_hours_waits_until_they_end() -> None:
    late = prefs(quiet=QUIET, kinds={"letters": KindChoice(digest_hour=23)})
    assert choose(late, "letters", False, ["email"], shanghai(9))[1] == Send(
        "email", shanghai(8, day=28), digest=True
    )


def test_a_naive_clock_or_an_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        choose(prefs(), "bookings", False, ALL, datetime(2026, 11, 27, 12))
    with pytest.raises(ValueError, match="fax is not a channel"):
        choose(prefs(), "bookings", False, ["fax"], shanghai(12))


# ---------------------------------------------------------------- contacts


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("+447911123456", "+447911123456"),
        ("", ""),
    ],
)
def test_mobile_phones_are_kept_in_e164(text: str, cleaned: str) -> None:
    v = Violations()
    assert p.clean_phone(v, "phone", text) == cleaned
    assert not v


@pytest.mark.parametrize("text", ["12345", "020-12345678", "+86 0000", "phone", "1" * 40])
def test_what_is_not_a_mobile_is_refused_naming_the_field(text: str) -> None:
    v = Violations()
    assert p.clean_phone(v, "contacts.phone", text) == ""
    assert [i.field for i in v.items] == ["contacts.phone"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("zhang.san@Example.COM", True),
        ("a+tag@mail.example.cn", True),
        ("no-at-sign", False),
        ("two@@example.com", False),
        ("space in@example.com", False),
        ("a@nodot", False),
        ("a@" + "x" * 260 + ".com", False),
    ],
)
def test_email_syntax(text: str, ok: bool) -> None:
    v = Violations()
    cleaned = p.clean_email(v, "contacts.email", text)
    assert bool(cleaned) is ok and (not v) is ok
    if ok:
        assert cleaned.split("@")[1] == cleaned.split("@")[1].lower()


def test_openids_and_times_are_checked() -> None:
    v = Violations()
    assert p.clean_openid(v, "openid", "oABCDEFGHIJKLMNOP123") == "oABCDEFGHIJKLMNOP123"
    assert p.clean_openid(v, "openid", "short") == ""
    assert p.parse_time(v, "start", "07:30", time(22)) == time(7, 30)
    assert p.parse_time(v, "end", "24:00", time(8)) == time(8)
    assert [i.field for i in v.items] == ["openid", "end"]


def test_contacts_are_masked_for_those_who_do_not_hold_them() -> None:
    assert p.mask("email", "zhang.san@example.com") == "z***@example.com"
    assert p.mask("sms", "+8613800138000") == "+86138****00"
    assert p.mask("wechat", "oABCDEFGHIJKLMNOP123") == "oAB***23"
    assert p.mask("email", "") == ""
    for channel, value in [("email", "z@x.cn"), ("sms", "+8613800138000")]:
        assert value not in p.mask(channel, value)


def test_check_channels_adds_the_inbox_and_names_unknown_ones() -> None:
    v = Violations()
    assert p.check_channels(v, "kinds[0].channels", ["email", "fax"]) == {"inbox", "email"}
    assert [(i.field, i.description.split()[0]) for i in v.items] == [("kinds[0].channels", "fax")]

"""Unsubscribe tokens: what one names comes back whole, and any change to
it, or another secret, is refused."""

from __future__ import annotations

import pytest

from notifications.unsubscribe import BadToken, UnsubscribeTokens, Unsubscription, links

TOKENS = UnsubscribeTokens("a-test-secret-of-enough-length")


def test_a_token_reads_back_what_it_was_issued_for() -> None:
    token = TOKENS.issue("role:street_committee@street:3", "letters", "email")
    assert TOKENS.read(token) == Unsubscription(
        "role:street_committee@street:3", "letters", "email"
    )
    assert "/" not in token and "+" not in token  # fits a URL path as it is


def test_every_altered_character_is_refused() -> None:
    token = TOKENS.issue("user:abc", "bookings", "sms")
    for i in range(len(token)):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        with pytest.raises(BadToken):
            TOKENS.read(changed)


def test_another_secret_or_garbage_is_refused() -> None:
    token = UnsubscribeTokens("some-other-secret-entirely").issue("user:abc", "bookings", "sms")
    with pytest.raises(BadToken, match="signature"):
        TOKENS.read(token)
    for garbage in ["", "u1", "u1.a.b", "x" * 700, "u2.YQ.sig"]:
        with pytest.raises(BadToken):
            TOKENS.read(garbage)


def test_a_signed_token_naming_what_the_service_has_not_is_refused() -> None:
    # Signed with our secret but naming a channel one cannot leave.
    payload = "dXNlcjphYmMKYm9va2luZ3MKaW5ib3g"  # user:abc / bookings / inbox
    token = f"u1.{payload}.{TOKENS._sign(payload)}"
    with pytest.raises(BadToken, match="inbox"):
        TOKENS.read(token)


@pytest.mark.parametrize(
    ("address", "kind", "channel"),
    [
        ("nobody", "bookings", "email"),
        ("user:a", "weather", "email"),
        ("user:a", "bookings", "inbox"),
    ],
)
def test_nothing_is_issued_for_what_does_not_exist(address: str, kind: str, channel: str) -> None:
    with pytest.raises(ValueError):
        TOKENS.issue(address, kind, channel)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16"):
        UnsubscribeTokens("short")


def test_links_are_the_portal_s_page_and_the_one_click_url() -> None:
    token = TOKENS.issue("user:abc", "letters", "email")
    page, one_click = links("https://liaison.example.cn/", token)
    assert page == f"https://liaison.example.cn/#/unsubscribe/{token}"
    assert one_click == f"https://liaison.example.cn/api/v1/unsubscribe/{token}"

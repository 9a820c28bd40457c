"""The authorisation matrix of the inbox, notification preferences and
unsubscribe links through the gateway, on the running platform: every caller
against every operation, and a refused call changes no service's audit.
Besides: an unsubscribe link works without a token and mutes its kind on
its channel once; an altered link is 422 and changes nothing; an office's
contacts are masked for the standing committee office and whole for its
holder. The rules are tested on the notifications service's gRPC API
(services/notifications/tests); here they hold for what clients call.

Not here: reading and archiving a real message. The platform's inbox fills
from other services' events once the fan-out of notifications is built; until
then every inbox is empty, and the matrix reads a message that does not
exist (404 for everyone who has a mailbox)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from notifications.settings import NotificationsSettings
from notifications.unsubscribe import UnsubscribeTokens
from tests.e2e import test_authorization_e2e as matrix
from tests.e2e.test_authorization_e2e import CALLERS, DISTRICT, World, allowed, get

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]
platform = matrix.platform
world = matrix.world

Operation = Callable[[World], Callable[[dict[str, str]], httpx.Response]]
PEOPLE = tuple(c for c in CALLERS if c not in ("anonymous", "department-system"))
OFFICE = "role:street_committee@street:1"
# The platform's processes share this environment (kit.testrun.platform_environment).
TOKENS = UnsubscribeTokens(NotificationsSettings.load("notifications", "api").unsubscribe_secret)
NO_MESSAGE = 987_654_321


def everyone(ok: int = 200) -> dict[str, int]:
    return {c: ok for c in CALLERS}


def people(ok: int = 200) -> dict[str, int]:
    """`ok` for every person signed in; a department's system has no mailbox."""
    return allowed(*PEOPLE, ok=ok)


def read_missing(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(f"/api/v1/inbox/{NO_MESSAGE}:read", headers=h)


def archive_all(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post("/api/v1/inbox:archive-all", json={}, headers=h)


def set_own_language(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.patch(
        "/api/v1/notification-preferences", json={"locale": "zh-CN"}, headers=h
    )


def set_office_contacts(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.patch(
        "/api/v1/notification-preferences",
        params={"address": OFFICE},
        json={"contacts": {"email": "office1@street.example.cn"}},
        headers=h,
    )


def describe_link(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    token = TOKENS.issue("user:matrix-link-reader", "letters", "email")
    return lambda h: w.http.get(f"/api/v1/unsubscribe/{token}", headers=h)


def follow_link(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    token = TOKENS.issue("user:matrix-link-follower", "bookings", "sms")
    return lambda h: w.http.post(f"/api/v1/unsubscribe/{token}", headers=h)


def altered_link(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    token = TOKENS.issue("user:matrix-link-altered", "bookings", "sms")
    return lambda h: w.http.post(f"/api/v1/unsubscribe/{token[:-2]}xx", headers=h)


MATRIX: list[tuple[str, Operation, dict[str, int]]] = [
    ("GET the inbox", get("/api/v1/inbox"), people()),
    ("GET the unread count", get("/api/v1/inbox/unread-count"), people()),
    ("GET an archived folder", get("/api/v1/inbox", folder="archived"), people()),
    ("read a message that is not the caller's", read_missing, people(404)),
    ("archive all", archive_all, people()),
    ("GET one's own preferences", get("/api/v1/notification-preferences"), people()),
    ("change one's own language", set_own_language, people()),
    (
        "GET a street office's preferences",
        get("/api/v1/notification-preferences", address=OFFICE),
        allowed(*DISTRICT, "street-committee"),
    ),
    (
        "change a street office's contacts",
        set_office_contacts,
        allowed("admin", "street-committee"),
    ),
    ("GET what an unsubscribe link stops", describe_link, everyone()),
    ("follow an unsubscribe link", follow_link, everyone()),
    ("follow an altered unsubscribe link", altered_link, everyone(422)),
]
CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name} as {caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_inbox_and_preferences_authorisation_through_the_gateway(
    world: World, operation: Operation, caller: str, expected: int
) -> None:
    matrix.test_authorisation_matrix_through_the_gateway(world, operation, caller, expected)


def test_an_unsubscribe_link_mutes_its_kind_on_its_channel_once(world: World) -> None:
    reply = world.http.post("/api/v1/dev/tokens", json={"account": "constituent"})
    me = {"authorization": f"Bearer {reply.json()['access_token']}"}
    mine = world.http.get("/api/v1/notification-preferences", headers=me).json()
    token = TOKENS.issue(mine["address"], "opinions", "email")
    shown = world.http.get(f"/api/v1/unsubscribe/{token}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["kind"] == "opinions" and shown.json()["channel"] == "email"
    before = world.traces()
    done = world.http.post(
        f"/api/v1/unsubscribe/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["unsubscribed"]
    kinds = {
        k["kind"]: k["channels"]
        for k in world.http.get("/api/v1/notification-preferences", headers=me).json()["kinds"]
    }
    assert "email" not in kinds["opinions"] and "email" in kinds["letters"]
    changed = world.traces()
    assert changed != before, "the unsubscribe is audited"
    again = world.http.post(f"/api/v1/unsubscribe/{token}")
    assert again.status_code == 200 and again.json()["unsubscribed"]
    assert world.traces() == changed, "again changes nothing"


def test_contacts_are_checked_and_masked_for_the_office(world: World) -> None:
    committee = world.headers["street-committee"]
    bad = world.http.patch(
        "/api/v1/notification-preferences",
        params={"address": OFFICE},
        json={"contacts": {"email": "not-an-email", "phone": "12345"}},
        headers=committee,
    )
    assert bad.status_code == 422, bad.text
    assert bad.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"preferences.contacts.email", "preferences.contacts.phone"}
    set_to = world.http.patch(
        "/api/v1/notification-preferences",
        params={"address": OFFICE},
        json={"contacts": {"email": "jiedao1@street.example.cn", "phone": "13800138000"}},
        headers=committee,
    )
    assert set_to.status_code == 200, set_to.text
    assert set_to.json()["contacts"]["phone"] == "+8613800138000"
    masked = world.http.get(
        "/api/v1/notification-preferences",
        params={"address": OFFICE},
        headers=world.headers["standing-committee-office"],
    ).json()
    assert masked["contacts_masked"]
    assert masked["contacts"]["email"] == "j***@street.example.cn"
    assert "13800138000" not in str(masked)

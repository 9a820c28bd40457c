"""The portal's pages of the notifications service in a real browser, on a
phone-sized window, against the whole platform: a signed-in constituent
finds "我的消息" in the header with the number unread, reads the inbox (empty:
see below), sets their notification settings (contacts, quiet hours, the
channels of a kind) and sees a refused contact named with the service's
message; an unsubscribe link from an email opens its page without signing
in, says what it stops and stops it with one button; an altered link is
refused with the service's message.

Not here: messages in the inbox. They come from other services' events
through the notification rules and the fan-out, which the platform does not
have yet; the inbox is empty and the page says so (the inbox's reads and
changes over real messages are tested on the service: services/notifications
/tests/service/test_inbox.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kit.testrun import Platform
from notifications.settings import NotificationsSettings
from notifications.unsubscribe import UnsubscribeTokens
from tests.e2e.test_portal_letters import ok, sign_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]

# The platform's processes share this environment (kit.testrun.platform_environment).
TOKENS = UnsubscribeTokens(NotificationsSettings.load("notifications", "api").unsubscribe_secret)
EXPECTED_REFUSALS = (
    r"status of 422 .*/notification-preferences\)",
    r"status of 422 .*/unsubscribe/",
)


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page(390, 844)


def test_the_inbox_and_the_notification_settings_of_a_constituent(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    console = watch(page)
    sign_in(page, platform.base_url)
    unread = ok(platform, "GET", "/api/v1/inbox/unread-count", account="constituent")["unread"]

    # The header: "我的消息" with the number unread, and the settings.
    link = page.locator("#account a#inbox-link")
    link.wait_for()
    page.wait_for_function(
        "n => document.querySelector('#inbox-link').getAttribute('data-unread') === n",
        arg=str(unread),
    )
    link.click()
    view = page.locator("#notifications-view")
    heading = view.locator("h2.notifications-heading")
    heading.wait_for()
    assert heading.inner_text() == "我的消息"
    assert page.locator("#search").is_hidden(), "the search steps aside"
    assert page.evaluate("document.activeElement.tagName") == "H2"
    view.locator("#inbox-list[aria-busy=false]").wait_for()
    listed = ok(platform, "GET", "/api/v1/inbox?page_size=20", account="constituent")
    if listed["items"]:
        assert view.locator("li.inbox-message").count() == len(listed["items"])
    else:
        assert view.locator("li.inbox-empty").inner_text() == "这里还没有消息。"
    assert view.locator(".inbox-unread").inner_text() == f"{listed['unread']} 条未读"
    view.locator("button[data-folder=archived]").click()
    view.locator("#inbox-list[aria-busy=false]").wait_for()
    assert view.locator("button[data-folder=archived]").get_attribute("aria-pressed") == "true"
    page.screenshot(path=str(screenshots / "portal-inbox.png"), full_page=True)

    # The settings: a refused contact is named, nothing is kept.
    page.locator("#account a.settings-link").click()
    form = view.locator("form.settings-form")
    form.wait_for()
    assert view.locator("h2").inner_text() == "通知设置"
    form.locator("[data-field=email] input").fill("not-an-email")
    form.locator("button[type=submit]").click()
    refused = form.locator(".form-status [role=alert]")
    refused.wait_for()
    assert "email" in refused.inner_text() and "没有保存" in refused.inner_text()
    assert (
        ok(platform, "GET", "/api/v1/notification-preferences", account="constituent")["contacts"][
            "email"
        ]
        != "not-an-email"
    )

    # Then saved: contacts, quiet hours, letters without text messages.
    form.locator("[data-field=email] input").fill("xuanmin@example.com")
    form.locator("[data-field=phone] input").fill("13800138000")
    form.locator("#quiet-enabled").check()
    form.locator("fieldset[data-kind=letters] #kind-letters-sms").uncheck()
    form.locator("button[type=submit]").click()
    form.locator(".form-status .form-ok").wait_for()
    assert form.locator(".form-status").inner_text() == "设置已保存。"
    saved = ok(platform, "GET", "/api/v1/notification-preferences", account="constituent")
    assert saved["contacts"]["email"] == "xuanmin@example.com"
    assert saved["contacts"]["phone"] == "+8613800138000"
    assert saved["quiet_hours"] == {"enabled": True, "start": "22:00", "end": "08:00"}
    letters = [k for k in saved["kinds"] if k["kind"] == "letters"][0]
    assert letters["channels"] == ["inbox", "email", "wechat"]
    page.screenshot(path=str(screenshots / "portal-notification-settings.png"), full_page=True)
    assert console.unexpected(*EXPECTED_REFUSALS) == []


def test_an_unsubscribe_link_works_without_signing_in(
    platform: Platform, page: Any, watch: Any
) -> None:
    console = watch(page)
    address = ok(platform, "GET", "/api/v1/notification-preferences", account="constituent")[
        "address"
    ]
    token = TOKENS.issue(address, "sessions", "email")
    page.goto(f"{platform.base_url}/#/unsubscribe/{token}")
    box = page.locator("#notifications-view .unsubscribe")
    confirm = box.locator("#unsubscribe-confirm")
    confirm.wait_for()
    assert "不再通过电子邮件接收“接待日程”类通知" in box.inner_text()
    assert page.locator("#account").inner_text() == "", "nobody is signed in"
    confirm.click()
    box.locator(".form-ok").wait_for()
    assert "已退订" in box.inner_text()
    kinds = ok(platform, "GET", "/api/v1/notification-preferences", account="constituent")["kinds"]
    sessions = [k for k in kinds if k["kind"] == "sessions"][0]
    assert "email" not in sessions["channels"]

    # An altered link is refused with the service's message.
    page.goto(f"{platform.base_url}/#/unsubscribe/{token[:-3]}abc")
    box.locator("[role=alert]").wait_for()
    assert "这个退订链接无效" in box.inner_text() and "signature" in box.inner_text()
    assert console.unexpected(*EXPECTED_REFUSALS) == []

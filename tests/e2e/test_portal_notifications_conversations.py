"""The portal's 联系代表 pages in a real browser, against the whole platform
with its demo data: a signed-in constituent writes to the deputies of a
station of street 1 from their phone, sees the message waiting for the
station's approval, then (once the staff approve it and record the thread
as an opinion, through the API) published with the opinion's tracking
code; and signed out the pages ask for the sign-in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kit.testrun import Platform

try:
    from tests.e2e.test_console_duties import call, token
    from tests.e2e.test_console_notifications_conversations import street_1_station
    from tests.e2e.test_portal_letters import sign_in
except ImportError:  # the repository's root is not on the path
    from test_console_duties import call, token  # type: ignore[no-redef]
    from test_console_notifications_conversations import (  # type: ignore[no-redef]
        street_1_station,
    )
    from test_portal_letters import sign_in  # type: ignore[no-redef]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]


@pytest.fixture
def page(new_page: Any) -> Any:
    # A phone-sized window: the page must work there first.
    return new_page(390, 844)


def test_signed_out_the_page_asks_for_the_sign_in(platform: Platform, page: Any) -> None:
    page.goto(f"{platform.base_url}/#/conversations")
    view = page.locator("#conversations-view")
    expect(view).to_contain_text("登录后可以给代表留言")
    assert not page.locator("#search").is_visible(), "the finder steps aside"


def test_a_constituent_writes_to_a_stations_deputies_and_follows_the_thread(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    station = street_1_station(base)
    console = watch(page)
    sign_in(page, base)
    page.locator("#conversations-nav").click()
    view = page.locator("#conversations-view")
    view.get_by_role("heading", name="联系代表", level=2).wait_for()

    form = view.locator("form.conversation-form")
    form.get_by_label("联络站").select_option(str(station["id"]))
    form.get_by_label("主题").fill("小区门口路灯坏了")
    form.get_by_label("留言内容").fill("林和西路路灯坏了一个月，晚上很黑。")
    form.get_by_label("联系电话（可不填）").fill("13800003333")
    form.get_by_role("button", name="发送").click()
    page.wait_for_url(re.compile(r"#/conversations/\d+$"))
    conversation_id = int(page.url.rsplit("/", 1)[1])

    messages = view.locator(".conversation-messages > li")
    expect(messages).to_have_count(1)
    expect(messages.first).to_have_attribute("data-state", "held")
    expect(messages.first).to_contain_text("待审核")
    expect(messages.first).to_contain_text("选民 演示选民")
    assert "13800003333" not in view.inner_text(), "the phone is never shown"
    page.screenshot(path=str(screenshots / "portal-conversation-held.png"), full_page=True)

    # The station's staff approve it and record the thread as an opinion.
    staff = token(base, "station-staff")
    status, thread = call(base, staff, "GET", f"/api/v1/conversations/{conversation_id}")
    assert status == 200, thread
    message_id = thread["messages"][0]["id"]
    status, body = call(
        base,
        staff,
        "POST",
        f"/api/v1/conversation-messages/{message_id}:moderate",
        {"decision": "approve"},
    )
    assert status == 200, body
    status, turned = call(
        base,
        staff,
        "POST",
        f"/api/v1/conversations/{conversation_id}:to-opinion",
        {"category": "environment", "community_id": station["community_ids"][0]},
    )
    assert status == 200, turned
    code = turned["opinion_tracking_code"]

    # Back in the list, then the thread again: published, with the code.
    page.locator("#conversations-nav").click()
    item = view.locator(".conversation-item", has_text="小区门口路灯坏了").first
    expect(item).to_contain_text(code)
    page.goto(f"{base}/#/conversations/{conversation_id}")
    expect(messages.first).to_have_attribute("data-state", "published")
    expect(view.locator(".conversation-opinion")).to_contain_text(code)

    # Writing again: held once more.
    view.get_by_label("继续留言").fill("谢谢，请尽快修复。")
    view.get_by_role("button", name="发送").click()
    expect(messages).to_have_count(2)
    expect(messages.nth(1)).to_have_attribute("data-state", "held")
    page.screenshot(path=str(screenshots / "portal-conversation.png"), full_page=True)
    assert console.unexpected() == []

"""The console's conversations screen (互动交流) in a real browser, against the
whole platform with its demo data: a constituent writes to the deputies of
a station of street 1 (through the API), the station's staff find the
message in their moderation queue and approve it, open the thread, reply,
and turn it into an opinion, whose tracking code the thread then shows and
reception tracks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kit.testrun import Platform

try:
    from tests.e2e.test_console import get_json, sign_in
    from tests.e2e.test_console_duties import call, token
except ImportError:  # the repository's root is not on the path
    from test_console import get_json, sign_in  # type: ignore[no-redef]
    from test_console_duties import call, token  # type: ignore[no-redef]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]


def street_1_station(base_url: str) -> dict[str, Any]:
    """A station of street 1 with serving deputies and communities."""
    for station in get_json(f"{base_url}/api/v1/stations?street_id=1&page_size=100")["items"]:
        deputies = get_json(f"{base_url}/api/v1/deputies?station_id={station['id']}&page_size=5")
        if deputies["items"] and station["community_ids"]:
            return station  # type: ignore[no-any-return]
    raise AssertionError("street 1 has a station with deputies and communities")


def test_staff_moderate_reply_and_turn_a_thread_into_an_opinion(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    station = street_1_station(base)
    status, thread = call(
        base,
        token(base, "constituent"),
        "POST",
        "/api/v1/conversations",
        {
            "subject": "小区门口路灯坏了",
            "text": "林和西路路灯坏了一个月，晚上很黑。",
            "station_id": station["id"],
            "phone": "13800002222",
        },
    )
    assert status == 201, thread
    message_id = thread["messages"][0]["id"]

    page = new_page(1280, 900)
    console = watch(page)
    sign_in(page, base, "station-staff")
    page.get_by_role("link", name="互动交流").click()
    page.get_by_role("heading", name="互动交流", level=1).wait_for()
    assert page.locator("nav a[aria-current=page]").inner_text() == "互动交流"

    held = page.locator(f"li.cv-held[data-message='{message_id}']")
    expect(held).to_contain_text("路灯坏了一个月")
    # The staff of the street see the constituent's name in full, never the phone.
    expect(held).to_contain_text("选民 演示选民")
    page.screenshot(path=str(screenshots / "console-conversations-queue.png"), full_page=True)
    held.get_by_role("button", name="通过", exact=True).click()
    expect(held).to_have_count(0)

    page.locator(f"#cv-mine li[data-conversation='{thread['id']}'] a").click()
    page.wait_for_url(re.compile(rf"#/conversations/{thread['id']}$"))
    messages = page.locator("#cv-thread .cv-messages > li")
    expect(messages).to_have_count(1)
    expect(messages.first).to_have_attribute("data-state", "published")
    assert "13800002222" not in page.locator("#cv-thread").inner_text()

    page.get_by_label("回复").fill("已转交街道城管科，本周内修复。")
    page.get_by_role("button", name="发送").click()
    expect(messages).to_have_count(2)
    expect(messages.nth(1)).to_contain_text("本周内修复")

    form = page.locator("#cv-to-opinion")
    expect(form).to_contain_text("选民已留联系电话")
    form.get_by_label("类别").select_option("environment")
    form.get_by_label("社区编号").fill(str(station["community_ids"][0]))
    form.get_by_role("button", name="登记").click()
    expect(page.locator("#cv-opinion")).to_contain_text("TH-")
    expect(page.locator("#cv-to-opinion")).to_have_count(0)
    page.screenshot(path=str(screenshots / "console-conversation-opinion.png"), full_page=True)

    code = page.locator("#cv-opinion").inner_text().rsplit("：", 1)[1].strip()
    status, tracked = call(base, None, "GET", f"/api/v1/opinions/track/{code}")
    assert status == 200, tracked
    assert tracked["category"] == "environment"
    assert console.unexpected() == []

"""The console's notification rules screen in a real browser, against the
whole platform with its default rules: the admin finds the default rules,
edits a template's subject and sees the service's preview follow it (the
HTML body in a sandboxed frame), a template that does not render is named
at its part and nothing is saved; the standing committee office reads the
screen without a way to save."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kit.testrun import Platform

try:
    from tests.e2e.test_console import sign_in
except ImportError:  # the repository's root is not on the path
    from test_console import sign_in  # type: ignore[no-redef]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]


def stored_subject(base_url: str, key: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/dev/tokens",
        data=json.dumps({"account": "admin"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        token = json.load(reply)["access_token"]
    request = urllib.request.Request(
        f"{base_url}/api/v1/notification-templates/{key}?locale=zh-CN",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return str(json.load(reply)["subject"])


def test_the_admin_previews_a_template_as_it_is_edited(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    page = new_page(1280, 1000)
    sign_in(page, base, "admin")
    console = watch(page)
    page.get_by_role("link", name="通知规则").click()
    page.get_by_role("heading", name="通知规则", level=1).wait_for()
    expect(
        page.locator("#notification-rules tr[data-rule='booking_confirmed.booker']")
    ).to_contain_text("reception.booking_confirmed")
    expect(
        page.locator("#notification-rules tr[data-rule='letter_due_tomorrow.unit']")
    ).to_contain_text("letters !")

    form = page.locator("#template-form")
    form.get_by_label("模板").select_option("opinion_received")
    expect(page.locator("#template-event")).to_have_value("reception.opinion_recorded")
    expect(page.locator("#preview-subject")).to_have_text("意见已收到：TH-2026-000123")
    frame = page.locator("#template-preview iframe")
    expect(frame).to_have_attribute("sandbox", "")
    expect(page.frame_locator("#template-preview iframe").locator("p").first).to_contain_text(
        "TH-2026-000123"
    )

    # The preview follows the words as they are typed.
    page.locator("#template-subject").fill(
        "已收到，查询码 {{ opinion.tracking_code }}（{{ locale }}）"
    )
    expect(page.locator("#preview-subject")).to_have_text("已收到，查询码 TH-2026-000123（zh-CN）")
    page.screenshot(path=str(screenshots / "console-notification-template.png"), full_page=True)

    # Words that do not render are named at their part; saving them is refused.
    page.locator("#template-subject").fill("{{ opinion.no_such_field }}")
    expect(page.locator("#template-preview .error")).to_contain_text("subject")
    form.get_by_role("button", name="保存模板").click()
    expect(form.locator(".error")).to_contain_text("subject")
    assert stored_subject(base, "opinion_received") == "意见已收到：{{ opinion.tracking_code }}"
    assert console.unexpected(r"status of 422") == []


def test_the_office_reads_without_saving(platform: Platform, new_page: Any, watch: Any) -> None:
    page = new_page(1280, 900)
    sign_in(page, platform.base_url, "standing-committee-office")
    console = watch(page)
    page.get_by_role("link", name="通知规则").click()
    expect(page.locator("#notification-rules tr[data-rule='deputy_rated.deputy']")).to_be_visible()
    expect(page.locator("#preview-subject")).not_to_be_empty()
    assert page.locator("#new-rule").count() == 0
    assert page.get_by_role("button", name="保存模板").count() == 0
    expect(page.locator("#template-subject")).to_have_attribute("readonly", "")
    assert console.unexpected() == []

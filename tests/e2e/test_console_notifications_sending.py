"""The console's delivery log (投递记录) in a real browser, against the whole
platform: the standing committee office filters the log to dead SMS
deliveries, finds one whose provider kept failing, sends it again with the
row's button (the row turns to 排队中 and the retry is announced), and the
notifications worker then takes it. A street committee is told the log is
not theirs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from kit.db import Database
from kit.testrun import Platform
from notifications.message_models import Delivery
from notifications.sending_testrun import delivery, queue

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


@pytest.fixture(scope="module")
def notifications_db(platform: Platform) -> Iterator[Database]:
    db = Database(platform.services["notifications"].database_url, "notifications")
    yield db
    db.dispose()


def dead_sms(db: Database) -> int:
    delivery_id = queue(db, "sms", recipient="deputy:2", state="dead")
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(attempts=6, last_error="sms-http answered 500: the provider failed")
        )
    return delivery_id


def test_the_office_finds_a_dead_delivery_and_sends_it_again(
    platform: Platform, notifications_db: Database, new_page: Any, watch: Any, screenshots: Path
) -> None:
    dead = dead_sms(notifications_db)
    page = new_page(1400, 900)
    sign_in(page, platform.base_url, "standing-committee-office")
    console = watch(page)
    page.get_by_role("link", name="投递记录").click()
    page.get_by_role("heading", name="通知投递记录", level=1).wait_for()
    page.locator("#deliveries[aria-busy=false]").wait_for()

    filters = page.locator("#delivery-filters")
    filters.get_by_label("状态").select_option("dead")
    filters.get_by_label("渠道").select_option("sms")
    filters.get_by_label("收件地址").fill("deputy:2")
    filters.get_by_role("button", name="查询").click()
    row = page.locator(f"#deliveries tr[data-delivery='{dead}']")
    expect(row).to_contain_text("已放弃")
    expect(row).to_contain_text("sms-http answered 500")
    expect(page.locator("#deliveries tbody tr[data-state]:not([data-state=dead])")).to_have_count(0)
    page.screenshot(path=str(screenshots / "console-deliveries.png"), full_page=True)

    row.get_by_role("button", name=f"重新发送投递 {dead}").click()
    page.locator("#announce").get_by_text(f"投递 {dead} 已重新排队发送。").wait_for()
    expect(page.locator(f"#deliveries tr[data-delivery='{dead}']")).to_have_attribute(
        "data-state", "queued"
    )
    assert delivery(notifications_db, dead).attempts == 0

    # A bad recipient is refused at its field.
    filters.get_by_label("状态").select_option("")
    filters.get_by_label("收件地址").fill("somebody")
    filters.get_by_role("button", name="查询").click()
    expect(page.locator("#dl-recipient")).to_have_attribute("aria-invalid", "true")
    assert console.unexpected(r"status of 4(00|22)") == []


def test_a_street_committee_is_told_the_log_is_not_theirs(
    platform: Platform, new_page: Any
) -> None:
    page = new_page(1280, 900)
    sign_in(page, platform.base_url, "street-committee")
    page.get_by_role("link", name="投递记录").click()
    page.get_by_text("投递记录仅供系统管理员和区人大常委会办公室查看。").wait_for()

"""The console's inbox screen (消息) in a real browser, against the whole
platform: the street committee of street 1 opens it from the navigation and
finds its mailboxes to pick (their own account's and street 1's committee's,
shared by its people) with the number unread as the API counts them, the
messages as the API lists them (the inbox is empty until the platform's
notification rules and fan-out turn events into messages: the reads and
changes of real messages are tested on the service), and the archived
folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kit.testrun import Platform

try:
    from tests.e2e.test_console import sign_in
    from tests.e2e.test_console_duties import call, token
except ImportError:  # the repository's root is not on the path
    from test_console import sign_in  # type: ignore[no-redef]
    from test_console_duties import call, token  # type: ignore[no-redef]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]


def test_the_street_committee_reads_its_office_s_inbox(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    committee = token(base, "street-committee")
    status, counted = call(base, committee, "GET", "/api/v1/inbox/unread-count")
    assert status == 200, counted
    mailboxes = [m["mailbox"] for m in counted["mailboxes"]]
    assert "role:street_committee@street:1" in mailboxes
    page = new_page(1280, 900)
    console = watch(page)
    sign_in(page, base, "street-committee")

    page.locator("nav a[data-screen=inbox]").click()
    page.wait_for_url("**/console/#/inbox")
    assert page.locator("#screen-title").inner_text() == "消息"
    page.locator("#inbox-list[aria-busy=false]").wait_for()
    options = page.locator("select[name=mailbox] option")
    expect_values = ["", *mailboxes]
    page.wait_for_function(
        "n => document.querySelectorAll('select[name=mailbox] option').length === n",
        arg=len(expect_values),
    )
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == expect_values
    status, listed = call(base, committee, "GET", "/api/v1/inbox?page_size=20")
    assert status == 200, listed
    assert page.locator("#inbox-unread").inner_text() == f"{listed['unread']} 条未读"
    if listed["items"]:
        assert page.locator("li.inbox-message").count() == len(listed["items"])
    else:
        assert page.locator("#inbox-list").inner_text() == "没有消息。"

    # One mailbox, then the archived folder: the archive-all button steps aside.
    page.locator("select[name=mailbox]").select_option("role:street_committee@street:1")
    page.locator("#inbox-list[aria-busy=false]").wait_for()
    page.locator("select[name=folder]").select_option("archived")
    page.locator("#inbox-list[aria-busy=false]").wait_for()
    assert page.locator("#inbox-archive-all").is_hidden()
    page.screenshot(path=str(screenshots / "console-inbox.png"), full_page=True)
    assert console.unexpected() == []

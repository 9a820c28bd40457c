"""The console's opinion triage queue in a real browser, against the whole
platform with its demo data: the street committee's queue is its street's
(as the API lists it), an opinion is opened, handed to the deputy the API
suggests first by keyboard alone, and another is declined, first without a
reason (refused at the field, nothing changed), then with one."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kit.testrun import Platform

try:
    from tests.e2e.test_console import get_json, sign_in, stored_token
except ImportError:  # the repository's root is not on the path
    from test_console import get_json, sign_in, stored_token  # type: ignore[no-redef]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page(1280, 900)


def call(base_url: str, token: str | None, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{base_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


def raise_online(base_url: str) -> Any:
    """An opinion sent online (without a token) in a community of street 1."""
    stations = get_json(f"{base_url}/api/v1/stations?street_id=1&page_size=100")["items"]
    community = next(c for station in stations for c in station["community_ids"])
    opinion = {
        "source": "online",
        "category": "environment",
        "community_id": community,
        "content": f"小区垃圾收集点夏天气味大，希望加密清运 {uuid.uuid4().hex[:8]}",
        "raiser_name": "测试提出人",
        "raiser_phone": "13800000000",
    }
    return call(base_url, None, "/api/v1/opinions", opinion)


def open_triage(page: Any, base_url: str, account: str) -> str:
    """Signed in as `account`, on the triage screen; the access token."""
    sign_in(page, base_url, account)
    token = str(json.loads(stored_token(page))["access_token"])
    if account == "street-committee":
        # Two at least in the queue: one to assign, one to decline.
        raise_online(base_url)
        raise_online(base_url)
    page.get_by_role("link", name="意见分拣").click()
    page.get_by_role("heading", name="意见分拣", level=1).wait_for()
    page.locator(".queue-table").wait_for()
    return token


def queue_codes(page: Any) -> list[str]:
    return page.locator(".queue-table tbody th button").all_inner_texts()


def test_the_street_committee_triages_its_streets_queue(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    console = watch(page)
    token = open_triage(page, platform.base_url, "street-committee")
    assert page.locator("nav a[aria-current=page]").inner_text() == "意见分拣"

    # The queue is the API's, of street 1 only, the earliest recorded first.
    listed = call(platform.base_url, token, "/api/v1/opinions?page_size=50")["items"]
    assert listed, "the demo district has open opinions in street 1"
    assert {o["street_id"] for o in listed} == {1}
    assert {o["status"] for o in listed} <= {"recorded", "in_progress"}
    assert queue_codes(page) == [o["tracking_code"] for o in listed]
    assert [o["id"] for o in listed] == sorted(o["id"] for o in listed)
    stations = get_json(f"{platform.base_url}/api/v1/stations?street_id=1&page_size=100")["items"]
    assert {o["station_id"] for o in listed} <= {s["id"] for s in stations}

    # A filter: orders only, as the API lists them.
    orders = call(platform.base_url, token, "/api/v1/opinions?page_size=50&source=order")["items"]
    page.get_by_label("来源").select_option("order")
    page.get_by_role("button", name="筛选", exact=True).click()
    page.locator("#queue-title:focus").wait_for()
    page.wait_for_function(
        "n => document.querySelectorAll('.queue-table tbody tr').length === n "
        "|| (n === 0 && document.querySelector('.queue-list .note'))",
        arg=len(orders),
    )
    assert queue_codes(page) == [o["tracking_code"] for o in orders]
    page.get_by_label("来源").select_option("")
    page.get_by_role("button", name="筛选", exact=True).click()
    page.wait_for_function(
        "n => document.querySelectorAll('.queue-table tbody tr').length === n", arg=len(listed)
    )

    # Open one whose deputy (if any) is not the one suggested first: its
    # content, community, timeline and who raised it as far as the API shows it.
    def top_suggestion(opinion: Any) -> Any:
        path = f"/api/v1/opinions/{opinion['id']}/suggested-deputies"
        items = call(platform.base_url, token, path)["items"]
        return items if items and items[0]["deputy_id"] != opinion["taken_by_deputy_id"] else None

    first, suggested = next((o, s) for o in listed if (s := top_suggestion(o)))
    first = call(platform.base_url, token, f"/api/v1/opinions/{first['id']}")
    page.get_by_role("button", name=first["tracking_code"], exact=True).click()
    detail = page.locator("#opinion-detail")
    page.locator("#opinion-title:focus").wait_for()
    assert first["tracking_code"] in page.locator("#opinion-title").inner_text()
    assert first["content"] in detail.locator(".opinion-content").inner_text()
    assert first["community_name"] in detail.inner_text()
    assert detail.locator(".timeline li").count() == len(first["timeline"])
    raiser = detail.locator("dl.raiser")
    if first["raiser"] and first["raiser"]["name"]:
        assert first["raiser"]["name"] in raiser.inner_text()
    else:
        assert raiser.count() == 0
    assert page.locator(f"tr[data-opinion='{first['id']}']").get_attribute("aria-current") == "true"

    # Hand it to the deputy suggested first, by keyboard alone.
    page.locator("#act-assign").focus()
    page.keyboard.press("Enter")
    top = page.locator(f"#deputy-{suggested[0]['deputy_id']}")
    top.wait_for()
    assert page.evaluate("document.activeElement.id") == f"deputy-{suggested[0]['deputy_id']}"
    assert top.is_checked()
    assert suggested[0]["reason"] in page.locator(".suggested-list li").first.inner_text()
    assert page.locator(".suggested-list li").count() == len(suggested)
    page.screenshot(path=str(screenshots / "console-triage-assign.png"), full_page=True)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "交给这位代表"
    page.keyboard.press("Enter")
    page.locator("#announce").get_by_text(f"意见 {first['tracking_code']} 已交给").wait_for()
    page.locator("#opinion-title:focus").wait_for()
    after = call(platform.base_url, token, f"/api/v1/opinions/{first['id']}")
    assert after["taken_by_deputy_id"] == suggested[0]["deputy_id"]
    assert suggested[0]["name"] in detail.inner_text()
    row = page.locator(f"tr[data-opinion='{first['id']}']")
    row.get_by_text(suggested[0]["name"]).wait_for()

    # Decline another: without a reason the API refuses it at the field.
    other = next(o for o in listed if o["id"] != first["id"])
    page.get_by_role("button", name=other["tracking_code"], exact=True).click()
    page.locator("#opinion-title", has_text=other["tracking_code"]).wait_for()
    before = call(platform.base_url, token, f"/api/v1/opinions/{other['id']}")
    page.locator("#act-decline").click()
    assert page.evaluate("document.activeElement.id") == "decline-reason"
    form = page.locator("#action-form")
    form.locator("button[type=submit]").click()
    form.locator(".error[role=alert]").wait_for()
    assert form.locator("#decline-reason").get_attribute("aria-invalid") == "true"
    assert form.locator(".field-error").is_visible()
    assert page.evaluate("document.activeElement.id") == "decline-reason"
    unchanged = call(platform.base_url, token, f"/api/v1/opinions/{other['id']}")
    assert unchanged["status"] == "recorded" and unchanged["decline_reason"] == ""
    assert unchanged["timeline"] == before["timeline"]

    reason = "不属于人大代表联络站受理范围，已告知向法院起诉"
    page.keyboard.type(reason)
    form.locator("button[type=submit]").click()
    page.locator("#announce").get_by_text(f"意见 {other['tracking_code']} 不予受理").wait_for()
    page.locator("#opinion-title:focus").wait_for()
    declined = call(platform.base_url, token, f"/api/v1/opinions/{other['id']}")
    assert declined["status"] == "declined" and declined["decline_reason"] == reason
    assert reason in detail.inner_text()
    assert detail.locator("#act-decline").count() == 0
    # Closed, it leaves the queue.
    page.locator(f"tr[data-opinion='{other['id']}']").wait_for(state="detached")
    assert other["tracking_code"] not in queue_codes(page)

    # This year's figures of the street, the decline counted.
    figures_panel = page.locator("#triage-figures")
    year = page.evaluate("LiaisonConsole.todayInShanghai().slice(0, 4)")
    figures = get_json(f"{platform.base_url}/api/v1/reception-figures?street_id=1&year={year}")
    for group, key in (("by_outcome", "declined"), ("by_category", other["category"])):
        count = next(c["count"] for c in figures[group] if c["key"] == key)
        cell = figures_panel.locator(f".figures-table tr[data-key={key}] td")
        expect(cell).to_have_text(str(count))
    page.screenshot(path=str(screenshots / "console-triage.png"), full_page=True)

    # In English.
    page.locator("#lang").click()
    page.get_by_role("heading", name="Opinion triage", level=1).wait_for()
    page.locator(".queue-table").wait_for()
    assert "Tracking code" in page.locator(".queue-table thead").inner_text()
    assert console.unexpected(r"status of 422") == []


def test_a_role_the_api_refuses_sees_the_refusal_and_no_queue(
    platform: Platform, page: Any, watch: Any
) -> None:
    console = watch(page)
    sign_in(page, platform.base_url, "department")
    page.goto(f"{platform.base_url}/console/#/triage")
    page.get_by_role("heading", name="意见分拣", level=1).wait_for()
    # The API refuses the department; the page only says so.
    page.locator(".triage-queue .error[role=alert]").wait_for()
    token = json.loads(stored_token(page))["access_token"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(platform.base_url, token, "/api/v1/opinions")
    assert refused.value.code == 403
    assert page.locator(".queue-table").count() == 0
    assert console.unexpected(r"status of 403") == []


def test_an_opinion_is_merged_into_another_picked_by_its_tracking_code(
    platform: Platform, page: Any, watch: Any
) -> None:
    console = watch(page)
    token = open_triage(page, platform.base_url, "street-committee")
    into, merged = raise_online(platform.base_url), raise_online(platform.base_url)
    page.get_by_role("button", name="筛选", exact=True).click()
    page.get_by_role("button", name=merged["tracking_code"], exact=True).click()
    page.locator("#opinion-title", has_text=merged["tracking_code"]).wait_for()
    page.locator("#act-merge").click()
    assert page.evaluate("document.activeElement.id") == "merge-code"

    # A code that names no opinion: said at the field, nothing sent.
    page.keyboard.type(into["tracking_code"][:8] + "999999")
    page.keyboard.press("Enter")
    page.locator("#merge-code[aria-invalid=true]").wait_for()
    assert "没有这个追踪码的意见" in page.locator("#merge-code-error").inner_text()
    assert call(platform.base_url, token, f"/api/v1/opinions/{merged['id']}")["status"] == (
        "recorded"
    )

    page.locator("#merge-code").fill(into["tracking_code"].lower())
    page.keyboard.press("Enter")
    page.locator("#announce").get_by_text(f"已合并到 {into['tracking_code']}").wait_for()
    after = call(platform.base_url, token, f"/api/v1/opinions/{merged['id']}")
    assert after["status"] == "merged" and after["merged_into_id"] == into["id"]
    assert into["tracking_code"] in page.locator("#opinion-detail dl.facts").first.inner_text()
    assert console.unexpected() == []

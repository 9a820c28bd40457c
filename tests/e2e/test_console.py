"""The staff console in a real browser: Debian's chromium, driven by
Playwright, against the whole platform with its demo data (the `platform`
fixture of kit's pytest plugin). Sign-in goes through the development
issuer's OpenID Connect flow (authorization code with PKCE), as a person
would; each screen's screenshot goes to var/screenshots."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kit.testrun import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]

STAFF_NAME = "演示联络站工作人员"


@pytest.fixture
def page(new_page: Any) -> Any:
    # A desk's screen: the console is used at work.
    return new_page(1280, 900)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.load(reply)


def sign_in(page: Any, base_url: str, account: str, screenshots: Path | None = None) -> None:
    """From the console's sign-in screen through the issuer's page and back."""
    page.goto(f"{base_url}/console/")
    page.get_by_role("heading", name="登录工作台").wait_for()
    if screenshots:
        page.screenshot(path=str(screenshots / "console-sign-in.png"), full_page=True)
    page.locator("#sign-in").click()
    page.wait_for_url("**/dev-issuer/authorize?**")
    page.locator(f"input[name=account][value={account}]").check()
    if screenshots:
        page.screenshot(path=str(screenshots / "console-issuer.png"), full_page=True)
    page.locator("#sign-in").click()
    page.wait_for_url("**/console/#/calendar")
    page.locator("#who").wait_for()


def stored_token(page: Any) -> Any:
    return page.evaluate("sessionStorage.getItem('liaison.console.token')")


def test_station_staff_sign_in_and_see_their_stations_calendar(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    console = watch(page)
    sign_in(page, platform.base_url, "station-staff", screenshots)
    # The code and state are gone from the address; the token is in sessionStorage.
    assert "code=" not in page.url
    assert json.loads(stored_token(page))["access_token"].count(".") == 2
    assert page.evaluate("localStorage.length") == 0

    street = get_json(f"{platform.base_url}/api/v1/streets/1")["name"]
    who = page.locator("#who")
    who.get_by_text(street).wait_for()
    assert STAFF_NAME in who.inner_text() and "联络站工作人员" in who.inner_text()
    assert page.locator("nav a[aria-current=page]").inner_text() == "接待日历"

    stations = get_json(f"{platform.base_url}/api/v1/stations?street_id=1&page_size=100")["items"]
    options = page.locator("#station option").all_inner_texts()
    assert options == [s["name"] for s in stations]
    station_id = int(page.locator("#station").input_value())

    month = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().strftime("%Y-%m")
    expected = get_json(
        f"{platform.base_url}/api/v1/stations/{station_id}/sessions?from={month}-01&to={month}-28"
    )["items"]
    table = page.locator(".sessions-table")
    if expected:
        table.wait_for()
        dates = table.locator("tbody time").evaluate_all(
            "nodes => nodes.map(n => n.getAttribute('datetime'))"
        )
        assert dates[: len(expected)] == [s["date"] for s in expected]
    rule = page.locator("section.rule dl")
    rule.wait_for()
    assert "每月接待日" in rule.inner_text()
    page.screenshot(path=str(screenshots / "console-calendar.png"), full_page=True)

    # The next month, and back.
    page.locator("#next-month").click()
    page.locator("#next-month:focus").wait_for()
    page.locator("#prev-month").click()
    assert console.unexpected() == []


def test_staff_add_an_extra_session_and_cancel_it(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    console = watch(page)
    sign_in(page, platform.base_url, "station-staff")
    form = page.locator("#add-session")
    form.wait_for()

    # Without a reason: the API's field error, shown at the field.
    day = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date() + dt.timedelta(days=23)
    form.get_by_label("日期").fill(day.isoformat())
    form.get_by_role("button", name="增加接待").click()
    alert = form.locator(".error[role=alert]")
    alert.wait_for()
    assert "reason" in alert.inner_text()
    assert form.locator("#add-reason").get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(screenshots / "console-add-error.png"), full_page=True)

    reason = f"人代会前集中听取意见 {dt.datetime.now().strftime('%H%M%S%f')}"
    form.get_by_label("原因").fill(reason)
    form.get_by_role("button", name="增加接待").click()
    row = page.locator(f"tbody tr:has(time[datetime='{day.isoformat()}']):has-text('{reason}')")
    row.wait_for()
    assert "增加接待" in row.inner_text() and "已安排" in row.inner_text()
    assert form.locator(".error").count() == 0
    page.locator("#announce").get_by_text("已增加").wait_for()
    page.screenshot(path=str(screenshots / "console-extra-added.png"), full_page=True)

    row.get_by_role("button", name=f"取消这次接待 {day.isoformat()}").click()
    # Focus goes to the reason of the cancellation.
    assert page.evaluate("document.activeElement.id") == "cancel-reason"
    page.keyboard.type("场地临时维修")
    page.get_by_role("button", name="确认取消").click()
    cancelled = page.locator(f"tbody tr.cancelled:has(time[datetime='{day.isoformat()}'])")
    cancelled.wait_for()
    assert "已取消" in cancelled.inner_text() and "场地临时维修" in cancelled.inner_text()
    page.screenshot(path=str(screenshots / "console-cancelled.png"), full_page=True)
    assert console.unexpected(r"status of 422") == []


def test_staff_change_the_stations_reception_rule(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    console = watch(page)
    sign_in(page, platform.base_url, "station-staff")
    form = page.locator("#rule-form")
    form.wait_for()

    form.get_by_label("时段").fill("25:00-26:00")
    form.get_by_role("button", name="保存规则").click()
    form.locator(".error[role=alert]").wait_for()
    assert form.locator("#rule-slots").get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(screenshots / "console-rule-error.png"), full_page=True)

    form.get_by_label("时段").fill("09:30-11:30")
    form.get_by_label("遇节假日或周末").select_option("move")
    form.get_by_role("button", name="保存规则").click()
    facts = page.locator("section.rule dl")
    page.locator("section.rule dd", has_text="顺延到下一个工作日").wait_for()
    assert "09:30-11:30" in facts.inner_text()
    page.locator("#announce").get_by_text("接待规则已保存").wait_for()
    station_id = int(page.locator("#station").input_value())
    token = json.loads(stored_token(page))["access_token"]
    request = urllib.request.Request(
        f"{platform.base_url}/api/v1/stations/{station_id}/reception-rule",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        rule = json.load(reply)
    assert rule["day_off_policy"] == "move"
    assert rule["slots"] == [{"label": rule["slots"][0]["label"], "start": "09:30", "end": "11:30"}]
    assert console.unexpected(r"status of 422") == []


def test_the_shell_works_by_keyboard_alone_and_switches_to_english(
    platform: Platform, page: Any, watch: Any, screenshots: Path, tab_to: Any
) -> None:
    console = watch(page)
    sign_in(page, platform.base_url, "station-staff")
    page.locator("section.rule dl").wait_for()

    # Past every link of the navigation, which grows with each screen.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus is visible"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith("#/calendar"), "the skip link leaves the route alone"

    # Sequential focus goes on from where one clicks: the header's brand.
    page.locator(".brand").click()
    tab_to(page, "#lang")
    assert page.locator("#lang").inner_text() == "English"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Reception calendar", level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.evaluate("document.activeElement.id") == "lang"
    assert page.locator("nav").get_attribute("aria-label") == "Console navigation"
    assert "Station staff" in page.locator("#who").inner_text()
    page.locator("section.rule dl").wait_for()
    assert page.get_by_role("heading", name="Reception rule").count() == 1
    page.screenshot(path=str(screenshots / "console-calendar-en.png"), full_page=True)

    # The landmarks: one banner, one navigation, one main.
    for role in ("banner", "navigation", "main"):
        assert page.get_by_role(role).count() == 1, role

    tab_to(page, "nav a")
    page.keyboard.press("Enter")
    assert page.url.endswith("#/calendar")
    tab_to(page, "#station")
    tab_to(page, "#next-month")
    page.keyboard.press("Enter")
    page.locator("#next-month:focus").wait_for()

    # The choice of language is kept.
    page.reload()
    page.get_by_role("heading", name="Reception calendar", level=1).wait_for()
    page.locator("#lang").click()
    page.get_by_role("heading", name="接待日历", level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.locator(".brand").click()
    tab_to(page, "#sign-out")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="登录工作台").wait_for()
    assert stored_token(page) is None
    assert page.locator("#nav").is_hidden()
    assert console.unexpected() == []


def test_a_district_role_picks_a_street_then_a_station(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    console = watch(page)
    sign_in(page, platform.base_url, "standing-committee-office")
    streets = get_json(f"{platform.base_url}/api/v1/streets?page_size=100")["items"]
    street = page.locator("#street")
    street.wait_for()
    assert page.locator("#street option").all_inner_texts() == [s["name"] for s in streets]
    other = streets[-1]
    street.select_option(str(other["id"]))
    stations = get_json(
        f"{platform.base_url}/api/v1/stations?street_id={other['id']}&page_size=100"
    )["items"]
    if stations:
        page.locator("#station option", has_text=stations[0]["name"]).wait_for(state="attached")
        page.locator("section.rule dl").wait_for()
    page.screenshot(path=str(screenshots / "console-district.png"), full_page=True)
    assert console.unexpected() == []


def test_a_cancelled_sign_in_says_so_and_can_be_tried_again(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    console = watch(page)
    page.goto(f"{platform.base_url}/console/")
    page.locator("#sign-in").click()
    page.wait_for_url("**/dev-issuer/authorize?**")
    page.get_by_role("button", name="取消 Cancel").click()
    alert = page.locator(".error[role=alert]")
    alert.wait_for()
    assert "登录没有完成" in alert.inner_text() and "cancelled" in alert.inner_text()
    assert "error=" not in page.url and stored_token(page) is None
    page.screenshot(path=str(screenshots / "console-sign-in-cancelled.png"), full_page=True)
    page.locator("#sign-in").click()
    page.wait_for_url("**/dev-issuer/authorize?**")
    page.locator("#sign-in").click()
    page.locator("#who").wait_for()
    assert console.unexpected() == []

"""The public portal in a real browser: Debian's chromium, driven by
Playwright, against the registry and gateway running as processes with the
demo district loaded (the `platform` fixture of kit's pytest plugin)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kit.required_tools import require_tool
from kit.testrun import ROOT, Platform
from registry import domain
from registry.demo_data import build_district

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

CHROMIUM = os.environ.get("LIAISON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LEVEL_TITLES = ["全国人大代表", "省人大代表", "市人大代表", "区人大代表"]
SCREENSHOTS = ROOT / "var" / "screenshots"


@dataclass(frozen=True)
class Target:
    """A demo address that names exactly one community, served by a station
    with deputies of all four levels."""

    address: str
    community: str
    station: str
    head: str
    deputies: int
    contacts: list[str]
    private: list[str]


def pick_target() -> Target:
    district = build_district()
    terms = [
        domain.CommunityTerms(i, c["name"], tuple(c["address_keywords"]))
        for i, c in enumerate(district.communities)
    ]
    index = {c["code"]: i for i, c in enumerate(district.communities)}
    heads = {p["station"]: p["deputy"] for p in district.positions if p["role"] == "station_head"}
    names = {d["code"]: d["name"] for d in district.deputies}
    candidates: list[Target] = []
    for station in district.stations:
        members = [d for d in district.deputies if d["station"] == station["code"]]
        if {d["level"] for d in members} != {"national", "provincial", "city", "district"}:
            continue
        if station["code"] not in heads:
            continue
        for code in station["communities"]:
            community = district.communities[index[code]]
            road = next(k for k in community["address_keywords"] if k.endswith("路"))
            address = f"广州市天河区{road}88号"
            if domain.match_community(address, terms) != [index[code]]:
                continue
            contacts = [d["name"] for d in district.deputies if code in d["contact_communities"]]
            candidates.append(
                Target(
                    address=address,
                    community=community["name"],
                    station=station["name"],
                    head=names[heads[station["code"]]],
                    deputies=len(members),
                    contacts=contacts,
                    private=[d[k] for d in members for k in ("phone", "email") if d.get(k)],
                )
            )
    assert candidates, "the demo district has no station with deputies of all four levels"
    # A community with fixed-contact deputies shows every part of the page.
    return max(candidates, key=lambda t: bool(t.contacts))


def nowhere_address() -> str:
    district = build_district()
    terms = [
        domain.CommunityTerms(i, c["name"], tuple(c["address_keywords"]))
        for i, c in enumerate(district.communities)
    ]
    address = "火星市乌托邦大道1号"
    assert domain.match_community(address, terms) == []
    return address


def ambiguous_address() -> tuple[str, list[str]]:
    """Two roads of two communities in one address, and those communities."""
    district = build_district()
    terms = [
        domain.CommunityTerms(i, c["name"], tuple(c["address_keywords"]))
        for i, c in enumerate(district.communities)
    ]
    first, second = district.communities[0], district.communities[1]
    address = f"{first['address_keywords'][0]}和{second['address_keywords'][0]}交界"
    assert domain.match_community(address, terms) == [0, 1]
    return address, [first["name"], second["name"]]


def next_reception_day() -> dt.date:
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    if today.day <= 15:
        return today.replace(day=15)
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return dt.date(year, month, 15)


@pytest.fixture(scope="module", autouse=True)
def chromium() -> str:
    """Checked before the platform starts, so a missing browser costs nothing."""
    return require_tool(
        "chromium",
        "apt-get install -y --no-install-recommends chromium fonts-wqy-microhei",
        path=CHROMIUM,
    )


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class Console:
    """Console errors and uncaught exceptions of one page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            url = (message.location or {}).get("url", "")
            self.errors.append(f"{message.text} ({url})")

    def unexpected(self, *allowed: str) -> list[str]:
        return [e for e in self.errors if not any(re.search(a, e) for a in allowed)]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # A phone-sized window: the page must work there first.
    context = browser.new_context(
        viewport={"width": 414, "height": 900}, device_scale_factor=1, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def search(page: Any, address: str) -> None:
    field = page.get_by_label("输入您的住址、小区或社区名称")
    field.fill(address)
    field.press("Enter")


def test_a_constituent_finds_their_station_and_deputies(platform: Platform, page: Any) -> None:
    target = pick_target()
    console = Console(page)
    page.goto(f"{platform.base_url}/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    search(page, target.address)
    result = page.locator("#outcome article.result")
    result.wait_for()

    assert page.locator("#community-name").inner_text() == target.community
    assert page.locator("#station-name").inner_text() == target.station
    reception = page.locator(".reception time")
    assert reception.get_attribute("datetime") == next_reception_day().isoformat()

    levels = page.locator(".deputies:not(.contacts) .level-group h4").all_inner_texts()
    assert levels == LEVEL_TITLES
    assert page.locator(".deputies:not(.contacts) li.deputy").count() == target.deputies
    heads = page.locator("li.deputy:has(.badge)")
    assert heads.count() == 1
    assert heads.locator(".badge").inner_text() == "站长"
    assert target.head in heads.locator(".deputy-name").inner_text()
    first_of_heads_level = page.locator(".level-group:has(.badge) li.deputy").first
    assert first_of_heads_level.locator(".badge").count() == 1, "the head comes first"
    assert page.locator(".tags .tag").count() > 0
    for name in target.contacts:
        assert name in page.locator(".contacts").inner_text()

    text = page.locator("body").inner_text()
    html = page.content()
    for secret in target.private:
        assert secret not in text and secret not in html
    assert not re.search(r"1[3-9]\d{9}", text), "a phone number is on the page"
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text), "an email address is on the page"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "portal-found.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "portal-found-wide.png"), full_page=True)
    assert console.unexpected() == []


def test_an_address_naming_nothing_says_so(platform: Platform, page: Any) -> None:
    console = Console(page)
    address = nowhere_address()
    page.goto(f"{platform.base_url}/")
    search(page, address)
    error = page.locator("#outcome .error")
    error.wait_for()
    assert "没有找到这个地址所在的社区" in error.inner_text()
    assert address in error.inner_text()
    assert page.locator("#outcome article.result").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "portal-not-found.png"), full_page=True)
    # The browser itself logs the API's 404; nothing else may go wrong.
    assert console.unexpected(r"status of 404 .*find-station") == []


def test_an_ambiguous_or_too_short_address_asks_for_more(platform: Platform, page: Any) -> None:
    console = Console(page)
    address, communities = ambiguous_address()
    page.goto(f"{platform.base_url}/")
    search(page, address)
    error = page.locator("#outcome .error")
    error.wait_for()
    assert "请把地址写得更具体一些" in error.inner_text()
    for name in communities:
        assert name in error.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "portal-ambiguous.png"), full_page=True)

    search(page, "林")
    page.get_by_text("请至少输入两个字").wait_for()
    assert console.unexpected(r"status of (409|422) .*find-station") == []


def test_the_search_is_keyboard_usable_and_a_link_searches(platform: Platform, page: Any) -> None:
    target = pick_target()
    console = Console(page)
    page.goto(f"{platform.base_url}/")
    # The first Tab reaches the skip link, the next ones the field and the button.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "address"
    page.keyboard.type(target.address)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "submit"
    page.keyboard.press("Enter")
    page.locator("#station-name").wait_for()
    assert "address=" in page.url

    page.goto(page.url)
    assert page.locator("#station-name").inner_text() == target.station
    assert page.get_by_label("输入您的住址、小区或社区名称").input_value() == target.address
    assert console.unexpected() == []

"""The public portal in a real browser: Debian's chromium, driven by
Playwright, against the registry and gateway running as processes with the
demo district loaded (the `platform` fixture of kit's pytest plugin)."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kit.testrun import Platform
from registry import domain
from registry.demo_data import build_district

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    # The browser is checked before the platform starts.
    pytest.mark.usefixtures("chromium"),
]

LEVEL_TITLES = ["全国人大代表", "省人大代表", "市人大代表", "区人大代表"]


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


@pytest.fixture
def page(new_page: Any) -> Any:
    # A phone-sized window: the page must work there first.
    return new_page(414, 900)


def search(page: Any, address: str) -> None:
    field = page.get_by_label("输入您的住址、小区或社区名称")
    field.fill(address)
    field.press("Enter")


def test_a_constituent_finds_their_station_and_deputies(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    target = pick_target()
    console = watch(page)
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

    page.screenshot(path=str(screenshots / "portal-found.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(screenshots / "portal-found-wide.png"), full_page=True)
    assert console.unexpected() == []


def test_an_address_naming_nothing_says_so(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    console = watch(page)
    address = nowhere_address()
    page.goto(f"{platform.base_url}/")
    search(page, address)
    error = page.locator("#outcome .error")
    error.wait_for()
    assert "没有找到这个地址所在的社区" in error.inner_text()
    assert address in error.inner_text()
    assert page.locator("#outcome article.result").count() == 0
    page.screenshot(path=str(screenshots / "portal-not-found.png"), full_page=True)
    # The browser itself logs the API's 404; nothing else may go wrong.
    assert console.unexpected(r"status of 404 .*find-station") == []


def test_an_ambiguous_or_too_short_address_asks_for_more(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    console = watch(page)
    address, communities = ambiguous_address()
    page.goto(f"{platform.base_url}/")
    search(page, address)
    error = page.locator("#outcome .error")
    error.wait_for()
    assert "请把地址写得更具体一些" in error.inner_text()
    for name in communities:
        assert name in error.inner_text()
    page.screenshot(path=str(screenshots / "portal-ambiguous.png"), full_page=True)

    search(page, "林")
    page.get_by_text("请至少输入两个字").wait_for()
    assert console.unexpected(r"status of (409|422) .*find-station") == []


def test_the_search_is_keyboard_usable_and_a_link_searches(
    platform: Platform, page: Any, watch: Any, screenshots: Path, tab_to: Any
) -> None:
    target = pick_target()
    console = watch(page)
    page.goto(f"{platform.base_url}/")
    # The first Tab reaches the skip link, then the header's links (to the
    # inbox, to the deputies...) and the language switch, the field and the
    # button.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    tab_to(page, "#lang")
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


def three_months_on(today: dt.date) -> dt.date:
    month = today.month + 3
    year, month = today.year + (month - 1) // 12, (month - 1) % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(today.day, last))


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.load(reply)


def found_station_id(platform: Platform, target: Target) -> int:
    query = urllib.parse.quote(target.address)
    station_id: int = get_json(f"{platform.base_url}/api/v1/find-station?address={query}")[
        "station"
    ]["id"]
    return station_id


def test_a_station_found_shows_its_next_sessions(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    target = pick_target()
    console = watch(page)
    station_id = found_station_id(platform, target)
    expected = coming_sessions(platform, station_id)
    assert expected, "the demo calendar has sessions in the next three months"

    page.goto(f"{platform.base_url}/")
    search(page, target.address)
    sessions = page.locator("#outcome .sessions")
    sessions.locator(".sessions-body[aria-busy=false]").wait_for()
    assert sessions.locator("#sessions-title").inner_text() == "近期接待安排"
    shown = sessions.locator("li.session time").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('datetime'))"
    )
    assert shown == [s["date"] for s in expected]
    first = sessions.locator("li.session").first
    slot = expected[0]["slots"][0]
    assert f"{slot['local_start']}–{slot['local_end']}" in first.inner_text()
    if expected[0]["venue_name"]:
        assert expected[0]["venue_name"] in first.inner_text()

    link = sessions.get_by_role("link", name=re.compile("接待日历"))
    href = link.get_attribute("href")
    assert href == f"/api/v1/stations/{station_id}/calendar.ics"
    with urllib.request.urlopen(f"{platform.base_url}{href}", timeout=10) as reply:
        assert reply.headers["content-type"].startswith("text/calendar")
        assert b"BEGIN:VCALENDAR" in reply.read()

    sessions.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "portal-sessions.png"), full_page=True)
    assert console.unexpected() == []


def test_the_english_switch_translates_the_page_and_the_answer(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    target = pick_target()
    console = watch(page)
    page.goto(f"{platform.base_url}/")
    search(page, target.address)
    page.locator("#outcome .sessions .sessions-body[aria-busy=false]").wait_for()

    switch = page.locator("#lang")
    assert switch.inner_text() == "English" and switch.get_attribute("lang") == "en"
    switch.focus()
    page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("heading", name="Find my deputies' liaison station", level=1).wait_for()
    assert page.get_by_label("Enter your address, housing estate or community").input_value() == (
        target.address
    )
    # The answer shown is rendered again, in English, with its sessions.
    assert page.locator("#station-name").inner_text() == target.station
    assert page.locator(".deputies:not(.contacts) .level-group h4").first.inner_text() == (
        "National People's Congress deputies"
    )
    page.get_by_role("heading", name="Coming reception sessions").wait_for()
    page.locator("#outcome .sessions .sessions-body[aria-busy=false]").wait_for()
    assert page.locator("li.session").count() > 0
    assert switch.inner_text() == "中文"
    page.screenshot(path=str(screenshots / "portal-found-en.png"), full_page=True)

    # Kept for the next visit; the switch goes back.
    page.reload()
    page.get_by_role("heading", name="Find my deputies' liaison station", level=1).wait_for()
    switch.click()
    page.get_by_role("heading", name="找到我的人大代表联络站", level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert console.unexpected() == []


def coming_sessions(platform: Platform, station_id: int) -> list[dict[str, Any]]:
    """The station's sessions from today to three months on, as the API lists them."""
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    items: list[dict[str, Any]] = get_json(
        f"{platform.base_url}/api/v1/stations/{station_id}/sessions"
        f"?from={today.isoformat()}&to={three_months_on(today).isoformat()}"
    )["items"]
    return items


def bookable_session(platform: Platform, station_id: int) -> tuple[int, dict[str, Any]]:
    """The first coming session with an open slot, and that slot."""
    for session in coming_sessions(platform, station_id):
        if session["status"] == "cancelled":
            continue
        slots = get_json(f"{platform.base_url}/api/v1/sessions/{session['id']}/availability")
        for slot in slots["slots"]:
            if slot["open"] and slot["available"] > 0:
                return session["id"], slot
    raise AssertionError("the demo calendar has no bookable session")


def test_a_constituent_books_a_slot_by_keyboard_and_cancels_it(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    target = pick_target()
    console = watch(page)
    session_id, slot = bookable_session(platform, found_station_id(platform, target))

    page.goto(f"{platform.base_url}/")
    search(page, target.address)
    item = page.locator(f"li.session[data-session='{session_id}']")
    toggle = item.get_by_role("button", name="预约这次接待")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    form = item.locator("form.booking-form")
    form.wait_for()
    picked = form.get_by_label("时段")
    assert picked.input_value() == str(slot["slot_id"])
    assert f"剩余 {slot['available']} 个名额" in picked.locator("option:checked").inner_text()
    assert form.get_by_label("所在社区").locator("option:checked").inner_text() == target.community

    # Every field is reached with Tab, in order, and filled from the keyboard.
    picked.focus()
    page.keyboard.press("Tab")
    page.keyboard.type("陈小明")
    page.keyboard.press("Tab")
    page.keyboard.type("12345")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("小区门口的路灯坏了")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    # The service's problem names the phone: shown next to it, focus moved there.
    phone = form.get_by_label("联系电话")
    form.locator("[data-field=phone] .field-error:not([hidden])").wait_for()
    assert phone.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.name") == "phone"
    page.screenshot(path=str(screenshots / "portal-booking-error.png"), full_page=True)

    page.keyboard.press("Control+A")
    page.keyboard.type("13800138000")
    page.keyboard.press("Enter")
    done = item.locator(".booking-done")
    done.wait_for()
    assert done.locator("h4").inner_text() == "预约成功"
    code = done.locator("dd.cancel-code").inner_text().strip()
    assert code
    after = get_json(f"{platform.base_url}/api/v1/sessions/{session_id}/availability")
    booked = next(s for s in after["slots"] if s["slot_id"] == slot["slot_id"])
    assert booked["booked"] == slot["booked"] + 1
    done.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "portal-booked.png"), full_page=True)

    # A wrong code is refused; the right one cancels.
    cancel = done.get_by_label("取消码")
    cancel.fill("wrong-code")
    cancel.press("Enter")
    done.locator(".form-error").wait_for()
    cancel.fill(code)
    cancel.press("Enter")
    done.locator(".form-ok").wait_for()
    after = get_json(f"{platform.base_url}/api/v1/sessions/{session_id}/availability")
    booked = next(s for s in after["slots"] if s["slot_id"] == slot["slot_id"])
    assert booked["booked"] == slot["booked"]
    page.screenshot(path=str(screenshots / "portal-booking-cancelled.png"), full_page=True)
    # The refused phone and the wrong code, and nothing else.
    assert (
        console.unexpected(
            rf"status of 422 .*sessions/{session_id}/bookings\)", r"status of 4\d\d .*:cancel\)"
        )
        == []
    )


def test_a_constituent_raises_an_opinion_online_and_follows_it(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    target = pick_target()
    console = watch(page)
    page.goto(f"{platform.base_url}/")
    search(page, target.address)
    section = page.locator("#outcome section.opinion")
    form = section.locator("form")
    form.wait_for()
    assert form.get_by_label("所在社区").locator("option:checked").inner_text() == target.community

    # Sent without its content: the problem's error stands next to that field.
    category = form.get_by_label("类别")
    category.select_option("transport")
    form.get_by_label("您的姓名").fill("王小红")
    form.get_by_label("您的姓名").press("Enter")
    form.locator("[data-field=content] .field-error:not([hidden])").wait_for()
    assert page.evaluate("document.activeElement.name") == "content"
    page.keyboard.type("公交站台没有遮雨棚，下雨天老人候车很不方便。")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("13800138001")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    done = section.locator(".opinion-done")
    done.wait_for()
    code = done.locator("dd.tracking-code").inner_text().strip()
    assert re.fullmatch(r"TH-\d{4}-\d{6,10}", code)
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "portal-opinion-raised.png"), full_page=True)

    # Followed by its code: its status and timeline, never who raised it.
    track = page.locator("section.track")
    field = track.get_by_label("查询码")
    field.fill(code.lower())
    field.press("Enter")
    answer = track.locator(".track-answer dl")
    answer.wait_for()
    text = track.inner_text()
    assert code in text and "交通出行" in text and "已登记" in text
    assert "王小红" not in text and "13800138001" not in text
    assert track.locator(".timeline li").count() >= 1
    track.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "portal-opinion-tracked.png"), full_page=True)

    # An unknown code is said next to the field.
    field.fill("TH-2000-000001")
    field.press("Enter")
    track.locator(".form-error").wait_for()
    assert console.unexpected(r"status of 422 .*/opinions\)", r"status of 404 .*track") == []

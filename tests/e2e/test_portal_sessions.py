"""The portal's sessions in a real browser: who receives at each session
(the deputies on its public rota) and a full slot's waitlist, from joining
it to moving up when a place is freed. Against the whole platform with the
demo district, without the gateway's rate limits (a slot is filled to its
capacity through the API first)."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from registry import domain
from registry.demo_data import build_district

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    # The browser is checked before the platform starts.
    pytest.mark.usefixtures("chromium"),
]


def ok(platform: Any, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    """One JSON request to the gateway that must succeed: its parsed answer."""
    reply = api(platform, method, path, body, token)
    assert reply.is_success, (method, path, reply.status_code, reply.text)
    return reply.json()


def api(
    platform: Any, method: str, path: str, body: Any = None, token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(
        method, f"{platform.base_url}{path}", json=body, headers=headers, timeout=30
    )


def one_community_address() -> tuple[str, list[str]]:
    """A demo address naming exactly one community, and the private contacts
    (phones, emails) of every demo deputy, none of which the portal shows."""
    district = build_district()
    terms = [
        domain.CommunityTerms(i, c["name"], tuple(c["address_keywords"]))
        for i, c in enumerate(district.communities)
    ]
    private = [d[k] for d in district.deputies for k in ("phone", "email") if d.get(k)]
    for i, community in enumerate(district.communities):
        for road in (k for k in community["address_keywords"] if k.endswith("路")):
            address = f"广州市天河区{road}66号"
            if domain.match_community(address, terms) == [i]:
                return address, private
    raise AssertionError("no demo address names exactly one community")


def found(platform: Any, address: str) -> dict[str, Any]:
    answer: dict[str, Any] = ok(
        platform, "GET", f"/api/v1/find-station?address={urllib.parse.quote(address)}"
    )
    return answer


def coming_sessions(platform: Any, station_id: int) -> list[dict[str, Any]]:
    """The station's sessions from today to three months on, as the portal asks."""
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    month = today.month + 3
    year, month = today.year + (month - 1) // 12, (month - 1) % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    to = dt.date(year, month, min(today.day, last))
    items: list[dict[str, Any]] = ok(
        platform,
        "GET",
        f"/api/v1/stations/{station_id}/sessions?from={today.isoformat()}&to={to.isoformat()}",
    )["items"]
    return items


@pytest.fixture
def page(new_page: Callable[[int, int], Any]) -> Any:
    # A phone-sized window: the page must work there first.
    return new_page(414, 900)


def search_by_keyboard(page: Any, base_url: str, address: str, tab_to: Any) -> None:
    """From the page's top: skip link, the header's links and language
    switch, the field; Enter searches."""
    page.goto(f"{base_url}/")
    tab_to(page, "#address")
    page.keyboard.type(address)
    page.keyboard.press("Enter")
    page.locator("#outcome .sessions .sessions-body[aria-busy=false]").wait_for()


LEVELS_ZH = {"national": "全国人大代表", "provincial": "省人大代表", "city": "市人大代表"}
LEVELS_ZH["district"] = "区人大代表"


def test_each_session_shows_who_receives_there(
    unlimited_platform: Any, page: Any, watch: Any, screenshots: Path, tab_to: Any
) -> None:
    platform = unlimited_platform
    address, private = one_community_address()
    station_id = found(platform, address)["station"]["id"]
    held = [s for s in coming_sessions(platform, station_id) if s["status"] != "cancelled"]
    assert held, "the demo calendar has sessions in the next three months"
    rotas = {s["id"]: ok(platform, "GET", f"/api/v1/sessions/{s['id']}/rota") for s in held}
    assert any(r["deputies"] for r in rotas.values()), "the demo district draws its rotas"
    console = watch(page)

    search_by_keyboard(page, platform.base_url, address, tab_to)
    blocks = page.locator("li.session .session-rota")
    assert blocks.count() == len(held)
    page.locator(".session-rota .rota-body[aria-busy=true]").first.wait_for(state="detached")
    for session_id, rota in rotas.items():
        item = page.locator(f"li.session[data-session='{session_id}']")
        assert item.locator(".rota-title").inner_text() == "接待代表"
        if not rota["deputies"]:
            assert "尚未排定" in item.locator(".session-rota").inner_text()
            continue
        # The lead first, as the API orders them; public names and levels.
        listed = item.get_by_role("list", name="接待代表").locator("li.rota-deputy")
        assert listed.locator(".rota-name").all_inner_texts() == [
            d["name"] for d in rota["deputies"]
        ]
        assert listed.locator(".rota-level").all_inner_texts() == [
            LEVELS_ZH[d["level"]] for d in rota["deputies"]
        ]
        leads = [d["name"] for d in rota["deputies"] if d["lead"]]
        assert listed.filter(has=page.locator(".badge")).locator(
            ".rota-name"
        ).all_inner_texts() == (leads)
        assert item.locator(".rota-deputy .badge").all_inner_texts() == ["带班"] * len(leads)

    text = page.locator("body").inner_text()
    html = page.content()
    for secret in private:
        assert secret not in text and secret not in html
    assert not re.search(r"1[3-9]\d{9}", text), "a phone number is on the page"
    page.locator(".session-rota").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "portal-who-receives.png"), full_page=True)

    # In English too, by the keyboard.
    page.locator("#lang").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Coming reception sessions").wait_for()
    page.locator("#outcome .sessions .sessions-body[aria-busy=false]").wait_for()
    page.locator(".session-rota .rota-body[aria-busy=true]").first.wait_for(state="detached")
    drawn = next(i for i, r in rotas.items() if r["deputies"])
    item = page.locator(f"li.session[data-session='{drawn}']")
    lead = next((d for d in rotas[drawn]["deputies"] if d["lead"]), None)
    listed = item.get_by_role("list", name="Deputies receiving")
    assert listed.locator(".rota-name").count() == len(rotas[drawn]["deputies"])
    english = {"national": "NPC deputy", "provincial": "Provincial deputy", "city": "City deputy"}
    english["district"] = "District deputy"
    assert listed.locator(".rota-level").all_inner_texts() == [
        english[d["level"]] for d in rotas[drawn]["deputies"]
    ]
    if lead:
        assert listed.locator(".badge").inner_text() == "Leads"
    assert console.unexpected() == []


def open_slot_without_waitlist(platform: Any, station_id: int) -> tuple[int, dict[str, Any]]:
    """A coming session's open slot nobody waits for, and that slot."""
    for session in coming_sessions(platform, station_id):
        if session["status"] == "cancelled":
            continue
        slots = ok(platform, "GET", f"/api/v1/sessions/{session['id']}/availability")["slots"]
        for slot in slots:
            if slot["open"] and slot["available"] > 0 and slot["waitlisted"] == 0:
                return session["id"], slot
    raise AssertionError("the demo calendar has no open slot without a waitlist")


def slot_now(platform: Any, session_id: int, slot_id: int) -> dict[str, Any]:
    slots = ok(platform, "GET", f"/api/v1/sessions/{session_id}/availability")["slots"]
    found_slot: dict[str, Any] = next(s for s in slots if s["slot_id"] == slot_id)
    return found_slot


def test_a_full_slot_offers_the_waitlist_which_moves_up(
    unlimited_platform: Any, page: Any, watch: Any, screenshots: Path, tab_to: Any
) -> None:
    platform = unlimited_platform
    address, _ = one_community_address()
    answer = found(platform, address)
    community_id = answer["community"]["id"]
    session_id, slot = open_slot_without_waitlist(platform, answer["station"]["id"])
    path = f"/api/v1/sessions/{session_id}/bookings"

    def book(n: int, name: str, waitlist: bool = False) -> dict[str, Any]:
        body = {
            "slot_id": slot["slot_id"],
            "name": name,
            "phone": f"1370020{n:04d}",
            "community_id": community_id,
            "topic": "小区停车难",
            "waitlist": waitlist,
        }
        created: dict[str, Any] = ok(platform, "POST", path, body)
        return created

    # Filled to its capacity through the API; one more is refused.
    fillers = [book(n, f"先到选民{n}") for n in range(slot["available"])]
    assert all(f["booking"]["status"] == "booked" for f in fillers)
    full = slot_now(platform, session_id, slot["slot_id"])
    assert full["available"] == 0 and full["booked"] == full["capacity"]
    refused = api(platform, "POST", path, {**book_body_of(fillers[0]), "phone": "13700299999"})
    assert refused.status_code == 409 and "waitlist" in refused.json()["detail"], refused.text

    console = watch(page)
    search_by_keyboard(page, platform.base_url, address, tab_to)
    item = page.locator(f"li.session[data-session='{session_id}']")
    toggle = item.get_by_role("button", name="预约这次接待")
    toggle.focus()
    page.keyboard.press("Enter")
    form = item.locator("form.booking-form")
    form.wait_for()
    picked = form.get_by_label("时段")
    picked.select_option(str(slot["slot_id"]))
    assert "已满，可排队候补" in picked.locator("option:checked").inner_text()
    form.get_by_label("姓名").fill("候补选民")
    form.get_by_label("联系电话").fill("13700300001")
    topic = form.get_by_label("想反映的事项")
    topic.fill("希望增加社区停车位")

    # Sent without the waitlist: the portal says the slot is full and offers it.
    topic.focus()
    page.keyboard.press("Tab")
    waitlist = form.get_by_label("名额已满时排队候补")
    assert page.evaluate("document.activeElement.type") == "checkbox"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    error = form.locator(".form-status .form-error")
    error.wait_for()
    assert "这个时段已满" in error.inner_text()
    assert form.locator(".form-status").get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.type") == "checkbox", "focus moves to the waitlist"
    assert not waitlist.is_checked()
    page.keyboard.press("Space")
    assert waitlist.is_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    done = item.locator(".booking-done")
    done.wait_for()
    assert done.locator("h4").inner_text() == "已加入候补队列（第 1 位）"
    assert "按候补顺序自动递补" in done.locator(".waitlist-note").inner_text()
    assert page.evaluate("document.activeElement.tagName") == "H4"
    assert done.locator("dd.cancel-code").inner_text().strip()
    done.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "portal-waitlist.png"), full_page=True)
    waiting = slot_now(platform, session_id, slot["slot_id"])
    assert (waiting["booked"], waiting["waitlisted"]) == (full["capacity"], 1)

    # Someone joins behind; then one of the first bookers cancels with their code.
    behind = book(9998, "后到选民", waitlist=True)
    assert behind["booking"]["waitlist_position"] == 2
    first = fillers[0]
    cancelled = ok(
        platform,
        "POST",
        f"/api/v1/bookings/{first['booking']['id']}:cancel",
        {"cancel_code": first["cancel_code"]},
    )
    assert cancelled["status"] == "cancelled"

    # The portal's booker takes the freed place; the one behind moves up.
    staff = platform.token("admin")
    bookings = ok(platform, "GET", path, token=staff)["bookings"]
    mine = next(b for b in bookings if b["name"] == "候补选民")
    assert (mine["status"], mine["waitlist_position"]) == ("booked", 0)
    theirs = next(b for b in bookings if b["id"] == behind["booking"]["id"])
    assert (theirs["status"], theirs["waitlist_position"]) == ("waitlisted", 1)
    after = slot_now(platform, session_id, slot["slot_id"])
    assert (after["booked"], after["waitlisted"], after["available"]) == (full["capacity"], 1, 0)
    assert console.unexpected(rf"status of 409 .*sessions/{session_id}/bookings\)") == []


def book_body_of(created: dict[str, Any]) -> dict[str, Any]:
    """The body that made a booking, from the answer (the phone aside)."""
    b = created["booking"]
    return {
        "slot_id": b["slot_id"],
        "name": "又一位选民",
        "community_id": b["community_id"],
        "topic": b["topic"],
        "waitlist": False,
    }

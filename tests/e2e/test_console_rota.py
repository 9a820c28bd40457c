"""The console's rota screen in a real browser, against the whole platform
with its demo data: staff see a station's rotas and set one by keyboard (an
invalid one is refused at its field and changes nothing); a deputy declares
days away and proposes a swap, which the other deputy accepts."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kit.testrun import Platform
from tests.e2e.test_console import sign_in, stored_token

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]

HEADS = ("station_head", "station_deputy_head")


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page(1280, 900)


def call(base_url: str, method: str, path: str, body: Any = None, token: str = "") -> Any:
    """One JSON request to the gateway; the parsed answer, or HTTPError."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base_url}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


def dev_token(base_url: str, account: str, **claims: int) -> str:
    return str(
        call(base_url, "POST", "/api/v1/dev/tokens", {"account": account, **claims})["access_token"]
    )


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def ahead(base_url: str, station_id: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The station's scheduled sessions after today, each with its rota."""
    first, last = today() + dt.timedelta(days=1), today() + dt.timedelta(days=150)
    sessions = call(
        base_url, "GET", f"/api/v1/stations/{station_id}/sessions?from={first}&to={last}"
    )["items"]
    return [
        (s, call(base_url, "GET", f"/api/v1/sessions/{s['id']}/rota"))
        for s in sessions
        if s["status"] == "scheduled"
    ]


def heads_of(base_url: str, station_id: int, token: str) -> set[int]:
    positions = call(
        base_url, "GET", f"/api/v1/positions?station_id={station_id}&page_size=100", token=token
    )["items"]
    return {p["deputy_id"] for p in positions if p["role"] in HEADS and p.get("deputy_id")}


def deputies_of(base_url: str, station_id: int) -> dict[int, str]:
    items = call(base_url, "GET", f"/api/v1/deputies?station_id={station_id}&page_size=100")
    return {d["id"]: d["name"] for d in items["items"]}


def free_on(base_url: str, deputy_id: int, day: str, token: str) -> bool:
    """Whether the deputy declared no unavailability covering `day`."""
    away = call(base_url, "GET", f"/api/v1/deputies/{deputy_id}/unavailability", token=token)
    return not any(a["first_day"] <= day <= a["last_day"] for a in away["items"])


def go_to_month(page: Any, day: str) -> None:
    """Press the next month's button until the month of `day` shows."""
    months = (int(day[:4]) - today().year) * 12 + int(day[5:7]) - today().month
    for _ in range(months):
        page.locator("#next-month").press("Enter")
        page.locator("#next-month:focus").wait_for()
    page.locator(f".rota-session time[datetime='{day}']").wait_for()


def open_rota(page: Any) -> None:
    """The nav's rota link, by keyboard."""
    link = page.locator("nav a[data-screen=rota]")
    assert link.inner_text() == "接待轮值"
    link.focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="接待轮值", level=1).wait_for()


def staff_on_the_rota(page: Any, base: str) -> tuple[int, set[int]]:
    """Station staff signed in on the rota screen: its station and that station's heads."""
    sign_in(page, base, "station-staff")
    open_rota(page)
    page.locator("#sessions-title").wait_for()
    station_id = int(page.locator("#station").input_value())
    token = json.loads(stored_token(page))["access_token"]
    return station_id, heads_of(base, station_id, token)


def test_staff_see_a_stations_rota_and_change_it_by_keyboard(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    console = watch(page)
    station_id, heads = staff_on_the_rota(page, base)
    names = deputies_of(base, station_id)
    upcoming = [(s, r) for s, r in ahead(base, station_id) if r["deputies"]]
    assert upcoming and heads, "the demo station has sessions ahead with rotas, and heads"
    session, before = upcoming[0]
    day = session["date"]
    on = [d["deputy_id"] for d in before["deputies"]]
    outside = [d for d in names if d not in on]
    assert outside, "the station has a deputy who is not on the session"

    go_to_month(page, day)
    item = page.locator(f".rota-session[data-session='{session['id']}']")
    lead = next(d for d in before["deputies"] if d["lead"])
    assert lead["name"] in item.locator("li.lead").inner_text()
    assert "带班" in item.locator("li.lead").inner_text()
    assert {"complete": "已排齐", "gaps": "有缺口"}[before["status"]] in item.inner_text()
    page.screenshot(path=str(screenshots / "console-rota.png"), full_page=True)

    # Add a deputy, by keyboard alone: the form takes the focus.
    item.get_by_role("button", name=f"修改轮值 {day}").press("Enter")
    assert page.evaluate("document.activeElement.type") == "checkbox"
    added = outside[0]
    page.locator(f"#rota-deputy-{added}").focus()
    page.keyboard.press("Space")
    assert page.locator(f"#rota-deputy-{added}").is_checked()
    page.locator("#rota-form button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.locator("#announce").get_by_text(f"已保存 {day} 的接待轮值").wait_for()
    item.locator(f"li[data-deputy='{added}']").wait_for()
    after = call(base, "GET", f"/api/v1/sessions/{session['id']}/rota")
    assert added in [d["deputy_id"] for d in after["deputies"]]
    assert set(on) <= {d["deputy_id"] for d in after["deputies"]}

    # Drawing the month's missing rotas keeps those there are.
    year, month = int(day[:4]), int(day[5:7])
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    listed = call(
        base, "GET", f"/api/v1/stations/{station_id}/sessions?from={day[:7]}-01&to={last}"
    )["items"]
    scheduled = [s for s in listed if s["status"] == "scheduled"]
    assert not page.locator("#generate-again").is_checked()
    page.locator("#generate-submit").press("Enter")
    done = f"已为 0 次接待排班，{len(scheduled)} 次保留原来的轮值。"
    page.locator("#announce").get_by_text(done).wait_for()
    page.locator("#generate-form .notice").get_by_text(done).wait_for()
    page.locator("#generate-submit:focus").wait_for()
    kept = call(base, "GET", f"/api/v1/sessions/{session['id']}/rota")
    assert kept["deputies"] == after["deputies"] and kept["updated_at"] == after["updated_at"]

    # In English.
    page.locator("#lang").click()
    page.get_by_role("heading", name="Reception rota", level=1).wait_for()
    assert page.locator("nav a[data-screen=rota]").inner_text() == "Rota"
    item.locator("li.lead .badge", has_text="leads").wait_for()
    assert item.get_by_role("button", name=f"Change rota {day}").count() == 1
    assert console.unexpected() == []


def test_a_rota_without_a_head_is_refused_at_its_field_and_nothing_changes(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    console = watch(page)
    station_id, heads = staff_on_the_rota(page, base)
    others = [d for d in deputies_of(base, station_id) if d not in heads]
    assert others, "the demo station has deputies who are no heads"
    session, before = next((s, r) for s, r in ahead(base, station_id) if r["deputies"])
    day = session["date"]
    go_to_month(page, day)
    item = page.locator(f".rota-session[data-session='{session['id']}']")
    item.get_by_role("button", name=f"修改轮值 {day}").click()
    form = page.locator("#rota-form")
    for box in form.locator("input[type=checkbox]").all():
        box.set_checked(int(box.get_attribute("value")) == others[0])
    assert form.locator("#rota-lead").input_value() == ""
    form.get_by_role("button", name="保存轮值").click()
    form.locator(".error[role=alert]").wait_for()
    group = form.locator("#rota-deputies")
    assert group.get_attribute("aria-invalid") == "true"
    assert "head" in form.locator("#rota-deputies-error").inner_text()
    page.screenshot(path=str(screenshots / "console-rota-error.png"), full_page=True)
    now = call(base, "GET", f"/api/v1/sessions/{session['id']}/rota")
    assert now["deputies"] == before["deputies"] and now["updated_at"] == before["updated_at"]

    # The head alone: kept, with its gap said in words.
    lead = next(d["deputy_id"] for d in before["deputies"] if d["lead"])
    for box in form.locator("input[type=checkbox]").all():
        box.set_checked(int(box.get_attribute("value")) == lead)
    form.get_by_role("button", name="保存轮值").click()
    page.locator("#announce").get_by_text(f"已保存 {day} 的接待轮值").wait_for()
    saved = call(base, "GET", f"/api/v1/sessions/{session['id']}/rota")
    assert [d["deputy_id"] for d in saved["deputies"]] == [lead]
    assert saved["gaps"] == ["too_few_deputies"]
    item.locator(".rota-status", has_text="有缺口").wait_for()
    assert item.locator(".rota-gaps").inner_text() == f"接待代表少于 {saved['min_deputies']} 位"
    assert console.unexpected(r"status of 422") == []


def test_a_deputy_declares_days_away_and_proposes_a_swap_the_other_accepts(
    platform: Platform, page: Any, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    console = watch(page)
    me = 1
    station_id = call(base, "GET", f"/api/v1/deputies/{me}")["station_id"]
    staff = dev_token(base, "standing-committee-office")
    heads = heads_of(base, station_id, staff)
    names = deputies_of(base, station_id)
    session, before = next(
        (s, r) for s, r in ahead(base, station_id) if me in [d["deputy_id"] for d in r["deputies"]]
    )
    day = session["date"]
    on = [d["deputy_id"] for d in before["deputies"]]
    # Whoever takes over must keep a head on the session.
    head_stays = any(d in heads for d in on if d != me)

    counterpart = next(
        d
        for d in names
        if d not in on and (head_stays or d in heads) and free_on(base, d, day, staff)
    )

    sign_in(page, base, "deputy")
    open_rota(page)
    away = page.locator("#away-form")
    away.wait_for()

    # Days away: a missing reason is shown at its field; then declared, listed, removed.
    first = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    last = (dt.date.fromisoformat(day) + dt.timedelta(days=3)).isoformat()
    away.get_by_label("从").fill(first)
    away.get_by_label("到").fill(last)
    away.get_by_role("button", name="登记").click()
    away.locator(".error[role=alert]").wait_for()
    assert away.locator("#away-reason").get_attribute("aria-invalid") == "true"
    away.get_by_label("原因").fill("外出参加培训")
    away.get_by_role("button", name="登记").click()
    page.locator("#announce").get_by_text(f"已登记 {first} 至 {last}").wait_for()
    listed = page.locator(".away-items li", has_text="外出参加培训")
    listed.wait_for()
    mine = dev_token(base, "deputy")
    declared = call(base, "GET", f"/api/v1/deputies/{me}/unavailability", token=mine)["items"]
    assert [(a["first_day"], a["last_day"]) for a in declared if a["reason"] == "外出参加培训"] == [
        (first, last)
    ]
    listed.get_by_role("button", name=f"撤销 {first} – {last}").press("Enter")
    page.locator("#announce").get_by_text(f"已撤销 {first} 至 {last}").wait_for()
    page.locator(".away-items li", has_text="外出参加培训").wait_for(state="detached")
    left = call(base, "GET", f"/api/v1/deputies/{me}/unavailability", token=mine)["items"]
    assert all(a["reason"] != "外出参加培训" for a in left)

    # A swap of my session, handed over to a deputy of the same station.
    go_to_month(page, day)
    item = page.locator(f".rota-session[data-session='{session['id']}']")
    item.get_by_role("button", name=f"提议换班 {day}").press("Enter")
    assert page.evaluate("document.activeElement.id") == "swap-counterpart"
    page.locator("#swap-counterpart").select_option(str(counterpart))
    page.locator("#swap-form").get_by_role("button", name="提出换班").click()
    page.locator("#announce").get_by_text(f"已向 {names[counterpart]} 提出换班").wait_for()
    proposed = page.locator(".swap.proposed", has_text=names[counterpart])
    proposed.wait_for()
    assert proposed.get_by_role("button", name="撤回").count() == 1
    assert proposed.get_by_role("button", name="接受").count() == 0
    page.screenshot(path=str(screenshots / "console-rota-deputy.png"), full_page=True)
    swaps = call(base, "GET", f"/api/v1/rota-swaps?deputy_id={me}", token=mine)["items"]
    swap = next(w for w in swaps if w["session_id"] == session["id"] and w["status"] == "proposed")
    assert swap["counterpart_id"] == counterpart

    # The other deputy, signed in with a token of their own, accepts.
    theirs = dev_token(base, "deputy", deputy_id=counterpart)
    other = new_page(1280, 900)
    other_console = watch(other)
    other.goto(f"{base}/console/")
    other.evaluate(
        "token => sessionStorage.setItem('liaison.console.token', "
        "JSON.stringify({access_token: token, expires_at: Date.now() + 600000}))",
        theirs,
    )
    other.goto(f"{base}/console/#/rota")
    offered = other.locator(f".swap[data-swap='{swap['id']}']")
    offered.wait_for()
    assert offered.get_by_role("button", name="撤回").count() == 0
    offered.get_by_role("button", name="接受").first.press("Enter")
    other.locator("#announce").get_by_text("换班已接受").wait_for()
    other.locator(f".swap.accepted[data-swap='{swap['id']}']").wait_for()
    after = call(base, "GET", f"/api/v1/sessions/{session['id']}/rota")
    now_on = [d["deputy_id"] for d in after["deputies"]]
    assert counterpart in now_on and me not in now_on
    assert any(d["lead"] and d["deputy_id"] in heads for d in after["deputies"])
    assert console.unexpected(r"status of 422") == []
    assert other_console.unexpected() == []


def test_staff_refuse_a_swap_proposed_at_their_station(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    console = watch(page)
    station_id, _ = staff_on_the_rota(page, base)
    token = json.loads(stored_token(page))["access_token"]
    names = deputies_of(base, station_id)
    session, rota = next((s, r) for s, r in ahead(base, station_id) if r["deputies"])
    on = [d["deputy_id"] for d in rota["deputies"]]
    proposer = on[-1]
    counterpart = next(d for d in names if d not in on and free_on(base, d, session["date"], token))
    # Proposed on the deputy's behalf by the station's staff.
    swap = call(
        base,
        "POST",
        "/api/v1/rota-swaps",
        {"proposer_id": proposer, "session_id": session["id"], "counterpart_id": counterpart},
        token=token,
    )
    page.reload()
    item = page.locator(f".swap.proposed[data-swap='{swap['id']}']")
    item.wait_for()
    assert f"{names[proposer]} 换给 {names[counterpart]}" in item.inner_text()
    assert item.get_by_role("button", name="接受").count() == 0
    item.get_by_role("button", name="不批准").press("Enter")
    page.locator("#announce").get_by_text("换班已拒绝").wait_for()
    page.locator(f".swap.declined[data-swap='{swap['id']}']").wait_for()
    swaps = call(base, "GET", f"/api/v1/rota-swaps?station_id={station_id}", token=token)
    decided = next(w for w in swaps["items"] if w["id"] == swap["id"])
    assert (decided["status"], decided["decided_by_role"]) == ("declined", "station_staff")
    after = call(base, "GET", f"/api/v1/sessions/{session['id']}/rota")
    assert after["deputies"] == rota["deputies"]
    assert console.unexpected() == []


def test_a_deputy_may_not_read_another_deputys_days_away(platform: Platform) -> None:
    # What the screen reflects: the API keeps a deputy to their own records.
    token = dev_token(platform.base_url, "deputy")
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(platform.base_url, "GET", "/api/v1/deputies/2/unavailability", token=token)
    assert refused.value.code == 403

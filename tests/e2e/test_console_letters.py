"""The console's referral letters in a real browser, against the whole
platform with its demo data: a letter goes the district's way, each role in
its own signed-in page taking its step from its queue (the street committee
by keyboard alone); another goes the street's way with the deputy's, the
deputy director's and the director's sign-offs to the street office; an
extension past the legal limit is refused at its field, nothing changed;
and the overdue board draws the referral service's figures.

Each letter is opened the platform's way: an opinion of street 1 handed on
through the API, the referral worker opening its letter from the event."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from kit.testrun import Platform

try:
    from tests.e2e.test_console import get_json, sign_in
except ImportError:  # the repository's root is not on the path
    from test_console import get_json, sign_in  # type: ignore[no-redef]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]

HOUSING_BUREAU = 52  # the registry demo's first department


def call(base_url: str, token: str | None, method: str, path: str, body: Any = None) -> Any:
    """(status, body) of one JSON request."""
    request = urllib.request.Request(
        f"{base_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# Each platform's development issuer signs with a secret of its own: a
# token is kept per platform (its address) and account.
_tokens: dict[tuple[str, str], str] = {}


def token(base_url: str, account: str) -> str:
    if (base_url, account) not in _tokens:
        status, body = call(base_url, None, "POST", "/api/v1/dev/tokens", {"account": account})
        assert status == 200, body
        _tokens[base_url, account] = body["access_token"]
    return _tokens[base_url, account]


def as_(base_url: str, account: str, method: str, path: str, body: Any = None) -> Any:
    status, reply = call(base_url, token(base_url, account), method, path, body)
    assert status in (200, 201), (status, reply)
    return reply


def letter_of(base_url: str, letter_id: int) -> Any:
    return as_(base_url, "admin", "GET", f"/api/v1/letters/{letter_id}")


def street_deputy(base_url: str) -> int:
    """A deputy of street 1 (the demo account's deputy 1 is of another street)."""
    return int(get_json(f"{base_url}/api/v1/deputies?street_id=1&page_size=1")["items"][0]["id"])


def open_letter(base_url: str, *, deputy: int | None = None) -> Any:
    """A letter of street 1: an opinion sent online (or, with `deputy`, that
    deputy's order), handed on by the street committee."""
    stations = get_json(f"{base_url}/api/v1/stations?street_id=1&page_size=100")["items"]
    community = next(c for station in stations for c in station["community_ids"])
    content = f"老旧小区加装电梯进展缓慢，希望加快审批 {uuid.uuid4().hex[:8]}"
    opinion: dict[str, Any] = {
        "category": "property",
        "community_id": community,
        "content": content,
    }
    if deputy:
        opinion |= {"source": "order", "taken_by_deputy_id": deputy}
    else:
        opinion |= {"source": "online", "raiser_name": "测试提出人", "raiser_phone": "13800000000"}
    made = as_(base_url, "street-committee", "POST", "/api/v1/opinions", opinion)
    as_(base_url, "street-committee", "POST", f"/api/v1/opinions/{made['id']}:hand-on",
        {"note": "请研究办理"})  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = as_(
            base_url, "street-committee", "GET", "/api/v1/letters?stage=jurisdiction&page_size=500"
        )
        found = [x for x in listed["items"] if x["tracking_code"] == made["tracking_code"]]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"no letter for {made['tracking_code']} after 60 s")


def step(base_url: str, letter_id: int, action: str, account: str, **body: Any) -> Any:
    return as_(base_url, account, "POST", f"/api/v1/letters/{letter_id}:{action}", body)


def signed_in(new_page: Any, base_url: str, account: str) -> Any:
    page = new_page(1280, 900)
    sign_in(page, base_url, account)
    return page


def signed_in_as_deputy(new_page: Any, base_url: str, deputy_id: int) -> Any:
    """The console of deputy `deputy_id`, with the token the development API
    issues the demo deputy account with that id (the issuer's sign-in page
    offers only deputy 1); as a real provider's sign-in leaves it."""
    status, issued = call(
        base_url, None, "POST", "/api/v1/dev/tokens", {"account": "deputy", "deputy_id": deputy_id}
    )
    assert status == 200, issued
    page = new_page(1280, 900)
    page.goto(f"{base_url}/console/")
    page.get_by_role("heading", name="登录工作台").wait_for()
    saved = {
        "access_token": issued["access_token"],
        "expires_at": int(time.time() * 1000) + 3_600_000,
    }
    page.evaluate("t => sessionStorage.setItem('liaison.console.token', t)", json.dumps(saved))
    page.goto(f"{base_url}/console/#/letters")
    page.reload()
    page.locator("#who").wait_for()
    return page


def open_from_queue(page: Any, base_url: str, queue: str, letter: Any) -> None:
    """From the letters screen's `queue`, the letter's page."""
    page.goto(f"{base_url}/console/#/letters")
    page.get_by_role("heading", name="转办函", level=1).wait_for()
    assert page.locator("nav a[aria-current=page]").inner_text() == "转办函"
    row = page.locator(f"#queue-{queue} tr[data-letter='{letter['id']}']")
    row.wait_for()
    row.get_by_role("link", name=letter["tracking_code"]).click()
    page.locator("#screen-title", has_text=letter["tracking_code"]).wait_for()
    page.locator("#letter-detail[aria-busy=false]").wait_for()


def take(page: Any, action: str, announced: str, fill: dict[str, str] | None = None) -> None:
    """Open the action's form, fill it, submit it, and wait until it is done."""
    page.locator(f"#act-{action}").click()
    for selector, value in (fill or {}).items():
        page.locator(selector).fill(value)
    page.locator("#action-submit").click()
    page.locator("#announce").get_by_text(announced).wait_for()
    page.locator("#screen-title:focus").wait_for()


def test_a_letter_goes_the_districts_way_across_roles(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    letter = open_letter(base)
    code, letter_id = letter["tracking_code"], letter["id"]

    # The street committee decides by keyboard alone: for the district.
    page = signed_in(new_page, base, "street-committee")
    console = watch(page)
    open_from_queue(page, base, "jurisdiction", letter)
    assert letter["content"] in page.locator(".opinion-content").inner_text()
    assert page.locator("#act-decide").count() == 1
    page.locator("#act-decide").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "route-street"
    assert "转街道办事处办理" in page.locator("#route-street-hint").inner_text()
    assert "区政府办公室" in page.locator("#route-district-hint").inner_text()
    page.keyboard.press("ArrowDown")
    assert page.locator("#route-district").is_checked()
    page.screenshot(path=str(screenshots / "console-letter-jurisdiction.png"), full_page=True)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "action-submit"
    page.keyboard.press("Enter")
    page.locator("#announce").get_by_text(f"转办函 {code} 已决定管辖").wait_for()
    assert letter_of(base, letter_id)["stage"] == "review"
    page.locator("#no-action").wait_for()
    assert "待工作机构审核" in page.locator("#letter-detail dl.facts").first.inner_text()
    assert console.unexpected() == []

    # The working body accepts it.
    body = signed_in(new_page, base, "working-body")
    open_from_queue(body, base, "review", letter)
    take(body, "accept", f"转办函 {code} 已受理")
    assert letter_of(base, letter_id)["stage"] == "dispatch"

    # The standing committee office sends it to the government office.
    office = signed_in(new_page, base, "standing-committee-office")
    open_from_queue(office, base, "dispatch", letter)
    take(office, "dispatch", f"转办函 {code} 已转区政府办公室")
    assert letter_of(base, letter_id)["stage"] == "assignment"

    # The government office assigns it to the housing bureau, with a co-handler.
    departments = get_json(f"{base}/api/v1/units?kind=department&page_size=500")["items"]
    bureau = next(d for d in departments if d["id"] == HOUSING_BUREAU)
    other = next(d for d in departments if d["id"] != HOUSING_BUREAU)
    government = signed_in(new_page, base, "government-office")
    open_from_queue(government, base, "assignment", letter)
    government.locator("#act-assign").click()
    assert government.evaluate("document.activeElement.id") == "assign-lead"
    options = government.locator("#assign-lead option").all_inner_texts()
    assert options == [d["name"] for d in departments]
    government.locator("#assign-lead").select_option(str(HOUSING_BUREAU))
    government.locator(f"#co-{other['id']}").check()
    government.screenshot(path=str(screenshots / "console-letter-assign.png"), full_page=True)
    government.locator("#action-submit").click()
    government.locator("#announce").get_by_text(f"转办函 {code} 已交办").wait_for()
    assigned = letter_of(base, letter_id)
    assert assigned["stage"] == "awaiting_receipt"
    assert assigned["handler"]["id"] == HOUSING_BUREAU
    assert [u["id"] for u in assigned["co_handlers"]] == [other["id"]]
    detail = government.locator("#letter-detail")
    assert bureau["name"] in detail.inner_text() and other["name"] in detail.inner_text()

    # The housing bureau: in its inbox awaiting receipt; acknowledges, then answers with a file.
    department = signed_in(new_page, base, "department")
    department.goto(f"{base}/console/#/letters")
    row = department.locator(f"#queue-inbox tr[data-letter='{letter_id}']")
    row.wait_for()
    assert "待签收" in row.inner_text()
    open_from_queue(department, base, "inbox", letter)
    take(department, "acknowledge", f"转办函 {code} 已签收")
    received = letter_of(base, letter_id)
    assert received["stage"] == "in_hand"
    today = dt.date.fromisoformat(department.evaluate("LiaisonConsole.todayInShanghai()"))
    left = (dt.date.fromisoformat(received["deadline"]["last_day"]) - today).days
    assert department.locator("#days-left").inner_text() == f"剩 {left} 天"
    assert 85 <= left <= 95
    assert received["deadline"]["last_day"] in department.locator(".letter-deadline").inner_text()

    department.locator("#act-answer").click()
    assert department.evaluate("document.activeElement.id") == "answer-text"
    answer = "已会同街道办事处现场踏勘，电梯加装方案已于本月批复"
    department.keyboard.type(answer)
    content = f"批复文件 {uuid.uuid4().hex}".encode()
    department.locator("#answer-files").set_input_files(
        files=[{"name": "批复.txt", "mimeType": "text/plain", "buffer": content}]
    )
    department.locator("#action-submit").click()
    department.locator("#announce").get_by_text(f"转办函 {code} 已答复").wait_for()
    answered = letter_of(base, letter_id)
    assert answered["stage"] == "answered"
    assert answered["answers"][0]["text"] == answer
    assert answered["answers"][0]["attachments"] == [hashlib.sha256(content).hexdigest()]
    assert "批复.txt" in department.locator(".letter-answer").inner_text()
    with department.expect_download() as downloading:
        department.get_by_role("button", name="批复.txt").click()
    saved = downloading.value
    assert saved.suggested_filename == "批复.txt"
    assert Path(saved.path()).read_bytes() == content
    # Back in the inbox, it is gone.
    department.goto(f"{base}/console/#/letters")
    department.locator("#queue-inbox").wait_for()
    assert department.locator(f"#queue-inbox tr[data-letter='{letter_id}']").count() == 0

    # The street committee feeds it back.
    page.goto(f"{base}/console/#/letters")
    open_from_queue(page, base, "feed-back", letter)
    take(page, "feed-back", f"转办函 {code} 已反馈", {"#feedback-comment": "已电话告知选民"})
    fed = letter_of(base, letter_id)
    assert fed["stage"] == "fed_back"
    # Every hop, with when it was sent and received.
    hops = page.locator(".hops-table tbody tr")
    expect(hops).to_have_count(len(fed["hops"]))
    assert "主办" in page.locator(".hops-table").inner_text()
    assert answer in page.locator(".letter-answer").inner_text()
    # Now it awaits the constituent's rating, recorded by the committee.
    assert page.locator("#act-rate").count() == 1
    page.screenshot(path=str(screenshots / "console-letter-district.png"), full_page=True)

    # In English.
    page.locator("#lang").click()
    page.get_by_role("heading", name=f"Letter {code}", level=1).wait_for()
    assert "Hops" in page.locator("#letter-detail").inner_text()
    assert console.unexpected() == []


def test_a_letter_goes_the_streets_way_with_three_sign_offs(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    deputy_id = street_deputy(base)
    letter = open_letter(base, deputy=deputy_id)
    code, letter_id = letter["tracking_code"], letter["id"]
    assert letter["deputy_id"] == deputy_id

    committee = signed_in(new_page, base, "street-committee")
    open_from_queue(committee, base, "jurisdiction", letter)
    take(committee, "decide", f"转办函 {code} 已决定管辖")  # the street's: the first choice
    assert letter_of(base, letter_id)["stage"] == "deputy_sign_off"

    # The deputy director may not sign before the deputy: nothing offered.
    deputy_director = signed_in(new_page, base, "street-deputy-director")
    console = watch(deputy_director)
    deputy_director.goto(f"{base}/console/#/letters/{letter_id}")
    deputy_director.locator("#screen-title", has_text=code).wait_for()
    deputy_director.locator("#no-action").wait_for()

    deputy = signed_in_as_deputy(new_page, base, deputy_id)
    open_from_queue(deputy, base, "sign-off", letter)
    take(deputy, "sign-off", f"转办函 {code} 已签署", {"#sign-comment": "情况属实，请街道尽快办理"})
    assert letter_of(base, letter_id)["stage"] == "deputy_director_sign_off"

    open_from_queue(deputy_director, base, "sign-off", letter)
    take(deputy_director, "sign-off", f"转办函 {code} 已签署", {"#sign-comment": "同意"})

    director = signed_in(new_page, base, "street-director")
    open_from_queue(director, base, "sign-off", letter)
    # Sent back without a reason: refused at the field, nothing changed.
    director.locator("#act-refuse").click()
    director.locator("#action-submit").click()
    director.locator("#action-form .error[role=alert]").wait_for()
    assert director.locator("#refuse-reason").get_attribute("aria-invalid") == "true"
    assert letter_of(base, letter_id)["stage"] == "director_sign_off"
    director.locator("#act-sign-off").click()
    director.locator("#sign-comment").fill("同意，转街道办事处办理")
    director.locator("#action-submit").click()
    director.locator("#announce").get_by_text(f"转办函 {code} 已签署").wait_for()
    signed = letter_of(base, letter_id)
    assert signed["stage"] == "awaiting_receipt"
    assert [s["signer"] for s in signed["sign_offs"]] == ["deputy", "deputy_director", "director"]
    assert (signed["handler"]["kind"], signed["handler"]["id"]) == ("street_office", 1)
    signs = director.locator(".sign-offs li")
    expect(signs).to_have_count(3)
    assert "情况属实" in signs.nth(0).inner_text() and "代表" in signs.nth(0).inner_text()
    director.screenshot(path=str(screenshots / "console-letter-sign-offs.png"), full_page=True)

    # The street office's inbox; it acknowledges.
    office = signed_in(new_page, base, "street-office")
    open_from_queue(office, base, "inbox", letter)
    assert "街道办事处" in office.locator("#letter-detail dl.facts").first.inner_text()
    take(office, "acknowledge", f"转办函 {code} 已签收")
    assert letter_of(base, letter_id)["stage"] == "in_hand"
    office.locator("#days-left").wait_for()
    assert office.locator("#act-answer").count() == 1
    assert console.unexpected() == []


def test_an_extension_past_the_legal_limit_is_refused_at_its_field(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    letter = open_letter(base)
    code, letter_id = letter["tracking_code"], letter["id"]
    step(base, letter_id, "decide-jurisdiction", "street-committee", route="district")
    step(base, letter_id, "review", "working-body", accept=True)
    step(base, letter_id, "dispatch", "standing-committee-office")
    step(base, letter_id, "assign", "government-office", lead_department_id=HOUSING_BUREAU)
    received = step(base, letter_id, "acknowledge", "department")
    last_day = dt.date.fromisoformat(received["deadline"]["last_day"])

    page = signed_in(new_page, base, "department")
    console = watch(page)
    open_from_queue(page, base, "inbox", letter)
    page.locator("#act-extension").click()
    assert page.evaluate("document.activeElement.id") == "extension-reason"
    page.keyboard.type("涉及规划调整，需要多个部门会商")
    too_late = last_day + dt.timedelta(days=150)  # past six months from receipt
    page.locator("#extension-day").fill(too_late.isoformat())
    page.locator("#action-submit").click()
    alert = page.locator("#action-form .error[role=alert]")
    alert.wait_for()
    assert "requested_last_day" in alert.inner_text()
    assert page.locator("#extension-day").get_attribute("aria-invalid") == "true"
    assert page.locator("#extension-day-error").inner_text()
    assert page.evaluate("document.activeElement.id") == "extension-day"
    page.screenshot(path=str(screenshots / "console-letter-extension-refused.png"), full_page=True)
    assert letter_of(base, letter_id)["extensions"] == []

    # Within the limit it is asked, and awaits the standing committee office.
    within = last_day + dt.timedelta(days=30)
    page.locator("#extension-day").fill(within.isoformat())
    page.locator("#action-submit").click()
    page.locator("#announce").get_by_text(f"转办函 {code} 已申请延期").wait_for()
    asked = letter_of(base, letter_id)["extensions"]
    assert [x["requested_last_day"] for x in asked] == [within.isoformat()]
    assert "待审批" in page.locator(".extensions-table").inner_text()
    assert page.locator("#act-extension").count() == 0

    office = signed_in(new_page, base, "standing-committee-office")
    open_from_queue(office, base, "extensions", letter)
    take(office, "decide-extension", f"转办函 {code} 的延期申请已审批")
    extended = letter_of(base, letter_id)["deadline"]
    assert extended["extended"] is True and extended["last_day"] == within.isoformat()
    assert within.isoformat() in office.locator(".letter-deadline").inner_text()
    assert console.unexpected(r"status of 422") == []


def test_the_overdue_board_draws_the_figures(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    open_letter(base)  # one open letter at least
    page = signed_in(new_page, base, "standing-committee-office")
    console = watch(page)
    page.get_by_role("link", name="督办看板").click()
    page.get_by_role("heading", name="转办函督办看板", level=1).wait_for()
    page.locator("#board-figures[aria-busy=false]").wait_for()
    page.locator("#board-overdue[aria-busy=false]").wait_for()

    year = page.evaluate("LiaisonConsole.todayInShanghai().slice(0, 4)")
    figures = get_json(f"{base}/api/v1/letter-figures?year={year}")
    assert f"收到 {figures['totals']['received']} 件" in page.locator("#board-totals").inner_text()

    # Open letters by stage: one bar and one row per stage with letters.
    stages = [s for s in figures["open_by_stage"] if s["letters"] > 0]
    assert stages, "an open letter at least"
    chart = page.locator("#chart-stages svg[role=img]")
    chart.wait_for()
    expect(page.locator("#chart-stages g.bar")).to_have_count(len(stages))
    description = page.locator("#chart-stages desc").text_content() or ""
    for s in stages:
        cell = page.locator(f"#chart-stages tr[data-key={s['stage']}] td")
        expect(cell).to_have_text(str(s["letters"]))
        assert (
            page.locator(f"#chart-stages g.bar[data-key={s['stage']}] rect").get_attribute("width")
            != "0"
        )
    assert "待决定管辖" in description
    assert chart.get_attribute("aria-labelledby") == "chart-stages-svg-title chart-stages-svg-desc"

    # Days to answer by handling unit, as the figures say.
    handlers = [h for h in figures["by_handler"] if h["counts"]["answered"] > 0]
    expect(page.locator("#chart-days g.bar")).to_have_count(len(handlers))
    for h in handlers:
        key = f"{h['unit']['kind']}-{h['unit'].get('id') or 0}"
        median = round(h["median_days_to_answer"] * 10) / 10
        expected = f"{int(median) if median == int(median) else median} 天"
        expect(page.locator(f"#chart-days tr[data-key={key}] td").first).to_have_text(expected)

    # Overdue letters, the oldest first, as the letters in hand say.
    in_hand: list[Any] = []
    path = first = "/api/v1/letters?stage=in_hand&page_size=500"
    while path:
        listed = as_(base, "standing-committee-office", "GET", path)
        in_hand += listed["items"]
        next_token = listed.get("next_page_token")
        path = f"{first}&page_token={quote(next_token)}" if next_token else ""
    now = dt.datetime.now(dt.UTC)
    late = sorted(
        (
            x
            for x in in_hand
            if x["deadline"] and dt.datetime.fromisoformat(x["deadline"]["ends_at"]) <= now
        ),
        key=lambda x: (x["deadline"]["ends_at"], x["id"]),
    )
    if late:
        codes = page.locator(".overdue-table tbody th a").all_inner_texts()
        assert codes == [x["tracking_code"] for x in late]
        assert "已超期" in page.locator(".overdue-table tbody tr").first.inner_text()
    else:
        page.locator("#no-overdue").wait_for()
    page.screenshot(path=str(screenshots / "console-overdue-board.png"), full_page=True)

    # In English, the same charts.
    page.locator("#lang").click()
    page.get_by_role("heading", name="Referral letters: overdue board", level=1).wait_for()
    page.locator("#chart-stages svg[role=img]").wait_for()
    assert "Open letters by stage" in page.locator("#chart-stages figcaption").inner_text()
    assert console.unexpected() == []

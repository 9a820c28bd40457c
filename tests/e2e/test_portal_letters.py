"""The portal's referral letters in a real browser: an opinion followed by
its tracking code through its letter's hops to the handling unit's legal
deadline; and a constituent signed in to the portal (the development
issuer's portal client) who sends an opinion, sees the answer fed back and
rates it, dissatisfied, asking for it to be handled again; and whose refused
ratings are said in the page. The staff's steps go through the API, as the
demo accounts of the street committee, the district's offices and department
52. Against the whole platform with the demo district."""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from kit.testrun import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    # The browser is checked before the platform starts.
    pytest.mark.usefixtures("chromium"),
]

DEPARTMENT = 52  # the demo department account's unit
# What a browser reports of the answers the tests provoke on purpose.
EXPECTED_REFUSALS = (r"status of 422 .*:rate\)", r"status of 409 .*:rate\)")


@pytest.fixture
def page(new_page: Any) -> Any:
    # A phone-sized window: the page must work there first.
    return new_page(414, 900)


def call(
    platform: Platform, method: str, path: str, body: Any = None, account: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {platform.token(account)}"} if account else {}
    return httpx.request(
        method, f"{platform.base_url}{path}", json=body, headers=headers, timeout=30
    )


def ok(
    platform: Platform, method: str, path: str, body: Any = None, account: str | None = None
) -> Any:
    reply = call(platform, method, path, body, account)
    assert reply.is_success, (method, path, reply.status_code, reply.text)
    return reply.json()


def step(platform: Platform, letter_id: int, action: str, account: str, **body: Any) -> Any:
    return ok(platform, "POST", f"/api/v1/letters/{letter_id}:{action}", body, account)


def street_one_community(platform: Platform) -> tuple[int, str]:
    """A community of street 1 (the demo street committee's) that the
    portal finds by its name: its id and name."""
    page = ok(platform, "GET", "/api/v1/communities?street_id=1&page_size=100")
    for community in page["items"]:
        query = urllib.parse.quote(community["name"])
        reply = call(platform, "GET", f"/api/v1/find-station?address={query}")
        if reply.status_code == 200 and reply.json()["community"]["id"] == community["id"]:
            return community["id"], community["name"]
    raise AssertionError("no community of street 1 is found by its name")


def letter_of(platform: Platform, code: str) -> dict[str, Any]:
    """The letter the referral service opens for an opinion handed on."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = ok(platform, "GET", "/api/v1/letters?page_size=500", account="street-committee")
        found = [x for x in page["items"] if x["tracking_code"] == code]
        if found:
            return found[0]  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError(f"the referral service opened no letter for {code}")


def hand_on(platform: Platform, opinion_id: int, code: str) -> int:
    step_path = f"/api/v1/opinions/{opinion_id}:hand-on"
    ok(platform, "POST", step_path, {"note": "转区职能部门办理"}, "street-committee")
    return int(letter_of(platform, code)["id"])


def to_the_department(platform: Platform, letter_id: int) -> Any:
    """The district's way: the working body's review, the standing
    committee office's dispatch, the government office's assignment."""
    step(platform, letter_id, "decide-jurisdiction", "street-committee", route="district")
    step(platform, letter_id, "review", "working-body", accept=True)
    step(platform, letter_id, "dispatch", "standing-committee-office")
    return step(platform, letter_id, "assign", "government-office", lead_department_id=DEPARTMENT)


def answered_and_fed_back(platform: Platform, letter_id: int, text: str) -> Any:
    step(platform, letter_id, "acknowledge", "department")
    step(platform, letter_id, "answer", "department", text=text)
    return step(platform, letter_id, "feed-back", "street-committee", comment="已电话告知")


def unit_name(platform: Platform, kind: str, **where: int) -> str:
    query = urllib.parse.urlencode({"kind": kind, "page_size": 100, **where})
    items = ok(platform, "GET", f"/api/v1/units?{query}")["items"]
    assert len(items) == 1, (kind, where, items)
    return str(items[0]["name"])


def days_left(last_day: str) -> int:
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return (dt.date.fromisoformat(last_day) - today).days


def test_an_opinion_is_followed_through_its_letters_hops_to_the_deadline(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    community_id, _ = street_one_community(platform)
    opinion = ok(
        platform,
        "POST",
        "/api/v1/opinions",
        {
            "source": "online",
            "category": "transport",
            "community_id": community_id,
            "content": "林和东路口红绿灯时间太短，老人过马路来不及。",
            "raiser_name": "李阿姨",
            "raiser_phone": "13800138002",
        },
    )
    code = opinion["tracking_code"]
    letter_id = hand_on(platform, opinion["id"], code)
    assigned = to_the_department(platform, letter_id)
    assert assigned["stage"] == "awaiting_receipt"
    console = watch(page)

    # Sent to the department, not yet received: no deadline runs.
    page.goto(f"{platform.base_url}/?track={code}")
    track = page.locator("section.track")
    letter = track.locator("section.letter")
    letter.wait_for()
    assert track.locator(".track-answer > dl").inner_text().count("已转交办理") == 1
    assert letter.locator("dd.letter-stage").inner_text() == "等待承办单位签收"
    department = ok(platform, "GET", f"/api/v1/units/{DEPARTMENT}")["name"]
    assert letter.locator("dd.letter-handler").inner_text() == department
    assert letter.locator("dd.letter-deadline").inner_text() == "承办单位签收后开始计算"
    hops = letter.locator("ol.hops > li.hop")
    public = ok(platform, "GET", f"/api/v1/opinions/track/{code}/letter")
    assert hops.count() == len(public["hops"]) == 4
    assert [hops.nth(i).get_attribute("data-kind") for i in range(4)] == [
        "to_review",
        "to_dispatch",
        "to_government_office",
        "to_lead_department",
    ]
    committee = unit_name(platform, "street_committee", street_id=1)
    assert hops.nth(0).locator(".hop-from").inner_text() == committee
    assert hops.nth(3).locator(".hop-to").inner_text() == department
    assert hops.nth(3).locator(".hop-received").inner_text() == "尚未签收"
    assert "hop pending" in (hops.nth(3).get_attribute("class") or "")
    # Each hop received when the next was sent, the times as the API gives them.
    for i, hop in enumerate(public["hops"][:3]):
        assert hop["received_at"], hop
        assert hops.nth(i).locator(".hop-received time").get_attribute("datetime") is not None
    # Never who raised it, nor the content.
    text = page.locator("body").inner_text()
    assert "李阿姨" not in text and "13800138002" not in text and "红绿灯" not in text

    # Received: the three months run, to the last day the service set.
    received = step(platform, letter_id, "acknowledge", "department")
    last_day = received["deadline"]["last_day"]
    page.reload()
    letter.wait_for()
    assert letter.locator("dd.letter-stage").inner_text() == "承办单位办理中，等待书面答复"
    deadline = letter.locator("dd.letter-deadline")
    assert deadline.get_attribute("data-state") == "due"
    assert deadline.inner_text() == f"最后一天：{last_day}，还有 {days_left(last_day)} 天"
    assert 85 <= days_left(last_day) <= 95
    assert hops.nth(3).locator(".hop-received").inner_text().startswith("签收 ")
    assert letter.locator(".hop.pending").count() == 0
    letter.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "portal-letter-timeline.png"), full_page=True)

    # Answered and fed back: the answer's text, in time.
    answered_text = "已延长该路口行人绿灯时间至30秒。"
    step(platform, letter_id, "answer", "department", text=answered_text)
    step(platform, letter_id, "feed-back", "street-committee", comment="已告知")
    page.reload()
    letter.wait_for()
    assert letter.locator("dd.letter-stage").inner_text() == "答复已反馈，等待评价"
    assert letter.locator(".answer-text").inner_text() == answered_text
    assert letter.locator("dd.letter-deadline").get_attribute("data-state") == "answered"
    assert "已按期答复" in letter.locator("dd.letter-deadline").inner_text()

    # In English too.
    page.locator("#lang").click()
    letter = page.locator("section.track section.letter")
    letter.wait_for()
    assert letter.locator("dd.letter-stage").inner_text() == (
        "The answer is fed back: awaiting the ratings"
    )
    assert letter.locator("h4").first.inner_text() == "Its way"
    page.locator("#lang").click()
    assert console.unexpected() == []


def sign_in(page: Any, base_url: str) -> None:
    """From "my letters" (after the search and the tracking, which need no
    sign-in) through the issuer's page and back."""
    page.goto(f"{base_url}/")
    assert page.locator("#account").inner_text() == ""
    page.locator("section.mine #sign-in").click()
    page.wait_for_url("**/dev-issuer/authorize?**")
    # The portal's client offers constituents' accounts only.
    accounts = page.locator("input[name=account]")
    assert accounts.count() == 1 and accounts.get_attribute("value") == "constituent"
    page.locator("#sign-in").click()
    page.locator("#account .who-name").wait_for()
    assert "code=" not in page.url and page.url == f"{base_url}/"
    assert page.locator("#account .who-name").inner_text() == "演示选民"


def mine(page: Any, code: str) -> Any:
    """The letter of `code` under "my letters", once loaded."""
    section = page.locator("section.mine")
    section.locator(".mine-body[aria-busy=false]").wait_for()
    item = section.locator(f"li.mine-letter[data-code='{code}']")
    item.wait_for()
    return item


def test_a_signed_in_constituent_rates_the_answer_and_has_it_reopened(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    community_id, community = street_one_community(platform)
    console = watch(page)
    sign_in(page, platform.base_url)
    section = page.locator("section.mine")
    section.locator(".mine-body[aria-busy=false]").wait_for()

    # The opinion, sent online signed in: it is theirs.
    field = page.get_by_label("输入您的住址、小区或社区名称")
    field.fill(community)
    field.press("Enter")
    form = page.locator("#outcome section.opinion form")
    form.wait_for()
    assert "您已登录" in page.locator("#outcome section.opinion .signed-in-note").inner_text()
    form.get_by_label("类别").select_option("environment")
    form.get_by_label("意见建议内容").fill("小区门口垃圾桶满了没人清运，气味很大。")
    form.get_by_label("您的姓名").fill("演示选民")
    form.get_by_label("联系电话").fill("13800138003")
    form.get_by_role("button", name="提交意见").click()
    done = page.locator("#outcome .opinion-done")
    done.wait_for()
    code = done.locator("dd.tracking-code").inner_text().strip()
    queue = "/api/v1/opinions?street_id=1&source=online&category=environment&page_size=200"
    opinion_id = next(
        o["id"]
        for o in ok(platform, "GET", queue, account="street-committee")["items"]
        if o["tracking_code"] == code
    )

    # The staff take it to an answer fed back.
    letter_id = hand_on(platform, opinion_id, code)
    to_the_department(platform, letter_id)
    answered_and_fed_back(platform, letter_id, "已安排环卫每日清运两次。")
    theirs = ok(platform, "GET", "/api/v1/letters", account="constituent")["items"]
    assert letter_id in {x["id"] for x in theirs}

    page.reload()
    item = mine(page, code)
    assert "垃圾桶" in item.locator("dl.facts").first.inner_text(), "their own words"
    assert item.locator("dd.letter-stage").inner_text() == "答复已反馈，等待评价"
    assert item.locator(".answer-text").inner_text() == "已安排环卫每日清运两次。"
    rate = item.locator("form.rate-form")
    reopen_box = rate.locator("[data-field=reopen]")
    assert reopen_box.is_hidden(), "reopening is offered only when dissatisfied"

    # Sent without a choice: the API's refusal names the field, in the page.
    rate.get_by_role("button", name="提交评价").click()
    error = rate.locator("[data-field=satisfaction] .field-error:not([hidden])")
    error.wait_for()
    assert rate.locator(".form-status").get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.type") == "radio"
    item.screenshot(path=str(screenshots / "portal-rate-refused.png"))

    # Satisfied hides the reopening; dissatisfied offers it, once.
    rate.get_by_label("满意", exact=True).check()
    assert reopen_box.is_hidden()
    rate.get_by_label("不满意").check()
    assert reopen_box.is_visible()
    assert "每件转办函只能申请一次" in reopen_box.locator(".hint").inner_text()
    reopen_box.get_by_label("申请重新办理").check()
    item.screenshot(path=str(screenshots / "portal-rate-form.png"))
    rate.get_by_role("button", name="提交评价").click()

    # Reopened: back with the department, a second round, their rating listed.
    item = page.locator(f"li.mine-letter[data-code='{code}']")
    item.locator(".rate-outcome").wait_for()
    assert "已申请重新办理" in item.locator(".rate-outcome").inner_text()
    assert page.evaluate("document.activeElement.tagName") == "H3"
    assert item.locator("dd.letter-stage").inner_text() == "等待承办单位签收"
    assert "第2轮办理" in item.locator(".badge.round").inner_text()
    assert item.locator(".rating").inner_text().startswith("第1轮 · 选民：不满意")
    assert item.locator("form.rate-form").count() == 0
    hops = item.locator("ol.hops > li.hop")
    assert hops.last.get_attribute("data-kind") == "reopened"
    assert hops.last.locator(".hop-received").inner_text() == "尚未签收"
    item.screenshot(path=str(screenshots / "portal-rate-reopened.png"))
    letter = ok(platform, "GET", f"/api/v1/letters/{letter_id}", account="admin")
    assert (letter["stage"], letter["round"]) == ("awaiting_receipt", 2)
    assert [(r["rater"], r["satisfaction"]) for r in letter["ratings"]] == [
        ("constituent", "dissatisfied")
    ]

    # The second answer fed back: no more reopening; rated meanwhile
    # elsewhere, the page's rating is refused and says so.
    answered_and_fed_back(platform, letter_id, "已增设两个垃圾桶并每日清运三次。")
    page.reload()
    item = mine(page, code)
    rate = item.locator("form.rate-form")
    rate.get_by_label("不满意").check()
    reopen = rate.get_by_label("申请重新办理")
    assert reopen.is_disabled()
    assert "已经重新办理过一次" in rate.locator("[data-field=reopen] .hint").inner_text()
    rate.get_by_label("基本满意").check()
    body = {"rater": "constituent", "satisfaction": "satisfied"}
    ok(platform, "POST", f"/api/v1/letters/{letter_id}:rate", body, "constituent")
    rate.get_by_role("button", name="提交评价").click()
    refused = rate.locator(".form-status .form-error")
    refused.wait_for()
    assert "这件转办函现在不能评价" in refused.inner_text()
    item.screenshot(path=str(screenshots / "portal-rate-conflict.png"))
    closed = ok(platform, "GET", f"/api/v1/opinions/track/{code}/letter")
    assert closed["stage"] == "closed"
    assert [r["satisfaction"] for r in closed["ratings"]] == ["dissatisfied", "satisfied"]

    # Signed out: no letters, no name, the sign-in offered again.
    page.locator("section.mine #sign-out").click()
    assert page.locator("section.mine li.mine-letter").count() == 0
    assert page.locator("#account").inner_text() == ""
    assert page.evaluate("document.activeElement.id") == "sign-in"
    assert console.unexpected(*EXPECTED_REFUSALS) == []

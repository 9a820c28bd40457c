"""The portal's pages of the duties service in a real browser, on a
phone-sized window, against the whole platform with the demo district: a
deputy's public page, reached from their station, shows their duty record
of the year and constituents' ratings as the API answers them; a signed-in
constituent rates a deputy, and a second rating in the year is refused with
the service's message; a voter votes with the code printed on the slip, no
sign-in, and the same code again is refused with the service's message; the
published result shows on the ballot's page. The staff's steps (a report
meeting, its ballot, codes, closing, publishing) go through the API as the
demo admin, as tests/e2e/test_authorization_duties_ballots.py does."""

from __future__ import annotations

import time
import urllib.parse
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from kit.testrun import Platform
from tests.e2e.test_portal_letters import call, ok, sign_in, street_one_community

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    # The browser is checked before the platform starts.
    pytest.mark.usefixtures("chromium"),
]

MIN_TURNOUT = 10  # the service's default
# What a browser reports of the answers the tests provoke on purpose.
EXPECTED_REFUSALS = (
    r"status of 4\d\d .*/ratings\)",
    r"status of 409 .*/reports\)",
    r"status of 4\d\d .*/votes\)",
    r"status of 4\d\d .*/result\)",
)


@pytest.fixture
def page(new_page: Any) -> Any:
    # A phone-sized window: the page must work there first.
    return new_page(390, 844)


def this_year() -> int:
    return datetime.now(ZoneInfo("Asia/Shanghai")).year


def station_deputies(platform: Platform) -> tuple[str, list[dict[str, Any]]]:
    """A community of street 1 that the portal finds, and its station's deputies."""
    _, community = street_one_community(platform)
    found = ok(platform, "GET", f"/api/v1/find-station?address={urllib.parse.quote(community)}")
    return community, [row["deputy"] for row in found["deputies"]]


def unrated_deputy(platform: Platform) -> dict[str, Any]:
    """A deputy of street 1 whom nobody has rated yet (the demo year rates
    most deputies, not all): a station's deputy first, else any of the street's."""
    _, deputies = station_deputies(platform)
    street = ok(platform, "GET", "/api/v1/deputies?street_id=1&page_size=500")["items"]
    for deputy in [*reversed(deputies), *street]:
        if not ok(platform, "GET", f"/api/v1/deputies/{deputy['id']}/ratings")["years"]:
            return deputy
    raise AssertionError("every deputy of street 1 has ratings: the test needs one without")


def published_ballot(platform: Platform, deputy_id: int, choices: list[str]) -> int:
    """A report meeting of today, its ballot voted with `choices` (one code
    each), closed and published, through the API."""
    ballot_id = open_ballot(platform, deputy_id)
    codes = issue(platform, ballot_id, len(choices))
    for code, choice in zip(codes, choices, strict=True):
        ok(platform, "POST", f"/api/v1/ballots/{ballot_id}/votes", {"code": code, "choice": choice})
    ok(platform, "POST", f"/api/v1/ballots/{ballot_id}:close", account="admin")
    ok(platform, "POST", f"/api/v1/ballots/{ballot_id}:publish", account="admin")
    return ballot_id


def open_ballot(platform: Platform, deputy_id: int) -> int:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    body = {"deputy_id": deputy_id, "held_on": today, "venue": "五山街代表联络站"}
    meeting = ok(platform, "POST", "/api/v1/report-meetings", body, "admin")
    ballot = ok(platform, "POST", f"/api/v1/report-meetings/{meeting['id']}/ballot", None, "admin")
    return int(ballot["id"])


def issue(platform: Platform, ballot_id: int, count: int) -> list[str]:
    body = {"count": count}
    return list(ok(platform, "POST", f"/api/v1/ballots/{ballot_id}/codes", body, "admin")["codes"])


def record_with(platform: Platform, deputy_id: int, kind: str) -> dict[str, Any]:
    """The deputy's record of this year once it holds an entry of `kind` and
    has settled (the record is gathered from events, the demo's among them:
    a moment after the facts), as two reads a second apart agree."""
    url = f"/api/v1/deputies/{deputy_id}/duty-record?page_size=20"
    deadline = time.monotonic() + 90
    last: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        record = ok(platform, "GET", url)
        if any(c["kind"] == kind and c["count"] for c in record["counts"]) and record == last:
            return record  # type: ignore[no-any-return]
        last = record
        time.sleep(1)
    raise AssertionError(f"deputy {deputy_id}'s record has no {kind} entry or does not settle")


def test_a_deputys_page_shows_the_duty_record_and_the_ratings(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    community, deputies = station_deputies(platform)
    assert len(deputies) >= 2, "one deputy's page, another rated in the next test"
    deputy = deputies[0]
    published_ballot(platform, deputy["id"], ["satisfied"] * (MIN_TURNOUT - 1) + ["dissatisfied"])
    record = record_with(platform, deputy["id"], "report_rated")
    comment = "接待选民很耐心，反映的问题都有回音。"
    body = {"level": "basically_satisfied", "comment": comment}
    ok(platform, "POST", f"/api/v1/deputies/{deputy['id']}/ratings", body, "constituent")
    console = watch(page)

    # From the station found, the deputy's link.
    page.goto(f"{platform.base_url}/?address={urllib.parse.quote(community)}")
    link = page.locator(f"#outcome a.deputy-record-link[href='#/deputies/{deputy['id']}']").first
    assert link.get_attribute("aria-label") == f"{deputy['name']}的履职档案和选民评价"
    link.click()
    view = page.locator("#duties-view")
    heading = view.locator("h2.duties-heading")
    heading.wait_for()
    assert page.locator("#search").is_hidden(), "the search steps aside"
    page.wait_for_function(
        "name => document.querySelector('#duties-view h2').textContent === name", arg=deputy["name"]
    )
    assert page.evaluate("document.activeElement.tagName") == "H2"
    assert view.locator("#duties-year").input_value() == str(this_year())

    # The five ones of the year, as the scorecard has them (public).
    card = ok(platform, "GET", f"/api/v1/deputies/{deputy['id']}/scorecard")
    five = view.locator("section.duties-scorecard")
    five.locator(".duties-body[aria-busy=false] ul.five-ones").wait_for()
    assert five.locator("li.five-one").count() == len(card["items"]) == 5
    said = {"done": "已完成", "short": "尚未完成", "not_due": "本年度不需"}
    for item in card["items"]:
        row = five.locator(f"li.five-one[data-item={item['item']}]")
        assert row.get_attribute("data-status") == item["status"], item
        assert row.locator(".five-one-status").inner_text() == said[item["status"]]

    # The record: the counts of every kind done, the entries of the first page.
    section = view.locator("section.duties-record")
    section.locator(".duties-body[aria-busy=false] table.duty-counts").wait_for()
    done = [c for c in record["counts"] if c["count"]]
    rows = section.locator("table.duty-counts tbody tr")
    assert rows.count() == len(done)
    for c in done:
        row = section.locator(f"table.duty-counts tr[data-key='{c['kind']}']")
        assert row.locator("td").all_inner_texts() == [str(c["count"]), str(c["completed"])]
    assert section.locator("tr[data-key=report_rated] th").inner_text() == "履职报告测评"
    entries = section.locator("li.duty-entry")
    assert entries.count() == len(record["entries"]) == min(20, record["total_size"])
    assert f"共 {record['total_size']} 条" in section.locator("h4").inner_text()
    assert section.locator("li.duty-entry[data-kind=report_rated]").count() >= 1
    assert (section.locator("button.duties-more").count() == 1) == bool(record["next_page_token"])

    # The ratings: this year's counts and the published comment, never who.
    ratings = view.locator("section.duties-ratings")
    ratings.locator(".duties-body[aria-busy=false] table.rating-counts").wait_for()
    year_row = ratings.locator(f"table.rating-counts tr[data-key='{this_year()}'] td")
    assert year_row.all_inner_texts() == ["0", "1", "0", "1"]
    shown = ratings.locator("li.rating-comment")
    assert shown.count() == 1
    assert shown.locator(".rating-text").inner_text() == comment
    assert shown.locator(".rating-level").inner_text() == "基本满意"
    assert "演示选民" not in view.inner_text()
    # Signed out: rating and reporting ask for the sign-in.
    assert ratings.locator("#duties-sign-in").is_visible()
    assert shown.locator("button").count() == 0
    page.screenshot(path=str(screenshots / "portal-deputy-record.png"), full_page=True)

    # Another year: what the API has of it.
    last_year = this_year() - 1
    view.locator("#duties-year").select_option(str(last_year))
    hash_ = f"#/deputies/{deputy['id']}/{last_year}"
    page.wait_for_function("hash => window.location.hash === hash", arg=hash_)
    past = ok(platform, "GET", f"/api/v1/deputies/{deputy['id']}/duty-record?year={last_year}")
    body_ = section.locator(".duties-body")
    if past["total_size"]:
        expect(body_.locator("li.duty-entry")).to_have_count(min(20, past["total_size"]))
    else:
        expect(body_).to_have_text("这一年暂无履职记录。")

    # In English too; back to the search.
    page.locator("#lang").click()
    view.locator("section.duties-ratings h3").wait_for()
    assert view.locator("section.duties-ratings h3").inner_text() == "Constituents' ratings"
    page.locator("#lang").click()
    view.locator("a.duties-back").click()
    page.locator("#search").wait_for()
    assert page.locator("#duties-view").is_hidden()
    assert console.unexpected(*EXPECTED_REFUSALS) == []


def test_a_constituent_rates_a_deputy_once_a_year(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    deputy = unrated_deputy(platform)
    console = watch(page)
    sign_in(page, platform.base_url)
    page.goto(f"{platform.base_url}/#/deputies/{deputy['id']}")
    form = page.locator("#duties-view form.rate-deputy-form")
    form.wait_for()

    # Sent without a level: the API's refusal names it, next to it.
    form.get_by_role("button", name="提交评价").click()
    error = form.locator("[data-field=level] .field-error:not([hidden])")
    error.wait_for()
    assert error.inner_text()
    assert form.locator(".form-status").get_attribute("role") == "alert"

    form.get_by_label("满意", exact=True).check()
    comment = "每月都在联络站见到他，办事认真。"
    form.get_by_label("留言（可不填）").fill(comment)
    form.get_by_role("button", name="提交评价").click()
    outcome = page.locator("#duties-view .rate-outcome .form-ok")
    outcome.wait_for()
    assert outcome.inner_text() == "已收到您的评价：满意。谢谢！"
    ratings = page.locator("#duties-view section.duties-ratings")
    row = ratings.locator(f"table.rating-counts tr[data-key='{this_year()}'] td")
    row.first.wait_for()
    assert row.all_inner_texts() == ["1", "0", "0", "1"]
    assert ratings.locator("li.rating-comment .rating-text").inner_text() == comment
    page.screenshot(path=str(screenshots / "portal-deputy-rated.png"), full_page=True)

    # A second rating in the year: the service's 409, in the page; nothing changed.
    page.reload()
    form = page.locator("#duties-view form.rate-deputy-form")
    form.get_by_label("不满意").check()
    form.get_by_role("button", name="提交评价").click()
    refused = form.locator(".form-status .form-error")
    refused.wait_for()
    year = this_year()
    assert refused.inner_text() == (
        f"评价没有提交：you have rated deputy {deputy['id']} in {year} already: "
        "one rating per deputy a year; nothing was changed"
    )
    counts = ok(platform, "GET", f"/api/v1/deputies/{deputy['id']}/ratings")["years"]
    assert [(c["year"], c["satisfied"], c["dissatisfied"]) for c in counts] == [(year, 1, 0)]

    # The comment reported as abusive, signed in; a second report is refused.
    item = ratings.locator("li.rating-comment").first
    item.get_by_role("button", name="举报不当留言").click()
    item.get_by_label("举报理由").fill("测试举报")
    item.get_by_role("button", name="提交举报").click()
    item.locator(".report-done").wait_for()
    page.reload()
    item = page.locator("#duties-view li.rating-comment").first
    item.get_by_role("button", name="举报不当留言").click()
    item.get_by_label("举报理由").fill("再次举报")
    item.get_by_role("button", name="提交举报").click()
    again = item.locator(".form-status .form-error")
    again.wait_for()
    assert again.inner_text().startswith("举报没有提交：")
    assert console.unexpected(*EXPECTED_REFUSALS) == []


def test_a_voter_votes_with_a_code_once_and_sees_the_published_result(
    platform: Platform, page: Any, watch: Any, screenshots: Path
) -> None:
    _, deputies = station_deputies(platform)
    deputy = deputies[0]
    ballot_id = open_ballot(platform, deputy["id"])
    codes = issue(platform, ballot_id, MIN_TURNOUT + 1)
    console = watch(page)
    url = f"{platform.base_url}/#/ballots/{ballot_id}"
    page.goto(url)
    form = page.locator("#duties-view form.vote-form")
    form.wait_for()
    assert page.locator("#account").inner_text() == "", "no sign-in"

    def vote(code: str, choice: str, comment: str = "") -> None:
        form.get_by_label("测评码").fill(code)
        form.get_by_label(choice, exact=True).check()
        if comment:
            form.get_by_label("意见（可不填）").fill(comment)
        form.get_by_role("button", name="投票").click()

    # Typed loosely (lower case, spaces for hyphens): the service forgives it.
    typed = codes[0].lower().replace("-", " ")
    vote(typed, "基本满意", "希望多到小区走走")
    done = page.locator("#duties-view .vote-done h3")
    done.wait_for()
    assert done.inner_text() == "您的票已投出，谢谢参与！"
    assert page.evaluate("document.activeElement.tagName") == "H3"
    shown = page.locator("#duties-view").inner_text()
    assert "基本满意" not in shown and "希望多到" not in shown and codes[0] not in shown
    page.screenshot(path=str(screenshots / "portal-ballot-voted.png"), full_page=True)

    # The same code again: refused with the service's message.
    page.reload()
    form.wait_for()
    vote(codes[0], "不满意")
    refused = form.locator(".form-status .form-error")
    refused.wait_for()
    assert refused.inner_text() == "没有投上：this code has voted already: a code votes once"
    # A code that is none of this ballot's: named next to the code.
    vote("m9xd 7qk2 rw3c 4htb", "满意")
    wrong = form.locator("[data-field=code] .field-error:not([hidden])")
    wrong.wait_for()
    assert wrong.inner_text().endswith(f"is not a code of ballot {ballot_id}")
    page.screenshot(path=str(screenshots / "portal-ballot-refused.png"), full_page=True)

    # The rest vote; closed, the last code is refused with the service's message.
    for code in codes[1:MIN_TURNOUT]:
        body = {"code": code, "choice": "satisfied"}
        ok(platform, "POST", f"/api/v1/ballots/{ballot_id}/votes", body)
    ok(platform, "POST", f"/api/v1/ballots/{ballot_id}:close", account="admin")
    assert call(platform, "GET", f"/api/v1/ballots/{ballot_id}/result").status_code >= 400
    page.reload()
    form.wait_for()
    vote(codes[MIN_TURNOUT], "满意")
    closed = form.locator(".form-status .form-error")
    closed.wait_for()
    assert closed.inner_text() == f"没有投上：ballot {ballot_id} is closed: it takes no more votes"

    # Published: the result, on the same address.
    ok(platform, "POST", f"/api/v1/ballots/{ballot_id}:publish", account="admin")
    page.reload()
    result = page.locator("#duties-view section.ballot-result")
    result.wait_for()
    expected = {
        "satisfied": "9",
        "basically_satisfied": "1",
        "dissatisfied": "0",
        "papers_cast": str(MIN_TURNOUT),
        "codes_issued": str(MIN_TURNOUT + 1),
        "share": "100%",
    }
    for key, value in expected.items():
        assert result.locator(f"dd[data-key={key}]").inner_text() == value, key
    assert page.locator("#duties-view form.vote-form").count() == 0
    link = result.locator("a.ballot-deputy")
    assert link.get_attribute("href") == f"#/deputies/{deputy['id']}/{this_year()}"
    page.screenshot(path=str(screenshots / "portal-ballot-result.png"), full_page=True)
    assert console.unexpected(*EXPECTED_REFUSALS) == []

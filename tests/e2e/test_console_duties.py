"""The console's duty screens in a real browser, against the whole platform
with its demo data: the street committee of street 1 schedules a deputy's
report meeting, records a question answered on the spot, opens the ballot,
issues codes and finds them on the printable sheet of slips (each with the
portal's voting address), the voters vote through the API with those very
codes, and the committee closes the ballot, reads the result and the
comments and publishes it; a learning material is published and its
readership shown; and the five-ones dashboard draws street 1's shortfalls
as a chart with its table, a deputy's scorecard opening on click."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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

VOTERS = 10  # the default minimum turnout: the result is shown
ITEMS = ["training", "suggestion", "research", "duty_report", "visit"]


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


def token(base_url: str, account: str) -> str:
    status, body = call(base_url, None, "POST", "/api/v1/dev/tokens", {"account": account})
    assert status == 200, body
    return str(body["access_token"])


def signed_in(new_page: Any, base_url: str, account: str) -> Any:
    page = new_page(1280, 900)
    sign_in(page, base_url, account)
    return page


def street_1_deputy_without_meeting(base_url: str, committee: str) -> dict[str, Any]:
    """A deputy of street 1 (not the demo deputy 1, of street 15) with no
    report meeting this year yet, so that the test's meeting is theirs alone."""
    year = dt.datetime.now(ZoneInfo("Asia/Shanghai")).year
    status, meetings = call(
        base_url,
        committee,
        "GET",
        f"/api/v1/report-meetings?street_id=1&year={year}&page_size=500",
    )
    assert status == 200, meetings
    taken = {m["deputy_id"] for m in meetings["items"]}
    deputies = get_json(f"{base_url}/api/v1/deputies?street_id=1&page_size=500")["items"]
    free = [d for d in deputies if d["id"] != 1 and d["id"] not in taken]
    assert free, "a deputy of street 1 without a meeting this year"
    return free[0]  # type: ignore[no-any-return]


def test_a_report_meeting_its_ballot_printed_slips_votes_and_published_result(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    committee = token(base, "street-committee")
    deputy = street_1_deputy_without_meeting(base, committee)
    page = signed_in(new_page, base, "street-committee")
    console = watch(page)
    page.on("dialog", lambda dialog: dialog.accept())

    page.get_by_role("link", name="履职报告").click()
    page.get_by_role("heading", name="代表履职报告与满意度测评", level=1).wait_for()
    assert page.locator("nav a[aria-current=page]").inner_text() == "履职报告"
    form = page.locator("#schedule-form")
    form.wait_for()
    page.locator("#report-plan h2").wait_for()

    # A venue left empty is refused at its field, nothing scheduled.
    form.get_by_label("代表").select_option(str(deputy["id"]))
    form.get_by_role("button", name="安排").click()
    expect(page.locator("#schedule-venue")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#schedule-venue-error")).to_be_visible()
    assert page.url.endswith("#/reports")

    venue = f"五山街代表联络站 {uuid.uuid4().hex[:6]}"
    form.get_by_label("地点").fill(venue)
    form.get_by_role("button", name="安排").click()
    page.wait_for_url(re.compile(r"#/reports/\d+$"))
    meeting_id = int(page.url.rsplit("/", 1)[1])
    page.locator("#screen-title", has_text=deputy["name"]).wait_for()
    expect(page.locator("#meeting-facts")).to_contain_text(venue)

    # A question answered on the spot.
    page.get_by_label("提问（不记提问人姓名）").fill("小区门口的路灯什么时候修好？")
    page.get_by_label("代表的现场答复").fill("已转交街道城管科，本月底前修复。")
    page.get_by_role("button", name="记录这条问答").click()
    expect(page.locator("#qa-list li")).to_have_count(1)
    expect(page.locator("#qa-list")).to_contain_text("本月底前修复")

    # The ballot opened; codes issued and shown on the printable sheet.
    page.get_by_role("button", name="开始测评").click()
    page.locator("#codes-count").wait_for()
    expect(page.locator("#ballot-state")).to_contain_text("测评中")
    # Too many codes at once: refused at the field.
    page.locator("#codes-count").fill("501")
    page.get_by_role("button", name="发放测评码").click()
    expect(page.locator("#codes-count")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".slip")).to_have_count(0)

    page.locator("#codes-count").fill(str(VOTERS))
    page.get_by_role("button", name="发放测评码").click()
    expect(page.locator(".slip")).to_have_count(VOTERS)
    page.locator("#slip-sheet-title:focus").wait_for()
    expect(page.locator("#shown-once")).to_contain_text("测评码只显示这一次")
    expect(page.locator("#ballot-state")).to_contain_text(f"已发放测评码 {VOTERS} 个")
    meeting = call(base, committee, "GET", f"/api/v1/report-meetings/{meeting_id}")[1]
    ballot_id = meeting["ballot_id"]
    assert ballot_id
    urls = page.locator(".slip .slip-url").all_inner_texts()
    # The portal's ballot page (#/ballots/<id>), served at the site's root.
    assert urls == [f"{base}/#/ballots/{ballot_id}"] * VOTERS
    with urllib.request.urlopen(urls[0].split("#")[0], timeout=10) as portal:
        assert portal.status == 200 and "text/html" in portal.headers["Content-Type"]
    codes = page.locator(".slip .slip-code").all_inner_texts()
    assert len(set(codes)) == VOTERS
    assert all(re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", c) for c in codes), codes
    page.screenshot(path=str(screenshots / "console-ballot-slips.png"), full_page=True)

    # Printed, the sheet is the slips alone, each in its own box.
    page.emulate_media(media="print")
    assert not page.locator(".console-header").is_visible()
    assert not page.locator("#qa-form").is_visible()
    assert not page.locator("#print-slips").is_visible()
    expect(page.locator(".slip").first).to_be_visible()
    assert page.locator(".slip").first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
    assert "dashed" in page.locator(".slip").first.evaluate("e => getComputedStyle(e).borderStyle")
    page.pdf(path=str(screenshots / "console-ballot-slips.pdf"))
    page.emulate_media(media="screen")

    # The voters vote with the printed codes; a code votes once.
    choices = ["satisfied"] * 6 + ["basically_satisfied"] * 2 + ["dissatisfied"] * 2
    for n, (code, choice) in enumerate(zip(codes, choices, strict=True)):
        vote = {"code": code, "choice": choice, "comment": "希望多来社区听意见" if n == 0 else ""}
        status, body = call(base, None, "POST", f"/api/v1/ballots/{ballot_id}/votes", vote)
        assert status == 201, body
    again = {"code": codes[0], "choice": "dissatisfied"}
    status, body = call(base, None, "POST", f"/api/v1/ballots/{ballot_id}/votes", again)
    assert status == 409, body

    # Closed: the result and the comment shown, then published.
    page.get_by_role("button", name="结束测评").click()
    page.locator("#result-title:focus").wait_for()
    expect(page.locator("#ballot-state")).to_contain_text("已结束")
    expect(page.locator("#ballot-state")).to_contain_text(f"收回测评票 {VOTERS} 张")
    expect(page.locator("#result-share")).to_have_text("80%")
    table = page.locator("#result-table")
    for key, count in [("satisfied", 6), ("basically_satisfied", 2), ("dissatisfied", 2)]:
        expect(table.locator(f"tr[data-key={key}] td")).to_have_text(str(count))
    expect(table.locator("tr[data-key=papers] td")).to_have_text(str(VOTERS))
    expect(page.locator("#result-flag")).to_contain_text("达到再提名所需的 60%")
    expect(page.locator("#comment-list li")).to_have_text(["希望多来社区听意见"])
    # The sheet of codes is gone with the ballot closed.
    expect(page.locator(".slip")).to_have_count(0)

    page.get_by_role("button", name="公布结果").click()
    expect(page.locator("#published-note")).to_contain_text("结果已公布")
    expect(page.locator("#ballot-state")).to_contain_text("已公布")
    status, result = call(base, None, "GET", f"/api/v1/ballots/{ballot_id}/result")
    assert status == 200 and result["published"] is True, result
    assert (result["satisfied"], result["basically_satisfied"], result["dissatisfied"]) == (6, 2, 2)
    page.screenshot(path=str(screenshots / "console-ballot-result.png"), full_page=True)

    # Back on the list, the meeting is there with its ballot.
    page.get_by_role("link", name="返回履职报告列表").click()
    row = page.locator(f"#report-meetings tr[data-meeting='{meeting_id}']")
    expect(row).to_contain_text(deputy["name"])
    expect(row).to_contain_text(f"#{ballot_id}")
    assert console.unexpected(r"status of 40[49]", r"status of 422") == []


def test_a_learning_material_is_published_and_its_readers_shown(
    platform: Platform, new_page: Any, watch: Any
) -> None:
    base = platform.base_url
    page = signed_in(new_page, base, "street-committee")
    console = watch(page)
    page.get_by_role("link", name="学习教育").click()
    page.get_by_role("heading", name="代表学习教育", level=1).wait_for()
    form = page.locator("#publish-form")
    form.wait_for()

    # A video without its link is refused at the field.
    title = f"代表法学习辅导 {uuid.uuid4().hex[:6]}"
    form.get_by_label("标题").fill(title)
    form.get_by_label("类型").select_option("video")
    form.get_by_role("button", name="发布").click()
    expect(page.locator("#material-url")).to_have_attribute("aria-invalid", "true")

    form.get_by_label("类型").select_option("article")
    form.get_by_label("正文（文件、文章）").fill("代表要密切联系群众，按时参加学习。")
    form.get_by_role("button", name="发布").click()
    page.locator("#announce").get_by_text(f"已发布《{title}》。").wait_for()
    row = page.locator("#materials tr", has_text=title)
    expect(row).to_contain_text("文章")
    material_id = int(row.get_attribute("data-material") or 0)

    committee = token(base, "street-committee")
    status, made = call(base, committee, "GET", f"/api/v1/learning-materials/{material_id}")
    assert status == 200 and made["street_id"] == 1, made

    row.get_by_role("button").click()
    page.locator("#readers-title:focus").wait_for()
    status, readership = call(
        base, committee, "GET", f"/api/v1/learning-materials/{material_id}/readership"
    )
    assert status == 200, readership
    assert readership["read"] == []
    expect(page.locator("#readers-not-read li")).to_have_count(len(readership["not_read"]))
    expect(page.locator("#material-readers h3").first).to_have_text("已读 0 位")
    assert console.unexpected(r"status of 422") == []


def test_the_five_ones_dashboard_draws_street_1(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    page = signed_in(new_page, base, "street-committee")
    console = watch(page)
    page.get_by_role("link", name="五个一").click()
    page.get_by_role("heading", name="代表“五个一”履职情况", level=1).wait_for()
    page.locator("#score-figures[aria-busy=false]").wait_for()

    committee = token(base, "street-committee")
    status, figures = call(base, committee, "GET", "/api/v1/scorecard/shortfalls?street_id=1")
    assert status == 200, figures
    expect(page.locator("#score-summary")).to_contain_text(f"{figures['deputies']} 位代表")
    if figures["open"]:
        expect(page.locator("#score-days-left")).to_contain_text(f"{figures['days_left']} 天")

    # One bar and one row per item, each with its count.
    chart = page.locator("#chart-five-ones svg[role=img]")
    chart.wait_for()
    expect(page.locator("#chart-five-ones g.bar")).to_have_count(5)
    counts = {i["item"]: i["count"] for i in figures["items"]}
    for item in ITEMS:
        cell = page.locator(f"#chart-five-ones tr[data-key={item}] td").first
        expect(cell).to_have_text(str(counts.get(item, 0)))
    assert "参加一次培训" in (page.locator("#chart-five-ones desc").text_content() or "")
    page.screenshot(path=str(screenshots / "console-five-ones.png"), full_page=True)

    # Who is short of which; a deputy's scorecard with its evidence on click.
    short = sorted({d for i in figures["items"] for d in i["deputy_ids"]})
    expect(page.locator("#shortfall-table tbody tr")).to_have_count(len(short))
    if short:
        first = short[0]
        row = page.locator(f"#shortfall-table tr[data-deputy='{first}']")
        short_items = [i["item"] for i in figures["items"] if first in i["deputy_ids"]]
        expect(row.locator("td.short-mark")).to_have_count(len(short_items))
        row.get_by_role("button").click()
        page.locator("#score-card-title:focus").wait_for()
        expect(page.locator("#scorecard-items > li")).to_have_count(5)
        for item in short_items:
            expect(page.locator(f"#scorecard-items li[data-item={item}]")).to_contain_text("未完成")
    assert console.unexpected() == []

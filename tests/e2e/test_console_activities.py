"""The console's activities, research and visits screens in a real browser,
against the whole platform with its demo district: street 1's committee
holds a training, invites a deputy, records the attendance and sees it in
the year's figures; a deputy of street 1 proposes research, the committee
funds it and is refused a grant above what the budget line has left, the
refusal shown at the amount; the committee records a visit, adds a
follow-up and answers it; and a refused action's problem is shown at its
field with nothing made."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kit.testrun import Platform

try:
    from tests.e2e.test_console import get_json
    from tests.e2e.test_console_letters import as_, call, signed_in, signed_in_as_deputy
except ImportError:  # the repository's root is not on the path
    from test_console import get_json  # type: ignore[no-redef]
    from test_console_letters import (  # type: ignore[no-redef]
        as_,
        call,
        signed_in,
        signed_in_as_deputy,
    )

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.usefixtures("chromium"),
]

YEAR = dt.datetime.now(ZoneInfo("Asia/Shanghai")).year


def today() -> dt.date:
    """Today in Asia/Shanghai when asked (a run may pass midnight)."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


REFUSED = r"status of 4\d\d"  # the browser logs each refused request


def deputies_of_street_1(base_url: str) -> list[Any]:
    items = get_json(f"{base_url}/api/v1/deputies?street_id=1&page_size=500")["items"]
    return [d for d in items if d.get("active", True)]


def deputy_token(base_url: str, deputy_id: int) -> str:
    status, issued = call(
        base_url, None, "POST", "/api/v1/dev/tokens", {"account": "deputy", "deputy_id": deputy_id}
    )
    assert status == 200, issued
    return str(issued["access_token"])


def training_figures(base_url: str) -> dict[str, int]:
    figures = as_(base_url, "street-committee", "GET", f"/api/v1/activity-figures?year={YEAR}")
    found = [k for k in figures["by_kind"] if k.get("kind") == "training"]
    return found[0] if found else {"activities": 0, "person_times": 0}


def operations_line(base_url: str) -> int:
    """Street 1's operations line of this year (made by the admin if the
    demo's budget is of another year)."""
    units = get_json(f"{base_url}/api/v1/units?street_id=1&kind=street_committee")["items"]
    unit = units[0]["id"]
    path = f"/api/v1/budget-lines?unit_id={unit}&year={YEAR}"
    lines = as_(base_url, "admin", "GET", path)["items"]
    found = [line["id"] for line in lines if line["kind"] == "operations"]
    if found:
        return int(found[0])
    body = {"unit_id": unit, "year": YEAR, "kind": "operations", "amount_yuan": 400_000}
    return int(as_(base_url, "admin", "POST", "/api/v1/budget-lines", body)["id"])


def test_a_training_is_held_and_counted_in_the_figures(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    deputy = deputies_of_street_1(base)[0]
    before = training_figures(base)
    title = f"代表履职培训 {uuid.uuid4().hex[:6]}"

    page = signed_in(new_page, base, "street-committee")
    console = watch(page)
    page.goto(f"{base}/console/#/activities")
    page.get_by_role("heading", name="代表活动", level=1).wait_for()
    assert page.locator("nav a[aria-current=page]").inner_text() == "代表活动"
    page.locator("#activity-figures[aria-busy=false]").wait_for()
    # Trainings are the first kind offered.
    assert page.locator("#new-kind option").first.get_attribute("value") == "training"
    page.locator("#new-kind").select_option("training")
    page.locator("#new-title").fill(title)
    page.locator("#new-starts").fill(today().isoformat())
    page.locator("#new-place").fill("街道代表之家")
    street = get_json(f"{base}/api/v1/streets/1")["name"]
    assert page.locator("#new-organiser").input_value() == f"{street}人大工委"  # prefilled
    page.locator("#new-submit").click()
    page.locator("#screen-title", has_text=title).wait_for()
    page.locator("#activity-detail[aria-busy=false]").wait_for()

    # Invite a deputy of the street from the directory's list.
    page.locator(f"#invite-{deputy['id']}").check()
    page.locator("#invite-submit").click()
    page.locator("#announce").get_by_text("已邀请 1 位代表").wait_for()
    row = page.locator(f"#invitations tr[data-deputy='{deputy['id']}']")
    assert deputy["name"] in row.inner_text()
    assert row.locator(".attendance").inner_text() == "未记录"

    # From the first day on, the attendance.
    page.locator(f"#attendance-{deputy['id']}").select_option("attended")
    page.screenshot(path=str(screenshots / "console-activity.png"), full_page=True)
    page.locator("#attendance-submit").click()
    page.locator("#announce").get_by_text("已记录 1 位代表的出席情况").wait_for()
    assert row.locator(".attendance").inner_text() == "出席"
    activity_id = int(page.url.rsplit("/", 1)[1])
    made = as_(base, "street-committee", "GET", f"/api/v1/activities/{activity_id}")
    assert made["kind"] == "training" and made["attended"] == 1

    # The year's figures count it: one training more, one person-time more.
    page.locator("a", has_text="返回活动列表").click()
    page.locator("#activity-figures[aria-busy=false]").wait_for()
    page.locator("#activity-list[aria-busy=false]").wait_for()  # loaded on its own
    assert page.locator(f"#activity-list tr[data-activity='{activity_id}']").count() == 1
    after = training_figures(base)
    assert after["activities"] == before.get("activities", 0) + 1
    assert after["person_times"] == before.get("person_times", 0) + 1
    chart_row = page.locator("#chart-activity-kinds tr[data-key=training]")
    assert chart_row.count() == 1, page.locator("#activity-figures").inner_text()
    cells = chart_row.locator("td").all_inner_texts()
    assert cells[0] == str(after["person_times"]) and cells[1] == str(after["activities"])
    assert page.locator("#chart-activity-kinds svg g[data-key=training]").count() == 1
    page.screenshot(path=str(screenshots / "console-activity-figures.png"), full_page=True)
    assert console.unexpected() == []


def test_an_invited_deputy_signs_up_and_the_organiser_sees_it(
    platform: Platform, new_page: Any, watch: Any
) -> None:
    base = platform.base_url
    deputy = deputies_of_street_1(base)[1]
    title = f"代表座谈 {uuid.uuid4().hex[:6]}"
    body = {
        "kind": "forum",
        "title": title,
        "starts_on": (today() + dt.timedelta(days=7)).isoformat(),
        "place": "联络站",
        "organiser": "街道人大工委",
    }
    made = as_(base, "street-committee", "POST", "/api/v1/activities", body)
    path = f"/api/v1/activities/{made['id']}/invitations"
    as_(base, "street-committee", "POST", path, {"deputy_ids": [deputy["id"]]})

    page = signed_in_as_deputy(new_page, base, deputy["id"])
    console = watch(page)
    page.goto(f"{base}/console/#/activities")
    page.locator(f"#activity-list tr[data-activity='{made['id']}'] a").click()
    page.locator("#screen-title", has_text=title).wait_for()
    page.locator("#sign-up").click()
    page.locator("#announce").get_by_text(f"已报名参加 {title}").wait_for()
    assert page.locator("#sign-up").count() == 0
    assert console.unexpected(REFUSED) == []

    staff = signed_in(new_page, base, "street-committee")
    staff.goto(f"{base}/console/#/activities/{made['id']}")
    row = staff.locator(f"#invitations tr[data-deputy='{deputy['id']}']")
    row.wait_for()
    assert row.locator(".signed-up").inner_text() != "未报名"
    # Before the first day, no attendance is taken.
    assert staff.locator("#attendance-not-yet").is_visible()


def test_research_is_funded_and_a_grant_above_the_line_is_refused_at_the_amount(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    deputy = deputies_of_street_1(base)[2]
    line = operations_line(base)
    small = f"老旧小区加装电梯调研 {uuid.uuid4().hex[:6]}"

    # The deputy proposes in the console.
    page = signed_in_as_deputy(new_page, base, deputy["id"])
    console = watch(page)
    page.goto(f"{base}/console/#/research")
    page.locator("#propose-form").wait_for()
    page.locator("#propose-name").fill(small)
    page.locator("#propose-plan").fill("走访三个社区，召开两次座谈会")
    page.locator("#propose-amount").fill("1500")
    page.locator("#propose-submit").click()
    page.locator("#announce").get_by_text(f"已提交选题“{small}”").wait_for()
    assert console.unexpected() == []
    # A topic asking for more than any street's line holds, through the API.
    big = {"title": "全区养老服务设施调研", "plan": "全区调研", "amount_requested_yuan": 9_000_000}
    status, huge = call(base, deputy_token(base, deputy["id"]), "POST", "/api/v1/research", big)
    assert status == 201, huge
    listed = as_(base, "street-committee", "GET", f"/api/v1/research?year={YEAR}&page_size=500")
    mine = next(r for r in listed["items"] if r["title"] == small)

    staff = signed_in(new_page, base, "street-committee")
    staff_console = watch(staff)
    staff.goto(f"{base}/console/#/research")
    staff.locator("#research-body[aria-busy=false]").wait_for()
    remaining = staff.locator("#line-remaining")
    left_before = int(remaining.get_attribute("data-left") or "0")
    assert left_before > 1500, "street 1's line has room for the small grant"
    assert f"科目 {line}" in remaining.inner_text()

    # The small one, funded with less than asked.
    card = staff.locator(f"#research-{mine['id']}")
    assert "1,500" in card.inner_text()  # the amount requested
    card.locator(f"#approve-amount-{mine['id']}").fill("1200")
    card.locator(f"#approve-{mine['id']}").click()
    staff.locator("#announce").get_by_text(f"已资助“{small}”").wait_for()
    assert as_(base, "admin", "GET", f"/api/v1/research/{mine['id']}")["state"] == "approved"
    assert int(staff.locator("#line-remaining").get_attribute("data-left") or "0") == (
        left_before - 1200
    )

    # The big one, refused: the problem names what is left, next to the amount.
    amount = staff.locator(f"#approve-amount-{huge['id']}")
    amount.fill("9000000")
    staff.locator(f"#approve-{huge['id']}").click()
    problem = staff.locator(f".error[data-for='approve-amount-{huge['id']}']")
    problem.wait_for()
    text = problem.inner_text()
    assert "remaining" in text and str(left_before - 1200) in text, text
    # Right after the field, in the same form.
    beside = amount.evaluate("n => n.nextElementSibling.getAttribute('data-for')")
    assert beside == amount.get_attribute("id")
    assert as_(base, "admin", "GET", f"/api/v1/research/{huge['id']}")["state"] == "proposed"
    staff.screenshot(path=str(screenshots / "console-research-refused.png"), full_page=True)
    assert staff_console.unexpected(REFUSED) == []

    # The deputy reports on the funded topic; the office acknowledges it.
    page.reload()  # the deputy's page, still on #/research: read again
    page.locator(f"#report-text-{mine['id']}").fill("三个社区均有加装意愿，建议简化审批。")
    page.locator(f"#report-{mine['id']}").click()
    page.locator("#announce").get_by_text(f"已提交“{small}”的调研报告").wait_for()
    office = signed_in(new_page, base, "standing-committee-office")
    office.goto(f"{base}/console/#/research")
    office.locator(f"#acknowledge-{mine['id']}").click()
    office.locator("#announce").get_by_text(f"已阅知“{small}”的调研报告").wait_for()
    assert as_(base, "admin", "GET", f"/api/v1/research/{mine['id']}")["state"] == "acknowledged"


def test_a_visit_is_recorded_with_a_follow_up_answered(
    platform: Platform, new_page: Any, watch: Any, screenshots: Path
) -> None:
    base = platform.base_url
    deputy = deputies_of_street_1(base)[3]
    raised = f"社区停车难，希望增设停车位 {uuid.uuid4().hex[:6]}"

    page = signed_in(new_page, base, "street-committee")
    console = watch(page)
    page.goto(f"{base}/console/#/visits")
    page.get_by_role("heading", name="走访代表", level=1).wait_for()
    page.locator("#visit-coverage[aria-busy=false]").wait_for()
    coverage = as_(base, "street-committee", "GET", f"/api/v1/visit-coverage?year={YEAR}")
    assert f"已走访 {coverage['visited']} 位" in page.locator("#coverage-text").inner_text()
    page.locator("#visit-list[aria-busy=false]").wait_for()
    page.locator("#visit-deputy").select_option(str(deputy["id"]))
    page.locator("#visit-visitors").fill("张工委、李干事")
    page.locator("#visit-place").fill("代表所在单位")
    page.locator("#visit-raised").fill(raised)
    page.locator("#visit-submit").click()
    page.locator("#screen-title", has_text=deputy["name"]).wait_for()
    page.locator("#visit-detail[aria-busy=false]").wait_for()
    assert raised in page.locator("#visit-detail dl.facts").inner_text()

    page.locator("#follow-up-text").fill("向区住建局反映停车位规划")
    page.locator("#follow-up-submit").click()
    page.locator("#announce").get_by_text("已增加跟进事项").wait_for()
    entry = page.locator("#follow-ups li[data-follow-up]")
    follow_up = entry.get_attribute("data-follow-up")
    page.locator(f"#answer-{follow_up}").fill("住建局答复：明年增设一百个车位")
    page.locator(f"#answer-submit-{follow_up}").click()
    page.locator("#announce").get_by_text("已保存答复").wait_for()
    assert "明年增设一百个车位" in entry.locator(".follow-up-answer").inner_text()
    visit_id = int(page.url.rsplit("/", 1)[1])
    visit = as_(base, "street-committee", "GET", f"/api/v1/visits/{visit_id}")
    assert visit["visitors"] == ["张工委", "李干事"]
    assert visit["follow_ups"][0]["answer"] == "住建局答复：明年增设一百个车位"
    page.screenshot(path=str(screenshots / "console-visit.png"), full_page=True)

    # The deputy is visited this year: not in the list of those who are not.
    page.locator("a", has_text="返回走访列表").click()
    page.locator("#visit-coverage[aria-busy=false]").wait_for()
    page.locator(f"#visit-list tr[data-visit='{visit_id}']").wait_for()
    assert page.locator(f"#visit-coverage li[data-deputy='{deputy['id']}']").count() == 0
    assert console.unexpected() == []


def test_a_refused_action_shows_its_problem_at_the_field_and_makes_nothing(
    platform: Platform, new_page: Any, watch: Any
) -> None:
    base = platform.base_url
    page = signed_in(new_page, base, "street-committee")
    console = watch(page)
    before = as_(base, "street-committee", "GET", f"/api/v1/visits?year={YEAR}&page_size=500")

    # A visit without visitors or place.
    page.goto(f"{base}/console/#/visits")
    page.locator("#visit-list[aria-busy=false]").wait_for()
    deputy = deputies_of_street_1(base)[4]
    page.locator("#visit-deputy").select_option(str(deputy["id"]))
    page.locator("#visit-submit").click()
    page.locator("#visit-form .error[role=alert]").wait_for()
    assert page.locator("#visit-visitors").get_attribute("aria-invalid") == "true"
    assert page.locator("#visit-visitors-error").inner_text()
    after = as_(base, "street-committee", "GET", f"/api/v1/visits?year={YEAR}&page_size=500")
    assert len(after["items"]) == len(before["items"])

    # An activity with no title.
    page.goto(f"{base}/console/#/activities")
    page.locator("#new-place").fill("街道代表之家")
    page.locator("#new-submit").click()
    page.locator("#new-activity .error[role=alert]").wait_for()
    assert page.locator("#new-title").get_attribute("aria-invalid") == "true"
    assert page.url.endswith("#/activities")
    assert console.unexpected(REFUSED) == []

    # The screens speak English too.
    page.locator("#lang").click()
    page.get_by_role("heading", name="Deputies' activities", level=1).wait_for()
    page.locator("nav a[data-screen=visits]").click()
    page.get_by_role("heading", name="Visits to deputies", level=1).wait_for()
    page.locator("#visit-coverage[aria-busy=false]").wait_for()
    assert "serving deputies visited" in page.locator("#coverage-text").inner_text()

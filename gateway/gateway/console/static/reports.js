// The console's duty reports to voters (履职报告, #/reports): the street
// committee schedules a deputy's report meeting, records the questions
// answered on the spot, opens the meeting's secret ballot, issues one code
// per voter present and prints them as a sheet of slips (each slip: the
// portal's voting address and one code; the codes are answered once and
// shown only here, now), closes the ballot, reads the
// result (or that it is withheld below the minimum turnout), publishes it,
// and reads the voters' comments for the deputy. Beside the meetings, the
// year's duty-report plan: who is due to report this year, per street.
//
// Routes: #/reports (the list, the plan, scheduling) and #/reports/<id> (a
// meeting and its ballot). The service decides who may do what; a refusal
// is shown as its problem.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  C.addText({
    "zh-CN": {
      navReports: "履职报告",
      repTitle: "代表履职报告与满意度测评",
      repYear: "年度",
      repStreet: "街道",
      repShow: "显示",
      repMeetings: "{year}年履职报告会",
      repNoMeetings: "这一年还没有安排履职报告会。",
      repDeputy: "代表",
      repDay: "日期",
      repVenue: "地点",
      repStatus: "状态",
      repBallot: "测评",
      repOpenMeeting: "查看",
      repScheduleTitle: "安排履职报告会",
      repSchedule: "安排",
      repScheduled: "已安排 {name} 在 {day} 的履职报告会。",
      repNoDeputies: "这个街道没有代表。",
      repPlanTitle: "{year}年应当报告履职的代表（履职报告计划）",
      repPlanHint: "每位代表在三年一届的周期中报告一次，每年约三分之一。",
      repPlanNone: "这一年没有安排报告的代表。",
      repPlanMissing: "还没有制定包含这一年的履职报告计划。",
      repPlanCount: "{street}：{count} 位",
      repPlanJoined: "计划制定后新增",
      repLevel: "级别",
      repNote: "说明",
      repPlanHeld: "已开报告会",
      repPlanNotHeld: "尚未安排",
      meetingStatus: { scheduled: "已安排", held: "已举行" },
      ballotStatus: { open: "测评中", closed: "已结束", published: "已公布" },
      repNoBallot: "未开始",
      repBack: "返回履职报告列表",
      repMeetingTitle: "{name}的履职报告会",
      repQaTitle: "现场提问与答复",
      repNoQuestions: "还没有记录现场提问。",
      repQuestion: "提问（不记提问人姓名）",
      repAnswer: "代表的现场答复",
      repRecord: "记录这条问答",
      repRecorded: "已记录一条问答。",
      repBallotTitle: "满意度测评（无记名）",
      repOpenBallot: "开始测评",
      repOpenBallotHint: "报告会当天或之后才能开始测评。",
      repBallotOpened: "测评已开始。请为到场选民发放测评码。",
      repCodesIssued: "已发放测评码 {count} 个。",
      repPapersCast: "收回测评票 {count} 张。",
      repCount: "到场选民人数（发放测评码个数）",
      repCountHint: "每次 1–500 个，每次测评最多 2000 个。",
      repIssue: "发放测评码",
      repIssued: "已生成 {count} 个测评码，请立即打印。",
      repSheetTitle: "测评票（{count} 张）",
      repShownOnce: "测评码只显示这一次：平台只保存测评码的摘要，离开或刷新本页后无法再次显示。请现在打印，裁开后背面朝上洗乱发放。",
      repPrint: "打印测评票",
      repSlipHeading: "代表履职满意度测评",
      repSlipDeputy: "代表：{name}",
      repSlipHow: "用手机打开下面的地址，输入测评码，选择“满意”“基本满意”或“不满意”。无需登录，不记名。每个测评码只能用一次。",
      repSlipAddress: "测评地址",
      repSlipCode: "测评码",
      repClose: "结束测评",
      repConfirmClose: "结束后不能再投票。确认结束测评？",
      repClosed: "测评已结束。",
      repResultTitle: "测评结果",
      repSatisfied: "满意",
      repBasically: "基本满意",
      repDissatisfied: "不满意",
      repPapers: "有效票",
      repShare: "满意和基本满意占比",
      repFlagged: "低于再提名所需的 {share}%：已提请再提名审查。",
      repNotFlagged: "达到再提名所需的 {share}%。",
      repWithheld: "收回的票数少于最低要求：为保护投票秘密，结果不显示，也不计入再提名审查。请另行召开报告会。",
      repWithheldPlain: "投票人数不足，结果不显示。",
      repResultWaiting: "测评结束后才有结果。",
      repPublish: "公布结果",
      repPublished: "结果已公布，计入代表的公开履职档案。",
      repPublishedWithheld: "已公布：票数不足，结果不显示。",
      repCommentsTitle: "选民意见（转交代表）",
      repNoComments: "没有选民留下意见。",
      repCommentsHint: "意见与选票分开保存，顺序随机，不带时间。",
      repCommentsNotYours: "选民意见只交给代表本人和所在街道人大工委。",
      repResultTitleCaption: "测评结果",
    },
    en: {
      navReports: "Duty reports",
      repTitle: "Deputies' duty reports and ballots",
      repYear: "Year",
      repStreet: "Street",
      repShow: "Show",
      repMeetings: "Report meetings of {year}",
      repNoMeetings: "No report meeting is scheduled this year.",
      repDeputy: "Deputy",
      repDay: "Day",
      repVenue: "Venue",
      repStatus: "Status",
      repBallot: "Ballot",
      repOpenMeeting: "Open",
      repScheduleTitle: "Schedule a report meeting",
      repSchedule: "Schedule",
      repScheduled: "{name}'s report meeting on {day} is scheduled.",
      repNoDeputies: "This street has no deputies.",
      repPlanTitle: "Due to report in {year} (the report plan)",
      repPlanHint: "Each deputy reports once in the three-year cycle, about a third each year.",
      repPlanNone: "Nobody is due to report this year.",
      repPlanMissing: "No report plan holds this year yet.",
      repPlanCount: "{street}: {count}",
      repPlanJoined: "Joined after planning",
      repLevel: "Level",
      repNote: "Note",
      repPlanHeld: "Meeting held or scheduled",
      repPlanNotHeld: "Not scheduled yet",
      meetingStatus: { scheduled: "Scheduled", held: "Held" },
      ballotStatus: { open: "Open", closed: "Closed", published: "Published" },
      repNoBallot: "Not opened",
      repBack: "Back to the duty reports",
      repMeetingTitle: "{name}'s report meeting",
      repQaTitle: "Questions answered on the spot",
      repNoQuestions: "No question recorded yet.",
      repQuestion: "Question (no name of who asked)",
      repAnswer: "The deputy's answer on the spot",
      repRecord: "Record this question",
      repRecorded: "A question and its answer are recorded.",
      repBallotTitle: "Secret ballot",
      repOpenBallot: "Open the ballot",
      repOpenBallotHint: "From the meeting's day on.",
      repBallotOpened: "The ballot is open. Issue a code to each voter present.",
      repCodesIssued: "{count} codes issued.",
      repPapersCast: "{count} papers cast.",
      repCount: "Voters present (codes to issue)",
      repCountHint: "1–500 a time, 2000 a ballot.",
      repIssue: "Issue codes",
      repIssued: "{count} codes are ready: print them now.",
      repSheetTitle: "Ballot slips ({count})",
      repShownOnce: "The codes are shown this once: the platform keeps only their hashes, and they cannot be shown again after you leave or reload this page. Print them now, cut them out and hand them out face down from a shuffled pile.",
      repPrint: "Print the slips",
      repSlipHeading: "Deputy's duty report: ballot",
      repSlipDeputy: "Deputy: {name}",
      repSlipHow: "Open the address below on a phone, type the code and choose satisfied, basically satisfied or dissatisfied. No sign-in, no name. A code votes once.",
      repSlipAddress: "Address",
      repSlipCode: "Code",
      repClose: "Close the ballot",
      repConfirmClose: "No more votes after closing. Close the ballot?",
      repClosed: "The ballot is closed.",
      repResultTitle: "Result",
      repSatisfied: "Satisfied",
      repBasically: "Basically satisfied",
      repDissatisfied: "Dissatisfied",
      repPapers: "Papers",
      repShare: "Satisfied and basically satisfied",
      repFlagged: "Below the {share}% needed for re-nomination: flagged for the re-nomination review.",
      repNotFlagged: "At or above the {share}% needed for re-nomination.",
      repWithheld: "Fewer papers than the minimum turnout were cast: to keep the votes secret the result is withheld and flags no one. Hold another meeting.",
      repWithheldPlain: "Too few papers: the result is withheld.",
      repResultWaiting: "The result comes after closing.",
      repPublish: "Publish the result",
      repPublished: "The result is published into the deputy's public duty record.",
      repPublishedWithheld: "Published: too few papers, the result is withheld.",
      repCommentsTitle: "Voters' comments, for the deputy",
      repNoComments: "No voter left a comment.",
      repCommentsHint: "Kept apart from the papers, in a random order, without times.",
      repCommentsNotYours: "The comments go to the deputy and their street committee only.",
      repResultTitleCaption: "Result",
    },
  });

  var state = { year: null, street: null };
  var names = { streets: {}, deputies: {} };

  function thisYear() {
    return Number(C.todayInShanghai().slice(0, 4));
  }

  function isDistrict(user) {
    return !user.claims.street_id;
  }

  function streetName(id) {
    return names.streets[id] || t("street") + " " + id;
  }

  function deputyName(id) {
    return names.deputies[id] || t("repDeputy") + " " + id;
  }

  function loadStreets() {
    if (Object.keys(names.streets).length) return Promise.resolve();
    return api("GET", "/api/v1/streets?page_size=100").then(function (reply) {
      if (!reply.ok) return;
      (reply.body.items || []).forEach(function (s) {
        names.streets[s.id] = s.name;
      });
    });
  }

  // The street's deputies (public), remembered by id; resolves to the list.
  function loadDeputies(street) {
    return api("GET", "/api/v1/deputies?street_id=" + street + "&page_size=500").then(function (reply) {
      var items = reply.ok ? reply.body.items || [] : [];
      items.forEach(function (d) {
        names.deputies[d.id] = d.name;
      });
      return items;
    });
  }

  function loadDeputy(id) {
    if (names.deputies[id]) return Promise.resolve();
    return api("GET", "/api/v1/deputies/" + id).then(function (reply) {
      if (reply.ok) names.deputies[id] = reply.body.name;
    });
  }

  function named(group, key) {
    return (t(group) || {})[key] || key;
  }

  function table(className, head, rows) {
    return el("div", { className: "table-scroll" }, [
      el("table", { className: className }, [
        el("thead", {}, [
          el(
            "tr",
            {},
            head.map(function (h) {
              return el("th", { scope: "col", text: h });
            })
          ),
        ]),
        el("tbody", {}, rows),
      ]),
    ]);
  }

  // ----------------------------------------------------------- the list

  function listScreen(user) {
    state.year = state.year || thisYear();
    if (!isDistrict(user)) state.street = user.claims.street_id;
    var year = el("input", { type: "number", name: "year", min: "2000", max: "2100", value: state.year, inputmode: "numeric" });
    var row = el("div", { className: "field-row" }, [C.field("reports-year", t("repYear"), year)]);
    var street = null;
    if (isDistrict(user)) {
      street = el("select", { name: "street_id" });
      row.appendChild(C.field("reports-street", t("repStreet"), street));
    }
    var meetings = el("section", { className: "panel", id: "report-meetings", "aria-labelledby": "meetings-title" });
    var schedule = el("section", { className: "panel", id: "report-schedule", "aria-labelledby": "schedule-title" });
    var plan = el("section", { className: "panel", id: "report-plan", "aria-labelledby": "plan-title" });
    var form = el(
      "form",
      {
        className: "board-filters",
        novalidate: true,
        "aria-label": t("repTitle"),
        onsubmit: function (event) {
          event.preventDefault();
          state.year = Number(year.value) || state.year;
          if (street) state.street = Number(street.value);
          load();
        },
      },
      [row, el("button", { type: "submit", text: t("repShow") })]
    );
    C.main.replaceChildren(el("h1", { id: "screen-title", tabindex: "-1", text: t("repTitle") }), form, meetings, schedule, plan);

    function load() {
      var deputies = loadDeputies(state.street);
      var query = new URLSearchParams({ year: String(state.year), street_id: String(state.street), page_size: "200" });
      meetings.setAttribute("aria-busy", "true");
      plan.setAttribute("aria-busy", "true");
      Promise.all([deputies, api("GET", "/api/v1/report-meetings?" + query.toString())]).then(function (results) {
        meetings.setAttribute("aria-busy", "false");
        showMeetings(meetings, results[1]);
        showSchedule(schedule, results[0]);
        api("GET", "/api/v1/report-plans/" + state.year + "?street_id=" + state.street).then(function (reply) {
          plan.setAttribute("aria-busy", "false");
          showPlan(plan, reply, results[1].ok ? results[1].body.items || [] : []);
        });
      });
    }

    loadStreets().then(function () {
      if (street) {
        var ids = Object.keys(names.streets).map(Number);
        if (!state.street && ids.length) state.street = ids[0];
        ids.forEach(function (id) {
          street.appendChild(el("option", { value: id, text: streetName(id), selected: id === state.street }));
        });
      }
      load();
    });
  }

  function showMeetings(section, reply) {
    var heading = el("h2", { id: "meetings-title", text: t("repMeetings", { year: state.year }) });
    if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
    var items = (reply.body.items || []).slice().sort(function (a, b) {
      return a.held_on < b.held_on ? 1 : a.held_on > b.held_on ? -1 : b.id - a.id;
    });
    if (!items.length) return section.replaceChildren(heading, el("p", { className: "note", id: "no-meetings", text: t("repNoMeetings") }));
    var rows = items.map(function (m) {
      return el("tr", { "data-meeting": m.id }, [
        el("th", { scope: "row" }, [el("a", { href: "#/reports/" + m.id, text: deputyName(m.deputy_id) })]),
        el("td", {}, [el("time", { datetime: m.held_on, text: m.held_on })]),
        el("td", { text: m.venue }),
        el("td", { text: named("meetingStatus", m.status) }),
        el("td", { text: m.ballot_id ? "#" + m.ballot_id : t("repNoBallot") }),
      ]);
    });
    section.replaceChildren(heading, table("queue-table meetings-table", [t("repDeputy"), t("repDay"), t("repVenue"), t("repStatus"), t("repBallot")], rows));
  }

  function showSchedule(section, deputies) {
    var heading = el("h2", { id: "schedule-title", text: t("repScheduleTitle") });
    if (!deputies.length) return section.replaceChildren(heading, el("p", { className: "note", text: t("repNoDeputies") }));
    var who = el("select", { name: "deputy_id" });
    deputies.forEach(function (d) {
      who.appendChild(el("option", { value: d.id, text: d.name }));
    });
    var day = el("input", { type: "date", name: "held_on", value: C.todayInShanghai(), required: true });
    var venue = el("input", { type: "text", name: "venue", maxlength: "200", required: true, autocomplete: "off" });
    var status = el("div", { className: "form-status" });
    var form = el(
      "form",
      {
        novalidate: true,
        id: "schedule-form",
        "aria-labelledby": "schedule-title",
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(form);
          status.replaceChildren();
          var body = { deputy_id: Number(who.value), held_on: day.value, venue: venue.value.trim() };
          api("POST", "/api/v1/report-meetings", body).then(function (reply) {
            if (!reply.ok) return status.replaceChildren(C.problemBox(reply, form));
            C.announce(t("repScheduled", { name: deputyName(reply.body.deputy_id), day: reply.body.held_on }));
            location.hash = "#/reports/" + reply.body.id;
          });
        },
      },
      [
        el("div", { className: "field-row" }, [
          C.field("schedule-deputy", t("repDeputy"), who),
          C.field("schedule-day", t("repDay"), day),
          C.field("schedule-venue", t("repVenue"), venue),
        ]),
        el("button", { type: "submit", text: t("repSchedule") }),
        status,
      ]
    );
    section.replaceChildren(heading, form);
  }

  // The plan's slots of the year, by street; a deputy with a meeting this
  // year is marked so.
  function showPlan(section, reply, meetings) {
    var heading = el("h2", { id: "plan-title", text: t("repPlanTitle", { year: state.year }) });
    var hint = el("p", { className: "hint", text: t("repPlanHint") });
    if (reply.status === 404) return section.replaceChildren(heading, hint, el("p", { className: "note", id: "plan-missing", text: t("repPlanMissing") }));
    if (!reply.ok) return section.replaceChildren(heading, hint, C.problemBox(reply));
    var slots = (reply.body.slots || []).filter(function (s) {
      return s.year === state.year;
    });
    if (!slots.length) return section.replaceChildren(heading, hint, el("p", { className: "note", text: t("repPlanNone") }));
    var met = {};
    meetings.forEach(function (m) {
      met[m.deputy_id] = true;
    });
    var byStreet = {};
    slots.forEach(function (s) {
      (byStreet[s.street_id] = byStreet[s.street_id] || []).push(s);
    });
    var children = [heading, hint];
    var missing = slots.filter(function (s) {
      return !names.deputies[s.deputy_id];
    });
    Promise.all(
      missing.slice(0, 60).map(function (s) {
        return loadDeputy(s.deputy_id);
      })
    ).then(function () {
      Object.keys(byStreet).forEach(function (streetId) {
        var rows = byStreet[streetId].map(function (s) {
          return el("tr", { "data-deputy": s.deputy_id }, [
            el("th", { scope: "row", text: deputyName(s.deputy_id) }),
            el("td", { text: s.level || "" }),
            el("td", { text: met[s.deputy_id] ? t("repPlanHeld") : t("repPlanNotHeld") }),
            el("td", { text: s.joined ? t("repPlanJoined") : "" }),
          ]);
        });
        children.push(el("h3", { text: t("repPlanCount", { street: streetName(Number(streetId)), count: rows.length }) }));
        children.push(table("queue-table plan-table", [t("repDeputy"), t("repLevel"), t("repStatus"), t("repNote")], rows));
      });
      section.replaceChildren.apply(section, children);
    });
  }

  // ------------------------------------------------------- one meeting

  function meetingScreen(user, id) {
    var back = el("a", { className: "back", href: "#/reports", text: t("repBack") });
    var title = el("h1", { id: "screen-title", tabindex: "-1", text: t("loading") });
    var facts = el("div", { id: "meeting-facts" });
    var qa = el("section", { className: "panel", id: "meeting-qa", "aria-labelledby": "qa-title" });
    var ballot = el("section", { className: "panel", id: "meeting-ballot", "aria-labelledby": "ballot-title" });
    var slips = el("div", { id: "slips-place" });
    C.main.replaceChildren(back, title, facts, qa, ballot, slips);

    function reload() {
      return api("GET", "/api/v1/report-meetings/" + id).then(function (reply) {
        if (!reply.ok) {
          title.textContent = t("repTitle");
          return facts.replaceChildren(C.problemBox(reply));
        }
        var m = reply.body;
        return loadDeputy(m.deputy_id).then(function () {
          title.textContent = t("repMeetingTitle", { name: deputyName(m.deputy_id) });
          facts.replaceChildren(
            el("dl", { className: "facts" }, [
              el("dt", { text: t("repDay") }),
              el("dd", {}, [el("time", { datetime: m.held_on, text: C.dayText(m.held_on) })]),
              el("dt", { text: t("repVenue") }),
              el("dd", { text: m.venue }),
              el("dt", { text: t("repStreet") }),
              el("dd", { text: streetName(m.street_id) }),
              el("dt", { text: t("repStatus") }),
              el("dd", { id: "meeting-status", text: named("meetingStatus", m.status) }),
            ])
          );
          showQuestions(qa, m, reload);
          return showBallot(ballot, slips, user, m, reload);
        });
      });
    }
    loadStreets().then(reload);
  }

  function showQuestions(section, meeting, reload) {
    var children = [el("h2", { id: "qa-title", text: t("repQaTitle") })];
    var questions = meeting.questions || [];
    if (!questions.length) children.push(el("p", { className: "note", text: t("repNoQuestions") }));
    else {
      var list = el("ol", { className: "qa-list", id: "qa-list" });
      questions.forEach(function (q) {
        list.appendChild(el("li", {}, [el("p", { className: "qa-question", text: q.question }), el("p", { className: "qa-answer", text: q.answer })]));
      });
      children.push(list);
    }
    var question = el("textarea", { name: "question", rows: "2", maxlength: "4000", required: true });
    var answer = el("textarea", { name: "answer", rows: "3", maxlength: "4000", required: true });
    var status = el("div", { className: "form-status" });
    var form = el(
      "form",
      {
        novalidate: true,
        id: "qa-form",
        "aria-labelledby": "qa-title",
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(form);
          status.replaceChildren();
          var body = { questions: [{ question: question.value.trim(), answer: answer.value.trim() }] };
          api("POST", "/api/v1/report-meetings/" + meeting.id + ":record-answers", body).then(function (reply) {
            if (!reply.ok) {
              // The fields are named questions[0].question / .answer.
              var box = C.problemBox(reply, form);
              (reply.body && reply.body.errors ? reply.body.errors : []).forEach(function (e) {
                var name = /answer$/.test(e.field || "") ? answer : /question$/.test(e.field || "") ? question : null;
                if (name) name.setAttribute("aria-invalid", "true");
              });
              return status.replaceChildren(box);
            }
            C.announce(t("repRecorded"));
            reload().then(function () {
              var again = document.getElementById("qa-question");
              if (again) again.focus();
            });
          });
        },
      },
      [C.field("qa-question", t("repQuestion"), question), C.field("qa-answer", t("repAnswer"), answer), el("button", { type: "submit", text: t("repRecord") }), status]
    );
    children.push(form);
    section.replaceChildren.apply(section, children);
  }

  function showBallot(section, slips, user, meeting, reload) {
    var heading = el("h2", { id: "ballot-title", text: t("repBallotTitle") });
    var status = el("div", { className: "form-status", id: "ballot-status" });
    if (!meeting.ballot_id) {
      var open = el("button", {
        type: "button",
        id: "open-ballot",
        text: t("repOpenBallot"),
        "aria-describedby": "open-ballot-hint",
        onclick: function () {
          open.disabled = true;
          api("POST", "/api/v1/report-meetings/" + meeting.id + "/ballot").then(function (reply) {
            open.disabled = false;
            if (!reply.ok) return status.replaceChildren(C.problemBox(reply));
            C.announce(t("repBallotOpened"));
            reload().then(function () {
              var count = document.getElementById("codes-count");
              if (count) count.focus();
            });
          });
        },
      });
      section.replaceChildren(heading, el("p", { className: "hint", id: "open-ballot-hint", text: t("repOpenBallotHint") }), open, status);
      return Promise.resolve();
    }
    return api("GET", "/api/v1/ballots/" + meeting.ballot_id).then(function (reply) {
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
      var b = reply.body;
      var children = [
        heading,
        el("p", { id: "ballot-state" }, [
          el("strong", { text: named("ballotStatus", b.status) }),
          " · " + t("repCodesIssued", { count: b.codes_issued }),
          b.status !== "open" ? " · " + t("repPapersCast", { count: b.papers_cast }) : "",
        ]),
      ];
      if (b.status === "open") {
        children.push(issueForm(b, meeting, slips, reload));
        var close = el("button", {
          type: "button",
          id: "close-ballot",
          className: "secondary",
          text: t("repClose"),
          onclick: function () {
            if (!window.confirm(t("repConfirmClose"))) return;
            close.disabled = true;
            api("POST", "/api/v1/ballots/" + b.id + ":close").then(function (reply) {
              close.disabled = false;
              if (!reply.ok) return status.replaceChildren(C.problemBox(reply));
              C.announce(t("repClosed"));
              reload().then(function () {
                var result = document.getElementById("result-title");
                if (result) result.focus();
              });
            });
          },
        });
        children.push(el("div", { className: "actions" }, [close]), status);
        section.replaceChildren.apply(section, children);
        return;
      }
      // Closed or published: the codes printed before are of no use now.
      slips.replaceChildren();
      children.push(status);
      section.replaceChildren.apply(section, children);
      return showResult(section, status, user, b, reload);
    });
  }

  function issueForm(ballot, meeting, slips, reload) {
    var count = el("input", { type: "number", name: "count", min: "1", max: "500", inputmode: "numeric", required: true });
    var status = el("div", { className: "form-status" });
    var form = el(
      "form",
      {
        novalidate: true,
        id: "codes-form",
        "aria-label": t("repIssue"),
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(form);
          status.replaceChildren();
          var wanted = count.value.trim() === "" ? null : Number(count.value);
          api("POST", "/api/v1/ballots/" + ballot.id + "/codes", { count: wanted }).then(function (reply) {
            if (!reply.ok) return status.replaceChildren(C.problemBox(reply, form));
            showSlips(slips, ballot, meeting, reply.body.codes);
            C.announce(t("repIssued", { count: reply.body.codes.length }));
            count.value = "";
            reload().then(function () {
              var sheet = document.getElementById("slip-sheet-title");
              if (sheet) sheet.focus();
            });
          });
        },
      },
      [C.field("codes-count", t("repCount"), count, t("repCountHint")), el("button", { type: "submit", text: t("repIssue") }), status]
    );
    return form;
  }

  // The printable sheet: one slip per code, each in its own cut-out box.
  // The codes live in this page only; nothing keeps them. The address is
  // the portal's ballot page (portal/duties.js, #/ballots/<id>), served at
  // the site's root: /portal/ holds only the portal's files.
  function showSlips(place, ballot, meeting, codes) {
    var address = location.origin + "/#/ballots/" + ballot.id;
    var sheet = el("section", { className: "slip-sheet", id: "slip-sheet", "aria-labelledby": "slip-sheet-title" }, [
      el("h2", { id: "slip-sheet-title", tabindex: "-1", text: t("repSheetTitle", { count: codes.length }) }),
      el("p", { className: "notice shown-once", id: "shown-once", role: "note", text: t("repShownOnce") }),
      el("button", {
        type: "button",
        id: "print-slips",
        text: t("repPrint"),
        onclick: function () {
          window.print();
        },
      }),
    ]);
    var list = el("ol", { className: "slips", "aria-label": t("repSheetTitle", { count: codes.length }) });
    codes.forEach(function (code) {
      list.appendChild(
        el("li", { className: "slip" }, [
          el("p", { className: "slip-heading", text: t("repSlipHeading") }),
          el("p", { className: "slip-deputy", text: t("repSlipDeputy", { name: deputyName(meeting.deputy_id) }) + " · " + meeting.held_on }),
          el("p", { className: "slip-how", text: t("repSlipHow") }),
          el("p", { className: "slip-address" }, [el("span", { className: "slip-label", text: t("repSlipAddress") + " " }), el("span", { className: "slip-url", text: address })]),
          el("p", { className: "slip-code-line" }, [el("span", { className: "slip-label", text: t("repSlipCode") + " " }), el("span", { className: "slip-code", text: code })]),
        ])
      );
    });
    sheet.appendChild(list);
    place.replaceChildren(sheet);
  }

  function percent(value) {
    return Math.round(value * 1000) / 10;
  }

  function showResult(section, status, user, ballot, reload) {
    var result = el("div", { className: "ballot-result", id: "ballot-result" }, [el("h3", { id: "result-title", tabindex: "-1", text: t("repResultTitle") })]);
    section.appendChild(result);
    var actions = el("div", { className: "actions" });
    section.appendChild(actions);
    if (ballot.status === "closed") {
      var publish = el("button", {
        type: "button",
        id: "publish-ballot",
        text: t("repPublish"),
        onclick: function () {
          publish.disabled = true;
          api("POST", "/api/v1/ballots/" + ballot.id + ":publish").then(function (reply) {
            publish.disabled = false;
            if (!reply.ok) return status.replaceChildren(C.problemBox(reply));
            C.announce(reply.body.result_shown ? t("repPublished") : t("repPublishedWithheld"));
            reload();
          });
        },
      });
      actions.appendChild(publish);
    } else {
      actions.appendChild(el("p", { className: "notice", id: "published-note", text: ballot.result_shown ? t("repPublished") : t("repPublishedWithheld") }));
    }
    var comments = el("section", { className: "ballot-comments", id: "ballot-comments", "aria-labelledby": "comments-title" });
    section.appendChild(comments);
    // Below the minimum turnout nothing is counted for anyone to read.
    if (!ballot.result_shown) {
      result.appendChild(el("p", { className: "notice", id: "result-withheld", text: t("repWithheld") }));
      return showComments(comments, user, ballot);
    }
    return api("GET", "/api/v1/ballots/" + ballot.id + "/result").then(function (reply) {
      if (!reply.ok) result.appendChild(C.problemBox(reply));
      else {
        var r = reply.body;
        var rows = [
          ["satisfied", t("repSatisfied"), r.satisfied],
          ["basically_satisfied", t("repBasically"), r.basically_satisfied],
          ["dissatisfied", t("repDissatisfied"), r.dissatisfied],
          ["papers", t("repPapers"), r.papers_cast],
        ].map(function (row) {
          return el("tr", { "data-key": row[0] }, [el("th", { scope: "row", text: row[1] }), el("td", { text: String(row[2]) })]);
        });
        rows.push(el("tr", {}, [el("th", { scope: "row", text: t("repShare") }), el("td", { id: "result-share", text: percent(r.share) + "%" })]));
        result.appendChild(
          el("table", { className: "figures-table result-table", id: "result-table" }, [el("caption", { className: "visually-hidden", text: t("repResultTitleCaption") }), el("tbody", {}, rows)])
        );
        var share = percent(r.reelection_share);
        result.appendChild(el("p", { className: r.flagged ? "notice flagged" : "note", id: "result-flag", text: r.flagged ? t("repFlagged", { share: share }) : t("repNotFlagged", { share: share }) }));
      }
      return showComments(comments, user, ballot);
    });
  }

  function showComments(section, user, ballot) {
    var heading = el("h3", { id: "comments-title", text: t("repCommentsTitle") });
    var role = user.claims.role;
    if (role !== "street_committee" && role !== "deputy") {
      return section.replaceChildren(heading, el("p", { className: "note", text: t("repCommentsNotYours") }));
    }
    if (!ballot.result_shown) return section.replaceChildren(heading, el("p", { className: "note", text: t("repWithheldPlain") }));
    return api("GET", "/api/v1/ballots/" + ballot.id + "/comments").then(function (reply) {
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
      var comments = reply.body.comments || [];
      if (!comments.length) return section.replaceChildren(heading, el("p", { className: "note", text: t("repNoComments") }));
      var list = el("ul", { className: "ballot-comment-list", id: "comment-list" });
      comments.forEach(function (text) {
        list.appendChild(el("li", { text: text }));
      });
      section.replaceChildren(heading, el("p", { className: "hint", text: t("repCommentsHint") }), list);
    });
  }

  C.screen("reports", function (user) {
    var match = /^#\/reports\/(\d+)/.exec(location.hash);
    if (match) return meetingScreen(user, Number(match[1]));
    return listScreen(user);
  });
})();

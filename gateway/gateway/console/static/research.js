// Self-chosen research (自主选题调研, #/research), from the duties service
// through the gateway (gateway/routes/activities.py):
// - a street committee's queue of its deputies' proposals of a year: each
//   approved with a grant from the street's operations budget line (the
//   line's remaining amount shown: its amount less the grants made against
//   it, as the service counts them) or declined with a reason; a refusal
//   (e.g. a grant above what the line has left) is shown next to the
//   amount field;
// - the standing committee office's queue of reports to acknowledge;
// - a deputy's own topics: propose one, report on a funded one.
// Everyone else who may read (the administrator) sees the year's list.
// Needs activities.js (LiaisonConsole.duties).
//
// Not built yet: the remaining amount is counted from the first 500 topics
// of the year (the API does not return it; the service refuses beyond it
// whatever the page shows); no paging past 500 topics.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var D = C.duties;
  var t = C.t;
  var el = C.el;
  var api = C.api;
  var GRANTED = ["approved", "reported", "acknowledged"];

  C.addText({
    "zh-CN": {
      navResearch: "代表调研",
      rTitle: "代表自主选题调研",
      rStates: { proposed: "待审批", approved: "已资助", declined: "未同意", reported: "已报告", acknowledged: "已阅知" },
      rQueue: "待审批的选题",
      rNoQueue: "没有待审批的选题。",
      rAll: "{year}年的选题",
      rNone: "这一年没有选题。",
      rTopic: "选题",
      rDeputy: "代表",
      rRequested: "申请经费",
      rGranted: "资助经费",
      rState: "状态",
      rPlan: "调研方案",
      rLine: "预算科目",
      rLineText: "{year}年业务经费（科目 {id}）：共 {amount}，已资助 {granted}，余额 {left}",
      rNoLine: "没有找到本街道工委这一年的业务经费科目，不能审批资助。",
      rAmount: "资助金额（元）",
      rAmountHint: "不超过申请的 {requested}，也不超过科目余额 {left}。",
      rApprove: "同意并资助",
      rApproved: "已资助“{title}”{amount}。",
      rDecline: "不同意",
      rReason: "不同意的理由",
      rDeclined: "已不同意“{title}”。",
      rReports: "待阅知的调研报告",
      rNoReports: "没有待阅知的调研报告。",
      rReport: "调研报告",
      rAcknowledge: "阅知",
      rAcknowledged: "已阅知“{title}”的调研报告。",
      rMine: "我的选题",
      rNoMine: "还没有选题。",
      rPropose: "提出选题",
      rProposeTitle: "选题名称",
      rProposePlan: "调研方案",
      rProposeAmount: "申请经费（元）",
      rProposeSubmit: "提交选题",
      rProposed: "已提交选题“{title}”。",
      rReportText: "调研报告",
      rReportSubmit: "提交调研报告",
      rReported: "已提交“{title}”的调研报告。",
      rDeclineReason: "理由：{reason}",
    },
    en: {
      navResearch: "Research",
      rTitle: "Deputies' self-chosen research",
      rStates: { proposed: "Proposed", approved: "Funded", declined: "Declined", reported: "Reported", acknowledged: "Acknowledged" },
      rQueue: "Proposals to decide",
      rNoQueue: "No proposal waits for a decision.",
      rAll: "Topics of {year}",
      rNone: "No topic this year.",
      rTopic: "Topic",
      rDeputy: "Deputy",
      rRequested: "Requested",
      rGranted: "Granted",
      rState: "State",
      rPlan: "Plan",
      rLine: "Budget line",
      rLineText: "Operations line {id} of {year}: {amount} in all, {granted} granted, {left} left",
      rNoLine: "The street committee has no operations line for this year: no grant can be made.",
      rAmount: "Grant (yuan)",
      rAmountHint: "At most the {requested} requested and the line's {left} left.",
      rApprove: "Approve and fund",
      rApproved: "“{title}” funded with {amount}.",
      rDecline: "Decline",
      rReason: "Reason for declining",
      rDeclined: "“{title}” declined.",
      rReports: "Reports to acknowledge",
      rNoReports: "No report waits for acknowledgement.",
      rReport: "Report",
      rAcknowledge: "Acknowledge",
      rAcknowledged: "The report on “{title}” acknowledged.",
      rMine: "My topics",
      rNoMine: "No topic yet.",
      rPropose: "Propose a topic",
      rProposeTitle: "Topic",
      rProposePlan: "Plan",
      rProposeAmount: "Funds requested (yuan)",
      rProposeSubmit: "Propose",
      rProposed: "“{title}” proposed.",
      rReportText: "Report",
      rReportSubmit: "Submit the report",
      rReported: "The report on “{title}” submitted.",
      rDeclineReason: "Reason: {reason}",
    },
  });

  var state = { year: null };

  function stateName(value) {
    return t("rStates")[value] || value;
  }

  function researchScreen(user) {
    state.year = state.year || D.thisYear();
    var year = D.yearInput(state.year);
    var body = el("div", { id: "research-body", "aria-busy": "true" });
    var filters = el(
      "form",
      {
        className: "board-filters",
        novalidate: true,
        "aria-label": t("rTitle"),
        onsubmit: function (event) {
          event.preventDefault();
          state.year = Number(year.value) || state.year;
          load(user, body);
        },
      },
      [el("div", { className: "field-row" }, [C.field("research-year", t("dYearField"), year)]), el("button", { type: "submit", text: t("aShow") })]
    );
    C.main.replaceChildren(el("h1", { id: "screen-title", tabindex: "-1", text: t("rTitle") }), filters, body);
    load(user, body);
  }

  function load(user, body) {
    body.setAttribute("aria-busy", "true");
    var role = user.claims.role;
    var query = new URLSearchParams({ year: String(state.year), page_size: "500" });
    var work = [api("GET", "/api/v1/research?" + query.toString())];
    if (role === "street_committee") work.push(operationsLine(user.claims.street_id));
    return Promise.all(work).then(function (replies) {
      var reply = replies[0];
      body.setAttribute("aria-busy", "false");
      if (!reply.ok) return body.replaceChildren(C.problemBox(reply));
      var items = reply.body.items || [];
      return D.loadDeputyNames(
        items.map(function (r) {
          return r.deputy_id;
        })
      ).then(function () {
        var sections = [];
        if (role === "street_committee") sections.push(committeeQueue(user, body, items, replies[1]));
        if (role === "standing_committee_office") sections.push(officeQueue(user, body, items));
        if (role === "deputy") sections.push(proposeForm(user, body));
        sections.push(allTable(user, body, items));
        body.replaceChildren.apply(body, sections);
      });
    });
  }

  // The street committee's operations line of the year: {line} or {reply}.
  function operationsLine(streetId) {
    return api("GET", "/api/v1/units?street_id=" + streetId + "&kind=street_committee&page_size=10").then(function (reply) {
      if (!reply.ok) return { reply: reply };
      var unit = (reply.body.items || [])[0];
      if (!unit) return {};
      var query = new URLSearchParams({ unit_id: String(unit.id), year: String(state.year), page_size: "100" });
      return api("GET", "/api/v1/budget-lines?" + query.toString()).then(function (lines) {
        if (!lines.ok) return { reply: lines };
        var found = (lines.body.items || []).filter(function (line) {
          return line.kind === "operations" && line.active !== false;
        });
        return { line: found[0] || null };
      });
    });
  }

  function grantedOn(items, lineId) {
    return items
      .filter(function (r) {
        return r.budget_line_id === lineId && GRANTED.indexOf(r.state) >= 0;
      })
      .reduce(function (sum, r) {
        return sum + (r.amount_granted_yuan || 0);
      }, 0);
  }

  function committeeQueue(user, body, items, budget) {
    var section = el("section", { className: "panel", id: "research-queue", "aria-labelledby": "queue-title" }, [
      el("h2", { id: "queue-title", text: t("rQueue") }),
    ]);
    var line = budget && budget.line;
    var left = 0;
    if (budget && budget.reply) section.appendChild(C.problemBox(budget.reply));
    else if (!line) section.appendChild(el("p", { className: "note", id: "no-line", text: t("rNoLine") }));
    else {
      var granted = grantedOn(items, line.id);
      left = Math.max(0, line.amount_yuan - granted);
      section.appendChild(
        el("p", {
          id: "line-remaining",
          "data-left": left,
          text: t("rLineText", { id: line.id, year: line.year, amount: D.yuan(line.amount_yuan), granted: D.yuan(granted), left: D.yuan(left) }),
        })
      );
    }
    var proposed = items.filter(function (r) {
      return r.state === "proposed";
    });
    if (!proposed.length) {
      section.appendChild(el("p", { className: "note", id: "no-proposals", text: t("rNoQueue") }));
      return section;
    }
    proposed.forEach(function (r) {
      section.appendChild(proposalCard(user, body, r, line, left));
    });
    return section;
  }

  function summary(r) {
    var facts = el("dl", { className: "facts" });
    [
      [t("rDeputy"), D.deputyName(r.deputy_id)],
      [t("rRequested"), D.yuan(r.amount_requested_yuan)],
      [t("rPlan"), r.plan],
    ].forEach(function (pair) {
      facts.appendChild(el("dt", { text: pair[0] }));
      facts.appendChild(el("dd", { text: pair[1] }));
    });
    return facts;
  }

  function proposalCard(user, body, r, line, left) {
    var card = el("article", { className: "research-card", id: "research-" + r.id, "data-research": r.id, "aria-labelledby": "research-title-" + r.id }, [
      el("h3", { id: "research-title-" + r.id, text: r.title }),
      summary(r),
    ]);
    if (line) {
      var amount = el("input", {
        type: "number",
        name: "amount_yuan",
        min: "1",
        max: String(r.amount_requested_yuan),
        value: r.amount_requested_yuan,
        inputmode: "numeric",
      });
      var amountField = C.field(
        "approve-amount-" + r.id,
        t("rAmount"),
        amount,
        t("rAmountHint", { requested: D.yuan(r.amount_requested_yuan), left: D.yuan(left) })
      );
      var approveButton = el("button", { type: "submit", id: "approve-" + r.id, text: t("rApprove") });
      var approve = el("form", { className: "action-form approve-form", novalidate: true, "aria-label": t("rApprove") + " " + r.title }, [amountField, approveButton]);
      approve.addEventListener("submit", function (event) {
        event.preventDefault();
        D.clearProblems(approve);
        var value = Number(amount.value);
        approveButton.disabled = true;
        api("POST", "/api/v1/research/" + r.id + ":approve", { budget_line_id: line.id, amount_yuan: value }).then(function (reply) {
          approveButton.disabled = false;
          // Next to the amount: its field error, or the refusal naming what the line has left.
          if (!reply.ok) return D.problemAfter(amount, reply, approve);
          load(user, body).then(function () {
            D.done(t("rApproved", { title: r.title, amount: D.yuan(reply.body.amount_granted_yuan) }));
          });
        });
      });
      card.appendChild(approve);
    }
    var reason = el("textarea", { name: "reason", rows: "2", maxlength: "2000" });
    var declineButton = el("button", { type: "submit", className: "secondary", id: "decline-" + r.id, text: t("rDecline") });
    var decline = el("form", { className: "action-form decline-form", novalidate: true, "aria-label": t("rDecline") + " " + r.title }, [
      C.field("decline-reason-" + r.id, t("rReason"), reason),
      declineButton,
    ]);
    decline.addEventListener("submit", function (event) {
      event.preventDefault();
      D.clearProblems(decline);
      declineButton.disabled = true;
      api("POST", "/api/v1/research/" + r.id + ":decline", { reason: reason.value }).then(function (reply) {
        declineButton.disabled = false;
        if (!reply.ok) return D.problemAfter(declineButton, reply, decline);
        load(user, body).then(function () {
          D.done(t("rDeclined", { title: r.title }));
        });
      });
    });
    card.appendChild(decline);
    return card;
  }

  function officeQueue(user, body, items) {
    var section = el("section", { className: "panel", id: "report-queue", "aria-labelledby": "reports-title" }, [
      el("h2", { id: "reports-title", text: t("rReports") }),
    ]);
    var reported = items.filter(function (r) {
      return r.state === "reported";
    });
    if (!reported.length) {
      section.appendChild(el("p", { className: "note", id: "no-reports", text: t("rNoReports") }));
      return section;
    }
    reported.forEach(function (r) {
      var button = el("button", { type: "button", id: "acknowledge-" + r.id, text: t("rAcknowledge") });
      var card = el("article", { className: "research-card", id: "research-" + r.id, "data-research": r.id, "aria-labelledby": "research-title-" + r.id }, [
        el("h3", { id: "research-title-" + r.id, text: r.title }),
        summary(r),
        el("h4", { text: t("rReport") }),
        el("p", { className: "opinion-content", text: r.report }),
        button,
      ]);
      button.addEventListener("click", function () {
        button.disabled = true;
        api("POST", "/api/v1/research/" + r.id + ":acknowledge").then(function (reply) {
          button.disabled = false;
          if (!reply.ok) return D.problemAfter(button, reply);
          load(user, body).then(function () {
            D.done(t("rAcknowledged", { title: r.title }));
          });
        });
      });
      section.appendChild(card);
    });
    return section;
  }

  function proposeForm(user, body) {
    var title = el("input", { type: "text", name: "title", maxlength: "200", autocomplete: "off" });
    var plan = el("textarea", { name: "plan", rows: "4" });
    var amount = el("input", { type: "number", name: "amount_requested_yuan", min: "1", inputmode: "numeric" });
    var submit = el("button", { type: "submit", id: "propose-submit", text: t("rProposeSubmit") });
    var form = el("form", { className: "panel", id: "propose-form", novalidate: true, "aria-labelledby": "propose-title" }, [
      el("h2", { id: "propose-title", text: t("rPropose") }),
      C.field("propose-name", t("rProposeTitle"), title),
      C.field("propose-plan", t("rProposePlan"), plan),
      C.field("propose-amount", t("rProposeAmount"), amount),
      submit,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      D.clearProblems(form);
      var payload = { title: title.value.trim(), plan: plan.value, amount_requested_yuan: Number(amount.value) || 0, year: state.year };
      submit.disabled = true;
      api("POST", "/api/v1/research", payload).then(function (reply) {
        submit.disabled = false;
        if (!reply.ok) return D.problemAfter(submit, reply, form);
        load(user, body).then(function () {
          D.done(t("rProposed", { title: reply.body.title }));
        });
      });
    });
    return form;
  }

  function reportForm(user, body, r) {
    var text = el("textarea", { name: "text", rows: "4" });
    var submit = el("button", { type: "submit", id: "report-" + r.id, text: t("rReportSubmit") });
    var form = el("form", { className: "action-form report-form", novalidate: true, "aria-label": t("rReportSubmit") + " " + r.title }, [
      C.field("report-text-" + r.id, t("rReportText"), text),
      submit,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      D.clearProblems(form);
      submit.disabled = true;
      api("POST", "/api/v1/research/" + r.id + ":report", { text: text.value }).then(function (reply) {
        submit.disabled = false;
        if (!reply.ok) return D.problemAfter(submit, reply, form);
        load(user, body).then(function () {
          D.done(t("rReported", { title: r.title }));
        });
      });
    });
    return form;
  }

  function allTable(user, body, items) {
    var mine = user.claims.role === "deputy";
    var section = el("section", { className: "panel", id: "research-all", "aria-labelledby": "all-title" }, [
      el("h2", { id: "all-title", text: mine ? t("rMine") : t("rAll", { year: state.year }) }),
    ]);
    if (!items.length) {
      section.appendChild(el("p", { className: "note", text: mine ? t("rNoMine") : t("rNone") }));
      return section;
    }
    var table = el("table", { className: "queue-table research-table" }, [
      el("thead", {}, [
        el(
          "tr",
          {},
          [t("rTopic"), t("rDeputy"), t("rRequested"), t("rGranted"), t("rState")].map(function (h) {
            return el("th", { scope: "col", text: h });
          })
        ),
      ]),
    ]);
    var rows = el("tbody");
    items.forEach(function (r) {
      var stateCell = el("td", { className: "research-state", text: stateName(r.state) });
      if (r.state === "declined" && r.decline_reason) stateCell.appendChild(el("p", { className: "hint", text: t("rDeclineReason", { reason: r.decline_reason }) }));
      if (mine && r.state === "approved") stateCell.appendChild(reportForm(user, body, r));
      rows.appendChild(
        el("tr", { "data-research": r.id }, [
          el("th", { scope: "row", text: r.title }),
          el("td", { text: D.deputyName(r.deputy_id) }),
          el("td", { text: D.yuan(r.amount_requested_yuan) }),
          el("td", { text: r.amount_granted_yuan ? D.yuan(r.amount_granted_yuan) : "" }),
          stateCell,
        ])
      );
    });
    table.appendChild(rows);
    section.appendChild(el("div", { className: "table-scroll" }, [table]));
    return section;
  }

  C.screen("research", researchScreen);
})();

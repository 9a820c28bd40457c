// The console's overdue board (督办看板, #/overdue) for the district's
// offices: a year's open letters by stage and the handling units' days to
// answer (median and 90th percentile from receipt), from the referral
// service's figures (GET /api/v1/letter-figures), drawn as bar charts with
// their tables; and the letters in hand past their legal deadline, oldest
// first, from the letters the caller may read (GET /api/v1/letters, stage
// in_hand). Needs letters.js (LiaisonConsole.letters) and charts.js.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var L = C.letters;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  C.addText({
    "zh-CN": {
      navOverdue: "督办看板",
      overdueTitle: "转办函督办看板",
      bYear: "年度",
      bStreet: "街道",
      bAllStreets: "全区",
      bShow: "显示",
      bTotals: "{year}年收到 {received} 件，报区里 {referred} 件，已答复 {answered} 件，办理中 {in_hand} 件，其中超期 {overdue} 件，已办结 {closed} 件。",
      bFigures: "{year}年转办函",
      bByStage: "在办转办函（按阶段）",
      bStage: "阶段",
      bLetters: "件数",
      bNoOpen: "没有在办的转办函。",
      bDaysToAnswer: "各承办单位答复用时（自签收起，中位数）",
      bUnit: "承办单位",
      bMedian: "中位数",
      bP90: "九成在内",
      bAnswered: "已答复",
      bDays: "{days} 天",
      bNoAnswers: "这一年还没有答复。",
      bOverdue: "超期未答复（最早到期的在前）",
      bOverdueHint: "办理中、已过法定答复期限的转办函，不分年度。",
      bNoOverdue: "没有超期的转办函。",
      bLastDay: "最后一天",
      bOverdueBy: "超期",
      bHandler: "承办单位",
      bCapped: "只统计了前 {count} 件办理中的转办函。",
    },
    en: {
      navOverdue: "Overdue board",
      overdueTitle: "Referral letters: overdue board",
      bYear: "Year",
      bStreet: "Street",
      bAllStreets: "The whole district",
      bShow: "Show",
      bTotals: "In {year}: {received} received, {referred} sent the district's way, {answered} answered, {in_hand} in hand of which {overdue} overdue, {closed} closed.",
      bFigures: "Referral letters of {year}",
      bByStage: "Open letters by stage",
      bStage: "Stage",
      bLetters: "Letters",
      bNoOpen: "No open letter.",
      bDaysToAnswer: "Days to answer by handling unit (from receipt, median)",
      bUnit: "Handling unit",
      bMedian: "Median",
      bP90: "90th percentile",
      bAnswered: "Answered",
      bDays: "{days} days",
      bNoAnswers: "No answer this year yet.",
      bOverdue: "Overdue, the oldest first",
      bOverdueHint: "Letters in hand past their legal deadline, of any year.",
      bNoOverdue: "No letter is overdue.",
      bLastDay: "Last day",
      bOverdueBy: "Overdue",
      bHandler: "Handling unit",
      bCapped: "Only the first {count} letters in hand are counted.",
    },
  });

  var board = { year: null, street: "" };

  function days(value) {
    return t("bDays", { days: Math.round(value * 10) / 10 });
  }

  function boardScreen(user) {
    board.year = board.year || Number(C.todayInShanghai().slice(0, 4));
    var district = !user.claims.street_id;
    if (!district) board.street = String(user.claims.street_id);
    var figures = el("section", { className: "panel board-figures", id: "board-figures", "aria-labelledby": "figures-title", "aria-busy": "true" });
    var overdue = el("section", { className: "panel board-overdue", id: "board-overdue", "aria-labelledby": "overdue-title", "aria-busy": "true" });
    var year = el("input", { type: "number", name: "year", min: "2000", max: "2100", value: board.year, inputmode: "numeric" });
    var row = el("div", { className: "field-row" }, [C.field("board-year", t("bYear"), year)]);
    var street = null;
    if (district) {
      street = el("select", { name: "street_id" }, [el("option", { value: "", text: t("bAllStreets") })]);
      row.appendChild(C.field("board-street", t("bStreet"), street));
    }
    var form = el(
      "form",
      {
        className: "board-filters",
        novalidate: true,
        "aria-label": t("overdueTitle"),
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(form);
          board.year = Number(year.value) || board.year;
          board.street = street ? street.value : "";
          load(figures, overdue, form);
        },
      },
      [row, el("button", { type: "submit", text: t("bShow") })]
    );
    C.main.replaceChildren(el("h1", { id: "screen-title", tabindex: "-1", text: t("overdueTitle") }), form, figures, overdue);
    L.loadNames().then(function () {
      if (street) {
        Object.keys(L.streetNames()).forEach(function (id) {
          street.appendChild(el("option", { value: id, text: L.streetName(id), selected: id === board.street }));
        });
      }
      load(figures, overdue, form);
    });
  }

  function load(figures, overdue, form) {
    var query = new URLSearchParams({ year: String(board.year) });
    if (board.street) query.set("street_id", board.street);
    figures.setAttribute("aria-busy", "true");
    api("GET", "/api/v1/letter-figures?" + query.toString()).then(function (reply) {
      figures.setAttribute("aria-busy", "false");
      showFigures(figures, reply, form);
    });
    var params = { stage: "in_hand" };
    if (board.street) params.street_id = board.street;
    overdue.setAttribute("aria-busy", "true");
    L.allLetters(params).then(function (reply) {
      overdue.setAttribute("aria-busy", "false");
      showOverdue(overdue, reply);
    });
  }

  function showFigures(section, reply, form) {
    var heading = el("h2", { id: "figures-title", text: t("bFigures", { year: board.year }) });
    if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply, form));
    var f = reply.body;
    var totals = Object.assign({ received: 0, referred: 0, answered: 0, in_hand: 0, overdue: 0, closed: 0 }, f.totals || {});
    totals.year = f.year;
    var stages = (f.open_by_stage || []).filter(function (s) {
      return s.letters > 0;
    });
    stages.sort(function (a, b) {
      return L.STAGES.indexOf(a.stage) - L.STAGES.indexOf(b.stage);
    });
    var handlers = (f.by_handler || []).filter(function (h) {
      return (h.counts || {}).answered > 0;
    });
    handlers.sort(function (a, b) {
      return b.median_days_to_answer - a.median_days_to_answer;
    });
    section.replaceChildren(
      heading,
      el("p", { id: "board-totals", text: t("bTotals", totals) }),
      el("div", { className: "figures board-charts" }, [
        C.barChart({
          id: "chart-stages",
          title: t("bByStage"),
          column: t("bStage"),
          valueColumn: t("bLetters"),
          empty: t("bNoOpen"),
          rows: stages.map(function (s) {
            return { key: s.stage, label: L.named("stages", s.stage), value: s.letters };
          }),
        }),
        C.barChart({
          id: "chart-days",
          title: t("bDaysToAnswer"),
          column: t("bUnit"),
          valueColumn: t("bMedian"),
          extraColumns: [t("bP90"), t("bAnswered")],
          empty: t("bNoAnswers"),
          rows: handlers.map(function (h) {
            return {
              key: h.unit.kind + "-" + (h.unit.id || 0),
              label: L.unitName(h.unit),
              value: h.median_days_to_answer,
              text: days(h.median_days_to_answer),
              extra: [days(h.p90_days_to_answer), String(h.counts.answered)],
            };
          }),
        }),
      ])
    );
  }

  function showOverdue(section, reply) {
    var heading = el("h2", { id: "overdue-title", text: t("bOverdue") });
    if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
    var now = Date.now();
    var late = reply.items.filter(function (letter) {
      return letter.deadline && letter.deadline.ends_at && Date.parse(letter.deadline.ends_at) <= now;
    });
    late.sort(function (a, b) {
      return Date.parse(a.deadline.ends_at) - Date.parse(b.deadline.ends_at) || a.id - b.id;
    });
    var children = [heading, el("p", { className: "hint", text: t("bOverdueHint") })];
    if (reply.capped) children.push(el("p", { className: "note", text: t("bCapped", { count: reply.items.length }) }));
    if (!late.length) {
      children.push(el("p", { className: "note", id: "no-overdue", text: t("bNoOverdue") }));
      return section.replaceChildren.apply(section, children);
    }
    var head = [t("lCode"), t("lStreet"), t("bHandler"), t("bLastDay"), t("bOverdueBy")];
    var table = el("table", { className: "queue-table overdue-table" }, [
      el("thead", {}, [
        el(
          "tr",
          {},
          head.map(function (h) {
            return el("th", { scope: "col", text: h });
          })
        ),
      ]),
    ]);
    var body = el("tbody");
    late.forEach(function (letter) {
      body.appendChild(
        el("tr", { "data-letter": letter.id }, [
          el("th", { scope: "row" }, [el("a", { href: "#/letters/" + letter.id, text: letter.tracking_code })]),
          el("td", { text: L.streetName(letter.street_id) }),
          el("td", { text: L.unitName(letter.handler) }),
          el("td", {}, [el("time", { datetime: letter.deadline.last_day, text: letter.deadline.last_day })]),
          el("td", { className: "overdue", text: L.standing(letter, now).text }),
        ])
      );
    });
    table.appendChild(body);
    children.push(el("div", { className: "table-scroll" }, [table]));
    section.replaceChildren.apply(section, children);
  }

  C.screen("overdue", boardScreen);
})();

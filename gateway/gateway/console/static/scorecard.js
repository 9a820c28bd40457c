// The console's five-ones dashboard (五个一, #/scorecard): for a year, of the
// district or of one street (street staff: their own), how many deputies
// are still short of each of the five — a training, a suggestion followed
// to its answer, a research, a duty report, a committee visit — with the
// days left in the year, drawn as bar charts with their tables
// (GET /api/v1/scorecard/shortfalls); then who is short of which, and a
// deputy's scorecard with its evidence on click
// (GET /api/v1/deputies/{id}/scorecard). Needs charts.js.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  var ITEMS = ["training", "suggestion", "research", "duty_report", "visit"];

  C.addText({
    "zh-CN": {
      navScorecard: "五个一",
      sTitle: "代表“五个一”履职情况",
      sYear: "年度",
      sStreet: "街道",
      sDistrict: "全区",
      sShow: "显示",
      sItems: {
        training: "参加一次培训",
        suggestion: "跟踪一件建议到答复",
        research: "完成一项调研",
        duty_report: "作一次履职报告",
        visit: "接受一次走访",
      },
      sStatus: { done: "已完成", short: "未完成", not_due: "今年不需要" },
      sSummary: "{year}年：{deputies} 位代表，{complete} 位五项都已完成。",
      sDaysLeft: "距年底还有 {days} 天，请在年底前督促。",
      sYearEnded: "这一年已经结束。",
      sFlagged: "履职报告测评低于再提名比例：{count} 位。",
      sChartItems: "尚未完成各项的代表人数",
      sItem: "项目",
      sShort: "未完成",
      sOf: "占代表",
      sChartStreets: "各街道尚有未完成项目的代表人数",
      sStreetCol: "街道",
      sNotComplete: "有未完成项",
      sWho: "谁还差哪一项",
      sWhoHint: "点击代表姓名查看其“五个一”及依据。",
      sNobody: "所有代表五项都已完成。",
      sDeputy: "代表",
      sMark: "未完成",
      sCard: "{name}的“五个一”（{year}年）",
      sEvidence: "依据",
      sNoEvidence: "没有记录。",
      sEvidenceFlagged: "测评低于再提名比例",
      sClose: "关闭",
      sCapped: "名单只列出前 {count} 位代表的姓名。",
    },
    en: {
      navScorecard: "Five ones",
      sTitle: "The deputies' five ones",
      sYear: "Year",
      sStreet: "Street",
      sDistrict: "The whole district",
      sShow: "Show",
      sItems: {
        training: "A training attended",
        suggestion: "A suggestion followed to its answer",
        research: "A research done",
        duty_report: "A duty report to voters",
        visit: "A committee visit received",
      },
      sStatus: { done: "Done", short: "Short", not_due: "Not due this year" },
      sSummary: "{year}: {deputies} deputies, {complete} with all five done.",
      sDaysLeft: "{days} days left in the year to act.",
      sYearEnded: "The year has ended.",
      sFlagged: "Below the re-nomination share at their duty report: {count}.",
      sChartItems: "Deputies still short of each",
      sItem: "Item",
      sShort: "Short",
      sOf: "Share of deputies",
      sChartStreets: "Deputies short of something, by street",
      sStreetCol: "Street",
      sNotComplete: "Short of something",
      sWho: "Who is short of which",
      sWhoHint: "Choose a deputy's name for their five ones and the evidence.",
      sNobody: "Every deputy has done all five.",
      sDeputy: "Deputy",
      sMark: "short",
      sCard: "{name}'s five ones ({year})",
      sEvidence: "Evidence",
      sNoEvidence: "Nothing recorded.",
      sEvidenceFlagged: "below the re-nomination share",
      sClose: "Close",
      sCapped: "Names are shown for the first {count} deputies only.",
    },
  });

  var view = { year: null, street: "" };
  var streets = {};
  var deputies = {};

  function streetName(id) {
    return streets[id] || t("street") + " " + id;
  }

  function deputyName(id) {
    return deputies[id] || t("sDeputy") + " " + id;
  }

  function itemName(item) {
    return (t("sItems") || {})[item] || item;
  }

  // The deputies' names of a street, or of the district page by page (up
  // to 2500), public reads.
  function loadNames(street, token, pages) {
    var query = new URLSearchParams({ page_size: "500" });
    if (street) query.set("street_id", street);
    if (token) query.set("page_token", token);
    return api("GET", "/api/v1/deputies?" + query.toString()).then(function (reply) {
      if (!reply.ok) return;
      (reply.body.items || []).forEach(function (d) {
        deputies[d.id] = d.name;
      });
      if (reply.body.next_page_token && (pages || 0) < 4) return loadNames(street, reply.body.next_page_token, (pages || 0) + 1);
    });
  }

  function scorecardScreen(user) {
    view.year = view.year || Number(C.todayInShanghai().slice(0, 4));
    var district = !user.claims.street_id;
    if (!district) view.street = String(user.claims.street_id);
    var year = el("input", { type: "number", name: "year", min: "2000", max: "2200", value: view.year, inputmode: "numeric" });
    var row = el("div", { className: "field-row" }, [C.field("score-year", t("sYear"), year)]);
    var street = null;
    if (district) {
      street = el("select", { name: "street_id" }, [el("option", { value: "", text: t("sDistrict") })]);
      row.appendChild(C.field("score-street", t("sStreet"), street));
    }
    var figures = el("section", { className: "panel", id: "score-figures", "aria-labelledby": "score-figures-title" });
    var who = el("section", { className: "panel", id: "score-who", "aria-labelledby": "score-who-title" });
    var card = el("section", { className: "panel", id: "score-card", "aria-labelledby": "score-card-title", hidden: true });
    var form = el(
      "form",
      {
        className: "board-filters",
        novalidate: true,
        "aria-label": t("sTitle"),
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(form);
          view.year = Number(year.value) || view.year;
          if (street) view.street = street.value;
          load(figures, who, card, form);
        },
      },
      [row, el("button", { type: "submit", text: t("sShow") })]
    );
    C.main.replaceChildren(el("h1", { id: "screen-title", tabindex: "-1", text: t("sTitle") }), form, figures, who, card);
    api("GET", "/api/v1/streets?page_size=100").then(function (reply) {
      if (reply.ok) {
        (reply.body.items || []).forEach(function (s) {
          streets[s.id] = s.name;
        });
      }
      if (street) {
        Object.keys(streets).forEach(function (id) {
          street.appendChild(el("option", { value: id, text: streetName(id), selected: id === view.street }));
        });
      }
      load(figures, who, card, form);
    });
  }

  function load(figures, who, card, form) {
    var query = new URLSearchParams({ year: String(view.year) });
    if (view.street) query.set("street_id", view.street);
    figures.setAttribute("aria-busy", "true");
    who.setAttribute("aria-busy", "true");
    card.hidden = true;
    Promise.all([api("GET", "/api/v1/scorecard/shortfalls?" + query.toString()), loadNames(view.street)]).then(function (results) {
      figures.setAttribute("aria-busy", "false");
      who.setAttribute("aria-busy", "false");
      var reply = results[0];
      var heading = el("h2", { id: "score-figures-title", text: view.street ? streetName(view.street) : t("sDistrict") });
      if (!reply.ok) {
        who.replaceChildren();
        return figures.replaceChildren(heading, C.problemBox(reply, form));
      }
      showFigures(figures, heading, reply.body);
      showWho(who, card, reply.body);
    });
  }

  function share(count, total) {
    return total ? Math.round((count / total) * 1000) / 10 + "%" : "—";
  }

  function byItem(items) {
    var counts = {};
    (items || []).forEach(function (i) {
      counts[i.item] = i;
    });
    return counts;
  }

  function showFigures(section, heading, f) {
    var counts = byItem(f.items);
    var children = [
      heading,
      el("p", { id: "score-summary", text: t("sSummary", { year: f.year, deputies: f.deputies, complete: f.complete }) }),
      el("p", { id: "score-days-left", className: f.open ? "notice" : "note", text: f.open ? t("sDaysLeft", { days: f.days_left }) : t("sYearEnded") }),
    ];
    if ((f.flagged_ids || []).length) children.push(el("p", { className: "note", id: "score-flagged", text: t("sFlagged", { count: f.flagged_ids.length }) }));
    var charts = [
      C.barChart({
        id: "chart-five-ones",
        title: t("sChartItems"),
        column: t("sItem"),
        valueColumn: t("sShort"),
        extraColumns: [t("sOf")],
        rows: ITEMS.map(function (item) {
          var count = counts[item] ? counts[item].count : 0;
          return { key: item, label: itemName(item), value: count, extra: [share(count, f.deputies)] };
        }),
      }),
    ];
    var perStreet = f.streets || [];
    if (!view.street && perStreet.length > 1) {
      charts.push(
        C.barChart({
          id: "chart-streets",
          title: t("sChartStreets"),
          column: t("sStreetCol"),
          valueColumn: t("sNotComplete"),
          extraColumns: ITEMS.map(itemName),
          rows: perStreet.map(function (s) {
            var c = byItem(s.items);
            return {
              key: "street-" + s.street_id,
              label: streetName(s.street_id),
              value: s.deputies - s.complete,
              text: s.deputies - s.complete + " / " + s.deputies,
              extra: ITEMS.map(function (item) {
                return String(c[item] ? c[item].count : 0);
              }),
            };
          }),
        })
      );
    }
    children.push(el("div", { className: "figures board-charts" }, charts));
    section.replaceChildren.apply(section, children);
  }

  // One row per deputy short of anything, a column per item.
  function showWho(section, card, f) {
    var heading = el("h2", { id: "score-who-title", text: t("sWho") });
    var shortOf = {};
    var order = [];
    (f.items || []).forEach(function (i) {
      (i.deputy_ids || []).forEach(function (id) {
        if (!shortOf[id]) {
          shortOf[id] = {};
          order.push(id);
        }
        shortOf[id][i.item] = true;
      });
    });
    if (!order.length) return section.replaceChildren(heading, el("p", { className: "note", id: "score-nobody", text: t("sNobody") }));
    order.sort(function (a, b) {
      return deputyName(a).localeCompare(deputyName(b), "zh-CN") || a - b;
    });
    var body = el("tbody");
    order.forEach(function (id) {
      var cells = [
        el("th", { scope: "row" }, [
          el("button", {
            type: "button",
            className: "link",
            text: deputyName(id),
            "aria-controls": "score-card",
            onclick: function () {
              showCard(card, id);
            },
          }),
        ]),
      ];
      ITEMS.forEach(function (item) {
        cells.push(el("td", { className: shortOf[id][item] ? "short-mark" : "", text: shortOf[id][item] ? t("sMark") : "" }));
      });
      body.appendChild(el("tr", { "data-deputy": id }, cells));
    });
    var table = el("table", { className: "queue-table shortfall-table", id: "shortfall-table" }, [
      el("caption", { className: "visually-hidden", text: t("sWho") }),
      el("thead", {}, [
        el(
          "tr",
          {},
          [el("th", { scope: "col", text: t("sDeputy") })].concat(
            ITEMS.map(function (item) {
              return el("th", { scope: "col", text: itemName(item) });
            })
          )
        ),
      ]),
      body,
    ]);
    section.replaceChildren(heading, el("p", { className: "hint", text: t("sWhoHint") }), el("div", { className: "table-scroll" }, [table]));
  }

  function showCard(section, deputyId) {
    section.hidden = false;
    var heading = el("h2", { id: "score-card-title", tabindex: "-1", text: t("sCard", { name: deputyName(deputyId), year: view.year }) });
    section.replaceChildren(heading, el("p", { className: "note", text: t("loading") }));
    section.setAttribute("aria-busy", "true");
    heading.focus();
    api("GET", "/api/v1/deputies/" + deputyId + "/scorecard?year=" + view.year).then(function (reply) {
      section.setAttribute("aria-busy", "false");
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
      var card = reply.body;
      var list = el("ul", { className: "scorecard-items", id: "scorecard-items" });
      (card.items || []).forEach(function (i) {
        var evidence = el("ul", { className: "evidence" });
        (i.evidence || []).forEach(function (e) {
          evidence.appendChild(el("li", { text: e.day + " · " + e.kind + " · " + e.ref + (e.flagged ? " · " + t("sEvidenceFlagged") : "") }));
        });
        if (!(i.evidence || []).length) evidence.appendChild(el("li", { className: "note", text: t("sNoEvidence") }));
        list.appendChild(
          el("li", { "data-item": i.item, className: "scorecard-item status-" + i.status }, [
            el("p", {}, [el("strong", { text: itemName(i.item) }), " — " + ((t("sStatus") || {})[i.status] || i.status)]),
            el("p", { className: "hint", text: t("sEvidence") }),
            evidence,
          ])
        );
      });
      section.replaceChildren(
        heading,
        el("p", { text: card.open ? t("sDaysLeft", { days: card.days_left }) : t("sYearEnded") }),
        list,
        el("button", {
          type: "button",
          className: "secondary",
          text: t("sClose"),
          onclick: function () {
            section.hidden = true;
            var row = document.querySelector('#shortfall-table tr[data-deputy="' + deputyId + '"] button');
            if (row) row.focus();
          },
        })
      );
      C.announce(heading.textContent);
    });
  }

  C.screen("scorecard", scorecardScreen);
})();

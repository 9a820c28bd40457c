// The street committees' visits to their deputies (走访, #/visits and
// #/visits/<id>), from the duties service through the gateway
// (gateway/routes/activities.py): a street committee records a visit to one
// of its street's deputies at their workplace (the day, who went, what the
// deputy raised), adds follow-ups and later each one's answer (once); and
// sees its street's deputies not visited yet this year (/visit-coverage),
// each a click from a visit's form. The district's offices read the visits
// and a street's coverage; a deputy the visits to them.
// Needs activities.js (LiaisonConsole.duties).
//
// Not built yet: paging past a year's first 500 visits.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var D = C.duties;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  C.addText({
    "zh-CN": {
      navVisits: "走访代表",
      vTitle: "走访代表",
      vStreet: "街道",
      vShow: "显示",
      vCoverage: "{year}年未走访的代表",
      vCoverageText: "本街道在任代表 {deputies} 位，已走访 {visited} 位。",
      vAllVisited: "本街道的代表今年都已走访。",
      vVisitThem: "记录走访",
      vNew: "记录一次走访",
      vDeputy: "代表",
      vDate: "走访日期",
      vVisitors: "走访人员",
      vVisitorsHint: "每行一人，或用顿号、逗号分隔。",
      vPlace: "走访地点（代表单位）",
      vRaised: "代表反映的情况",
      vSubmit: "保存走访记录",
      vRecorded: "已记录对{name}的走访。",
      vList: "{year}年的走访",
      vNone: "这一年没有走访记录。",
      vFollowUps: "跟进",
      vBack: "返回走访列表",
      vVisitOf: "走访{name}（{date}）",
      vNoFollowUps: "还没有跟进事项。",
      vAdded: "记录于 {date}",
      vAnswer: "答复",
      vAnswerSubmit: "保存答复",
      vAnswered: "已保存答复。",
      vNoAnswer: "尚未答复",
      vAddFollowUp: "增加跟进事项",
      vFollowUpText: "跟进事项",
      vFollowUpSubmit: "增加跟进",
      vFollowUpAdded: "已增加跟进事项。",
    },
    en: {
      navVisits: "Visits",
      vTitle: "Visits to deputies",
      vStreet: "Street",
      vShow: "Show",
      vCoverage: "Deputies not visited in {year}",
      vCoverageText: "{visited} of the street's {deputies} serving deputies visited.",
      vAllVisited: "Every deputy of the street is visited this year.",
      vVisitThem: "Record a visit",
      vNew: "Record a visit",
      vDeputy: "Deputy",
      vDate: "Day of the visit",
      vVisitors: "Visitors",
      vVisitorsHint: "One a line, or separated by commas.",
      vPlace: "Place (the deputy's workplace)",
      vRaised: "What the deputy raised",
      vSubmit: "Save the visit",
      vRecorded: "The visit to {name} is recorded.",
      vList: "Visits of {year}",
      vNone: "No visit this year.",
      vFollowUps: "Follow-ups",
      vBack: "Back to the visits",
      vVisitOf: "Visit to {name} ({date})",
      vNoFollowUps: "No follow-up yet.",
      vAdded: "added {date}",
      vAnswer: "Answer",
      vAnswerSubmit: "Save the answer",
      vAnswered: "The answer is saved.",
      vNoAnswer: "Not answered yet",
      vAddFollowUp: "Add a follow-up",
      vFollowUpText: "Follow-up",
      vFollowUpSubmit: "Add the follow-up",
      vFollowUpAdded: "The follow-up is added.",
    },
  });

  var state = { year: null, street: "" };

  function visitsScreen(user) {
    var match = /^#\/visits\/(\d+)/.exec(location.hash);
    if (match) return visitScreen(user, Number(match[1]));
    state.year = state.year || D.thisYear();
    var claims = user.claims;
    var district = C.DISTRICT_ROLES.indexOf(claims.role) >= 0;
    var year = D.yearInput(state.year);
    var row = el("div", { className: "field-row" }, [C.field("visit-year", t("dYearField"), year)]);
    var street = null;
    if (district) {
      street = el("select", { name: "street_id" });
      row.appendChild(C.field("visit-street", t("vStreet"), street));
    }
    var coverage = el("section", { className: "panel", id: "visit-coverage", "aria-labelledby": "coverage-title", "aria-busy": "true" });
    var list = el("section", { className: "panel", id: "visit-list", "aria-labelledby": "visits-title", "aria-busy": "true" });
    var committee = claims.role === "street_committee";
    var form = committee ? visitForm(user) : null;
    var filters = el(
      "form",
      {
        className: "board-filters",
        novalidate: true,
        "aria-label": t("vTitle"),
        onsubmit: function (event) {
          event.preventDefault();
          state.year = Number(year.value) || state.year;
          state.street = street ? street.value : state.street;
          load(user, coverage, list, form);
        },
      },
      [row, el("button", { type: "submit", text: t("vShow") })]
    );
    var children = [el("h1", { id: "screen-title", tabindex: "-1", text: t("vTitle") }), filters];
    if (committee || district) children.push(coverage);
    if (form) children.push(form);
    children.push(list);
    C.main.replaceChildren.apply(C.main, children);
    if (district) {
      D.streetList().then(function (streets) {
        if (!state.street && streets.length) state.street = String(streets[0].id);
        streets.forEach(function (s) {
          street.appendChild(el("option", { value: s.id, text: s.name, selected: String(s.id) === state.street }));
        });
        load(user, coverage, list, form);
      });
    } else {
      if (claims.street_id) state.street = String(claims.street_id);
      load(user, coverage, list, form);
    }
  }

  function load(user, coverage, list, form) {
    var claims = user.claims;
    var streetId = Number(state.street) || 0;
    var ready = streetId ? D.deputiesOf(streetId) : Promise.resolve([]);
    return ready.then(function (deputies) {
      if (form) fillDeputies(form, deputies);
      if (claims.role === "street_committee" || C.DISTRICT_ROLES.indexOf(claims.role) >= 0) {
        coverage.setAttribute("aria-busy", "true");
        var query = new URLSearchParams({ year: String(state.year) });
        if (C.DISTRICT_ROLES.indexOf(claims.role) >= 0 && streetId) query.set("street_id", String(streetId));
        api("GET", "/api/v1/visit-coverage?" + query.toString()).then(function (reply) {
          coverage.setAttribute("aria-busy", "false");
          showCoverage(coverage, reply, form);
        });
      }
      var listQuery = new URLSearchParams({ year: String(state.year), page_size: "500" });
      if (streetId) listQuery.set("street_id", String(streetId));
      list.setAttribute("aria-busy", "true");
      return api("GET", "/api/v1/visits?" + listQuery.toString()).then(function (reply) {
        if (!reply.ok) {
          list.setAttribute("aria-busy", "false");
          return list.replaceChildren(el("h2", { id: "visits-title", text: t("vList", { year: state.year }) }), C.problemBox(reply));
        }
        var items = reply.body.items || [];
        return D.loadDeputyNames(
          items.map(function (v) {
            return v.deputy_id;
          })
        ).then(function () {
          list.setAttribute("aria-busy", "false");
          showList(list, items);
        });
      });
    });
  }

  function showCoverage(section, reply, form) {
    var heading = el("h2", { id: "coverage-title", text: t("vCoverage", { year: state.year }) });
    if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
    var c = reply.body;
    var ids = c.not_visited_deputy_ids || [];
    D.loadDeputyNames(ids).then(function () {
      var children = [heading, el("p", { id: "coverage-text", text: t("vCoverageText", c) })];
      if (!ids.length) children.push(el("p", { className: "note", id: "all-visited", text: t("vAllVisited") }));
      else {
        var items = el("ul", { className: "not-visited" });
        ids.forEach(function (id) {
          var entry = el("li", { "data-deputy": id }, [el("span", { text: D.deputyName(id) + " " })]);
          if (form) {
            entry.appendChild(
              el("button", {
                type: "button",
                className: "secondary",
                "aria-label": t("vVisitThem") + " " + D.deputyName(id),
                text: t("vVisitThem"),
                onclick: function () {
                  var select = form.elements.namedItem("deputy_id");
                  select.value = String(id);
                  select.focus();
                },
              })
            );
          }
          items.appendChild(entry);
        });
        children.push(items);
      }
      section.replaceChildren.apply(section, children);
    });
  }

  function fillDeputies(form, deputies) {
    var select = form.elements.namedItem("deputy_id");
    var chosen = select.value;
    select.replaceChildren(el("option", { value: "", text: "—" }));
    deputies.forEach(function (d) {
      select.appendChild(el("option", { value: d.id, text: d.name, selected: String(d.id) === chosen }));
    });
  }

  function visitors(text) {
    return text
      .split(/[\n,，、;；]+/)
      .map(function (name) {
        return name.trim();
      })
      .filter(Boolean);
  }

  function visitForm(user) {
    var deputy = el("select", { name: "deputy_id" });
    var day = el("input", { type: "date", name: "visited_on", value: C.todayInShanghai() });
    var people = el("textarea", { name: "visitors", rows: "2" });
    var place = el("input", { type: "text", name: "place", maxlength: "200" });
    var raised = el("textarea", { name: "raised", rows: "4" });
    var submit = el("button", { type: "submit", id: "visit-submit", text: t("vSubmit") });
    var form = el("form", { className: "panel", id: "visit-form", novalidate: true, "aria-labelledby": "visit-form-title" }, [
      el("h2", { id: "visit-form-title", text: t("vNew") }),
      el("div", { className: "field-row" }, [C.field("visit-deputy", t("vDeputy"), deputy), C.field("visit-date", t("vDate"), day)]),
      C.field("visit-visitors", t("vVisitors"), people, t("vVisitorsHint")),
      C.field("visit-place", t("vPlace"), place),
      C.field("visit-raised", t("vRaised"), raised),
      submit,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      D.clearProblems(form);
      var body = {
        deputy_id: Number(deputy.value) || 0,
        visited_on: day.value,
        visitors: visitors(people.value),
        place: place.value.trim(),
        raised: raised.value,
      };
      submit.disabled = true;
      api("POST", "/api/v1/visits", body).then(function (reply) {
        submit.disabled = false;
        if (!reply.ok) return D.problemAfter(submit, reply, form);
        location.hash = "#/visits/" + reply.body.id;
        C.announce(t("vRecorded", { name: D.deputyName(reply.body.deputy_id) }));
      });
    });
    return form;
  }

  function showList(section, items) {
    var heading = el("h2", { id: "visits-title", text: t("vList", { year: state.year }) });
    if (!items.length) return section.replaceChildren(heading, el("p", { className: "note", id: "no-visits", text: t("vNone") }));
    var table = el("table", { className: "queue-table visits-table" }, [
      el("thead", {}, [
        el(
          "tr",
          {},
          [t("vDate"), t("vDeputy"), t("vVisitors"), t("vRaised"), t("vFollowUps")].map(function (h) {
            return el("th", { scope: "col", text: h });
          })
        ),
      ]),
    ]);
    var body = el("tbody");
    items.forEach(function (v) {
      var answered = (v.follow_ups || []).filter(function (f) {
        return f.answer;
      }).length;
      body.appendChild(
        el("tr", { "data-visit": v.id }, [
          el("th", { scope: "row" }, [el("a", { href: "#/visits/" + v.id, text: v.visited_on })]),
          el("td", { text: D.deputyName(v.deputy_id) }),
          el("td", { text: (v.visitors || []).join("、") }),
          el("td", { text: v.raised }),
          el("td", { text: answered + " / " + (v.follow_ups || []).length }),
        ])
      );
    });
    table.appendChild(body);
    section.replaceChildren(heading, el("div", { className: "table-scroll" }, [table]));
  }

  // ------------------------------------------------------------ one visit

  function visitScreen(user, id) {
    var section = el("section", { id: "visit-detail", "aria-busy": "true", "aria-labelledby": "screen-title" });
    C.main.replaceChildren(
      el("p", { className: "back" }, [el("a", { href: "#/visits", text: t("vBack") })]),
      el("h1", { id: "screen-title", tabindex: "-1", text: t("vTitle") }),
      section
    );
    api("GET", "/api/v1/visits/" + id).then(function (reply) {
      if (!reply.ok) {
        section.setAttribute("aria-busy", "false");
        return section.replaceChildren(C.problemBox(reply));
      }
      D.loadDeputyNames([reply.body.deputy_id]).then(function () {
        section.setAttribute("aria-busy", "false");
        showVisit(user, section, reply.body);
      });
    });
  }

  function showVisit(user, section, visit) {
    document.getElementById("screen-title").textContent = t("vVisitOf", { name: D.deputyName(visit.deputy_id), date: visit.visited_on });
    var facts = el("dl", { className: "facts" });
    [
      [t("vDeputy"), D.deputyName(visit.deputy_id)],
      [t("vDate"), visit.visited_on],
      [t("vVisitors"), (visit.visitors || []).join("、")],
      [t("vPlace"), visit.place],
      [t("vRaised"), visit.raised],
    ].forEach(function (pair) {
      facts.appendChild(el("dt", { text: pair[0] }));
      facts.appendChild(el("dd", { text: pair[1] }));
    });
    var committee = user.claims.role === "street_committee";
    var followUps = el("section", { className: "panel", id: "follow-ups", "aria-labelledby": "follow-ups-title" }, [
      el("h2", { id: "follow-ups-title", text: t("vFollowUps") }),
    ]);
    if (!(visit.follow_ups || []).length) followUps.appendChild(el("p", { className: "note", text: t("vNoFollowUps") }));
    else {
      var items = el("ol", { className: "timeline follow-up-list" });
      visit.follow_ups.forEach(function (f) {
        var entry = el("li", { "data-follow-up": f.id }, [
          el("p", { className: "follow-up-text", text: f.text }),
          el("p", { className: "hint", text: t("vAdded", { date: f.added_at ? f.added_at.slice(0, 10) : "" }) }),
        ]);
        if (f.answer) entry.appendChild(el("p", { className: "follow-up-answer" }, [el("strong", { text: t("vAnswer") + "：" }), el("span", { text: f.answer })]));
        else if (committee) entry.appendChild(answerForm(user, section, visit, f));
        else entry.appendChild(el("p", { className: "note", text: t("vNoAnswer") }));
        items.appendChild(entry);
      });
      followUps.appendChild(items);
    }
    var children = [facts, followUps];
    if (committee) children.push(followUpForm(user, section, visit));
    section.replaceChildren.apply(section, children);
  }

  function answerForm(user, section, visit, f) {
    var answer = el("textarea", { name: "answer", rows: "2" });
    var submit = el("button", { type: "submit", id: "answer-submit-" + f.id, text: t("vAnswerSubmit") });
    var form = el("form", { className: "action-form answer-form", novalidate: true, "aria-label": t("vAnswer") + " " + f.text }, [
      C.field("answer-" + f.id, t("vAnswer"), answer),
      submit,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      D.clearProblems(form);
      submit.disabled = true;
      api("POST", "/api/v1/visits/" + visit.id + "/follow-ups/" + f.id + ":answer", { answer: answer.value }).then(function (reply) {
        submit.disabled = false;
        if (!reply.ok) return D.problemAfter(submit, reply, form);
        showVisit(user, section, reply.body);
        D.done(t("vAnswered"));
      });
    });
    return form;
  }

  function followUpForm(user, section, visit) {
    var text = el("textarea", { name: "text", rows: "2" });
    var submit = el("button", { type: "submit", id: "follow-up-submit", text: t("vFollowUpSubmit") });
    var form = el("form", { className: "panel", id: "follow-up-form", novalidate: true, "aria-labelledby": "follow-up-form-title" }, [
      el("h2", { id: "follow-up-form-title", text: t("vAddFollowUp") }),
      C.field("follow-up-text", t("vFollowUpText"), text),
      submit,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      D.clearProblems(form);
      submit.disabled = true;
      api("POST", "/api/v1/visits/" + visit.id + "/follow-ups", { text: text.value }).then(function (reply) {
        submit.disabled = false;
        if (!reply.ok) return D.problemAfter(submit, reply, form);
        showVisit(user, section, reply.body);
        D.done(t("vFollowUpAdded"));
      });
    });
    return form;
  }

  C.screen("visits", visitsScreen);
})();

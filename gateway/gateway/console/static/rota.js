// The console's rota screen (#/rota): who receives at each session of a
// station. Staff see a station's sessions month by month with their rotas,
// set a session's rota by hand and draw the rotas of sessions that have
// none, and approve or refuse swaps; a deputy sees the sessions they are on,
// declares the days they cannot receive, proposes swaps and answers those
// proposed to them. Registered with the shell in console.js; the API decides
// who may do what, the screen only reflects it.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var field = C.field;
  var api = C.api;
  var problemBox = C.problemBox;
  var clearFieldErrors = C.clearFieldErrors;
  var announce = C.announce;
  var todayInShanghai = C.todayInShanghai;
  var monthTitle = C.monthTitle;
  var shiftMonth = C.shiftMonth;
  var lastDay = C.lastDay;
  var dayText = C.dayText;
  var main = C.main;

  C.addText({
    "zh-CN": {
      navRota: "接待轮值",
      rotaTitle: "接待轮值",
      rotaOf: "{month}的接待轮值",
      myRotaOf: "{month}我参加的接待",
      noMySessions: "这个月没有安排您参加接待。",
      rotaNeeds: "还没有排班",
      rotaComplete: "已排齐",
      rotaGaps: "有缺口",
      gap_no_head_available: "没有能带班的站长或副站长",
      gap_too_few_deputies: "接待代表少于 {min} 位",
      leads: "带班",
      head: "站长或副站长",
      rotaDeputies: "接待代表",
      noDeputies: "还没有安排代表。",
      editRota: "修改轮值",
      rotaDeputiesLegend: "参加接待的代表",
      rotaLead: "带班代表",
      rotaLeadAuto: "自动：第一位站长或副站长",
      rotaLeadHint: "须是本站站长或副站长；选中的代表会同时勾选为接待代表。",
      saveRota: "保存轮值",
      keepRota: "不修改",
      rotaSaved: "已保存 {date} 的接待轮值。",
      generate: "为还没有排班的接待排班",
      generateAgain: "也重新排定本月以后各次接待的轮值（手工修改的也会重排）",
      generated: "已为 {published} 次接待排班，{kept} 次保留原来的轮值。",
      swapsTitle: "换班",
      noSwaps: "没有换班申请。",
      swapLine: "{date}：{proposer} 换给 {counterpart}",
      swapBack: "，换回 {date}",
      swap_proposed: "待答复",
      swap_accepted: "已接受",
      swap_declined: "已拒绝或撤回",
      accept: "接受",
      decline: "拒绝",
      withdraw: "撤回",
      approve: "批准",
      refuse: "不批准",
      swapAccepted: "换班已接受，轮值已更新。",
      swapDeclined: "换班已拒绝。",
      proposeSwap: "提议换班",
      swapCounterpart: "换给哪位代表",
      swapReturn: "换回对方的哪次接待",
      swapReturnNone: "不换回，只请对方代为接待",
      swapSubmit: "提出换班",
      swapCancel: "不换班",
      swapProposed: "已向 {name} 提出换班。",
      awayTitle: "不能参加接待的日期",
      noAway: "没有登记。",
      awayLine: "{first} 至 {last}：{reason}",
      awayFirst: "从",
      awayLast: "到",
      awayReason: "原因",
      awayReasonHint: "只有您和联络站工作人员能看到。",
      awaySubmit: "登记",
      awayDeclared: "已登记 {first} 至 {last} 不能参加接待。",
      awayRemove: "撤销",
      awayRemoved: "已撤销 {first} 至 {last} 的登记。",
      notAtStation: "您还不是哪个联络站的代表。",
      myStation: "所在联络站：{name}",
      deputyN: "代表 {id}",
    },
    en: {
      navRota: "Rota",
      rotaTitle: "Reception rota",
      rotaOf: "Rota for {month}",
      myRotaOf: "My sessions in {month}",
      noMySessions: "You are not on any session this month.",
      rotaNeeds: "Not drawn yet",
      rotaComplete: "Complete",
      rotaGaps: "Has gaps",
      gap_no_head_available: "no station head or deputy head can lead it",
      gap_too_few_deputies: "fewer than {min} deputies",
      leads: "leads",
      head: "station head or deputy head",
      rotaDeputies: "Deputies",
      noDeputies: "No deputies yet.",
      editRota: "Change rota",
      rotaDeputiesLegend: "Deputies receiving",
      rotaLead: "Leading deputy",
      rotaLeadAuto: "Automatic: the first station head or deputy head",
      rotaLeadHint: "A station head or deputy head; choosing one also ticks them as receiving.",
      saveRota: "Save rota",
      keepRota: "Keep it",
      rotaSaved: "The rota of {date} is saved.",
      generate: "Draw rotas for sessions without one",
      generateAgain: "Also draw again the rotas of this month's sessions ahead (set by hand ones too)",
      generated: "Rotas drawn for {published} sessions; {kept} keep theirs.",
      swapsTitle: "Swaps",
      noSwaps: "No swaps.",
      swapLine: "{date}: {proposer} hands over to {counterpart}",
      swapBack: ", taking {date} in return",
      swap_proposed: "Awaiting an answer",
      swap_accepted: "Accepted",
      swap_declined: "Declined or withdrawn",
      accept: "Accept",
      decline: "Decline",
      withdraw: "Withdraw",
      approve: "Approve",
      refuse: "Refuse",
      swapAccepted: "The swap is accepted; the rotas are updated.",
      swapDeclined: "The swap is declined.",
      proposeSwap: "Propose a swap",
      swapCounterpart: "Swap with",
      swapReturn: "Their session you take in return",
      swapReturnNone: "None: they just take mine",
      swapSubmit: "Propose swap",
      swapCancel: "No swap",
      swapProposed: "A swap is proposed to {name}.",
      awayTitle: "Days I cannot receive",
      noAway: "None declared.",
      awayLine: "{first} to {last}: {reason}",
      awayFirst: "From",
      awayLast: "To",
      awayReason: "Reason",
      awayReasonHint: "Seen only by you and the station's staff.",
      awaySubmit: "Declare",
      awayDeclared: "Declared: you cannot receive from {first} to {last}.",
      awayRemove: "Remove",
      awayRemoved: "The days {first} to {last} are removed.",
      notAtStation: "You are not a deputy of any station yet.",
      myStation: "Your station: {name}",
      deputyN: "Deputy {id}",
    },
  });

  var rota = { street: null, station: null, month: null };
  // The station's deputies by id ({id: {name, head}}), for names and the rota form.
  var people = {};

  function rotaScreen(user) {
    if (!rota.month) rota.month = todayInShanghai().slice(0, 7);
    var title = el("h1", { id: "screen-title", tabindex: "-1", text: t("rotaTitle") });
    var body = el("div", { id: "rota-body" });
    if (user.claims.role === "deputy") {
      main.replaceChildren(title, body);
      return deputyView(body, user);
    }
    var pickers = el("div", { className: "pickers" });
    main.replaceChildren(title, pickers, body);
    C.stationPicker(pickers, body, user, rota, function () {
      stationView(body, user);
    });
  }

  // ------------------------------------------------------------ shared parts

  function nameOf(id) {
    return (people[id] && people[id].name) || t("deputyN", { id: id });
  }

  // The station's deputies (public), and which of them are heads when the
  // user may read positions; then `done()`.
  function loadPeople(stationId, withHeads, done) {
    people = {};
    var asked = [api("GET", "/api/v1/deputies?station_id=" + stationId + "&page_size=100")];
    if (withHeads) asked.push(api("GET", "/api/v1/positions?station_id=" + stationId + "&page_size=100"));
    Promise.all(asked).then(function (replies) {
      if (replies[0].ok) {
        (replies[0].body.items || []).forEach(function (d) {
          people[d.id] = { name: d.name, head: false };
        });
      }
      if (replies[1] && replies[1].ok) {
        (replies[1].body.items || []).forEach(function (p) {
          var headRole = p.role === "station_head" || p.role === "station_deputy_head";
          if (headRole && people[p.deputy_id]) people[p.deputy_id].head = true;
        });
      }
      done(replies[0].ok ? null : replies[0]);
    });
  }

  function monthNav(onShift) {
    function button(id, delta, text) {
      return el("button", {
        type: "button",
        className: "secondary",
        id: id,
        text: text,
        onclick: function () {
          rota.month = shiftMonth(rota.month, delta);
          onShift(id);
        },
      });
    }
    return el("div", { className: "month-nav" }, [
      button("prev-month", -1, "‹ " + t("prevMonth")),
      button("next-month", 1, t("nextMonth") + " ›"),
    ]);
  }

  // The month's sessions of a station with their rotas: cb([{session, rota}]) or cb(null, reply).
  function loadMonth(stationId, cb) {
    var query = "?from=" + rota.month + "-01&to=" + lastDay(rota.month);
    api("GET", "/api/v1/stations/" + stationId + "/sessions" + query).then(function (reply) {
      if (!reply.ok) return cb(null, reply);
      var sessions = reply.body.items || [];
      Promise.all(
        sessions.map(function (s) {
          return api("GET", "/api/v1/sessions/" + s.id + "/rota");
        })
      ).then(function (rotas) {
        var failed = rotas.filter(function (r) {
          return !r.ok;
        })[0];
        if (failed) return cb(null, failed);
        cb(
          sessions.map(function (s, i) {
            return { session: s, rota: rotas[i].body };
          })
        );
      });
    });
  }

  function changeable(session) {
    return session.status === "scheduled" && session.date >= todayInShanghai();
  }

  function statusText(r) {
    return { needs_rota: t("rotaNeeds"), complete: t("rotaComplete"), gaps: t("rotaGaps") }[r.status] || r.status;
  }

  // One session and its rota; `actions` are appended under it.
  function sessionItem(item, actions) {
    var s = item.session;
    var r = item.rota;
    var headingId = "rota-session-" + s.id;
    var deputies = el("ul", { className: "rota-deputies", "aria-label": t("rotaDeputies") });
    (r.deputies || []).forEach(function (d) {
      deputies.appendChild(
        el("li", { className: d.lead ? "lead" : null, "data-deputy": d.deputy_id }, [
          el("span", { text: d.name || nameOf(d.deputy_id) }),
          d.lead ? el("span", { className: "badge", text: t("leads") }) : null,
        ])
      );
    });
    var children = [
      el("h3", { id: headingId, tabindex: "-1" }, [
        el("time", { datetime: s.date, text: dayText(s.date) }),
        " ",
        el("span", { className: "kind", text: t(s.kind) + " · " + t(s.status) }),
      ]),
      el("p", { className: "rota-status " + r.status, text: statusText(r) }),
    ];
    if ((r.gaps || []).length) {
      children.push(
        el(
          "ul",
          { className: "rota-gaps" },
          r.gaps.map(function (gap) {
            return el("li", { text: t("gap_" + gap, { min: r.min_deputies }) || gap });
          })
        )
      );
    }
    children.push((r.deputies || []).length ? deputies : el("p", { className: "note", text: t("noDeputies") }));
    if (actions) children.push(actions);
    return el(
      "li",
      { className: "rota-session " + s.status, "data-session": s.id, "aria-labelledby": headingId },
      children
    );
  }

  // A form opened under a session (one at a time): `fields`, a submit and a
  // cancel button (`buttons`: their texts) and a place for the outcome;
  // `submit(outcome, form)` runs with the field errors cleared. Cancelling
  // gives the focus back to the session's first button.
  function inlineForm(li, id, label, buttons, fields, submit) {
    var existing = document.getElementById(id);
    if (existing) existing.remove();
    var outcome = el("div", { className: "form-outcome" });
    var form = el(
      "form",
      {
        id: id,
        novalidate: true,
        "aria-label": label,
        onsubmit: function (event) {
          event.preventDefault();
          clearFieldErrors(form);
          submit(outcome, form);
        },
      },
      fields.concat([
        el("div", { className: "actions" }, [
          el("button", { type: "submit", text: buttons[0] }),
          el("button", {
            type: "button",
            className: "secondary",
            text: buttons[1],
            onclick: function () {
              form.remove();
              li.querySelector("button").focus();
            },
          }),
        ]),
        outcome,
      ])
    );
    li.appendChild(form);
    return form;
  }

  // A month's sessions of the station under a heading and the month's
  // buttons (`reload(buttonId)` shows the month chosen); `render(items, list)`
  // fills the list once the rotas are in. `focusId` takes the focus: at once,
  // or when it is in the list, once the list is there.
  function monthSection(section, title, reload, focusId, render) {
    var heading = el("h2", { id: "sessions-title", tabindex: "-1", text: title });
    var list = el("div", { className: "rota-list", "aria-busy": "true" }, [el("p", { className: "note", text: t("loading") })]);
    section.replaceChildren(heading, monthNav(reload), list);
    var focus = focusId && document.getElementById(focusId);
    if (focus) focus.focus();
    loadMonth(rota.station, function (items, failed) {
      list.setAttribute("aria-busy", "false");
      if (!items) return list.replaceChildren(problemBox(failed));
      render(items, list);
      var late = !focus && focusId && document.getElementById(focusId);
      if (late) late.focus();
    });
  }

  // The sessions as a list; those whose rota may change get a button
  // (`label`, none without one) that calls `open(li, item)`.
  function sessionList(items, label, open) {
    var ul = el("ul", { className: "rota-sessions-list" });
    items.forEach(function (item) {
      var actions = null;
      if (label && changeable(item.session)) {
        actions = el("div", { className: "actions" }, [
          el("button", {
            type: "button",
            className: "secondary small",
            text: label,
            "aria-label": label + " " + item.session.date,
            onclick: function () {
              open(li, item);
            },
          }),
        ]);
      }
      var li = sessionItem(item, actions);
      ul.appendChild(li);
    });
    return ul;
  }

  // ------------------------------------------------------------ staff

  function stationView(body, user) {
    var canWrite = C.CALENDAR_WRITERS.indexOf(user.claims.role) >= 0;
    var sessions = el("section", { className: "panel rota-sessions", "aria-labelledby": "sessions-title" });
    var children = [sessions];
    var swaps = null;
    if (canWrite) {
      swaps = el("section", { className: "panel rota-swaps", "aria-labelledby": "swaps-title" });
      children.push(swaps);
    }
    body.replaceChildren.apply(body, children);
    var station = rota.station;
    loadPeople(station, canWrite, function () {
      loadStationMonth(sessions, canWrite);
      if (swaps) {
        loadSwaps(swaps, user, "station_id=" + station, null, function () {
          loadStationMonth(sessions, canWrite);
        });
      }
    });
  }

  function loadStationMonth(section, canWrite, focusId) {
    var reload = function (id) {
      loadStationMonth(section, canWrite, id);
    };
    monthSection(section, t("rotaOf", { month: monthTitle(rota.month) }), reload, focusId, function (items, list) {
      if (!items.length) return list.replaceChildren(el("p", { className: "note", text: t("noSessions") }));
      var open = function (li, item) {
        rotaForm(li, item, section, canWrite);
      };
      var children = [sessionList(items, canWrite ? t("editRota") : null, open)];
      if (canWrite && items.some(function (item) { return changeable(item.session); })) {
        children.unshift(generateForm(section, canWrite));
      }
      list.replaceChildren.apply(list, children);
    });
  }

  // Drawing the month's rotas: those of sessions without one, or (asked
  // for) again those of the sessions ahead. What it did stays in view once.
  var drawn = null;

  function generateForm(section, canWrite) {
    var again = el("input", { type: "checkbox", name: "regenerate", id: "generate-again" });
    var outcome = el("div", { className: "form-outcome" });
    if (drawn) outcome.appendChild(el("p", { className: "notice", text: drawn }));
    drawn = null;
    var form = el(
      "form",
      {
        id: "generate-form",
        novalidate: true,
        onsubmit: function (event) {
          event.preventDefault();
          clearFieldErrors(form);
          var body = { from_month: rota.month, months: 1, regenerate: again.checked };
          api("POST", "/api/v1/stations/" + rota.station + "/rota:generate", body).then(function (reply) {
            if (!reply.ok) return outcome.replaceChildren(problemBox(reply, form));
            drawn = t("generated", reply.body);
            announce(drawn);
            loadStationMonth(section, canWrite, "generate-submit");
          });
        },
      },
      [
        el("div", { className: "choice" }, [again, el("label", { for: "generate-again", text: t("generateAgain") })]),
        el("button", { type: "submit", id: "generate-submit", text: t("generate") }),
        outcome,
      ]
    );
    return form;
  }

  function rotaForm(li, item, section, canWrite) {
    var s = item.session;
    var on = {};
    var lead = null;
    (item.rota.deputies || []).forEach(function (d) {
      on[d.deputy_id] = true;
      if (d.lead) lead = d.deputy_id;
    });
    var ids = Object.keys(people).map(Number);
    var boxes = {};
    var group = el("fieldset", { name: "deputies", id: "rota-deputies", className: "rota-choices" }, [
      el("legend", { text: t("rotaDeputiesLegend") }),
    ]);
    ids.forEach(function (id) {
      var box = el("input", { type: "checkbox", name: "deputy", value: id, id: "rota-deputy-" + id, checked: !!on[id] });
      boxes[id] = box;
      // Off the rota, off the lead.
      box.addEventListener("change", function () {
        if (!box.checked && leadSelect.value === String(id)) leadSelect.value = "";
      });
      var label = el("label", { for: box.id }, [
        el("span", { text: nameOf(id) }),
        people[id].head ? el("span", { className: "badge", text: t("head") }) : null,
      ]);
      group.appendChild(el("div", { className: "choice" }, [box, label]));
    });
    var leadSelect = el("select", { name: "lead" }, [el("option", { value: "", text: t("rotaLeadAuto") })]);
    ids.forEach(function (id) {
      leadSelect.appendChild(el("option", { value: id, text: nameOf(id), selected: id === lead }));
    });
    leadSelect.addEventListener("change", function () {
      if (leadSelect.value) boxes[leadSelect.value].checked = true;
    });
    inlineForm(li, "rota-form", t("editRota") + " " + s.date, [t("saveRota"), t("keepRota")], [
      group,
      field("rota-lead", t("rotaLead"), leadSelect, t("rotaLeadHint")),
    ], function (outcome, form) {
      var picks = ids
        .filter(function (id) {
          return boxes[id].checked;
        })
        .map(function (id) {
          return { deputy_id: id, lead: String(id) === leadSelect.value };
        });
      api("PUT", "/api/v1/sessions/" + s.id + "/rota", { deputies: picks }).then(function (reply) {
        if (!reply.ok) return outcome.replaceChildren(problemBox(reply, form));
        announce(t("rotaSaved", { date: s.date }));
        loadStationMonth(section, canWrite, "sessions-title");
      });
    });
    var first = group.querySelector("input");
    if (first) first.focus();
  }

  // ------------------------------------------------------------ swaps

  // The swaps named by `query` (deputy_id=… or station_id=…); `me` is the
  // signed-in deputy's id (null for staff), `after()` runs after a decision.
  function loadSwaps(section, user, query, me, after) {
    var heading = el("h2", { id: "swaps-title", text: t("swapsTitle") });
    section.replaceChildren(heading, el("p", { className: "note", text: t("loading") }));
    api("GET", "/api/v1/rota-swaps?" + query).then(function (reply) {
      if (!reply.ok) return section.replaceChildren(heading, problemBox(reply));
      var swaps = reply.body.items || [];
      if (!swaps.length) return section.replaceChildren(heading, el("p", { className: "note", text: t("noSwaps") }));
      var sessionIds = [];
      swaps.forEach(function (w) {
        [w.session_id, w.counterpart_session_id].forEach(function (id) {
          if (id && sessionIds.indexOf(id) < 0) sessionIds.push(id);
        });
      });
      Promise.all(
        sessionIds.map(function (id) {
          return api("GET", "/api/v1/sessions/" + id);
        })
      ).then(function (replies) {
        var dates = {};
        replies.forEach(function (r, i) {
          dates[sessionIds[i]] = r.ok ? r.body.date : "#" + sessionIds[i];
        });
        var outcome = el("div", { className: "form-outcome" });
        var list = el("ul", { className: "swap-list" });
        swaps.forEach(function (w) {
          list.appendChild(swapItem(w, dates, me, outcome, function () {
            loadSwaps(section, user, query, me, after);
            if (after) after();
          }));
        });
        section.replaceChildren(heading, list, outcome);
      });
    });
  }

  function swapItem(w, dates, me, outcome, decided) {
    var text = t("swapLine", { date: dates[w.session_id], proposer: nameOf(w.proposer_id), counterpart: nameOf(w.counterpart_id) });
    if (w.counterpart_session_id) text += t("swapBack", { date: dates[w.counterpart_session_id] });
    var item = el("li", { className: "swap " + w.status, "data-swap": w.id }, [
      el("span", { className: "swap-text", text: text }),
      el("span", { className: "swap-status", text: t("swap_" + w.status) }),
    ]);
    if (w.status !== "proposed") return item;

    function decide(verb, label, done) {
      return el("button", {
        type: "button",
        className: verb === "accept" ? "small" : "secondary small",
        text: label,
        "aria-label": label + " " + text,
        onclick: function () {
          api("POST", "/api/v1/rota-swaps/" + w.id + ":" + verb).then(function (reply) {
            if (!reply.ok) return outcome.replaceChildren(problemBox(reply));
            outcome.replaceChildren();
            announce(done);
            decided();
          });
        },
      });
    }
    var buttons = [];
    if (me === null) {
      buttons = [decide("accept", t("approve"), t("swapAccepted")), decide("decline", t("refuse"), t("swapDeclined"))];
    } else if (me === w.counterpart_id) {
      buttons = [decide("accept", t("accept"), t("swapAccepted")), decide("decline", t("decline"), t("swapDeclined"))];
    } else if (me === w.proposer_id) {
      buttons = [decide("decline", t("withdraw"), t("swapDeclined"))];
    }
    item.appendChild(el("span", { className: "actions" }, buttons));
    return item;
  }

  // ------------------------------------------------------------ a deputy

  function deputyView(body, user) {
    var me = Number(user.claims.deputy_id);
    body.replaceChildren(el("p", { className: "note", text: t("loading") }));
    api("GET", "/api/v1/deputies/" + me).then(function (reply) {
      if (!reply.ok) return body.replaceChildren(problemBox(reply));
      var deputy = reply.body;
      if (!deputy.station_id) return body.replaceChildren(el("p", { className: "note", text: t("notAtStation") }));
      rota.station = deputy.station_id;
      var where = el("p", { className: "note", id: "my-station" });
      api("GET", "/api/v1/stations/" + deputy.station_id).then(function (station) {
        if (station.ok) where.textContent = t("myStation", { name: station.body.name });
      });
      var sessions = el("section", { className: "panel rota-sessions", "aria-labelledby": "sessions-title" });
      var away = el("section", { className: "panel rota-away", "aria-labelledby": "away-title" });
      var swaps = el("section", { className: "panel rota-swaps", "aria-labelledby": "swaps-title" });
      body.replaceChildren(where, sessions, away, swaps);
      var reloadSwaps = function () {
        loadSwaps(swaps, user, "deputy_id=" + me, me, function () {
          loadMyMonth(sessions, me, reloadSwaps);
        });
      };
      loadPeople(deputy.station_id, false, function () {
        loadMyMonth(sessions, me, reloadSwaps);
        loadAway(away, me, function () {
          loadMyMonth(sessions, me, reloadSwaps);
        });
        reloadSwaps();
      });
    });
  }

  function loadMyMonth(section, me, reloadSwaps, focusId) {
    var reload = function (id) {
      loadMyMonth(section, me, reloadSwaps, id);
    };
    monthSection(section, t("myRotaOf", { month: monthTitle(rota.month) }), reload, focusId, function (items, list) {
      var onIt = function (item) {
        return (item.rota.deputies || []).some(function (d) {
          return d.deputy_id === me;
        });
      };
      var mine = items.filter(onIt);
      if (!mine.length) return list.replaceChildren(el("p", { className: "note", text: t("noMySessions") }));
      var others = items.filter(function (item) {
        return !onIt(item) && changeable(item.session) && (item.rota.deputies || []).length;
      });
      var open = function (li, item) {
        swapForm(li, item, others, me, reloadSwaps);
      };
      list.replaceChildren(sessionList(mine, t("proposeSwap"), open));
    });
  }

  function swapForm(li, item, others, me, reloadSwaps) {
    var s = item.session;
    var onSession = (item.rota.deputies || []).map(function (d) {
      return d.deputy_id;
    });
    var counterpart = el("select", { name: "counterpart_id", required: true });
    Object.keys(people)
      .map(Number)
      .filter(function (id) {
        return id !== me && onSession.indexOf(id) < 0;
      })
      .forEach(function (id) {
        counterpart.appendChild(el("option", { value: id, text: nameOf(id) }));
      });
    var back = el("select", { name: "counterpart_session_id" }, [el("option", { value: "", text: t("swapReturnNone") })]);
    others.forEach(function (other) {
      back.appendChild(el("option", { value: other.session.id, text: dayText(other.session.date) }));
    });
    inlineForm(li, "swap-form", t("proposeSwap") + " " + s.date, [t("swapSubmit"), t("swapCancel")], [
      field("swap-counterpart", t("swapCounterpart"), counterpart),
      field("swap-back", t("swapReturn"), back),
    ], function (outcome, form) {
      var body = { proposer_id: me, session_id: s.id, counterpart_id: Number(counterpart.value) };
      if (back.value) body.counterpart_session_id = Number(back.value);
      api("POST", "/api/v1/rota-swaps", body).then(function (reply) {
        if (!reply.ok) return outcome.replaceChildren(problemBox(reply, form));
        announce(t("swapProposed", { name: nameOf(body.counterpart_id) }));
        form.remove();
        reloadSwaps();
        li.querySelector("button").focus();
      });
    });
    counterpart.focus();
  }

  function loadAway(section, me, changed) {
    var heading = el("h2", { id: "away-title", tabindex: "-1", text: t("awayTitle") });
    var list = el("div", { className: "away-list" }, [el("p", { className: "note", text: t("loading") })]);
    var today = todayInShanghai();
    var first = el("input", { type: "date", name: "first_day", required: true, min: today });
    var last = el("input", { type: "date", name: "last_day", required: true, min: today });
    var reason = el("input", { type: "text", name: "reason", maxlength: "500", required: true });
    var outcome = el("div", { className: "form-outcome" });
    var form = el(
      "form",
      {
        id: "away-form",
        novalidate: true,
        onsubmit: function (event) {
          event.preventDefault();
          clearFieldErrors(form);
          var body = { first_day: first.value, last_day: last.value, reason: reason.value.trim() };
          api("POST", "/api/v1/deputies/" + me + "/unavailability", body).then(function (reply) {
            if (!reply.ok) return outcome.replaceChildren(problemBox(reply, form));
            announce(t("awayDeclared", { first: reply.body.first_day, last: reply.body.last_day }));
            loadAway(section, me, changed);
            changed();
          });
        },
      },
      [
        el("div", { className: "field-row" }, [field("away-first", t("awayFirst"), first), field("away-last", t("awayLast"), last)]),
        field("away-reason", t("awayReason"), reason, t("awayReasonHint")),
        el("button", { type: "submit", text: t("awaySubmit") }),
        outcome,
      ]
    );
    section.replaceChildren(heading, list, form);
    api("GET", "/api/v1/deputies/" + me + "/unavailability").then(function (reply) {
      if (!reply.ok) return list.replaceChildren(problemBox(reply));
      var items = reply.body.items || [];
      if (!items.length) return list.replaceChildren(el("p", { className: "note", text: t("noAway") }));
      var ul = el("ul", { className: "away-items" });
      items.forEach(function (a) {
        var text = t("awayLine", { first: a.first_day, last: a.last_day, reason: a.reason });
        ul.appendChild(
          el("li", { "data-away": a.id }, [
            el("span", { text: text }),
            el("button", {
              type: "button",
              className: "secondary small",
              text: t("awayRemove"),
              "aria-label": t("awayRemove") + " " + a.first_day + " – " + a.last_day,
              onclick: function () {
                api("DELETE", "/api/v1/deputies/" + me + "/unavailability/" + a.id).then(function (removed) {
                  if (!removed.ok) return list.appendChild(problemBox(removed));
                  announce(t("awayRemoved", { first: a.first_day, last: a.last_day }));
                  loadAway(section, me, changed);
                  changed();
                  var heading = document.getElementById("away-title");
                  if (heading) heading.focus();
                });
              },
            }),
          ])
        );
      });
      list.replaceChildren(ul);
    });
  }

  C.screen("rota", rotaScreen);
})();

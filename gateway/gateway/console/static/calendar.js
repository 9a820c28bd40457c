// The console's calendar screen (#/calendar): a station's sessions month by
// month, its reception rule, extra sessions and cancellations. Registered
// with the shell in console.js.
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
  var CALENDAR_WRITERS = C.CALENDAR_WRITERS;

  var calendar = { street: null, station: null, month: null };

  function calendarScreen(user) {
    if (!calendar.month) calendar.month = todayInShanghai().slice(0, 7);
    var pickers = el("div", { className: "pickers" });
    var body = el("div", { id: "calendar-body" });
    main.replaceChildren(
      el("h1", { id: "screen-title", tabindex: "-1", text: t("calendarTitle") }),
      pickers,
      body
    );
    C.stationPicker(pickers, body, user, calendar, function () {
      showStation(body, user);
    });
  }

  function showStation(body, user) {
    var canWrite = CALENDAR_WRITERS.indexOf(user.claims.role) >= 0;
    var sessions = el("section", { className: "panel sessions", "aria-labelledby": "sessions-title" });
    var rule = el("section", { className: "panel rule", "aria-labelledby": "rule-title" });
    var children = [sessions, rule];
    var add = null;
    if (canWrite) {
      add = el("section", { className: "panel add", "aria-labelledby": "add-title" });
      children.splice(1, 0, add);
    }
    body.replaceChildren.apply(body, children);
    loadSessions(sessions, canWrite);
    if (add) addForm(add, sessions, canWrite);
    loadRule(rule, canWrite);
  }

  function loadSessions(section, canWrite, focusId) {
    var month = calendar.month;
    var heading = el("h2", { id: "sessions-title", tabindex: "-1", text: t("sessionsOf", { month: monthTitle(month) }) });
    var prev = el("button", {
      type: "button",
      className: "secondary",
      id: "prev-month",
      text: "‹ " + t("prevMonth"),
      onclick: function () {
        calendar.month = shiftMonth(calendar.month, -1);
        loadSessions(section, canWrite, "prev-month");
      },
    });
    var next = el("button", {
      type: "button",
      className: "secondary",
      id: "next-month",
      text: t("nextMonth") + " ›",
      onclick: function () {
        calendar.month = shiftMonth(calendar.month, 1);
        loadSessions(section, canWrite, "next-month");
      },
    });
    var list = el("div", { className: "session-list", "aria-busy": "true" }, [el("p", { className: "note", text: t("loading") })]);
    section.replaceChildren(heading, el("div", { className: "month-nav" }, [prev, next]), list);
    var focus = focusId && document.getElementById(focusId);
    if (focus) focus.focus();
    var query = "?from=" + month + "-01&to=" + lastDay(month);
    api("GET", "/api/v1/stations/" + calendar.station + "/sessions" + query).then(function (reply) {
      list.setAttribute("aria-busy", "false");
      if (!reply.ok) return list.replaceChildren(problemBox(reply));
      var items = reply.body.items || [];
      if (!items.length) return list.replaceChildren(el("p", { className: "note", text: t("noSessions") }));
      list.replaceChildren(sessionTable(items, section, canWrite));
    });
  }

  function slotsText(slots) {
    return (slots || [])
      .map(function (slot) {
        return (slot.label ? slot.label + " " : "") + slot.local_start + "–" + slot.local_end;
      })
      .join(", ");
  }

  function sessionTable(items, section, canWrite) {
    var head = [t("colDate"), t("colKind"), t("colSlots"), t("colVenue"), t("colStatus"), t("colNote")];
    if (canWrite) head.push(t("colActions"));
    var table = el("table", { className: "sessions-table" }, [
      el("caption", { className: "visually-hidden", text: t("sessionsOf", { month: monthTitle(calendar.month) }) }),
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
    ]);
    var tbody = el("tbody");
    var today = todayInShanghai();
    items.forEach(function (session) {
      var row = el("tr", { "data-session": session.id, className: session.status }, [
        el("th", { scope: "row" }, [el("time", { datetime: session.date, text: dayText(session.date) })]),
        el("td", { text: t(session.kind) }),
        el("td", { text: slotsText(session.slots) }),
        el("td", { text: session.venue_name || "" }),
        el("td", { className: "status", text: t(session.status) }),
        el("td", { text: session.status === "cancelled" ? session.cancellation_reason : session.reason || "" }),
      ]);
      if (canWrite) {
        var cell = el("td");
        if (session.status === "scheduled" && session.date >= today) {
          cell.appendChild(
            el("button", {
              type: "button",
              className: "secondary small",
              text: t("cancel"),
              "aria-label": t("cancel") + " " + session.date,
              onclick: function () {
                cancelForm(row, session, section, canWrite);
              },
            })
          );
        }
        row.appendChild(cell);
      }
      tbody.appendChild(row);
    });
    table.appendChild(tbody);
    return el("div", { className: "table-scroll" }, [table]);
  }

  function cancelForm(row, session, section, canWrite) {
    var existing = document.getElementById("cancel-form-row");
    if (existing) existing.remove();
    var reason = el("textarea", { name: "reason", rows: "2", maxlength: "500", required: true });
    var outcome = el("div", { className: "form-outcome" });
    var form = el("form", {
      className: "cancel-form",
      novalidate: true,
      "aria-label": t("cancel") + " " + session.date,
      onsubmit: function (event) {
        event.preventDefault();
        clearFieldErrors(form);
        api("POST", "/api/v1/sessions/" + session.id + ":cancel", { reason: reason.value.trim() }).then(function (reply) {
          if (!reply.ok) return outcome.replaceChildren(problemBox(reply, form));
          announce(t("cancelledAnnounce", { date: session.date }));
          loadSessions(section, canWrite, "sessions-title");
        });
      },
    }, [
      field("cancel-reason", t("cancelReason"), reason),
      el("div", { className: "actions" }, [
        el("button", { type: "submit", text: t("confirmCancel") }),
        el("button", {
          type: "button",
          className: "secondary",
          text: t("keep"),
          onclick: function () {
            formRow.remove();
            row.querySelector("button").focus();
          },
        }),
      ]),
      outcome,
    ]);
    var formRow = el("tr", { id: "cancel-form-row" }, [el("td", { colspan: String(row.children.length) }, [form])]);
    row.insertAdjacentElement("afterend", formRow);
    reason.focus();
  }

  function addForm(section, sessions, canWrite) {
    var date = el("input", { type: "date", name: "date", required: true, min: todayInShanghai() });
    var reason = el("input", { type: "text", name: "reason", maxlength: "500", required: true });
    var start = el("input", { type: "time", name: "start" });
    var end = el("input", { type: "time", name: "end" });
    var outcome = el("div", { className: "form-outcome" });
    var form = el("form", {
      id: "add-session",
      novalidate: true,
      onsubmit: function (event) {
        event.preventDefault();
        clearFieldErrors(form);
        var body = { date: date.value, reason: reason.value.trim() };
        if (start.value || end.value) body.slots = [{ start: start.value, end: end.value }];
        api("POST", "/api/v1/stations/" + calendar.station + "/sessions", body).then(function (reply) {
          if (!reply.ok) return outcome.replaceChildren(problemBox(reply, form));
          outcome.replaceChildren();
          form.reset();
          announce(t("addedAnnounce", { date: reply.body.date }));
          calendar.month = reply.body.date.slice(0, 7);
          loadSessions(sessions, canWrite, "sessions-title");
        });
      },
    }, [
      el("div", { className: "field-row" }, [
        field("add-date", t("addDate"), date),
        field("add-start", t("addStart"), start),
        field("add-end", t("addEnd"), end),
      ]),
      field("add-reason", t("addReason"), reason, t("addReasonHint")),
      el("button", { type: "submit", text: t("addSubmit") }),
      outcome,
    ]);
    section.replaceChildren(el("h2", { id: "add-title", text: t("addTitle") }), form);
  }

  function parseSlots(text) {
    return text
      .split(/[\s,，;；]+/)
      .filter(Boolean)
      .map(function (part) {
        var pieces = part.split(/[-–~]/);
        return { start: pieces[0] || "", end: pieces[1] || "" };
      });
  }

  function loadRule(section, canWrite) {
    section.replaceChildren(el("h2", { id: "rule-title", text: t("ruleTitle") }), el("p", { className: "note", text: t("loading") }));
    api("GET", "/api/v1/stations/" + calendar.station + "/reception-rule").then(function (reply) {
      if (!reply.ok) return section.replaceChildren(el("h2", { id: "rule-title", text: t("ruleTitle") }), problemBox(reply));
      var rule = reply.body;
      var slotText = function (slots) {
        return (slots || []).map(function (s) { return s.start + "-" + s.end; }).join(" ");
      };
      var facts = el("dl", { className: "facts" }, [
        el("dt", { text: t("ruleDay") }),
        el("dd", { text: t("dayN", { day: rule.day_of_month }) }),
        el("dt", { text: t("rulePolicy") }),
        el("dd", { text: rule.day_off_policy === "move" ? t("policyMove") : t("policyKeep") }),
        el("dt", { text: t("ruleEffective") }),
        el("dd", { text: slotText(rule.effective_slots) }),
      ]);
      var children = [el("h2", { id: "rule-title", text: t("ruleTitle") }), facts];
      if (canWrite) {
        var day = el("input", { type: "number", name: "day_of_month", min: "1", max: "31", value: rule.day_of_month, required: true });
        var policy = el("select", { name: "day_off_policy" }, [
          el("option", { value: "keep", text: t("policyKeep"), selected: rule.day_off_policy !== "move" }),
          el("option", { value: "move", text: t("policyMove"), selected: rule.day_off_policy === "move" }),
        ]);
        var slots = el("input", { type: "text", name: "slots", value: slotText(rule.slots) });
        var outcome = el("div", { className: "form-outcome" });
        var form = el("form", {
          id: "rule-form",
          novalidate: true,
          onsubmit: function (event) {
            event.preventDefault();
            clearFieldErrors(form);
            var body = {
              day_of_month: Number(day.value),
              day_off_policy: policy.value,
              slots: parseSlots(slots.value),
            };
            api("PUT", "/api/v1/stations/" + calendar.station + "/reception-rule", body).then(function (saved) {
              if (!saved.ok) return outcome.replaceChildren(problemBox(saved, form));
              announce(t("ruleSaved"));
              loadRule(section, canWrite);
            });
          },
        }, [
          el("div", { className: "field-row" }, [field("rule-day", t("ruleDay"), day), field("rule-policy", t("rulePolicy"), policy)]),
          field("rule-slots", t("ruleSlots"), slots, t("ruleSlotsHint")),
          el("button", { type: "submit", text: t("ruleSave") }),
          outcome,
        ]);
        children.push(form);
      }
      section.replaceChildren.apply(section, children);
    });
  }

  C.screen("calendar", calendarScreen);
})();

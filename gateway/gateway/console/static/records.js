// The console's reception record screen (#/records): a station's recent
// sessions, newest first; for the one chosen, its bookings (who booked: the
// staff of the station see it, the API decides) with their attendance,
// walk-ins, the record (deputies present, person-times, notes, lock) and the
// opinions raised there. A locked record is shown read-only. Registered with
// the shell in console.js.
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
  var dayText = C.dayText;
  var main = C.main;

  // Who writes records (the API decides for each station); deputies on a
  // session's rota read them, mark attendance and record opinions there.
  var RECORD_WRITERS = ["admin", "standing_committee_office", "station_staff", "street_committee"];
  // Each "earlier" step reaches this many days further back (the API takes 400 at most).
  var WINDOW_DAYS = 183;

  C.addText({
    "zh-CN": {
      navRecords: "接待记录",
      recordsTitle: "接待记录",
      recentSessions: "最近的接待",
      recentSessionsNote: "已举行的接待，最近的在前。",
      noPastSessions: "这段时间没有举行接待。",
      earlier: "更早的接待",
      openRecord: "打开记录",
      openRecordOf: "打开 {date} 的接待记录",
      recordOf: "{date} 的接待",
      colRecordHours: "时段",
      chosen: "当前",
      sessionCancelled: "这次接待已取消，没有接待记录。",
      sessionAhead: "这次接待还没有举行：从接待当天起登记。",
      bookingsTitle: "预约与到场",
      noBookings: "这次接待没有预约。",
      colName: "姓名",
      colPhone: "电话",
      colCommunity: "社区",
      colTopic: "反映事项",
      colBookingStatus: "状态",
      colAttendance: "到场情况",
      booked: "已预约",
      waitlisted: "候补第 {n} 位",
      attended: "已到场",
      no_show: "未到场",
      markAttended: "到场",
      markNoShow: "未到",
      markAttendedOf: "{name} 到场",
      markNoShowOf: "{name} 未到",
      attendedAnnounce: "已标记 {name} 到场。",
      noShowAnnounce: "已标记 {name} 未到场。",
      walkInsTitle: "现场来访（未预约）",
      noWalkIns: "还没有登记现场来访。",
      noName: "（未留姓名）",
      walkInName: "姓名（可不填）",
      walkInCommunity: "所在社区",
      walkInTopic: "反映事项",
      walkInSubmit: "登记现场来访",
      walkInAnnounce: "已登记一位现场来访群众。",
      recordTitle: "接待情况",
      noRecordYet: "这次接待还没有记录。",
      deputiesPresent: "到场代表",
      onRota: "轮值代表",
      otherDeputies: "本站其他代表",
      noRotaDeputies: "这次接待没有排班代表。",
      leadMark: "（带队）",
      personTimes: "接待群众（人次）",
      personTimesHint: "已到场预约 {attended} 人，现场来访 {walkIns} 人。",
      notes: "备注",
      notesHint: "不要填写群众的姓名、电话等个人信息。",
      lock: "保存后锁定记录（锁定后不能再修改）",
      saveRecord: "保存记录",
      recordSaved: "接待记录已保存。",
      recordLockedSaved: "接待记录已保存并锁定。",
      recordLocked: "这份记录已于 {date} 锁定，不能再修改：锁定后的记录计入统计，不再变动。",
      recordReadOnly: "接待记录由联络站工作人员和街道人大工委填写。",
      opinionsCollected: "收集意见",
      opinionsCount: "{n} 条",
      opinionsCollectedLine: "收集意见：{n} 条",
      updatedAt: "最后保存",
      opinionsTitle: "接待中收集的意见",
      opinionsNote: "登记群众在这次接待中当面反映的社情民意；反映人的姓名和电话只有有权限的人员可见。",
      category: "类别",
      opinionCommunity: "反映人所在社区",
      content: "意见内容",
      raiserName: "反映人姓名",
      raiserPhone: "反映人电话",
      takenBy: "接收代表（可不选）",
      nobody: "不指定",
      opinionSubmit: "登记意见",
      opinionAnnounce: "意见已登记，编号 {code}。",
      opinionsAdded: "刚登记的意见",
      categoryNames: {},
    },
    en: {
      navRecords: "Reception records",
      recordsTitle: "Reception records",
      recentSessions: "Recent sessions",
      recentSessionsNote: "Sessions held, the latest first.",
      noPastSessions: "No session was held in this period.",
      earlier: "Earlier sessions",
      openRecord: "Open record",
      openRecordOf: "Open the record of {date}",
      recordOf: "The session of {date}",
      colRecordHours: "Hours",
      chosen: "Open",
      sessionCancelled: "This session was cancelled: it has no record.",
      sessionAhead: "This session has not been held yet: it is recorded from its day on.",
      bookingsTitle: "Bookings and attendance",
      noBookings: "Nobody booked this session.",
      colName: "Name",
      colPhone: "Phone",
      colCommunity: "Community",
      colTopic: "Topic",
      colBookingStatus: "Status",
      colAttendance: "Attendance",
      booked: "Booked",
      waitlisted: "Waitlist no. {n}",
      attended: "Attended",
      no_show: "No-show",
      markAttended: "Came",
      markNoShow: "Did not come",
      markAttendedOf: "{name} came",
      markNoShowOf: "{name} did not come",
      attendedAnnounce: "{name} is marked as attended.",
      noShowAnnounce: "{name} is marked as a no-show.",
      walkInsTitle: "Walk-ins (without a booking)",
      noWalkIns: "No walk-in recorded yet.",
      noName: "(no name given)",
      walkInName: "Name (optional)",
      walkInCommunity: "Community",
      walkInTopic: "Topic",
      walkInSubmit: "Record walk-in",
      walkInAnnounce: "A walk-in is recorded.",
      recordTitle: "The record",
      noRecordYet: "This session has no record yet.",
      deputiesPresent: "Deputies present",
      onRota: "On the rota",
      otherDeputies: "Other deputies of the station",
      noRotaDeputies: "Nobody was on this session's rota.",
      leadMark: " (lead)",
      personTimes: "People received (person-times)",
      personTimesHint: "{attended} booked and attended, {walkIns} walk-ins.",
      notes: "Notes",
      notesHint: "No names, phone numbers or other personal data.",
      lock: "Lock the record on saving (it changes no more)",
      saveRecord: "Save record",
      recordSaved: "The reception record is saved.",
      recordLockedSaved: "The reception record is saved and locked.",
      recordLocked: "This record was locked on {date} and changes no more: locked records count in the figures as they are.",
      recordReadOnly: "Records are written by the station's staff and the street committee.",
      opinionsCollected: "Opinions collected",
      opinionsCount: "{n}",
      opinionsCollectedLine: "Opinions collected: {n}",
      updatedAt: "Last saved",
      opinionsTitle: "Opinions raised at this session",
      opinionsNote: "Views raised in person at this session; who raised them is seen only by those who may.",
      category: "Category",
      opinionCommunity: "Community of the person",
      content: "Opinion",
      raiserName: "Name of the person",
      raiserPhone: "Their phone",
      takenBy: "Deputy taking it (optional)",
      nobody: "Nobody in particular",
      opinionSubmit: "Record opinion",
      opinionAnnounce: "The opinion is recorded: {code}.",
      opinionsAdded: "Just recorded",
      categoryNames: {
        urban_planning: "Urban planning and construction",
        transport: "Transport",
        environment: "Environment and greening",
        education: "Education",
        health: "Health and food safety",
        elderly_care: "Elderly care",
        employment: "Employment and social security",
        property: "Property management and housing",
        public_safety: "Public safety",
        legal: "Legal disputes",
        economy: "Economy",
        culture_sports: "Culture and sports",
        community: "Community affairs",
        other: "Other",
      },
    },
  });

  var records = { street: null, station: null, session: null, from: null };
  var categories = null; // [{key, label}] from the API, once

  function shiftDays(iso, days) {
    var date = new Date(iso + "T00:00:00Z");
    date.setUTCDate(date.getUTCDate() + days);
    return date.toISOString().slice(0, 10);
  }

  function slotsText(slots) {
    return (slots || [])
      .map(function (slot) {
        return slot.local_start + "–" + slot.local_end;
      })
      .join(", ");
  }

  function heading(level, id, text) {
    return el(level, { id: id, tabindex: "-1", text: text });
  }

  function options(select, items, chosen) {
    items.forEach(function (item) {
      select.appendChild(el("option", { value: item.id, text: item.name, selected: item.id === chosen }));
    });
    return select;
  }

  // A form of `children` and its submit button; on submitting, `request()`
  // gives [method, path, body] and `done(reply)` follows a success. A
  // problem is shown below the form, each field error at its field.
  function sendingForm(attrs, children, submitText, request, done) {
    var outcome = el("div", { className: "form-outcome" });
    var form = el("form", Object.assign({ novalidate: true }, attrs, {
      onsubmit: function (event) {
        event.preventDefault();
        clearFieldErrors(form);
        var call = request();
        api(call[0], call[1], call[2]).then(function (reply) {
          if (!reply.ok) return outcome.replaceChildren(problemBox(reply, form));
          outcome.replaceChildren();
          done(reply);
        });
      },
    }), children.concat([el("button", { type: "submit", text: submitText }), outcome]));
    return form;
  }

  // --------------------------------------------------------- the screen

  function recordsScreen(user) {
    var pickers = el("div", { className: "pickers" });
    var body = el("div", { id: "records-body" });
    main.replaceChildren(heading("h1", "screen-title", t("recordsTitle")), pickers, body);
    var station = null;
    C.stationPicker(pickers, body, user, records, function () {
      if (station !== records.station) {
        if (station !== null) records.session = null;
        station = records.station;
        records.from = null;
      }
      showStation(body, user);
    });
  }

  function showStation(body, user) {
    var sessions = el("section", { className: "panel record-sessions", "aria-labelledby": "record-sessions-title" });
    var record = el("div", { id: "record-panels" });
    body.replaceChildren(sessions, record);
    loadSessions(sessions, record, user);
  }

  // The sessions held from `records.from` to today, newest first.
  function loadSessions(section, record, user, focusId) {
    var today = todayInShanghai();
    if (!records.from) records.from = shiftDays(today, -WINDOW_DAYS);
    var list = el("div", { className: "session-list", "aria-busy": "true" }, [el("p", { className: "note", text: t("loading") })]);
    section.replaceChildren(
      el("h2", { id: "record-sessions-title", text: t("recentSessions") }),
      el("p", { className: "note", text: t("recentSessionsNote") }),
      list
    );
    var query = "?from=" + records.from + "&to=" + today;
    api("GET", "/api/v1/stations/" + records.station + "/sessions" + query).then(function (reply) {
      list.setAttribute("aria-busy", "false");
      if (!reply.ok) return list.replaceChildren(problemBox(reply));
      var items = (reply.body.items || []).slice().reverse();
      var earlier = el("button", {
        type: "button",
        className: "secondary",
        id: "earlier-sessions",
        text: t("earlier"),
        onclick: function () {
          records.from = shiftDays(records.from, -WINDOW_DAYS);
          loadSessions(section, record, user, "earlier-sessions");
        },
      });
      var children = [];
      if (items.length) children.push(sessionTable(items, record, user));
      else children.push(el("p", { className: "note", text: t("noPastSessions") }));
      children.push(el("div", { className: "actions" }, [earlier]));
      list.replaceChildren.apply(list, children);
      var focus = focusId && document.getElementById(focusId);
      if (focus) focus.focus();
      var chosen = items.filter(function (s) { return s.id === records.session; })[0];
      if (chosen) openSession(chosen, record, user, false);
    });
  }

  function sessionTable(items, record, user) {
    var table = el("table", { className: "sessions-table record-sessions-table" }, [
      el("caption", { className: "visually-hidden", text: t("recentSessions") }),
      el("thead", {}, [
        el("tr", {}, [t("colDate"), t("colKind"), t("colRecordHours"), t("colStatus"), t("colActions")].map(function (h) {
          return el("th", { scope: "col", text: h });
        })),
      ]),
    ]);
    var tbody = el("tbody");
    items.forEach(function (session) {
      var button = el("button", {
        type: "button",
        className: "secondary small",
        text: t("openRecord"),
        "aria-label": t("openRecordOf", { date: session.date }),
        onclick: function () {
          records.session = session.id;
          openSession(session, record, user, true);
        },
      });
      tbody.appendChild(
        el("tr", { "data-session": session.id, className: session.status }, [
          el("th", { scope: "row" }, [el("time", { datetime: session.date, text: dayText(session.date) })]),
          el("td", { text: t(session.kind) }),
          el("td", { text: slotsText(session.slots) }),
          el("td", { className: "status", text: t(session.status) }),
          el("td", {}, [button]),
        ])
      );
    });
    table.appendChild(tbody);
    return el("div", { className: "table-scroll" }, [table]);
  }

  function markChosen(sessionId) {
    Array.prototype.forEach.call(document.querySelectorAll(".record-sessions-table tbody tr"), function (row) {
      if (Number(row.getAttribute("data-session")) === sessionId) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
  }

  // ----------------------------------------------------- one session

  function loadCategories(stationId) {
    if (categories) return Promise.resolve(categories);
    var year = todayInShanghai().slice(0, 4);
    return api("GET", "/api/v1/reception-figures?station_id=" + stationId + "&year=" + year).then(function (reply) {
      if (!reply.ok) return [];
      categories = (reply.body.by_category || []).map(function (c) {
        return { key: c.key, label: c.label };
      });
      return categories;
    });
  }

  // The API's label (zh-CN), or the English name.
  function categoryName(key) {
    var found = (categories || []).filter(function (c) { return c.key === key; })[0];
    return t("categoryNames")[key] || (found && found.label) || key;
  }

  // The deputies of the station and the communities it serves.
  function loadStation(stationId) {
    return api("GET", "/api/v1/stations/" + stationId).then(function (reply) {
      if (!reply.ok) return { deputies: [], communities: [] };
      var station = reply.body;
      return Promise.all([
        api("GET", "/api/v1/deputies?station_id=" + stationId + "&page_size=100"),
        api("GET", "/api/v1/communities?street_id=" + station.street_id + "&page_size=100"),
      ]).then(function (replies) {
        var deputies = replies[0].ok ? replies[0].body.items || [] : [];
        var all = replies[1].ok ? replies[1].body.items || [] : [];
        var served = all.filter(function (c) {
          return (station.community_ids || []).indexOf(c.id) >= 0;
        });
        return { deputies: deputies, communities: served.length ? served : all };
      });
    });
  }

  function openSession(session, panels, user, focus) {
    markChosen(session.id);
    var title = heading("h2", "record-title", t("recordOf", { date: dayText(session.date) }));
    var about = [t(session.kind), slotsText(session.slots), session.venue_name, session.reason].filter(Boolean);
    var status = el("div", { "aria-busy": "true" }, [el("p", { className: "note", text: t("loading") })]);
    panels.replaceChildren(
      el("section", { className: "panel record-session", "aria-labelledby": "record-title" }, [
        title,
        el("p", { className: "note", text: about.join(" · ") }),
        status,
      ])
    );
    if (focus) title.focus();
    if (session.status === "cancelled") {
      return status.replaceChildren(el("p", { className: "notice", text: t("sessionCancelled") }));
    }
    var base = "/api/v1/sessions/" + session.id;
    Promise.all([
      api("GET", base + "/record"),
      api("GET", base + "/bookings"),
      api("GET", base + "/rota"),
      api("GET", base + "/availability"),
      loadStation(session.station_id),
      loadCategories(session.station_id),
    ]).then(function (replies) {
      if (records.session !== session.id) return; // another was chosen meanwhile
      var view = {
        session: session,
        user: user,
        canWrite: RECORD_WRITERS.indexOf(user.claims.role) >= 0,
        held: session.date <= todayInShanghai(),
        record: replies[0].ok ? replies[0].body : null,
        recordReply: replies[0],
        bookings: replies[1],
        rota: replies[2].ok ? replies[2].body.deputies || [] : [],
        slots: replies[3].ok ? replies[3].body.slots || [] : [],
        deputies: replies[4].deputies,
        communities: replies[4].communities,
        categories: replies[5],
      };
      view.locked = !!(view.record && view.record.locked);
      status.setAttribute("aria-busy", "false");
      status.replaceChildren();
      if (!view.held) status.appendChild(el("p", { className: "notice", text: t("sessionAhead") }));
      var bookings = el("section", { className: "panel record-bookings", "aria-labelledby": "bookings-title" });
      var record = el("section", { className: "panel record-form", "aria-labelledby": "record-form-title" });
      var opinions = el("section", { className: "panel record-opinions", "aria-labelledby": "opinions-title" });
      panels.append(bookings, record, opinions);
      view.refreshCount = function () {};
      showBookings(bookings, view);
      showRecord(record, view);
      showOpinions(opinions, view);
    });
  }

  // ---------------------------------------------- bookings and walk-ins

  function communityName(view, id) {
    var found = view.communities.filter(function (c) { return c.id === id; })[0];
    return found ? found.name : id ? String(id) : "";
  }

  function bookingStatus(booking) {
    if (booking.status === "waitlisted") return t("waitlisted", { n: booking.waitlist_position });
    return t(booking.status);
  }

  function attendedCount(view) {
    var list = (view.bookings.ok && view.bookings.body.bookings) || [];
    return list.filter(function (b) { return b.status === "attended"; }).length;
  }

  function walkInCount(view) {
    return ((view.bookings.ok && view.bookings.body.walk_ins) || []).length;
  }

  function showBookings(section, view) {
    section.replaceChildren(el("h2", { id: "bookings-title", text: t("bookingsTitle") }));
    if (!view.bookings.ok) return section.appendChild(problemBox(view.bookings));
    var list = view.bookings.body.bookings || [];
    if (!list.length) section.appendChild(el("p", { className: "note", text: t("noBookings") }));
    else section.appendChild(bookingTable(list, view));
    section.appendChild(el("h3", { id: "walk-ins-title", text: t("walkInsTitle") }));
    var walkIns = el("ul", { className: "walk-ins", "aria-labelledby": "walk-ins-title" });
    section.appendChild(walkIns);
    showWalkIns(walkIns, view);
    if (view.held && !view.locked) section.appendChild(walkInForm(walkIns, view));
  }

  function slotName(view, slotId) {
    var slot = view.slots.filter(function (s) { return s.slot_id === slotId; })[0];
    return slot ? (slot.label ? slot.label + " " : "") + slot.local_start + "–" + slot.local_end : "";
  }

  function bookingTable(list, view) {
    var head = [t("colName"), t("colPhone"), t("colCommunity"), t("colTopic"), t("colRecordHours"), t("colBookingStatus")];
    var marking = view.held && !view.locked;
    if (marking) head.push(t("colAttendance"));
    var tbody = el("tbody");
    list.forEach(function (booking) {
      var status = el("td", { className: "status", text: bookingStatus(booking) });
      var row = el("tr", { "data-booking": booking.id, className: booking.status }, [
        el("th", { scope: "row", text: booking.name }),
        el("td", { text: booking.phone }),
        el("td", { text: communityName(view, booking.community_id) }),
        el("td", { text: booking.topic }),
        el("td", { text: slotName(view, booking.slot_id) }),
        status,
      ]);
      if (marking) {
        var cell = el("td", { className: "attendance" });
        if (["booked", "attended", "no_show"].indexOf(booking.status) >= 0) {
          [
            ["attended", "markAttended", "markAttendedOf", "attendedAnnounce"],
            ["no_show", "markNoShow", "markNoShowOf", "noShowAnnounce"],
          ].forEach(function (mark) {
            cell.appendChild(
              el("button", {
                type: "button",
                className: "secondary small",
                "data-attendance": mark[0],
                "aria-pressed": booking.status === mark[0] ? "true" : "false",
                "aria-label": t(mark[2], { name: booking.name }),
                text: t(mark[1]),
                onclick: function () {
                  api("POST", "/api/v1/bookings/" + booking.id + ":attend", { attendance: mark[0] }).then(function (reply) {
                    var old = cell.querySelector(".error");
                    if (old) old.remove();
                    if (!reply.ok) return cell.appendChild(problemBox(reply));
                    booking.status = reply.body.status;
                    row.className = booking.status;
                    status.textContent = bookingStatus(booking);
                    Array.prototype.forEach.call(cell.querySelectorAll("button"), function (b) {
                      b.setAttribute("aria-pressed", b.getAttribute("data-attendance") === booking.status ? "true" : "false");
                    });
                    announce(t(mark[3], { name: booking.name }));
                    view.refreshCount();
                  });
                },
              })
            );
          });
        }
        row.appendChild(cell);
      }
      tbody.appendChild(row);
    });
    var table = el("table", { className: "sessions-table bookings-table" }, [
      el("caption", { className: "visually-hidden", text: t("bookingsTitle") }),
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      tbody,
    ]);
    return el("div", { className: "table-scroll" }, [table]);
  }

  function showWalkIns(list, view) {
    var walkIns = view.bookings.body.walk_ins || [];
    if (!walkIns.length) return list.replaceChildren(el("li", { className: "note", text: t("noWalkIns") }));
    list.replaceChildren.apply(
      list,
      walkIns.map(function (w) {
        return el("li", { "data-walk-in": w.id }, [
          el("strong", { text: w.name || t("noName") }),
          " · " + communityName(view, w.community_id) + " · " + w.topic,
        ]);
      })
    );
  }

  function walkInForm(list, view) {
    var name = el("input", { type: "text", name: "name", maxlength: "50", autocomplete: "off" });
    var community = options(el("select", { name: "community_id", required: true }), view.communities);
    var topic = el("input", { type: "text", name: "topic", maxlength: "500", required: true });
    var fields = [
      el("div", { className: "field-row" }, [
        field("walk-in-name", t("walkInName"), name),
        field("walk-in-community", t("walkInCommunity"), community),
      ]),
      field("walk-in-topic", t("walkInTopic"), topic),
    ];
    return sendingForm({ id: "walk-in-form", "aria-label": t("walkInSubmit") }, fields, t("walkInSubmit"), function () {
      var body = { name: name.value.trim(), community_id: Number(community.value) || 0, topic: topic.value.trim() };
      return ["POST", "/api/v1/sessions/" + view.session.id + "/walk-ins", body];
    }, function (reply) {
      view.bookings.body.walk_ins = (view.bookings.body.walk_ins || []).concat([reply.body]);
      showWalkIns(list, view);
      name.value = "";
      topic.value = "";
      announce(t("walkInAnnounce"));
      view.refreshCount();
      name.focus();
    });
  }

  // ---------------------------------------------------------- the record

  function recordFacts(view) {
    var record = view.record;
    var names = (record.deputy_names || []).filter(Boolean).join("、");
    var facts = [
      el("dt", { text: t("deputiesPresent") }),
      el("dd", { text: names || "—" }),
      el("dt", { text: t("personTimes") }),
      el("dd", { className: "person-times", text: String(record.person_times || 0) }),
      el("dt", { text: t("opinionsCollected") }),
      el("dd", { className: "opinions-count", text: t("opinionsCount", { n: record.opinions_recorded || 0 }) }),
    ];
    if (record.notes) facts.push(el("dt", { text: t("notes") }), el("dd", { text: record.notes }));
    if (record.updated_at) {
      facts.push(el("dt", { text: t("updatedAt") }), el("dd", { text: new Date(record.updated_at).toLocaleString(document.documentElement.lang, { timeZone: "Asia/Shanghai" }) }));
    }
    return el("dl", { className: "facts" }, facts);
  }

  function lockedDate(record) {
    var at = record.locked_at || record.updated_at;
    return at ? new Date(at).toLocaleDateString(document.documentElement.lang, { timeZone: "Asia/Shanghai" }) : "";
  }

  function showRecord(section, view) {
    var children = [el("h2", { id: "record-form-title", tabindex: "-1", text: t("recordTitle") })];
    if (!view.record && view.recordReply.status !== 404) children.push(problemBox(view.recordReply));
    else if (!view.record) children.push(el("p", { className: "note", id: "no-record", text: t("noRecordYet") }));
    if (view.locked) {
      children.push(el("p", { className: "notice locked-note", role: "note", text: t("recordLocked", { date: lockedDate(view.record) }) }));
    }
    if (view.record) children.push(recordFacts(view));
    if (view.canWrite && view.held && !view.locked && (view.record || view.recordReply.status === 404)) {
      children.push(recordForm(section, view));
    } else if (!view.canWrite && !view.locked) {
      children.push(el("p", { className: "note", text: t("recordReadOnly") }));
    }
    section.replaceChildren.apply(section, children);
  }

  function deputyBox(deputy, checked, suffix) {
    var id = "present-" + deputy.id;
    return el("li", {}, [
      el("input", { type: "checkbox", id: id, name: "deputy", value: deputy.id, checked: checked }),
      el("label", { for: id, text: deputy.name + (suffix || "") }),
    ]);
  }

  function recordForm(section, view) {
    var present = view.record ? view.record.deputy_ids || [] : [];
    var onRota = view.rota.map(function (d) { return d.deputy_id; });
    var rotaList = el("ul", { className: "deputy-boxes" });
    view.rota.forEach(function (d) {
      rotaList.appendChild(deputyBox({ id: d.deputy_id, name: d.name }, present.indexOf(d.deputy_id) >= 0, d.lead ? t("leadMark") : ""));
    });
    // The station's others, and anyone in the record no longer in either.
    var others = view.deputies.filter(function (d) { return onRota.indexOf(d.id) < 0; });
    (view.record ? view.record.deputy_ids : []).forEach(function (id, i) {
      if (onRota.indexOf(id) < 0 && !others.some(function (d) { return d.id === id; })) {
        others.push({ id: id, name: view.record.deputy_names[i] || String(id) });
      }
    });
    var otherList = el("ul", { className: "deputy-boxes" });
    others.forEach(function (d) {
      otherList.appendChild(deputyBox(d, present.indexOf(d.id) >= 0));
    });
    var deputies = el("fieldset", { id: "record-deputies", name: "deputy_ids", className: "deputies" }, [
      el("legend", { text: t("deputiesPresent") }),
      el("fieldset", { className: "deputy-group" }, [
        el("legend", { text: t("onRota") }),
        view.rota.length ? rotaList : el("p", { className: "note", text: t("noRotaDeputies") }),
      ]),
    ]);
    if (others.length) {
      deputies.appendChild(el("fieldset", { className: "deputy-group" }, [el("legend", { text: t("otherDeputies") }), otherList]));
    }

    var suggested = function () {
      return attendedCount(view) + walkInCount(view);
    };
    var touched = !!view.record;
    var people = el("input", {
      type: "number",
      name: "person_times",
      min: "0",
      max: "100000",
      inputmode: "numeric",
      value: view.record ? view.record.person_times : suggested(),
      oninput: function () {
        touched = true;
      },
    });
    var peopleField = field("record-person-times", t("personTimes"), people, " ");
    var hint = peopleField.querySelector(".hint");
    view.refreshCount = function () {
      hint.textContent = t("personTimesHint", { attended: attendedCount(view), walkIns: walkInCount(view) });
      // Prefilled from the attended bookings and walk-ins until it is typed in.
      if (!touched) people.value = suggested();
    };
    view.refreshCount();
    var notes = el("textarea", { name: "notes", rows: "2", maxlength: "2000" }, [view.record ? view.record.notes : ""]);
    var lock = el("input", { type: "checkbox", name: "lock", id: "record-lock" });
    var fields = [
      deputies,
      peopleField,
      field("record-notes", t("notes"), notes, t("notesHint")),
      el("div", { className: "check" }, [lock, el("label", { for: "record-lock", text: t("lock") })]),
    ];
    return sendingForm({ id: "record-form", "aria-labelledby": "record-form-title" }, fields, t("saveRecord"), function () {
      var ids = Array.prototype.filter
        .call(deputies.querySelectorAll("input[name=deputy]"), function (box) { return box.checked; })
        .map(function (box) { return Number(box.value); });
      var body = {
        deputy_ids: ids,
        person_times: people.value.trim() === "" ? null : Number(people.value),
        notes: notes.value.trim(),
        lock: lock.checked,
      };
      return ["PUT", "/api/v1/sessions/" + view.session.id + "/record", body];
    }, function (reply) {
      view.record = reply.body;
      view.recordReply = reply;
      view.locked = !!reply.body.locked;
      if (view.locked) {
        // Locked: nothing here changes any more.
        openSession(view.session, document.getElementById("record-panels"), view.user, true);
      } else {
        showRecord(section, view);
        document.getElementById("record-form-title").focus();
      }
      announce(t(view.locked ? "recordLockedSaved" : "recordSaved"));
    });
  }

  // ---------------------------------------------------------- opinions

  function showOpinions(section, view) {
    var children = [el("h2", { id: "opinions-title", text: t("opinionsTitle") })];
    if (view.held && !view.locked) {
      children.push(el("p", { className: "note", text: t("opinionsNote") }));
      var added = el("ul", { className: "opinions-added", "aria-label": t("opinionsAdded") });
      children.push(opinionForm(view, added), added);
    } else if (view.record) {
      children.push(el("p", { text: t("opinionsCollectedLine", { n: view.record.opinions_recorded || 0 }) }));
    }
    section.replaceChildren.apply(section, children);
  }

  function opinionForm(view, added) {
    var category = el("select", { name: "category", required: true });
    view.categories.forEach(function (c) {
      category.appendChild(el("option", { value: c.key, text: categoryName(c.key) }));
    });
    var community = options(el("select", { name: "community_id" }), view.communities);
    var content = el("textarea", { name: "content", rows: "3", maxlength: "2000", required: true });
    var raiser = el("input", { type: "text", name: "raiser_name", maxlength: "100", required: true, autocomplete: "off" });
    var phone = el("input", { type: "tel", name: "raiser_phone", maxlength: "40", required: true, autocomplete: "off" });
    var deputies = view.rota
      .map(function (d) { return { id: d.deputy_id, name: d.name }; })
      .concat(view.deputies.filter(function (d) {
        return !view.rota.some(function (r) { return r.deputy_id === d.id; });
      }));
    var takenBy = options(el("select", { name: "taken_by_deputy_id" }, [el("option", { value: "", text: t("nobody") })]), deputies);
    var fields = [
      el("div", { className: "field-row" }, [
        field("opinion-category", t("category"), category),
        field("opinion-community", t("opinionCommunity"), community),
      ]),
      field("opinion-content", t("content"), content),
      el("div", { className: "field-row" }, [
        field("opinion-raiser", t("raiserName"), raiser),
        field("opinion-phone", t("raiserPhone"), phone),
        field("opinion-taken-by", t("takenBy"), takenBy),
      ]),
    ];
    return sendingForm({ id: "opinion-form", "aria-labelledby": "opinions-title" }, fields, t("opinionSubmit"), function () {
      var body = {
        source: "reception",
        session_id: view.session.id,
        category: category.value,
        content: content.value.trim(),
        raiser_name: raiser.value.trim(),
        raiser_phone: phone.value.trim(),
      };
      if (community.value) body.community_id = Number(community.value);
      if (takenBy.value) body.taken_by_deputy_id = Number(takenBy.value);
      return ["POST", "/api/v1/opinions", body];
    }, function (reply) {
      var opinion = reply.body;
      added.appendChild(
        el("li", { "data-opinion": opinion.id }, [
          el("strong", { className: "tracking-code", text: opinion.tracking_code }),
          " · " + categoryName(opinion.category) + " · " + opinion.content,
        ])
      );
      content.value = "";
      raiser.value = "";
      phone.value = "";
      announce(t("opinionAnnounce", { code: opinion.tracking_code }));
      refreshOpinionCount(view);
      category.focus();
    });
  }

  function refreshOpinionCount(view) {
    api("GET", "/api/v1/sessions/" + view.session.id + "/record").then(function (reply) {
      if (!reply.ok) return;
      view.record = reply.body;
      var count = document.querySelector(".record-form .opinions-count");
      if (count) count.textContent = t("opinionsCount", { n: reply.body.opinions_recorded || 0 });
    });
  }

  C.screen("records", recordsScreen);
})();

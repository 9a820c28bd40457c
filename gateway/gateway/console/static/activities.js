// Deputies' activities between sessions (代表活动, #/activities and
// #/activities/<id>), from the duties service through the gateway
// (gateway/routes/activities.py): a street committee, a station's staff or
// the standing committee office lists its activities of a year by kind,
// trainings first; schedules one; invites deputies (a street's organiser its
// street's, picked from the public directory's list of the street's
// deputies); sees who signed up; and from the first day on records each
// invited deputy's attendance (attended, absent with leave, absent; final
// once recorded). The year's figures by kind (activities and person-times)
// are drawn with charts.js and tabled. A deputy sees the activities they
// are invited to and signs up before the first day.
//
// Also publishes LiaisonConsole.duties, the helpers research.js and
// visits.js share: deputies' names from the public directory, the current
// year, a year field, problems shown beside what was refused.
//
// Not built yet: the list reads the first 500 activities of a year (no
// paging past them); a deputy's own figures.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  // Trainings first: the kinds in the order they are listed and charted.
  var KINDS = ["training", "inspection", "forum", "research_trip", "joint_street_event"];
  var MARKS = ["attended", "absent_with_leave", "absent"];
  var ORGANISERS = ["standing_committee_office", "street_committee", "station_staff"];

  C.addText({
    "zh-CN": {
      navActivities: "代表活动",
      aTitle: "代表活动",
      aYear: "年度",
      aKind: "类型",
      aAllKinds: "全部类型",
      aStreet: "街道",
      aAllStreets: "全区",
      aShow: "显示",
      aKinds: {
        training: "代表培训",
        inspection: "视察",
        forum: "座谈",
        research_trip: "调研",
        joint_street_event: "街道联组活动",
      },
      aMarks: { attended: "出席", absent_with_leave: "请假", absent: "缺席" },
      aLevels: { street: "街道", station: "联络站", district: "全区" },
      aList: "{year}年的活动",
      aNone: "没有符合条件的活动。",
      aDates: "日期",
      aPlace: "地点",
      aOrganiser: "组织单位",
      aOrganiserStreet: "{street}人大工委",
      aCounts: "邀请 / 报名 / 出席",
      aCountsText: "{invited} / {signed_up} / {attended}",
      aNew: "新建活动",
      aNewTitle: "名称",
      aStarts: "开始日期",
      aEnds: "结束日期（一天的活动可不填）",
      aStation: "联络站",
      aSchedule: "新建活动",
      aScheduled: "已新建活动：{title}。",
      aFigures: "{year}年活动统计",
      aByKind: "各类活动出席人次",
      aPersonTimes: "出席人次",
      aActivities: "活动次数",
      aInvited: "邀请人次",
      aNoFigures: "这一年还没有活动。",
      aTotals: "合计：活动 {activities} 次，邀请 {invited} 人次，出席 {person_times} 人次，请假 {absent_with_leave} 人次，缺席 {absent} 人次。",
      aBack: "返回活动列表",
      aLevel: "层级",
      aInvitations: "邀请的代表",
      aNoInvitations: "还没有邀请代表。",
      aDeputy: "代表",
      aInvitedAt: "邀请时间",
      aSignedUp: "报名",
      aAttendance: "出席情况",
      aNotSigned: "未报名",
      aNotRecorded: "未记录",
      aInvite: "邀请代表",
      aInviteFrom: "从代表名录中选择",
      aInviteHint: "列出这个街道在任的代表；已邀请的不再列出。",
      aNoMore: "这个街道的代表都已邀请。",
      aInviteSubmit: "邀请所选代表",
      aInvitedAnnounce: "已邀请 {count} 位代表。",
      aPickOne: "请至少选择一位代表。",
      aRecord: "记录出席情况",
      aRecordHint: "活动开始后记录；记录后不能更改。",
      aRecordSubmit: "保存出席情况",
      aRecordedAnnounce: "已记录 {count} 位代表的出席情况。",
      aNotYet: "活动开始后才能记录出席情况（{date}起）。",
      aSignUp: "报名参加",
      aSignedUpAnnounce: "已报名参加 {title}。",
      aMine: "我的邀请",
      dYearField: "年度",
      dDeputyN: "代表 {id}",
      dYuan: "{amount} 元",
    },
    en: {
      navActivities: "Activities",
      aTitle: "Deputies' activities",
      aYear: "Year",
      aKind: "Kind",
      aAllKinds: "All kinds",
      aStreet: "Street",
      aAllStreets: "The whole district",
      aShow: "Show",
      aKinds: {
        training: "Training",
        inspection: "Inspection",
        forum: "Forum",
        research_trip: "Research trip",
        joint_street_event: "Joint street event",
      },
      aMarks: { attended: "Attended", absent_with_leave: "Absent with leave", absent: "Absent" },
      aLevels: { street: "Street", station: "Station", district: "District" },
      aList: "Activities of {year}",
      aNone: "No activity matches.",
      aDates: "Dates",
      aPlace: "Place",
      aOrganiser: "Organiser",
      aOrganiserStreet: "{street} people's congress working committee",
      aCounts: "Invited / signed up / attended",
      aCountsText: "{invited} / {signed_up} / {attended}",
      aNew: "New activity",
      aNewTitle: "Title",
      aStarts: "First day",
      aEnds: "Last day (empty for one day)",
      aStation: "Liaison station",
      aSchedule: "Create activity",
      aScheduled: "Activity created: {title}.",
      aFigures: "Activities of {year} in figures",
      aByKind: "Person-times attended by kind",
      aPersonTimes: "Person-times",
      aActivities: "Activities",
      aInvited: "Invited",
      aNoFigures: "No activity this year yet.",
      aTotals: "In all: {activities} activities, {invited} invited, {person_times} person-times attended, {absent_with_leave} absent with leave, {absent} absent.",
      aBack: "Back to the activities",
      aLevel: "Level",
      aInvitations: "Invited deputies",
      aNoInvitations: "No deputy is invited yet.",
      aDeputy: "Deputy",
      aInvitedAt: "Invited",
      aSignedUp: "Signed up",
      aAttendance: "Attendance",
      aNotSigned: "Not signed up",
      aNotRecorded: "Not recorded",
      aInvite: "Invite deputies",
      aInviteFrom: "Pick from the directory",
      aInviteHint: "The street's serving deputies; those invited already are not listed.",
      aNoMore: "Every deputy of the street is invited.",
      aInviteSubmit: "Invite the chosen deputies",
      aInvitedAnnounce: "{count} deputies invited.",
      aPickOne: "Choose at least one deputy.",
      aRecord: "Record attendance",
      aRecordHint: "From the first day on; final once recorded.",
      aRecordSubmit: "Save attendance",
      aRecordedAnnounce: "Attendance recorded for {count} deputies.",
      aNotYet: "Attendance can be recorded from the first day ({date}).",
      aSignUp: "Sign up",
      aSignedUpAnnounce: "Signed up for {title}.",
      aMine: "My invitations",
      dYearField: "Year",
      dDeputyN: "Deputy {id}",
      dYuan: "{amount} yuan",
    },
  });

  // ------------------------------------------------ shared with research.js, visits.js

  var deputyNames = {};
  var streetDeputies = {};
  var streets = null;

  // The serving deputies of a street from the public directory, by name.
  function deputiesOf(streetId) {
    if (streetDeputies[streetId]) return Promise.resolve(streetDeputies[streetId]);
    return api("GET", "/api/v1/deputies?street_id=" + streetId + "&page_size=500").then(function (reply) {
      if (!reply.ok) return [];
      var list = (reply.body.items || []).filter(function (d) {
        return d.active !== false;
      });
      list.forEach(function (d) {
        deputyNames[d.id] = d.name;
      });
      streetDeputies[streetId] = list;
      return list;
    });
  }

  // Names for deputies of any street (one directory look-up each unknown).
  function loadDeputyNames(ids) {
    var missing = ids.filter(function (id, index) {
      return id && deputyNames[id] === undefined && ids.indexOf(id) === index;
    });
    return Promise.all(
      missing.map(function (id) {
        return api("GET", "/api/v1/deputies/" + id).then(function (reply) {
          deputyNames[id] = reply.ok && reply.body ? reply.body.name : null;
        });
      })
    );
  }

  function deputyName(id) {
    return deputyNames[id] || t("dDeputyN", { id: id });
  }

  function streetList() {
    if (streets) return Promise.resolve(streets);
    return api("GET", "/api/v1/streets?page_size=100").then(function (reply) {
      streets = reply.ok ? reply.body.items || [] : [];
      return streets;
    });
  }

  function thisYear() {
    return Number(C.todayInShanghai().slice(0, 4));
  }

  function yearInput(value) {
    return el("input", { type: "number", name: "year", min: "2000", max: "2100", value: value, inputmode: "numeric" });
  }

  function yuan(amount) {
    return t("dYuan", { amount: Number(amount || 0).toLocaleString(document.documentElement.lang || "zh-CN") });
  }

  // After a write: the screen's title focused and the outcome announced.
  function done(text) {
    var title = document.getElementById("screen-title");
    if (title) title.focus();
    C.announce(text);
  }

  // A problem shown right after `anchor` (replacing one shown there before).
  function problemAfter(anchor, reply, form) {
    var old = anchor.parentNode && anchor.parentNode.querySelector(".error[data-for='" + anchor.id + "']");
    if (old) old.remove();
    var box = C.problemBox(reply, form);
    box.setAttribute("data-for", anchor.id);
    anchor.insertAdjacentElement("afterend", box);
    return box;
  }

  function clearProblems(form) {
    C.clearFieldErrors(form);
    Array.prototype.forEach.call(form.querySelectorAll(".error"), function (node) {
      node.remove();
    });
  }

  C.duties = {
    deputiesOf: deputiesOf,
    loadDeputyNames: loadDeputyNames,
    deputyName: deputyName,
    streetList: streetList,
    thisYear: thisYear,
    yearInput: yearInput,
    yuan: yuan,
    done: done,
    problemAfter: problemAfter,
    clearProblems: clearProblems,
  };

  // ------------------------------------------------------------ the list

  var state = { year: null, kind: "", street: "" };

  function isOrganiser(user) {
    return ORGANISERS.indexOf(user.claims.role) >= 0;
  }

  function kindName(kind) {
    return t("aKinds")[kind] || kind;
  }

  function datesText(a) {
    return a.ends_on && a.ends_on !== a.starts_on ? a.starts_on + " – " + a.ends_on : a.starts_on || "";
  }

  function activitiesScreen(user) {
    var match = /^#\/activities\/(\d+)/.exec(location.hash);
    if (match) return activityScreen(user, Number(match[1]));
    state.year = state.year || thisYear();
    var claims = user.claims;
    var district = !claims.street_id && claims.role !== "deputy";
    var year = yearInput(state.year);
    var kind = el("select", { name: "kind" }, [el("option", { value: "", text: t("aAllKinds") })]);
    KINDS.forEach(function (k) {
      kind.appendChild(el("option", { value: k, text: kindName(k), selected: k === state.kind }));
    });
    var row = el("div", { className: "field-row" }, [C.field("act-year", t("aYear"), year), C.field("act-kind", t("aKind"), kind)]);
    var street = null;
    if (district) {
      street = el("select", { name: "street_id" }, [el("option", { value: "", text: t("aAllStreets") })]);
      row.appendChild(C.field("act-street", t("aStreet"), street));
      streetList().then(function (list) {
        list.forEach(function (s) {
          street.appendChild(el("option", { value: s.id, text: s.name, selected: String(s.id) === state.street }));
        });
      });
    }
    var list = el("section", { className: "panel", id: "activity-list", "aria-labelledby": "list-title", "aria-busy": "true" });
    var figures = el("section", { className: "panel", id: "activity-figures", "aria-labelledby": "act-figures-title", "aria-busy": "true" });
    var filters = el(
      "form",
      {
        className: "board-filters",
        id: "activity-filters",
        novalidate: true,
        "aria-label": t("aTitle"),
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(filters);
          state.year = Number(year.value) || state.year;
          state.kind = kind.value;
          state.street = street ? street.value : "";
          load(user, list, figures, filters);
        },
      },
      [row, el("button", { type: "submit", text: t("aShow") })]
    );
    var children = [el("h1", { id: "screen-title", tabindex: "-1", text: t("aTitle") }), filters];
    if (isOrganiser(user)) children.push(newActivityForm(user));
    children.push(list);
    if (claims.role !== "deputy") children.push(figures);
    C.main.replaceChildren.apply(C.main, children);
    load(user, list, figures, filters);
  }

  function load(user, list, figures, filters) {
    var query = new URLSearchParams({ year: String(state.year), page_size: "500" });
    if (state.kind) query.set("kind", state.kind);
    if (state.street) query.set("street_id", state.street);
    if (user.claims.role === "deputy") query.set("deputy_id", String(user.claims.deputy_id));
    list.setAttribute("aria-busy", "true");
    api("GET", "/api/v1/activities?" + query.toString()).then(function (reply) {
      list.setAttribute("aria-busy", "false");
      showList(user, list, reply, filters);
    });
    if (user.claims.role === "deputy") return;
    var figuresQuery = new URLSearchParams({ year: String(state.year) });
    if (state.street) figuresQuery.set("street_id", state.street);
    figures.setAttribute("aria-busy", "true");
    api("GET", "/api/v1/activity-figures?" + figuresQuery.toString()).then(function (reply) {
      figures.setAttribute("aria-busy", "false");
      showFigures(figures, reply);
    });
  }

  function showList(user, section, reply, filters) {
    var heading = el("h2", { id: "list-title", text: user.claims.role === "deputy" ? t("aMine") : t("aList", { year: state.year }) });
    if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply, filters));
    var items = (reply.body.items || []).slice();
    items.sort(function (a, b) {
      return KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || String(b.starts_on).localeCompare(String(a.starts_on)) || b.id - a.id;
    });
    if (!items.length) return section.replaceChildren(heading, el("p", { className: "note", id: "no-activities", text: t("aNone") }));
    var head = [t("aNewTitle"), t("aKind"), t("aDates"), t("aPlace"), t("aOrganiser"), t("aCounts")];
    var table = el("table", { className: "queue-table activities-table" }, [
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
    items.forEach(function (a) {
      body.appendChild(
        el("tr", { "data-activity": a.id, "data-kind": a.kind }, [
          el("th", { scope: "row" }, [el("a", { href: "#/activities/" + a.id, text: a.title })]),
          el("td", { text: kindName(a.kind) }),
          el("td", { text: datesText(a) }),
          el("td", { text: a.place }),
          el("td", { text: a.organiser }),
          el("td", { className: "counts", text: t("aCountsText", a) }),
        ])
      );
    });
    table.appendChild(body);
    section.replaceChildren(heading, el("div", { className: "table-scroll" }, [table]));
  }

  function showFigures(section, reply) {
    var heading = el("h2", { id: "act-figures-title", text: t("aFigures", { year: state.year }) });
    if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
    var f = reply.body;
    var byKind = {};
    (f.by_kind || []).forEach(function (k) {
      byKind[k.kind] = k;
    });
    var rows = KINDS.filter(function (k) {
      return byKind[k] && byKind[k].activities > 0;
    }).map(function (k) {
      var figures = byKind[k];
      return {
        key: k,
        label: kindName(k),
        value: figures.person_times || 0,
        extra: [String(figures.activities || 0), String(figures.invited || 0), String(figures.absent_with_leave || 0), String(figures.absent || 0)],
      };
    });
    var total = Object.assign({ activities: 0, invited: 0, person_times: 0, absent_with_leave: 0, absent: 0 }, f.total || {});
    section.replaceChildren(
      heading,
      el("p", { id: "activity-totals", text: t("aTotals", total) }),
      el("div", { className: "figures board-charts" }, [
        C.barChart({
          id: "chart-activity-kinds",
          title: t("aByKind"),
          column: t("aKind"),
          valueColumn: t("aPersonTimes"),
          extraColumns: [t("aActivities"), t("aInvited"), t("aMarks").absent_with_leave, t("aMarks").absent],
          empty: t("aNoFigures"),
          rows: rows,
        }),
      ])
    );
  }

  function newActivityForm(user) {
    var claims = user.claims;
    var today = C.todayInShanghai();
    var kind = el("select", { name: "kind", required: true });
    KINDS.forEach(function (k) {
      kind.appendChild(el("option", { value: k, text: kindName(k) }));
    });
    var title = el("input", { type: "text", name: "title", required: true, maxlength: "200", autocomplete: "off" });
    var starts = el("input", { type: "date", name: "starts_on", required: true, value: today });
    var ends = el("input", { type: "date", name: "ends_on" });
    var place = el("input", { type: "text", name: "place", required: true, maxlength: "200" });
    var organiser = el("input", { type: "text", name: "organiser", required: true, maxlength: "200" });
    var station = null;
    var fields = [
      el("div", { className: "field-row" }, [C.field("new-kind", t("aKind"), kind), C.field("new-title", t("aNewTitle"), title)]),
      el("div", { className: "field-row" }, [C.field("new-starts", t("aStarts"), starts), C.field("new-ends", t("aEnds"), ends)]),
      el("div", { className: "field-row" }, [C.field("new-place", t("aPlace"), place), C.field("new-organiser", t("aOrganiser"), organiser)]),
    ];
    if (claims.role === "standing_committee_office") organiser.value = t("roles").standing_committee_office;
    if (claims.role === "street_committee") {
      api("GET", "/api/v1/streets/" + claims.street_id).then(function (reply) {
        if (reply.ok && !organiser.value) organiser.value = t("aOrganiserStreet", { street: reply.body.name });
      });
    }
    if (claims.role === "station_staff") {
      // The organiser is the chosen station, unless typed otherwise.
      var named = "";
      station = el("select", {
        name: "station_id",
        onchange: function () {
          if (organiser.value === named) organiser.value = named = station.selectedOptions[0].textContent;
        },
      });
      fields.push(C.field("new-station", t("aStation"), station));
      api("GET", "/api/v1/stations?street_id=" + claims.street_id + "&page_size=100").then(function (reply) {
        ((reply.ok && reply.body.items) || []).forEach(function (s) {
          station.appendChild(el("option", { value: s.id, text: s.name }));
        });
        if (station.options.length && !organiser.value) organiser.value = named = station.options[0].textContent;
      });
    }
    var submit = el("button", { type: "submit", id: "new-submit", text: t("aSchedule") });
    var form = el(
      "form",
      {
        id: "new-activity",
        className: "panel",
        novalidate: true,
        "aria-labelledby": "new-activity-title",
        onsubmit: function (event) {
          event.preventDefault();
          clearProblems(form);
          var body = {
            kind: kind.value,
            title: title.value.trim(),
            starts_on: starts.value,
            place: place.value.trim(),
            organiser: organiser.value.trim(),
          };
          if (ends.value) body.ends_on = ends.value;
          if (station && station.value) body.station_id = Number(station.value);
          submit.disabled = true;
          api("POST", "/api/v1/activities", body).then(function (reply) {
            submit.disabled = false;
            if (!reply.ok) return problemAfter(submit, reply, form);
            location.hash = "#/activities/" + reply.body.id;
            C.announce(t("aScheduled", { title: reply.body.title }));
          });
        },
      },
      [el("h2", { id: "new-activity-title", text: t("aNew") })].concat(fields, [submit])
    );
    return form;
  }

  // ------------------------------------------------------------ one activity

  function activityScreen(user, id) {
    var section = el("section", { id: "activity-detail", "aria-busy": "true", "aria-labelledby": "screen-title" });
    C.main.replaceChildren(
      el("p", { className: "back" }, [el("a", { href: "#/activities", text: t("aBack") })]),
      el("h1", { id: "screen-title", tabindex: "-1", text: t("aTitle") }),
      section
    );
    return api("GET", "/api/v1/activities/" + id).then(function (reply) {
      section.setAttribute("aria-busy", "false");
      if (!reply.ok) return section.replaceChildren(C.problemBox(reply));
      var activity = reply.body;
      var ids = (activity.invitations || []).map(function (i) {
        return i.deputy_id;
      });
      var street = activity.street_id;
      var ready = street ? deputiesOf(street) : Promise.resolve([]);
      return ready
        .then(function () {
          return loadDeputyNames(ids);
        })
        .then(function () {
          showActivity(user, section, activity);
        });
    });
  }

  function fact(term, value) {
    return [el("dt", { text: term }), el("dd", { text: value })];
  }

  function showActivity(user, section, activity) {
    document.getElementById("screen-title").textContent = activity.title;
    var facts = el("dl", { className: "facts" });
    [
      fact(t("aKind"), kindName(activity.kind)),
      fact(t("aDates"), datesText(activity)),
      fact(t("aPlace"), activity.place),
      fact(t("aOrganiser"), activity.organiser),
      fact(t("aLevel"), t("aLevels")[activity.level] || activity.level),
      fact(t("aCounts"), t("aCountsText", activity)),
    ].forEach(function (pair) {
      facts.appendChild(pair[0]);
      facts.appendChild(pair[1]);
    });
    var children = [facts, invitationsTable(activity)];
    var organiser = isOrganiser(user);
    if (organiser) {
      children.push(attendanceForm(user, section, activity));
      children.push(inviteForm(user, section, activity));
    }
    if (user.claims.role === "deputy") {
      var mine = (activity.invitations || []).filter(function (i) {
        return i.deputy_id === Number(user.claims.deputy_id);
      })[0];
      if (mine && !mine.signed_up_at && C.todayInShanghai() < activity.starts_on) {
        var button = el("button", {
          type: "button",
          id: "sign-up",
          text: t("aSignUp"),
          onclick: function () {
            button.disabled = true;
            api("POST", "/api/v1/activities/" + activity.id + ":sign-up").then(function (reply) {
              button.disabled = false;
              if (!reply.ok) return problemAfter(button, reply);
              showActivity(user, section, reply.body);
              done(t("aSignedUpAnnounce", { title: activity.title }));
            });
          },
        });
        children.push(button);
      }
    }
    section.replaceChildren.apply(section, children);
  }

  function invitationsTable(activity) {
    var wrapper = el("section", { className: "panel", id: "invitations", "aria-labelledby": "invitations-title" }, [
      el("h2", { id: "invitations-title", text: t("aInvitations") }),
    ]);
    var invitations = activity.invitations || [];
    if (!invitations.length) {
      wrapper.appendChild(el("p", { className: "note", text: t("aNoInvitations") }));
      return wrapper;
    }
    var table = el("table", { className: "queue-table" }, [
      el("thead", {}, [
        el(
          "tr",
          {},
          [t("aDeputy"), t("aInvitedAt"), t("aSignedUp"), t("aAttendance")].map(function (h) {
            return el("th", { scope: "col", text: h });
          })
        ),
      ]),
    ]);
    var body = el("tbody");
    invitations.forEach(function (i) {
      body.appendChild(
        el("tr", { "data-deputy": i.deputy_id }, [
          el("th", { scope: "row", text: deputyName(i.deputy_id) }),
          el("td", { text: i.invited_at ? i.invited_at.slice(0, 10) : "" }),
          el("td", { className: "signed-up", text: i.signed_up_at ? i.signed_up_at.slice(0, 10) : t("aNotSigned") }),
          el("td", { className: "attendance", text: i.attendance ? t("aMarks")[i.attendance] : t("aNotRecorded") }),
        ])
      );
    });
    table.appendChild(body);
    wrapper.appendChild(el("div", { className: "table-scroll" }, [table]));
    return wrapper;
  }

  function inviteForm(user, section, activity) {
    var form = el("form", { id: "invite-form", className: "panel", novalidate: true, "aria-labelledby": "invite-title" }, [
      el("h2", { id: "invite-title", text: t("aInvite") }),
    ]);
    var invited = (activity.invitations || []).map(function (i) {
      return i.deputy_id;
    });
    var pickStreet = null;
    var boxes = el("div", { className: "deputies", id: "invite-deputies" });
    var claims = user.claims;
    function fill(streetId) {
      boxes.replaceChildren(el("p", { className: "note", text: t("loading") }));
      deputiesOf(streetId).then(function (list) {
        var open = list.filter(function (d) {
          return invited.indexOf(d.id) < 0;
        });
        if (!open.length) return boxes.replaceChildren(el("p", { className: "note", text: t("aNoMore") }));
        var items = el("ul", { className: "deputy-boxes" });
        open.forEach(function (d) {
          var id = "invite-" + d.id;
          items.appendChild(
            el("li", {}, [el("input", { type: "checkbox", id: id, name: "deputy_ids", value: d.id }), el("label", { for: id, text: d.name })])
          );
        });
        boxes.replaceChildren(
          el("fieldset", { className: "deputy-group", "aria-describedby": "invite-hint" }, [
            el("legend", { text: t("aInviteFrom") }),
            el("p", { className: "hint", id: "invite-hint", text: t("aInviteHint") }),
            items,
          ])
        );
      });
    }
    var streetId = activity.street_id || claims.street_id;
    if (!streetId) {
      // The district's activity: any street's deputies, a street at a time.
      pickStreet = el("select", {
        name: "street",
        onchange: function () {
          fill(Number(pickStreet.value));
        },
      });
      form.appendChild(C.field("invite-street", t("aStreet"), pickStreet));
      streetList().then(function (list) {
        list.forEach(function (s) {
          pickStreet.appendChild(el("option", { value: s.id, text: s.name }));
        });
        if (list.length) fill(list[0].id);
      });
    } else {
      fill(streetId);
    }
    var submit = el("button", { type: "submit", id: "invite-submit", text: t("aInviteSubmit") });
    form.appendChild(boxes);
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearProblems(form);
      var ids = Array.prototype.map.call(form.querySelectorAll("input[name=deputy_ids]:checked"), function (box) {
        return Number(box.value);
      });
      if (!ids.length) return problemAfter(submit, { status: 0, body: { detail: t("aPickOne") } });
      submit.disabled = true;
      api("POST", "/api/v1/activities/" + activity.id + "/invitations", { deputy_ids: ids }).then(function (reply) {
        submit.disabled = false;
        if (!reply.ok) return problemAfter(submit, reply, form);
        loadDeputyNames(ids).then(function () {
          showActivity(user, section, reply.body);
          done(t("aInvitedAnnounce", { count: ids.length }));
        });
      });
    });
    return form;
  }

  function attendanceForm(user, section, activity) {
    var form = el("form", { id: "attendance-form", className: "panel", novalidate: true, "aria-labelledby": "attendance-title" }, [
      el("h2", { id: "attendance-title", text: t("aRecord") }),
    ]);
    var open = (activity.invitations || []).filter(function (i) {
      return !i.attendance;
    });
    if (!open.length) {
      form.hidden = true;
      return form;
    }
    if (C.todayInShanghai() < activity.starts_on) {
      form.appendChild(el("p", { className: "note", id: "attendance-not-yet", text: t("aNotYet", { date: activity.starts_on }) }));
      return form;
    }
    form.appendChild(el("p", { className: "hint", text: t("aRecordHint") }));
    open.forEach(function (i) {
      var select = el("select", { name: "attendance-" + i.deputy_id, "data-deputy": i.deputy_id }, [el("option", { value: "", text: t("aNotRecorded") })]);
      MARKS.forEach(function (mark) {
        select.appendChild(el("option", { value: mark, text: t("aMarks")[mark] }));
      });
      form.appendChild(C.field("attendance-" + i.deputy_id, deputyName(i.deputy_id), select));
    });
    var submit = el("button", { type: "submit", id: "attendance-submit", text: t("aRecordSubmit") });
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearProblems(form);
      var entries = [];
      Array.prototype.forEach.call(form.querySelectorAll("select[data-deputy]"), function (select) {
        if (select.value) entries.push({ deputy_id: Number(select.getAttribute("data-deputy")), attendance: select.value });
      });
      if (!entries.length) return problemAfter(submit, { status: 0, body: { detail: t("aPickOne") } });
      submit.disabled = true;
      api("POST", "/api/v1/activities/" + activity.id + "/attendance", { entries: entries }).then(function (reply) {
        submit.disabled = false;
        if (!reply.ok) return problemAfter(submit, reply, form);
        showActivity(user, section, reply.body);
        done(t("aRecordedAnnounce", { count: entries.length }));
      });
    });
    return form;
  }

  C.screen("activities", activitiesScreen);
})();

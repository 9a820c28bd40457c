// The console's triage screen (#/triage): the queue of open opinions
// (社情民意) of the caller's street, oldest first, with filters; one opinion
// at a time with its timeline, handed to a deputy of the suggested ones
// (包干到户), answered, handed on, merged, declined or done; and this year's
// figures. The API decides who may do what and whether who raised an opinion
// is shown. Registered with the shell in console.js.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  var CATEGORIES = [
    "urban_planning",
    "transport",
    "environment",
    "education",
    "health",
    "elderly_care",
    "employment",
    "property",
    "public_safety",
    "legal",
    "economy",
    "culture_sports",
    "community",
    "other",
  ];
  var SOURCES = ["order", "reception", "online"];
  var STATUSES = ["recorded", "in_progress", "answered_on_the_spot", "handed_on", "merged", "declined", "done"];
  var PAGE_SIZE = 50;

  C.addText({
    "zh-CN": {
      navTriage: "意见分拣",
      triageTitle: "意见分拣",
      trFilters: "筛选",
      trStatus: "状态",
      trStatusOpen: "待处理（已登记、代表跟进中）",
      trCategory: "类别",
      trSource: "来源",
      trStreet: "街道",
      trAll: "全部",
      trAllStreets: "全区",
      trApply: "筛选",
      trQueue: "意见队列",
      trQueueCount: "共显示 {count} 条，先登记的在前",
      trEmpty: "没有符合条件的意见。",
      trMore: "再显示 {count} 条",
      trCode: "追踪码",
      trCommunity: "社区",
      trStation: "联络站",
      trRecordedAt: "登记时间",
      trDeputy: "包干代表",
      trContent: "内容",
      trNone: "无",
      trPick: "从队列中选择一条意见查看。",
      trOpinion: "意见 {code}",
      trRaiser: "提出人",
      trRaiserName: "姓名",
      trRaiserPhone: "电话",
      trRaiserContact: "其他联系方式",
      trRaiserHidden: "提出人信息不向你的角色显示。",
      trAnswer: "答复",
      trDeclineReason: "不予受理理由",
      trMergedInto: "合并到",
      trTimeline: "办理经过",
      trActions: "处理",
      trClosed: "这条意见已办结或已关闭，不能再处理。",
      trClose: "收起",
      actAssign: "包干给代表",
      actAnswer: "当场答复",
      actHandOn: "转办",
      actMerge: "合并",
      actDecline: "不予受理",
      actDone: "办结",
      trSuggested: "推荐代表（最对口的在前）",
      trNoSuggested: "这个街道没有可推荐的代表。",
      trOpenCount: "在办 {count} 件",
      trExpertise: "对口专长：{tags}",
      trAssignSubmit: "交给这位代表",
      trAnswerLabel: "答复内容",
      trAnswerHint: "公开的答复，提出人凭追踪码可以看到。",
      trAnswerSubmit: "答复",
      trNoteLabel: "转办说明（可不填）",
      trNoteHint: "公开的说明，例如：转街道办事处办理。",
      trHandOnSubmit: "转办",
      trMergeLabel: "合并到的意见的追踪码",
      trMergeHint: "同一街道的另一条意见，如 TH-2026-000123。",
      trMergeSubmit: "合并",
      trNoSuchCode: "没有这个追踪码的意见（或它已合并到别的意见）",
      trReasonLabel: "不予受理的理由",
      trReasonHint: "公开的理由，提出人凭追踪码可以看到。",
      trDeclineSubmit: "不予受理",
      trDoneLabel: "办理结果",
      trDoneSubmit: "办结",
      trAssigned: "意见 {code} 已交给{name}代表包干。",
      trAnswered: "意见 {code} 已当场答复。",
      trHandedOn: "意见 {code} 已转办。",
      trMerged: "意见 {code} 已合并到 {into}。",
      trDeclined: "意见 {code} 不予受理。",
      trCompleted: "意见 {code} 已办结。",
      trFigures: "{year}年数字",
      trFiguresOf: "意见 {count} 条，接待 {people} 人次",
      trByCategory: "按类别",
      trByOutcome: "按办理结果",
      trCount: "条数",
      categories: {
        urban_planning: "城建规划",
        transport: "交通出行",
        environment: "环境卫生与绿化",
        education: "教育",
        health: "医疗卫生与食品安全",
        elderly_care: "养老服务",
        employment: "就业社保",
        property: "物业管理与住房",
        public_safety: "社会治安",
        legal: "法律纠纷",
        economy: "经济发展",
        culture_sports: "文化体育",
        community: "社区事务",
        other: "其他",
      },
      sources: { order: "订单（出门寻找）", reception: "接待日当面反映", online: "网上反映" },
      statuses: {
        recorded: "已登记",
        in_progress: "代表跟进中",
        answered_on_the_spot: "已当场答复",
        handed_on: "已转办",
        merged: "已合并",
        declined: "不予受理",
        done: "已办结",
      },
    },
    en: {
      navTriage: "Opinion triage",
      triageTitle: "Opinion triage",
      trFilters: "Filters",
      trStatus: "Status",
      trStatusOpen: "Open (recorded, deputy following up)",
      trCategory: "Category",
      trSource: "Source",
      trStreet: "Street",
      trAll: "All",
      trAllStreets: "The whole district",
      trApply: "Filter",
      trQueue: "Queue",
      trQueueCount: "{count} shown, the earliest recorded first",
      trEmpty: "No opinion matches.",
      trMore: "Show {count} more",
      trCode: "Tracking code",
      trCommunity: "Community",
      trStation: "Liaison station",
      trRecordedAt: "Recorded",
      trDeputy: "Deputy",
      trContent: "Content",
      trNone: "None",
      trPick: "Choose an opinion in the queue to see it.",
      trOpinion: "Opinion {code}",
      trRaiser: "Raised by",
      trRaiserName: "Name",
      trRaiserPhone: "Phone",
      trRaiserContact: "Other contact",
      trRaiserHidden: "Who raised it is not shown to your role.",
      trAnswer: "Answer",
      trDeclineReason: "Reason for declining",
      trMergedInto: "Merged into",
      trTimeline: "Timeline",
      trActions: "Actions",
      trClosed: "This opinion is closed; nothing more can be done with it.",
      trClose: "Close",
      actAssign: "Assign to a deputy",
      actAnswer: "Answer on the spot",
      actHandOn: "Hand on for referral",
      actMerge: "Merge",
      actDecline: "Decline",
      actDone: "Mark done",
      trSuggested: "Suggested deputies (the best fit first)",
      trNoSuggested: "This street has no deputy to suggest.",
      trOpenCount: "{count} in hand",
      trExpertise: "Matching expertise: {tags}",
      trAssignSubmit: "Assign to this deputy",
      trAnswerLabel: "Answer",
      trAnswerHint: "Public words: the raiser sees them with the tracking code.",
      trAnswerSubmit: "Answer",
      trNoteLabel: "Note for the referral (optional)",
      trNoteHint: "Public words, e.g. for the street office to handle.",
      trHandOnSubmit: "Hand on",
      trMergeLabel: "Tracking code of the opinion to merge into",
      trMergeHint: "Another opinion of the same street, e.g. TH-2026-000123.",
      trMergeSubmit: "Merge",
      trNoSuchCode: "No opinion has this tracking code (or it is merged into another)",
      trReasonLabel: "Reason for declining",
      trReasonHint: "Public words: the raiser sees them with the tracking code.",
      trDeclineSubmit: "Decline",
      trDoneLabel: "What was done",
      trDoneSubmit: "Mark done",
      trAssigned: "Opinion {code} is assigned to deputy {name}.",
      trAnswered: "Opinion {code} is answered.",
      trHandedOn: "Opinion {code} is handed on.",
      trMerged: "Opinion {code} is merged into {into}.",
      trDeclined: "Opinion {code} is declined.",
      trCompleted: "Opinion {code} is done.",
      trFigures: "Figures for {year}",
      trFiguresOf: "{count} opinions, {people} people received",
      trByCategory: "By category",
      trByOutcome: "By outcome",
      trCount: "Count",
      categories: {
        urban_planning: "Urban planning",
        transport: "Transport",
        environment: "Environment and greening",
        education: "Education",
        health: "Health and food safety",
        elderly_care: "Elderly care",
        employment: "Jobs and social security",
        property: "Property and housing",
        public_safety: "Public safety",
        legal: "Legal disputes",
        economy: "Economy",
        culture_sports: "Culture and sports",
        community: "Community affairs",
        other: "Other",
      },
      sources: { order: "Order (订单)", reception: "At a reception", online: "Online" },
      statuses: {
        recorded: "Recorded",
        in_progress: "Deputy following up",
        answered_on_the_spot: "Answered on the spot",
        handed_on: "Handed on",
        merged: "Merged",
        declined: "Declined",
        done: "Done",
      },
    },
  });

  // The actions the API's lifecycle allows (reception.opinion_rules); the
  // API still decides each one.
  var ACTIONS = {
    assign: { path: "assign", label: "actAssign" },
    answer: { path: "answer", label: "actAnswer" },
    hand_on: { path: "hand-on", label: "actHandOn" },
    merge: { path: "merge", label: "actMerge" },
    decline: { path: "decline", label: "actDecline" },
    done: { path: "done", label: "actDone" },
  };

  function actionsFor(opinion) {
    if (opinion.status === "recorded") {
      var list = ["assign"];
      if (opinion.source !== "order") list.push("answer");
      return list.concat(["hand_on", "merge", "decline"]);
    }
    if (opinion.status === "in_progress" && opinion.source === "order") {
      return ["assign", "done", "hand_on", "merge", "decline"];
    }
    return [];
  }

  function named(group, key) {
    return (t(group) || {})[key] || key;
  }

  // "2026-03-05 09:30" in Shanghai (Sweden's locale writes ISO dates).
  var DATE_TIME = new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });

  function when(iso) {
    return iso ? DATE_TIME.format(new Date(iso)) : "";
  }

  var triage = { status: "", category: "", source: "", street: null, items: [], next: null, current: null };

  function triageScreen(user) {
    var district = C.DISTRICT_ROLES.indexOf(user.claims.role) >= 0 || !user.claims.street_id;
    if (!district) triage.street = user.claims.street_id;
    var queue = el("section", { className: "panel triage-queue", "aria-labelledby": "queue-title" });
    var detail = el("section", { className: "panel opinion-detail", id: "opinion-detail", "aria-labelledby": "opinion-title" });
    var figures = el("section", { className: "panel triage-figures", id: "triage-figures", "aria-labelledby": "figures-title" });
    C.main.replaceChildren(
      el("h1", { id: "screen-title", tabindex: "-1", text: t("triageTitle") }),
      filterForm(queue, detail, district),
      el("div", { className: "triage-layout" }, [queue, detail]),
      figures
    );
    loadQueue(queue, detail);
    if (triage.current) openOpinion(triage.current.id, detail, queue);
    else showNothing(detail);
    loadFigures(figures);
  }

  function choice(name, options, selected) {
    var select = el("select", { name: name });
    options.forEach(function (o) {
      select.appendChild(el("option", { value: o[0], text: o[1], selected: String(o[0]) === String(selected) }));
    });
    return select;
  }

  function filterForm(queue, detail, district) {
    var status = choice(
      "status",
      [["", t("trStatusOpen")]].concat(STATUSES.map(function (s) { return [s, named("statuses", s)]; })),
      triage.status
    );
    var category = choice(
      "category",
      [["", t("trAll")]].concat(CATEGORIES.map(function (c) { return [c, named("categories", c)]; })),
      triage.category
    );
    var source = choice(
      "source",
      [["", t("trAll")]].concat(SOURCES.map(function (s) { return [s, named("sources", s)]; })),
      triage.source
    );
    var row = el("div", { className: "field-row" }, [
      C.field("filter-status", t("trStatus"), status),
      C.field("filter-category", t("trCategory"), category),
      C.field("filter-source", t("trSource"), source),
    ]);
    var street = null;
    if (district) {
      street = choice("street", [["", t("trAllStreets")]], triage.street || "");
      row.insertBefore(C.field("filter-street", t("trStreet"), street), row.firstChild);
      api("GET", "/api/v1/streets?page_size=100").then(function (reply) {
        if (!reply.ok) return;
        (reply.body.items || []).forEach(function (s) {
          street.appendChild(el("option", { value: s.id, text: s.name, selected: s.id === triage.street }));
        });
      });
    }
    var outcome = el("div", { className: "form-outcome" });
    var form = el("form", {
      id: "triage-filters",
      className: "triage-filters",
      novalidate: true,
      "aria-label": t("trFilters"),
      onsubmit: function (event) {
        event.preventDefault();
        triage.status = status.value;
        triage.category = category.value;
        triage.source = source.value;
        if (street) triage.street = street.value ? Number(street.value) : null;
        loadQueue(queue, detail, false, form);
      },
    }, [row, el("button", { type: "submit", text: t("trApply") }), outcome]);
    return form;
  }

  function queueQuery(pageToken) {
    var query = new URLSearchParams({ page_size: String(PAGE_SIZE) });
    if (triage.status) query.append("status", triage.status);
    if (triage.category) query.set("category", triage.category);
    if (triage.source) query.set("source", triage.source);
    if (triage.street) query.set("street_id", String(triage.street));
    if (pageToken) query.set("page_token", pageToken);
    return "/api/v1/opinions?" + query.toString();
  }

  // The queue, from its first page (or the next one with `more`).
  function loadQueue(section, detail, more, form) {
    var heading = el("h2", { id: "queue-title", tabindex: "-1", text: t("trQueue") });
    var list = section.querySelector(".queue-list");
    if (!more || !list) {
      list = el("div", { className: "queue-list", "aria-busy": "true" }, [el("p", { className: "note", text: t("loading") })]);
      section.replaceChildren(heading, list);
      triage.items = [];
    }
    list.setAttribute("aria-busy", "true");
    api("GET", queueQuery(more ? triage.next : null)).then(function (reply) {
      list.setAttribute("aria-busy", "false");
      if (!reply.ok) {
        if (!form) return list.replaceChildren(C.problemBox(reply));
        form.querySelector(".form-outcome").replaceChildren(C.problemBox(reply, form));
        return list.replaceChildren();
      }
      if (form) form.querySelector(".form-outcome").replaceChildren();
      var firstNew = triage.items.length;
      triage.items = triage.items.concat(reply.body.items || []);
      triage.next = reply.body.next_page_token || null;
      if (form) heading.focus();
      if (!triage.items.length) return list.replaceChildren(el("p", { className: "note", text: t("trEmpty") }));
      list.replaceChildren(
        el("p", { className: "note", id: "queue-count", text: t("trQueueCount", { count: triage.items.length }) }),
        queueTable(section, detail)
      );
      if (triage.next) {
        list.appendChild(
          el("button", {
            type: "button",
            className: "secondary",
            id: "queue-more",
            text: t("trMore", { count: PAGE_SIZE }),
            onclick: function () {
              loadQueue(section, detail, true);
            },
          })
        );
      }
      if (more) {
        var first = list.querySelectorAll("tbody tr")[firstNew];
        if (first) first.querySelector("button").focus();
      }
    });
  }

  function queueTable(section, detail) {
    var head = [t("trCode"), t("trCategory"), t("trSource"), t("trCommunity"), t("trStatus"), t("trRecordedAt"), t("trDeputy")];
    var table = el("table", { className: "queue-table" }, [
      el("caption", { className: "visually-hidden", text: t("trQueue") }),
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
    ]);
    var tbody = el("tbody");
    triage.items.forEach(function (opinion) {
      var current = triage.current && triage.current.id === opinion.id;
      tbody.appendChild(
        el("tr", { "data-opinion": opinion.id, className: current ? "current" : null, "aria-current": current ? "true" : null }, [
          el("th", { scope: "row" }, [
            el("button", {
              type: "button",
              className: "link",
              text: opinion.tracking_code,
              onclick: function () {
                openOpinion(opinion.id, detail, section, "opinion-title");
              },
            }),
          ]),
          el("td", { text: named("categories", opinion.category) }),
          el("td", { text: named("sources", opinion.source) }),
          el("td", { text: opinion.community_name || "" }),
          el("td", { className: "status", text: named("statuses", opinion.status) }),
          el("td", {}, [el("time", { datetime: opinion.recorded_at || "", text: when(opinion.recorded_at) })]),
          el("td", { text: opinion.taken_by_deputy_name || "" }),
        ])
      );
    });
    table.appendChild(tbody);
    return el("div", { className: "table-scroll" }, [table]);
  }

  function markCurrent(section) {
    Array.prototype.forEach.call(section.querySelectorAll("tbody tr"), function (row) {
      var current = triage.current && Number(row.getAttribute("data-opinion")) === triage.current.id;
      row.classList.toggle("current", !!current);
      if (current) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
  }

  // ------------------------------------------------------------ one opinion

  function showNothing(detail) {
    detail.replaceChildren(
      el("h2", { id: "opinion-title", tabindex: "-1", text: t("trOpinion", { code: "" }).trim() }),
      el("p", { className: "note", text: t("trPick") })
    );
  }

  function openOpinion(id, detail, queue, focusId) {
    detail.setAttribute("aria-busy", "true");
    api("GET", "/api/v1/opinions/" + id).then(function (reply) {
      detail.setAttribute("aria-busy", "false");
      if (!reply.ok) {
        triage.current = null;
        detail.replaceChildren(el("h2", { id: "opinion-title", tabindex: "-1", text: t("trOpinion", { code: "" }).trim() }), C.problemBox(reply));
        markCurrent(queue);
        return;
      }
      showOpinion(reply.body, detail, queue, focusId);
    });
  }

  function fact(list, label, value) {
    if (value === null || value === undefined || value === "") return;
    list.appendChild(el("dt", { text: label }));
    list.appendChild(el("dd", { text: String(value) }));
  }

  function showOpinion(opinion, detail, queue, focusId) {
    triage.current = opinion;
    markCurrent(queue);
    var facts = el("dl", { className: "facts" });
    fact(facts, t("trStatus"), named("statuses", opinion.status));
    fact(facts, t("trCategory"), named("categories", opinion.category));
    fact(facts, t("trSource"), named("sources", opinion.source));
    fact(facts, t("trCommunity"), opinion.community_name);
    fact(facts, t("trStation"), opinion.station_name);
    fact(facts, t("trRecordedAt"), when(opinion.recorded_at));
    fact(facts, t("trDeputy"), opinion.taken_by_deputy_name || t("trNone"));
    fact(facts, t("trAnswer"), opinion.answer);
    fact(facts, t("trDeclineReason"), opinion.decline_reason);
    fact(facts, t("trMergedInto"), opinion.merged_into_code);
    var children = [
      el("h2", { id: "opinion-title", tabindex: "-1", text: t("trOpinion", { code: opinion.tracking_code }) }),
      facts,
      el("h3", { text: t("trContent") }),
      el("p", { className: "opinion-content", text: opinion.content }),
    ];
    // Who raised it: only when the API returns it.
    if (opinion.raiser) {
      var raiser = el("dl", { className: "facts raiser" });
      fact(raiser, t("trRaiserName"), opinion.raiser.name);
      fact(raiser, t("trRaiserPhone"), opinion.raiser.phone);
      fact(raiser, t("trRaiserContact"), opinion.raiser.contact);
      children.push(el("h3", { text: t("trRaiser") }), raiser);
    } else if (opinion.raiser_hidden) {
      children.push(el("p", { className: "note", text: t("trRaiserHidden") }));
    }
    var timeline = el("ol", { className: "timeline" });
    (opinion.timeline || []).forEach(function (entry) {
      timeline.appendChild(
        el("li", {}, [el("time", { datetime: entry.at || "", text: when(entry.at) }), " ", el("span", { text: entry.text || entry.kind })])
      );
    });
    children.push(el("h3", { text: t("trTimeline") }), timeline);
    children.push(actionsPanel(opinion, detail, queue));
    detail.replaceChildren.apply(detail, children);
    var focus = focusId && document.getElementById(focusId);
    if (focus) focus.focus();
  }

  function actionsPanel(opinion, detail, queue) {
    var section = el("div", { className: "opinion-actions" }, [el("h3", { text: t("trActions") })]);
    var actions = actionsFor(opinion);
    if (!actions.length) {
      section.appendChild(el("p", { className: "note", text: t("trClosed") }));
      return section;
    }
    var panel = el("div", { id: "action-panel" });
    var bar = el("div", { className: "actions", role: "group", "aria-label": t("trActions") });
    actions.forEach(function (action) {
      var button = el("button", {
        type: "button",
        className: "secondary",
        id: "act-" + action,
        "aria-expanded": "false",
        "aria-controls": "action-panel",
        text: t(ACTIONS[action].label),
        onclick: function () {
          Array.prototype.forEach.call(bar.querySelectorAll("button"), function (b) {
            b.setAttribute("aria-expanded", String(b === button));
          });
          actionForm(action, opinion, panel, button, detail, queue);
        },
      });
      bar.appendChild(button);
    });
    section.appendChild(bar);
    section.appendChild(panel);
    return section;
  }

  function textBox(name, required) {
    return el("textarea", { name: name, rows: "3", maxlength: name === "answer" ? "2000" : "500", required: required });
  }

  // The form of one action, in `panel`; focus goes to its first field.
  function actionForm(action, opinion, panel, button, detail, queue) {
    var outcome = el("div", { className: "form-outcome" });
    var fields = el("div");
    var submitLabel = "";
    var body = null; // () => the request's body, or a Promise of it
    var input = null;
    if (action === "answer" || action === "done") {
      input = textBox("answer", true);
      fields.appendChild(C.field("action-answer", t(action === "done" ? "trDoneLabel" : "trAnswerLabel"), input, t("trAnswerHint")));
      submitLabel = t(action === "done" ? "trDoneSubmit" : "trAnswerSubmit");
      body = function () { return { answer: input.value.trim() }; };
    } else if (action === "hand_on") {
      input = textBox("note", false);
      fields.appendChild(C.field("action-note", t("trNoteLabel"), input, t("trNoteHint")));
      submitLabel = t("trHandOnSubmit");
      body = function () { return { note: input.value.trim() }; };
    } else if (action === "decline") {
      input = textBox("reason", true);
      fields.appendChild(C.field("decline-reason", t("trReasonLabel"), input, t("trReasonHint")));
      submitLabel = t("trDeclineSubmit");
      body = function () { return { reason: input.value.trim() }; };
    } else if (action === "merge") {
      input = el("input", { type: "text", name: "into_id", list: "merge-codes", autocomplete: "off", spellcheck: "false", required: true });
      var codes = el("datalist", { id: "merge-codes" });
      triage.items.forEach(function (o) {
        if (o.id !== opinion.id) codes.appendChild(el("option", { value: o.tracking_code, text: named("categories", o.category) }));
      });
      fields.appendChild(C.field("merge-code", t("trMergeLabel"), input, t("trMergeHint")));
      fields.appendChild(codes);
      submitLabel = t("trMergeSubmit");
      body = function () {
        return idOfCode(input.value.trim().toUpperCase()).then(function (id) {
          return id ? { into_id: id } : null;
        });
      };
    } else if (action === "assign") {
      submitLabel = t("trAssignSubmit");
      var group = el("fieldset", { className: "suggested", "aria-busy": "true" }, [
        el("legend", { text: t("trSuggested") }),
        el("p", { className: "note", text: t("loading") }),
      ]);
      fields.appendChild(group);
      body = function () {
        var picked = group.querySelector("input:checked");
        return { deputy_id: picked ? Number(picked.value) : null };
      };
    }
    var submit = el("button", { type: "submit", text: submitLabel });
    var form = el("form", {
      id: "action-form",
      className: "action-form",
      novalidate: true,
      "aria-label": t(ACTIONS[action].label) + " " + opinion.tracking_code,
      onsubmit: function (event) {
        event.preventDefault();
        C.clearFieldErrors(form);
        outcome.replaceChildren();
        Promise.resolve(body()).then(function (payload) {
          if (!payload) {
            // A tracking code that names no opinion the caller can merge into.
            return failed({ status: 422, body: { errors: [{ field: "into_id", message: t("trNoSuchCode") }] } });
          }
          return api("POST", "/api/v1/opinions/" + opinion.id + ":" + ACTIONS[action].path, payload).then(function (reply) {
            if (!reply.ok) return failed(reply);
            C.announce(doneText(action, reply.body));
            showOpinion(reply.body, detail, queue, "opinion-title");
            loadQueue(queue, detail);
            loadFigures(document.getElementById("triage-figures"));
          });
        });
      },
    }, [
      fields,
      el("div", { className: "actions" }, [
        submit,
        el("button", {
          type: "button",
          className: "secondary",
          text: t("trClose"),
          onclick: function () {
            panel.replaceChildren();
            button.setAttribute("aria-expanded", "false");
            button.focus();
          },
        }),
      ]),
      outcome,
    ]);

    function failed(reply) {
      outcome.replaceChildren(C.problemBox(reply, form));
      var invalid = form.querySelector("[aria-invalid=true]");
      if (invalid) invalid.focus();
    }

    panel.replaceChildren(form);
    if (action === "assign") suggestDeputies(opinion, fields.querySelector("fieldset"), submit);
    else input.focus();
  }

  function suggestDeputies(opinion, group, submit) {
    api("GET", "/api/v1/opinions/" + opinion.id + "/suggested-deputies").then(function (reply) {
      group.setAttribute("aria-busy", "false");
      var legend = group.querySelector("legend");
      if (!reply.ok) return group.replaceChildren(legend, C.problemBox(reply));
      var deputies = reply.body.items || [];
      if (!deputies.length) {
        submit.disabled = true;
        return group.replaceChildren(legend, el("p", { className: "note", text: t("trNoSuggested") }));
      }
      var list = el("ul", { className: "suggested-list" });
      deputies.forEach(function (d, index) {
        var id = "deputy-" + d.deputy_id;
        var why = el("span", { className: "suggested-reason", id: id + "-why", text: d.reason });
        var meta = [t("trOpenCount", { count: d.open_opinions })];
        if ((d.matched_expertise || []).length) meta.unshift(t("trExpertise", { tags: d.matched_expertise.join("、") }));
        list.appendChild(
          el("li", {}, [
            el("input", {
              type: "radio",
              name: "deputy_id",
              id: id,
              value: d.deputy_id,
              checked: index === 0,
              "aria-describedby": id + "-why " + id + "-meta",
            }),
            el("label", { for: id }, [el("strong", { text: d.name })]),
            why,
            el("span", { className: "hint", id: id + "-meta", text: meta.join("；") }),
          ])
        );
      });
      group.replaceChildren(legend, list);
      group.querySelector("input").focus();
    });
  }

  // The id of the opinion with this tracking code, among those the caller
  // may list (a merged one is no target), or null.
  function idOfCode(code) {
    var known = triage.items.filter(function (o) { return o.tracking_code === code; })[0];
    if (known) return Promise.resolve(known.id);
    var year = Number(code.slice(3, 7));
    // Codes carry the year they were recorded in; the list knows 2000 to 2100.
    if (!/^TH-\d{4}-\d{6,}$/.test(code) || year < 2000 || year > 2100) return Promise.resolve(null);
    var query = new URLSearchParams({ page_size: "200", year: String(year) });
    STATUSES.forEach(function (s) {
      if (s !== "merged") query.append("status", s);
    });
    if (triage.street) query.set("street_id", String(triage.street));
    function page(token, left) {
      if (token) query.set("page_token", token);
      return api("GET", "/api/v1/opinions?" + query.toString()).then(function (reply) {
        if (!reply.ok) return null;
        var found = (reply.body.items || []).filter(function (o) { return o.tracking_code === code; })[0];
        if (found) return found.id;
        return reply.body.next_page_token && left > 1 ? page(reply.body.next_page_token, left - 1) : null;
      });
    }
    return page(null, 10);
  }

  function doneText(action, opinion) {
    var vars = { code: opinion.tracking_code, name: opinion.taken_by_deputy_name, into: opinion.merged_into_code };
    var key = {
      assign: "trAssigned",
      answer: "trAnswered",
      hand_on: "trHandedOn",
      merge: "trMerged",
      decline: "trDeclined",
      done: "trCompleted",
    }[action];
    return t(key, vars);
  }

  // ------------------------------------------------------------- figures

  // `group`: the texts naming the keys ("categories", "statuses").
  function countTable(caption, column, group, counts) {
    var table = el("table", { className: "figures-table" }, [
      el("caption", { text: caption }),
      el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: column }), el("th", { scope: "col", text: t("trCount") })])]),
    ]);
    var tbody = el("tbody");
    counts.forEach(function (c) {
      var label = (t(group) || {})[c.key] || c.label || c.key;
      tbody.appendChild(el("tr", { "data-key": c.key }, [el("th", { scope: "row", text: label }), el("td", { text: String(c.count) })]));
    });
    table.appendChild(tbody);
    return table;
  }

  function loadFigures(section) {
    var year = C.todayInShanghai().slice(0, 4);
    var heading = el("h2", { id: "figures-title", text: t("trFigures", { year: year }) });
    section.replaceChildren(heading, el("p", { className: "note", text: t("loading") }));
    var query = "?year=" + year + (triage.street ? "&street_id=" + triage.street : "");
    api("GET", "/api/v1/reception-figures" + query).then(function (reply) {
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
      var figures = reply.body;
      section.replaceChildren(
        heading,
        el("p", { text: t("trFiguresOf", { count: figures.opinions_collected, people: figures.reception_person_times }) }),
        el("div", { className: "figures" }, [
          countTable(t("trByCategory"), t("trCategory"), "categories", figures.by_category || []),
          countTable(t("trByOutcome"), t("trStatus"), "statuses", figures.by_outcome || []),
        ])
      );
    });
  }

  C.screen("triage", triageScreen);
})();

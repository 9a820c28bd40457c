// The portal's pages of the duties service, reached by the address's hash:
//   #/deputies/<id>[/<year>]  a deputy's public page: the five-ones
//       scorecard and the duty record of a year (counts by kind, the entries
//       paged, a year picker), constituents' ratings (counts by level per
//       year, the published comments, each reportable as abusive when signed
//       in), and rating the deputy, signed in as a constituent;
//   #/ballots/<id>            a duty report's secret ballot on a phone: the
//       code printed on the slip, a choice and an optional comment, no
//       sign-in; a plain confirmation that does not repeat the choice; once
//       the ballot is published, its result.
// What the service refuses is said with the service's own message, next to
// the field it names. portal.js lends the helpers, the sign-in and the
// language (window.LiaisonPortal); everything is rendered with textContent.
"use strict";

(function () {
  var P = window.LiaisonPortal;
  if (!P) return;
  var el = P.el;
  var append = P.append;

  var TEXT = {
    "zh-CN": {
      back: "返回查找联络站",
      deputyTitle: "代表履职档案",
      deputyFailed: "暂时无法查询这位代表，请稍后再试。",
      year: "年度",
      loading: "正在查询…",
      more: "显示更多",
      scorecardTitle: "“五个一”履职情况",
      scorecardNote: "每位代表每年参加一次培训、跟踪一件建议到答复、开展一次自主选题调研、接受一次街道人大工委走访；每三年向选民述职一次。",
      scorecardDaysLeft: "距年底还有 {n} 天",
      scorecardFailed: "暂时无法查询“五个一”情况。",
      item_training: "参加一次培训",
      item_suggestion: "跟踪一件建议到答复",
      item_research: "开展一次自主选题调研",
      item_duty_report: "向选民述职（三年一次）",
      item_visit: "接受一次走访",
      status_done: "已完成",
      status_short: "尚未完成",
      status_not_due: "本年度不需",
      evidence: "{n} 项记录",
      recordTitle: "履职档案",
      recordNote: "根据各项工作记录自动汇总，只公开履职事实，不公开反映人和意见内容。",
      recordEmpty: "这一年暂无履职记录。",
      recordFailed: "暂时无法查询履职档案，请稍后再试。",
      countsCaption: "{year}年各项履职次数",
      kindHeader: "事项",
      countHeader: "次数",
      completedHeader: "已办结",
      entriesTitle: "履职记录（共 {n} 条）",
      completed: "已办结",
      kinds: {
        reception_attended: "参加接待选民",
        opinion_taken: "收集意见建议",
        letter_followed: "跟踪转办函",
        suggestion_followed: "跟踪建议办理",
        activity_attended: "参加代表活动",
        research_reported: "提交调研报告",
        visit_received: "接受街道走访",
        report_rated: "履职报告测评",
      },
      ratingsTitle: "选民评价",
      ratingsNote: "选民登录后可对代表评价，每人每年一次；不公开评价人。",
      ratingsEmpty: "暂无选民评价。",
      ratingsFailed: "暂时无法查询选民评价，请稍后再试。",
      ratingsCaption: "各年度评价人数",
      yearHeader: "年度",
      totalHeader: "合计",
      commentsTitle: "选民留言",
      noComments: "暂无公开留言。",
      levels: { satisfied: "满意", basically_satisfied: "基本满意", dissatisfied: "不满意" },
      report: "举报不当留言",
      reportReason: "举报理由",
      reportSubmit: "提交举报",
      reported: "已收到举报，管理人员会审核这条留言。",
      reportFailed: "举报没有提交：{detail}",
      rateTitle: "评价这位代表",
      rateQuestion: "您对这位代表今年的履职是否满意？",
      rateComment: "留言（可不填）",
      rateCommentHint: "留言会公开显示，请勿填写姓名、电话等个人信息。",
      rateSubmit: "提交评价",
      rated: "已收到您的评价：{level}。谢谢！",
      rateFailed: "评价没有提交：{detail}",
      rateSignIn: "登录后可以评价这位代表。",
      rateNotConstituent: "只有选民账号可以评价代表。",
      signIn: "登录",
      signInReport: "登录后可以举报不当留言。",
      networkText: "网络连接出现问题，请检查网络后重试。",
      ballotTitle: "履职报告满意度测评",
      ballotNote: "请输入会场发给您的测评码（不区分大小写，空格和短横线可有可无）。测评不记名，系统不会记录是谁投的哪一票。",
      code: "测评码",
      codeHint: "印在测评票上：16位字母和数字，例如 7QK2-M9XD-4HTB-RW3C",
      choice: "您对代表的履职报告是否满意？",
      comment: "意见（可不填）",
      commentHint: "您的意见会以书面形式转给代表，与您的选择分开保存。",
      vote: "投票",
      voted: "您的票已投出，谢谢参与！",
      votedNote: "测评结束并公布后，可在本页查看结果。",
      voteFailed: "没有投上：{detail}",
      resultTitle: "测评结果",
      resultDeputy: "查看这位代表的履职档案",
      papersCast: "投票人数",
      codesIssued: "发放测评票",
      share: "满意和基本满意占比",
      published: "测评结果已公布。",
      notFound: "没有找到这次测评，请核对测评票上的网址。",
      percent: "{n}%",
    },
    en: {
      back: "Back to finding a station",
      deputyTitle: "A deputy's duty record",
      deputyFailed: "This deputy cannot be looked up just now; please try again later.",
      year: "Year",
      loading: "Looking it up…",
      more: "Show more",
      scorecardTitle: "The “five ones”",
      scorecardNote: "Each year every deputy attends a training, follows a suggestion to its answer, researches a topic of their own and is visited by the street committee; every three years they report to the voters.",
      scorecardDaysLeft: "{n} days left in the year",
      scorecardFailed: "The “five ones” cannot be looked up just now.",
      item_training: "A training attended",
      item_suggestion: "A suggestion followed to its answer",
      item_research: "A research topic reported",
      item_duty_report: "A report to the voters (once in three years)",
      item_visit: "A visit received",
      status_done: "Done",
      status_short: "Not yet",
      status_not_due: "Not due this year",
      evidence: "{n} records",
      recordTitle: "Duty record",
      recordNote: "Gathered from the work's records: public facts only, never who raised an opinion nor what it said.",
      recordEmpty: "Nothing is recorded for this year yet.",
      recordFailed: "The duty record cannot be looked up just now; please try again later.",
      countsCaption: "What was done in {year}",
      kindHeader: "Kind",
      countHeader: "Times",
      completedHeader: "Completed",
      entriesTitle: "Records ({n} in all)",
      completed: "Completed",
      kinds: {
        reception_attended: "Received constituents",
        opinion_taken: "Took an opinion",
        letter_followed: "Followed a referral letter",
        suggestion_followed: "Followed a suggestion",
        activity_attended: "Attended an activity",
        research_reported: "Reported a research",
        visit_received: "Visited by the street committee",
        report_rated: "Duty report rated",
      },
      ratingsTitle: "Constituents' ratings",
      ratingsNote: "Signed-in constituents rate a deputy once a year; who rated is never shown.",
      ratingsEmpty: "No ratings yet.",
      ratingsFailed: "The ratings cannot be looked up just now; please try again later.",
      ratingsCaption: "Ratings by year",
      yearHeader: "Year",
      totalHeader: "Total",
      commentsTitle: "Constituents' comments",
      noComments: "No published comments.",
      levels: { satisfied: "Satisfied", basically_satisfied: "Basically satisfied", dissatisfied: "Dissatisfied" },
      report: "Report as abusive",
      reportReason: "Why",
      reportSubmit: "Send the report",
      reported: "The report is received: the moderators will review this comment.",
      reportFailed: "The report was not sent: {detail}",
      rateTitle: "Rate this deputy",
      rateQuestion: "Are you satisfied with this deputy's work this year?",
      rateComment: "Comment (optional)",
      rateCommentHint: "Comments are public: write no names or phone numbers.",
      rateSubmit: "Send the rating",
      rated: "Your rating is received: {level}. Thank you!",
      rateFailed: "The rating was not sent: {detail}",
      rateSignIn: "Sign in to rate this deputy.",
      rateNotConstituent: "Only constituents' accounts rate deputies.",
      signIn: "Sign in",
      signInReport: "Sign in to report an abusive comment.",
      networkText: "The network failed; please check the connection and try again.",
      ballotTitle: "Rating a deputy's duty report",
      ballotNote: "Enter the code you were given at the meeting (case, spaces and hyphens do not matter). The ballot is secret: nothing records who voted what.",
      code: "Ballot code",
      codeHint: "Printed on the slip: 16 letters and digits, e.g. 7QK2-M9XD-4HTB-RW3C",
      choice: "Are you satisfied with the deputy's duty report?",
      comment: "Comment (optional)",
      commentHint: "Your comment goes to the deputy in writing, kept apart from your choice.",
      vote: "Vote",
      voted: "Your vote is counted. Thank you!",
      votedNote: "Once the ballot is closed and published, its result is shown on this page.",
      voteFailed: "The vote was not counted: {detail}",
      resultTitle: "The result",
      resultDeputy: "The deputy's duty record",
      papersCast: "Votes cast",
      codesIssued: "Codes issued",
      share: "Satisfied or basically satisfied",
      published: "The result is published.",
      notFound: "No such ballot: please check the address on the slip.",
      percent: "{n}%",
    },
  };
  var ITEMS = ["training", "suggestion", "research", "duty_report", "visit"];

  function t(key, vars) {
    var text = TEXT[P.lang()][key];
    if (typeof text !== "string") return text;
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return vars && vars[name] !== undefined ? String(vars[name]) : "";
    });
  }

  function thisYear() {
    return Number(
      new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Shanghai", year: "numeric" }).format(new Date())
    );
  }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(P.readReply);
  }

  // What the service said of a refusal: the problem's detail (or the
  // field errors no field of the form shows), else its title or status.
  function detailOf(reply, unplaced) {
    var problem = reply.body;
    return (unplaced && unplaced.join("; ")) || (problem && (problem.detail || problem.title)) || String(reply.status);
  }

  function section(name, title, headingTag) {
    var node = el("section", "card duties-" + name);
    var heading = el(headingTag || "h3", null, title);
    heading.id = "duties-" + name + "-title";
    node.setAttribute("aria-labelledby", heading.id);
    node.appendChild(heading);
    return node;
  }

  function busy(node, value) {
    node.setAttribute("aria-busy", value ? "true" : "false");
  }

  // A radio group of the three levels for `field` (portal.js's), and a
  // getter of the level chosen ("" for none).
  var groups = 0;
  function levels(form, field, legend) {
    groups += 1;
    var group = P.choiceGroup(form, field, legend, field + "-" + groups, t("levels"));
    return function () {
      var picked = group.querySelector("input:checked");
      return picked ? picked.value : "";
    };
  }

  function problemIn(form, status, reply, message) {
    P.showProblem(form, status, reply.body, function (problem, unplaced) {
      return message(detailOf(reply, unplaced));
    });
  }

  function failedNetwork(status) {
    status.replaceChildren(el("p", "form-error", t("networkText")));
    status.setAttribute("role", "alert");
  }

  function guarded(submit, run) {
    // Not `disabled`: a disabled button loses the focus the answer moves.
    if (submit.getAttribute("aria-disabled") === "true") return;
    submit.setAttribute("aria-disabled", "true");
    run().finally(function () {
      submit.removeAttribute("aria-disabled");
    });
  }

  function signInButton(id) {
    var button = el("button", "secondary", t("signIn"));
    button.type = "button";
    button.id = id;
    button.addEventListener("click", function () {
      P.signin.begin(window.location.search + window.location.hash).catch(function (error) {
        var failed = el("p", "form-error", error.message || String(error));
        failed.setAttribute("role", "alert");
        button.after(failed);
      });
    });
    return button;
  }

  function moreButton(onClick) {
    var button = el("button", "secondary duties-more", t("more"));
    button.type = "button";
    button.addEventListener("click", onClick);
    return button;
  }

  // ------------------------------------------------------ a deputy's page

  function deputyPage(view, deputyId, year) {
    var heading = el("h2", "duties-heading", t("deputyTitle"));
    heading.tabIndex = -1;
    var about = el("p", "summary duties-deputy");
    about.setAttribute("aria-live", "polite");
    var picker = yearPicker(deputyId, year);
    append(view, [heading, about, picker]);
    getJson("/api/v1/deputies/" + deputyId + "/profile")
      .then(function (reply) {
        if (!reply.ok) {
          about.textContent = t("deputyFailed");
          return;
        }
        var deputy = reply.body;
        heading.textContent = deputy.name;
        var facts = [deputy.station_name, deputy.street_name, deputy.profession].filter(Boolean);
        about.textContent = facts.join(" · ");
      })
      .catch(function () {
        about.textContent = t("deputyFailed");
      });
    append(view, [
      scorecardSection(deputyId, year),
      recordSection(deputyId, year),
      ratingsSection(deputyId),
    ]);
    return heading;
  }

  function yearPicker(deputyId, year) {
    var wrap = el("div", "field duties-year");
    var select = el("select");
    select.id = "duties-year";
    var label = el("label", null, t("year"));
    label.htmlFor = select.id;
    var now = thisYear();
    for (var y = now; y >= now - 4; y -= 1) {
      var option = el("option", null, String(y));
      option.value = String(y);
      select.appendChild(option);
    }
    if (year < now - 4) {
      var older = el("option", null, String(year));
      older.value = String(year);
      select.appendChild(older);
    }
    select.value = String(year);
    select.addEventListener("change", function () {
      window.location.hash = "#/deputies/" + deputyId + "/" + select.value;
    });
    return append(wrap, [label, select]);
  }

  // The five ones of the year, when the service serves the scorecard; the
  // section stays away when it does not (404: no such route).
  function scorecardSection(deputyId, year) {
    var node = section("scorecard", t("scorecardTitle"));
    var body = el("div", "duties-body");
    append(node, [el("p", "note", t("scorecardNote")), body]);
    busy(body, true);
    getJson("/api/v1/deputies/" + deputyId + "/scorecard?year=" + year)
      .then(function (reply) {
        if (reply.status === 404) {
          node.remove();
          return;
        }
        if (!reply.ok) {
          body.replaceChildren(el("p", "note", t("scorecardFailed")));
          return;
        }
        var card = reply.body;
        var list = el("ul", "five-ones");
        var byItem = {};
        (card.items || []).forEach(function (item) {
          byItem[item.item] = item;
        });
        ITEMS.forEach(function (name) {
          var item = byItem[name];
          if (!item) return;
          var row = el("li", "five-one");
          row.setAttribute("data-item", name);
          row.setAttribute("data-status", item.status);
          append(row, [
            el("span", "five-one-name", t("item_" + name)),
            el("span", "five-one-status", t("status_" + item.status)),
          ]);
          if ((item.evidence || []).length) {
            row.appendChild(el("span", "five-one-evidence", t("evidence", { n: item.evidence.length })));
          }
          list.appendChild(row);
        });
        body.replaceChildren(list);
        if (card.open) body.appendChild(el("p", "note", t("scorecardDaysLeft", { n: card.days_left })));
      })
      .catch(function () {
        body.replaceChildren(el("p", "note", t("scorecardFailed")));
      })
      .finally(function () {
        busy(body, false);
      });
    return node;
  }

  // A paged list read into `body` from `base` (a URL with a query):
  // `first(page)` draws the first page's head and answers the list the items
  // go in (null: nothing to list); each page's `itemsOf(page)` are drawn by
  // `draw` and appended, with a "more" button while a next page remains.
  function pagedInto(body, base, first, itemsOf, draw, failed) {
    var list = null;
    function load(token, more) {
      busy(body, true);
      getJson(base + (token ? "&page_token=" + encodeURIComponent(token) : ""))
        .then(function (reply) {
          if (more) more.remove();
          if (!reply.ok) {
            body.appendChild(el("p", "note", failed));
            return;
          }
          var page = reply.body;
          if (!token) list = first(page);
          if (!list) return;
          (itemsOf(page) || []).forEach(function (x) {
            list.appendChild(draw(x));
          });
          if (page.next_page_token) {
            var button = moreButton(function () {
              load(page.next_page_token, button);
            });
            body.appendChild(button);
          }
        })
        .catch(function () {
          body.appendChild(el("p", "note", failed));
        })
        .finally(function () {
          busy(body, false);
        });
    }
    load("", null);
  }

  function recordSection(deputyId, year) {
    var node = section("record", t("recordTitle"));
    var body = el("div", "duties-body");
    body.setAttribute("aria-live", "polite");
    append(node, [el("p", "note", t("recordNote")), body]);
    var base = "/api/v1/deputies/" + deputyId + "/duty-record?page_size=20&year=" + year;
    pagedInto(
      body,
      base,
      function (record) {
        var counts = (record.counts || []).filter(function (c) {
          return c.count > 0;
        });
        if (!counts.length && !(record.entries || []).length) {
          body.replaceChildren(el("p", "note", t("recordEmpty")));
          return null;
        }
        var list = el("ol", "duty-entries");
        var heading = el("h4", null, t("entriesTitle", { n: record.total_size }));
        body.replaceChildren(countsTable(counts, year), heading, list);
        return list;
      },
      function (record) {
        return record.entries;
      },
      entryItem,
      t("recordFailed")
    );
    return node;
  }

  function kindName(kind) {
    return t("kinds")[kind] || kind;
  }

  function table(className, caption, headers) {
    var node = el("table", className);
    node.appendChild(el("caption", null, caption));
    var row = el("tr");
    headers.forEach(function (text) {
      var th = el("th", null, text);
      th.scope = "col";
      row.appendChild(th);
    });
    append(node, [append(el("thead"), [row]), el("tbody")]);
    return node;
  }

  function tableRow(node, cells, key) {
    var row = el("tr");
    row.setAttribute("data-key", key);
    cells.forEach(function (text, i) {
      var cell = el(i === 0 ? "th" : "td", null, text);
      if (i === 0) cell.scope = "row";
      row.appendChild(cell);
    });
    node.querySelector("tbody").appendChild(row);
  }

  function countsTable(counts, year) {
    var node = table("duty-counts", t("countsCaption", { year: year }), [
      t("kindHeader"),
      t("countHeader"),
      t("completedHeader"),
    ]);
    counts.forEach(function (c) {
      tableRow(node, [kindName(c.kind), String(c.count), String(c.completed)], c.kind);
    });
    return node;
  }

  function entryItem(entry) {
    var item = el("li", "duty-entry");
    item.setAttribute("data-kind", entry.kind);
    var when = el("time", "duty-on", entry.on);
    when.setAttribute("datetime", entry.on);
    append(item, [when, el("span", "duty-kind", kindName(entry.kind))]);
    // An opinion's title is its category's key: named as the portal names it.
    var title = (P.text("categories") || {})[entry.title] || entry.title;
    if (title) item.appendChild(el("p", "duty-title", title));
    var more = [entry.status, entry.detail].filter(Boolean).join(" · ");
    if (more) item.appendChild(el("p", "note duty-detail", more));
    if (entry.completed) item.appendChild(el("span", "badge duty-completed", t("completed")));
    return item;
  }

  function ratingsSection(deputyId) {
    var node = section("ratings", t("ratingsTitle"));
    var body = el("div", "duties-body");
    body.setAttribute("aria-live", "polite");
    append(node, [el("p", "note", t("ratingsNote")), body, rateBlock(deputyId, body)]);
    loadRatings(deputyId, body);
    return node;
  }

  function loadRatings(deputyId, body) {
    pagedInto(
      body,
      "/api/v1/deputies/" + deputyId + "/ratings?page_size=20",
      function (ratings) {
        var years = ratings.years || [];
        if (!years.length) {
          body.replaceChildren(el("p", "note", t("ratingsEmpty")));
          return null;
        }
        var names = t("levels");
        var counts = table("rating-counts", t("ratingsCaption"), [
          t("yearHeader"),
          names.satisfied,
          names.basically_satisfied,
          names.dissatisfied,
          t("totalHeader"),
        ]);
        years.forEach(function (y) {
          var cells = [y.year, y.satisfied, y.basically_satisfied, y.dissatisfied, y.total].map(String);
          tableRow(counts, cells, String(y.year));
        });
        var comments = el("ul", "rating-comments");
        body.replaceChildren(counts, el("h4", null, t("commentsTitle")));
        if (!(ratings.comments || []).length) body.appendChild(el("p", "note", t("noComments")));
        else body.appendChild(comments);
        if (!P.signin.user()) body.appendChild(el("p", "note", t("signInReport")));
        return comments;
      },
      function (ratings) {
        return ratings.comments;
      },
      commentItem,
      t("ratingsFailed")
    );
  }

  function commentItem(c) {
    var item = el("li", "rating-comment");
    item.setAttribute("data-rating", String(c.rating_id));
    var head = el("p", "rating-head");
    var when = el("time", null, c.rated_on);
    when.setAttribute("datetime", c.rated_on);
    append(head, [el("span", "rating-level", t("levels")[c.level] || c.level), el("span", null, " · "), when]);
    append(item, [head, el("p", "rating-text", c.comment)]);
    if (P.signin.user()) item.appendChild(reportToggle(c));
    return item;
  }

  // "Report as abusive": a reason, sent signed in; the service's refusal
  // (reported already, say) in its words.
  function reportToggle(c) {
    var wrap = el("div", "rating-report");
    var toggle = el("button", "secondary link-button", t("report"));
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", "false");
    var form = el("form", "report-form");
    form.noValidate = true;
    form.hidden = true;
    form.id = "report-" + c.rating_id;
    toggle.setAttribute("aria-controls", form.id);
    toggle.addEventListener("click", function () {
      form.hidden = !form.hidden;
      toggle.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) reason.focus();
    });
    var reason = P.formField(form, "reason", t("reportReason"), el("textarea"));
    reason.rows = 2;
    reason.maxLength = 500;
    P.submitRow(form, t("reportSubmit"), null, function (submit, status) {
      guarded(submit, function () {
        return P.authorized("POST", "/api/v1/deputy-ratings/" + c.rating_id + "/reports", {
          reason: reason.value.trim(),
        })
          .then(function (reply) {
            if (reply.ok) {
              var done = el("p", "form-ok report-done", t("reported"));
              done.setAttribute("role", "status");
              form.replaceWith(done);
              toggle.remove();
              return;
            }
            problemIn(form, status, reply, function (detail) {
              return t("reportFailed", { detail: detail });
            });
          })
          .catch(function () {
            failedNetwork(status);
          });
      });
    });
    return append(wrap, [toggle, form]);
  }

  // Rating the deputy: signed out, the sign-in; signed in as a constituent,
  // the three levels and a comment; a second rating in a year is refused
  // with the service's message.
  function rateBlock(deputyId, ratingsBody) {
    var block = el("div", "rate-deputy");
    block.appendChild(el("h4", null, t("rateTitle")));
    var user = P.signin.user();
    if (!user) {
      return append(block, [el("p", "note", t("rateSignIn")), signInButton("duties-sign-in")]);
    }
    if (user.claims.role !== "constituent") {
      return append(block, [el("p", "note", t("rateNotConstituent"))]);
    }
    var form = el("form", "rate-deputy-form");
    form.noValidate = true;
    form.setAttribute("aria-label", t("rateTitle"));
    var level = levels(form, "level", t("rateQuestion"));
    var comment = P.formField(form, "comment", t("rateComment"), el("textarea"), t("rateCommentHint"));
    comment.rows = 3;
    comment.maxLength = 500;
    var outcome = el("div", "rate-outcome");
    outcome.setAttribute("aria-live", "polite");
    P.submitRow(form, t("rateSubmit"), null, function (submit, status) {
      guarded(submit, function () {
        var body = { comment: comment.value.trim() };
        if (level()) body.level = level();
        return P.authorized("POST", "/api/v1/deputies/" + deputyId + "/ratings", body)
          .then(function (reply) {
            if (reply.ok) {
              var done = el("p", "form-ok", t("rated", { level: t("levels")[reply.body.level] }));
              done.setAttribute("role", "status");
              done.tabIndex = -1;
              outcome.replaceChildren(done);
              form.remove();
              done.focus();
              loadRatings(deputyId, ratingsBody);
              return;
            }
            problemIn(form, status, reply, function (detail) {
              return t("rateFailed", { detail: detail });
            });
          })
          .catch(function () {
            failedNetwork(status);
          });
      });
    });
    return append(block, [form, outcome]);
  }

  // ------------------------------------------------------------ the ballot

  // The ballot's page: its result once published (anyone reads it then);
  // before, the vote. A ballot whose result is not public yet answers the
  // result with a refusal, and the page offers the vote.
  function ballotPage(view, ballotId) {
    var heading = el("h2", "duties-heading", t("ballotTitle"));
    heading.tabIndex = -1;
    var body = el("div", "ballot-body");
    body.setAttribute("aria-live", "polite");
    append(view, [heading, body]);
    busy(body, true);
    getJson("/api/v1/ballots/" + ballotId + "/result")
      .then(function (reply) {
        if (reply.ok && reply.body.published) {
          body.replaceChildren(resultView(reply.body));
          return;
        }
        body.replaceChildren(voteForm(ballotId, body));
      })
      .catch(function () {
        body.replaceChildren(voteForm(ballotId, body));
      })
      .finally(function () {
        busy(body, false);
      });
    return heading;
  }

  function voteForm(ballotId, body) {
    var wrap = el("div", "ballot-vote");
    wrap.appendChild(el("p", "note", t("ballotNote")));
    var form = el("form", "vote-form");
    form.noValidate = true;
    form.setAttribute("aria-label", t("ballotTitle"));
    var code = P.formField(form, "code", t("code"), el("input"), t("codeHint"));
    code.autocomplete = "off";
    code.autocapitalize = "characters";
    code.spellcheck = false;
    code.maxLength = 40;
    code.setAttribute("enterkeyhint", "next");
    var choice = levels(form, "choice", t("choice"));
    var comment = P.formField(form, "comment", t("comment"), el("textarea"), t("commentHint"));
    comment.rows = 3;
    comment.maxLength = 2000;
    P.submitRow(form, t("vote"), null, function (submit, status) {
      guarded(submit, function () {
        var vote = { code: code.value, comment: comment.value.trim() };
        if (choice()) vote.choice = choice();
        return P.postJson("/api/v1/ballots/" + ballotId + "/votes", vote)
          .then(function (reply) {
            if (reply.ok) {
              // Nothing of the choice stays on the page.
              var done = el("div", "vote-done");
              var title = el("h3", null, t("voted"));
              title.tabIndex = -1;
              append(done, [title, el("p", "note", t("votedNote"))]);
              body.replaceChildren(done);
              title.focus();
              return;
            }
            problemIn(form, status, reply, function (detail) {
              return t("voteFailed", { detail: detail });
            });
            if (reply.status === 404) status.firstChild.textContent = t("notFound");
          })
          .catch(function () {
            failedNetwork(status);
          });
      });
    });
    wrap.appendChild(form);
    return wrap;
  }

  function percent(share) {
    return t("percent", { n: Math.round(share * 1000) / 10 });
  }

  function resultView(result) {
    var box = el("section", "card ballot-result");
    var heading = el("h3", null, t("resultTitle"));
    heading.id = "ballot-result-title";
    box.setAttribute("aria-labelledby", heading.id);
    var levels = t("levels");
    var facts = el("dl", "facts");
    P.field(facts, levels.satisfied, String(result.satisfied));
    P.field(facts, levels.basically_satisfied, String(result.basically_satisfied));
    P.field(facts, levels.dissatisfied, String(result.dissatisfied));
    P.field(facts, t("papersCast"), String(result.papers_cast));
    P.field(facts, t("codesIssued"), String(result.codes_issued));
    P.field(facts, t("share"), percent(result.share));
    Array.prototype.forEach.call(facts.querySelectorAll("dd"), function (dd, i) {
      dd.setAttribute("data-key", ["satisfied", "basically_satisfied", "dissatisfied", "papers_cast", "codes_issued", "share"][i]);
    });
    var link = el("a", "ballot-deputy", t("resultDeputy"));
    link.href = "#/deputies/" + result.deputy_id + "/" + result.year;
    return append(box, [heading, el("p", "note", t("published")), facts, append(el("p"), [link])]);
  }

  // ----------------------------------------------------------- the routes

  var main = document.getElementById("main");
  var view = el("div", "duties-view");
  view.id = "duties-view";
  view.hidden = true;
  main.appendChild(view);
  var ROUTE = /^#\/(deputies|ballots)\/(\d{1,18})(?:\/(\d{4}))?\/?$/;
  var current = "";

  // The hash names a page of this script: the portal's own contents step
  // aside (a class on the body) and the page is drawn; otherwise they return.
  function route(moveFocus) {
    var match = ROUTE.exec(window.location.hash);
    document.body.classList.toggle("duties-route", Boolean(match));
    if (!match) {
      view.hidden = true;
      view.replaceChildren();
      current = "";
      return;
    }
    view.hidden = false;
    var back = el("a", "duties-back", t("back"));
    back.href = "#";
    view.replaceChildren(append(el("p"), [back]));
    var heading =
      match[1] === "deputies"
        ? deputyPage(view, Number(match[2]), match[3] ? Number(match[3]) : thisYear())
        : ballotPage(view, Number(match[2]));
    if (moveFocus && current !== window.location.hash) heading.focus();
    current = window.location.hash;
  }

  window.addEventListener("hashchange", function () {
    route(true);
  });
  P.onChange(function () {
    route(false);
  });
  route(true);
})();

// The public portal: find my liaison station and my deputies.
// Calls GET /api/v1/find-station?address=… and renders the answer; errors are
// RFC 9457 problem details. Everything is rendered with textContent.
"use strict";

(function () {
  var LEVELS = [
    ["national", "全国人大代表"],
    ["provincial", "省人大代表"],
    ["city", "市人大代表"],
    ["district", "区人大代表"],
  ];
  var LEVEL_NAMES = {};
  LEVELS.forEach(function (pair) {
    LEVEL_NAMES[pair[0]] = pair[1];
  });
  var WEEKDAYS = ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"];
  var RECEPTION_DAY = 15;
  var DAY_MS = 24 * 60 * 60 * 1000;

  var form = document.getElementById("search");
  var input = document.getElementById("address");
  var button = document.getElementById("submit");
  var outcome = document.getElementById("outcome");
  var pending = null;

  // -------------------------------------------------------------- helpers

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function append(parent, children) {
    children.forEach(function (child) {
      if (child) parent.appendChild(child);
    });
    return parent;
  }

  // Today's date in Guangzhou, whatever the visitor's clock zone.
  function todayInShanghai() {
    var parts = new Intl.DateTimeFormat("en-US", {
      timeZone: "Asia/Shanghai",
      year: "numeric",
      month: "numeric",
      day: "numeric",
    }).formatToParts(new Date());
    var value = {};
    parts.forEach(function (part) {
      value[part.type] = Number(part.value);
    });
    return { year: value.year, month: value.month, day: value.day };
  }

  // The next reception day (the 15th), today included.
  function nextReceptionDay(today) {
    var year = today.year;
    var month = today.month;
    if (today.day > RECEPTION_DAY) {
      month += 1;
      if (month > 12) {
        month = 1;
        year += 1;
      }
    }
    var utc = Date.UTC(year, month - 1, RECEPTION_DAY);
    var days = Math.round((utc - Date.UTC(today.year, today.month - 1, today.day)) / DAY_MS);
    return {
      iso: year + "-" + String(month).padStart(2, "0") + "-" + RECEPTION_DAY,
      text: year + "年" + month + "月" + RECEPTION_DAY + "日",
      weekday: WEEKDAYS[new Date(utc).getUTCDay()],
      days: days,
    };
  }

  // ------------------------------------------------------------- rendering

  function field(list, term, value) {
    if (!value) return;
    append(list, [el("dt", null, term), el("dd", null, value)]);
  }

  function stationCard(result) {
    var card = el("section", "card station");
    card.setAttribute("aria-labelledby", "station-name");
    var heading = el("h3", null, result.station.name);
    heading.id = "station-name";
    var facts = el("dl", "facts");
    var venue = result.venue;
    if (venue) {
      field(facts, "地点", venue.name);
      field(facts, "地址", venue.address);
      field(facts, "开放时间", venue.opening_hours);
    } else {
      field(facts, "地点", "暂未公布，请向所在社区居委会咨询");
    }
    return append(card, [el("p", "eyebrow", "为您服务的联络站"), heading, facts]);
  }

  function receptionCard() {
    var next = nextReceptionDay(todayInShanghai());
    var card = el("section", "card reception");
    card.setAttribute("aria-labelledby", "reception-title");
    var heading = el("h3", null, "下次代表接待日");
    heading.id = "reception-title";
    var date = el("p", "reception-date");
    var time = el("time", null, next.text);
    time.setAttribute("datetime", next.iso);
    append(date, [time, el("span", "weekday", next.weekday)]);
    var when =
      next.days === 0 ? "就是今天" : next.days === 1 ? "就是明天" : "还有 " + next.days + " 天";
    return append(card, [
      heading,
      date,
      el("p", "reception-when", when),
      el("p", "note", "每月15日，联络站的人大代表在站接待选民，欢迎当面反映意见和建议。"),
    ]);
  }

  function deputyItem(deputy, isHead, showLevel) {
    var item = el("li", "deputy");
    var name = el("p", "deputy-name");
    append(name, [el("span", null, deputy.name)]);
    if (isHead) {
      var badge = el("span", "badge", "站长");
      badge.setAttribute("title", "联络站站长");
      name.appendChild(badge);
    }
    item.appendChild(name);
    var about = [];
    if (showLevel && LEVEL_NAMES[deputy.level]) about.push(LEVEL_NAMES[deputy.level]);
    if (deputy.profession) about.push(deputy.profession);
    if (about.length) item.appendChild(el("p", "deputy-profession", about.join(" · ")));
    var expertise = deputy.expertise || [];
    if (expertise.length) {
      var tags = el("ul", "tags");
      tags.setAttribute("aria-label", "专长");
      expertise.forEach(function (tag) {
        tags.appendChild(el("li", "tag", tag));
      });
      item.appendChild(tags);
    }
    if (deputy.biography) {
      var more = el("details", "bio");
      append(more, [el("summary", null, "简介"), el("p", null, deputy.biography)]);
      item.appendChild(more);
    }
    return item;
  }

  function deputiesSection(result) {
    var section = el("section", "deputies");
    section.setAttribute("aria-labelledby", "deputies-title");
    var rows = result.deputies || [];
    var heading = el("h3", null, "联络站的人大代表");
    heading.id = "deputies-title";
    if (rows.length) heading.appendChild(el("span", "count", "共 " + rows.length + " 位"));
    section.appendChild(heading);
    if (!rows.length) {
      section.appendChild(el("p", "note", "这个联络站暂未登记代表。"));
      return section;
    }
    var groups = LEVELS.map(function (pair) {
      return { level: pair[0], title: pair[1], rows: [] };
    });
    var other = { level: "", title: "其他代表", rows: [] };
    rows.forEach(function (row) {
      var group = groups.filter(function (g) {
        return g.level === row.deputy.level;
      })[0];
      (group || other).rows.push(row);
    });
    groups.concat([other]).forEach(function (group) {
      if (!group.rows.length) return;
      // The station head first within the group; otherwise the API's order.
      group.rows.sort(function (a, b) {
        return Number(Boolean(b.is_station_head)) - Number(Boolean(a.is_station_head));
      });
      var block = el("div", "level-group");
      block.setAttribute("data-level", group.level);
      var title = el("h4", null, group.title);
      var list = el("ul", "deputy-list");
      group.rows.forEach(function (row) {
        list.appendChild(deputyItem(row.deputy, row.is_station_head, false));
      });
      section.appendChild(append(block, [title, list]));
    });
    return section;
  }

  function contactSection(result) {
    var rows = result.contact_deputies || [];
    if (!rows.length) return null;
    var section = el("section", "deputies contacts");
    section.setAttribute("aria-labelledby", "contacts-title");
    var heading = el("h3", null, "本社区的定点联系代表");
    heading.id = "contacts-title";
    var list = el("ul", "deputy-list");
    rows.forEach(function (deputy) {
      list.appendChild(deputyItem(deputy, false, true));
    });
    return append(section, [
      heading,
      el("p", "note", "这些代表固定联系" + result.community.name + "，平时也可以通过社区居委会联系他们。"),
      list,
    ]);
  }

  // ------------------------------------------------------ next sessions

  // The day three months after `today` ({year, month, day}), as YYYY-MM-DD;
  // a day the month lacks is its last day.
  function threeMonthsOn(today) {
    var month = today.month + 3;
    var year = today.year + Math.floor((month - 1) / 12);
    month = ((month - 1) % 12) + 1;
    var last = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return isoDay(year, month, Math.min(today.day, last));
  }

  function isoDay(year, month, day) {
    return year + "-" + String(month).padStart(2, "0") + "-" + String(day).padStart(2, "0");
  }

  function sessionItem(session) {
    var parts = session.date.split("-").map(Number);
    var item = el("li", "session " + session.status);
    item.setAttribute("data-session", String(session.id));
    var when = el("p", "session-date");
    var time = el("time", null, parts[0] + "年" + parts[1] + "月" + parts[2] + "日");
    time.setAttribute("datetime", session.date);
    var weekday = WEEKDAYS[new Date(Date.UTC(parts[0], parts[1] - 1, parts[2])).getUTCDay()];
    append(when, [time, el("span", "weekday", weekday)]);
    if (session.kind === "extra") when.appendChild(el("span", "badge", "增加接待"));
    if (session.status === "cancelled") when.appendChild(el("span", "badge cancelled", "已取消"));
    item.appendChild(when);
    var slots = (session.slots || []).map(function (slot) {
      return (slot.label ? slot.label + " " : "") + slot.local_start + "–" + slot.local_end;
    });
    if (slots.length) item.appendChild(el("p", "session-slots", slots.join("，")));
    if (session.venue_name) {
      var venue = session.venue_name + (session.venue_address ? "（" + session.venue_address + "）" : "");
      item.appendChild(el("p", "session-venue", venue));
    }
    if (session.status === "cancelled" && session.cancellation_reason) {
      item.appendChild(el("p", "note", "取消原因：" + session.cancellation_reason));
    } else if (session.kind === "extra" && session.reason) {
      item.appendChild(el("p", "note", session.reason));
    }
    // Who receives at the session comes with the rota (not built yet); the
    // booking and opinion forms of a session will be offered here.
    return item;
  }

  // The station's sessions from today to three months on, filled in when
  // they arrive; the rest of the answer is shown meanwhile.
  function sessionsSection(result) {
    var section = el("section", "card sessions");
    section.setAttribute("aria-labelledby", "sessions-title");
    var heading = el("h3", null, "近期接待安排");
    heading.id = "sessions-title";
    var body = el("div", "sessions-body");
    body.setAttribute("aria-busy", "true");
    body.appendChild(el("p", "note", "正在查询接待安排…"));
    var stationId = result.station.id;
    var ics = el("a", "calendar-link", "订阅联络站接待日历（iCalendar）");
    ics.href = "/api/v1/stations/" + stationId + "/calendar.ics";
    ics.setAttribute("type", "text/calendar");
    append(section, [heading, body, el("p", null, null)]);
    section.lastChild.appendChild(ics);

    var today = todayInShanghai();
    var url =
      "/api/v1/stations/" + stationId + "/sessions?from=" +
      isoDay(today.year, today.month, today.day) + "&to=" + threeMonthsOn(today);
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      })
      .then(function (body_) {
        var items = body_.items || [];
        if (!items.length) {
          body.replaceChildren(el("p", "note", "未来三个月暂无接待安排，请留意联络站通知。"));
        } else {
          var list = el("ul", "session-list");
          items.forEach(function (session) {
            list.appendChild(sessionItem(session));
          });
          body.replaceChildren(list);
        }
      })
      .catch(function () {
        body.replaceChildren(el("p", "note", "暂时无法查询接待安排，请稍后再试。"));
      })
      .finally(function () {
        body.setAttribute("aria-busy", "false");
      });
    return section;
  }

  function renderResult(result) {
    var wrapper = el("article", "result");
    wrapper.setAttribute("aria-labelledby", "community-name");
    var heading = el("h2", null, result.community.name);
    heading.id = "community-name";
    var street = result.street && result.street.name;
    var summary =
      "已找到您的社区" + (street ? "（" + street + "）" : "") + "，由" + result.station.name + "服务。";
    append(wrapper, [
      el("p", "eyebrow", "您的社区"),
      heading,
      el("p", "summary", summary),
      append(el("div", "cards"), [stationCard(result), receptionCard()]),
      sessionsSection(result),
      // The booking and online opinion forms (and following an opinion by
      // its tracking code) come here once their APIs exist: not built yet.
      deputiesSection(result),
      contactSection(result),
    ]);
    return wrapper;
  }

  // What a problem detail means, in plain words.
  function problemMessage(status, problem, address) {
    var detail = (problem && problem.detail) || "";
    if (status === 404) {
      return {
        title: "没有找到这个地址所在的社区",
        text: "我们没有在本区找到“" + address + "”对应的社区。请检查输入，或改用路名、小区名或社区名称再试。",
      };
    }
    if (status === 409) {
      var names = /could be in (.+?):/.exec(detail);
      return {
        title: "请把地址写得更具体一些",
        text: names
          ? "这个地址可能属于以下几个社区：" + names[1] + "。请加上小区名或社区名称再查找。"
          : "这个地址可能属于几个社区。请加上小区名或社区名称再查找。",
      };
    }
    if (status === 422) {
      return {
        title: "请检查输入的地址",
        text:
          address.length > 300
            ? "地址太长了，请只输入路名、小区或社区名称（300字以内）。"
            : "请至少输入两个字的路名、小区或社区名称。",
      };
    }
    if (status === 429) {
      return { title: "查询太频繁了", text: "请稍等片刻再试。" };
    }
    return {
      title: "暂时无法查询",
      text:
        "服务暂时不可用，请稍后再试。" +
        (problem && problem.request_id ? "（查询编号：" + problem.request_id + "）" : ""),
    };
  }

  function renderError(message) {
    var box = el("div", "error");
    return append(box, [el("h2", null, message.title), el("p", null, message.text)]);
  }

  function show(node) {
    outcome.replaceChildren(node);
    outcome.setAttribute("aria-busy", "false");
    button.disabled = false;
    button.textContent = "查找";
  }

  // ---------------------------------------------------------------- search

  function search(address) {
    if (pending) pending.abort();
    if (!address) {
      show(renderError({ title: "请输入地址", text: "请输入您的住址、小区或社区名称。" }));
      input.focus();
      return;
    }
    var controller = new AbortController();
    pending = controller;
    outcome.setAttribute("aria-busy", "true");
    button.disabled = true;
    button.textContent = "正在查找…";
    var url = "/api/v1/find-station?address=" + encodeURIComponent(address);
    fetch(url, { headers: { Accept: "application/json" }, signal: controller.signal })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (body) {
            if (response.ok && body) return show(renderResult(body));
            show(renderError(problemMessage(response.status, body, address)));
          });
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        show(renderError({ title: "网络连接失败", text: "请检查网络连接后再试。" }));
      })
      .finally(function () {
        if (pending === controller) pending = null;
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var address = input.value.trim();
    if (address) {
      history.replaceState(null, "", "?address=" + encodeURIComponent(address));
    }
    search(address);
  });

  // A shared link such as /?address=林和东路 searches at once.
  var initial = new URLSearchParams(window.location.search).get("address");
  if (initial && initial.trim()) {
    input.value = initial.trim();
    search(input.value);
  }
})();

// The staff console: a single-page app served by the gateway at /console/.
//
// Sign-in: OpenID Connect authorization code flow with PKCE (S256) against
// the provider named by /console/config.json (locally the gateway's
// development issuer), by /shared/signin.js, which the public portal shares.
// The access token is kept in sessionStorage only, and signing out removes it.
//
// This script is the shell: sign-in, languages, the API and the helpers every
// screen uses, published as window.LiaisonConsole. Each screen (hash route
// #/<screen>) is a script of its own beside this one: calendar.js, a
// station's sessions month by month, its reception rule, extra sessions and
// cancellations.
//
// Everything is rendered with textContent; errors are RFC 9457 problem details.
"use strict";

(function () {
  var LANG_KEY = "liaison.console.lang";

  // ------------------------------------------------------------ languages

  var TEXT = {
    "zh-CN": {
      skip: "跳到主要内容",
      platform: "人大代表联络平台",
      console: "工作台",
      navLabel: "工作台导航",
      navCalendar: "接待日历",
      signIn: "登录",
      signOut: "退出登录",
      signInTitle: "登录工作台",
      signInText: "工作台供联络站工作人员、街道工委和区人大常委会办公室使用。请使用单位统一身份认证登录。",
      signInBusy: "正在登录…",
      signInFailed: "登录没有完成",
      signInNotConfigured: "没有配置登录服务，请联系系统管理员。",
      signedOut: "已退出登录。",
      sessionExpired: "登录已过期，请重新登录。",
      whoLabel: "当前用户",
      street: "街道",
      loading: "正在加载…",
      calendarTitle: "接待日历",
      chooseStreet: "街道",
      chooseStation: "联络站",
      noStations: "这个街道还没有联络站。",
      prevMonth: "上个月",
      nextMonth: "下个月",
      monthTitle: "{year}年{month}月",
      sessionsOf: "{month}的接待安排",
      noSessions: "这个月没有接待安排。",
      colDate: "日期",
      colKind: "类型",
      colSlots: "时段",
      colVenue: "地点",
      colStatus: "状态",
      colNote: "说明",
      colActions: "操作",
      regular: "例行接待",
      extra: "增加接待",
      scheduled: "已安排",
      cancelled: "已取消",
      cancel: "取消这次接待",
      cancelReason: "取消原因",
      confirmCancel: "确认取消",
      keep: "不取消",
      cancelledAnnounce: "已取消 {date} 的接待。",
      addTitle: "增加一次接待",
      addDate: "日期",
      addReason: "原因",
      addReasonHint: "例如：人代会召开前集中听取意见、热点问题专题接待。",
      addStart: "开始时间（可不填）",
      addEnd: "结束时间（可不填）",
      addSubmit: "增加接待",
      addedAnnounce: "已增加 {date} 的接待。",
      ruleTitle: "接待规则",
      ruleDay: "每月接待日",
      rulePolicy: "遇节假日或周末",
      policyKeep: "照常接待",
      policyMove: "顺延到下一个工作日",
      ruleSlots: "时段",
      ruleSlotsHint: "如 09:00-12:00 14:30-17:30；不填则按场所开放时间。",
      ruleSave: "保存规则",
      ruleSaved: "接待规则已保存。以后安排的接待按新规则。",
      ruleEffective: "实际时段",
      dayN: "{day}日",
      errorTitle: "操作没有成功",
      networkError: "网络连接失败，请稍后再试。",
      requestId: "请求编号：{id}",
      roles: {
        constituent: "选民",
        deputy: "人大代表",
        station_staff: "联络站工作人员",
        street_committee: "街道人大工委",
        standing_committee_office: "区人大常委会办公室",
        working_body: "人大工作机构",
        government_office: "区政府办公室",
        department: "职能部门",
        admin: "系统管理员",
      },
      weekdays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    },
    en: {
      skip: "Skip to main content",
      platform: "Deputy Liaison Platform",
      console: "Console",
      navLabel: "Console navigation",
      navCalendar: "Reception calendar",
      signIn: "Sign in",
      signOut: "Sign out",
      signInTitle: "Sign in to the console",
      signInText: "The console is for liaison station staff, street committees and the standing committee's office. Sign in with your organisation's account.",
      signInBusy: "Signing in…",
      signInFailed: "Sign-in did not complete",
      signInNotConfigured: "No sign-in service is configured; please ask the administrator.",
      signedOut: "You are signed out.",
      sessionExpired: "Your sign-in has expired; please sign in again.",
      whoLabel: "Signed in as",
      street: "Street",
      loading: "Loading…",
      calendarTitle: "Reception calendar",
      chooseStreet: "Street",
      chooseStation: "Liaison station",
      noStations: "This street has no liaison station yet.",
      prevMonth: "Previous month",
      nextMonth: "Next month",
      monthTitle: "{monthName} {year}",
      sessionsOf: "Sessions in {month}",
      noSessions: "No sessions this month.",
      colDate: "Date",
      colKind: "Kind",
      colSlots: "Hours",
      colVenue: "Venue",
      colStatus: "Status",
      colNote: "Note",
      colActions: "Actions",
      regular: "Regular",
      extra: "Extra",
      scheduled: "Scheduled",
      cancelled: "Cancelled",
      cancel: "Cancel this session",
      cancelReason: "Reason for cancelling",
      confirmCancel: "Confirm cancellation",
      keep: "Keep it",
      cancelledAnnounce: "The session of {date} is cancelled.",
      addTitle: "Add an extra session",
      addDate: "Date",
      addReason: "Reason",
      addReasonHint: "For example: hearing views before the congress meets, a session on a pressing issue.",
      addStart: "Start (optional)",
      addEnd: "End (optional)",
      addSubmit: "Add session",
      addedAnnounce: "A session on {date} is added.",
      ruleTitle: "Reception rule",
      ruleDay: "Reception day of the month",
      rulePolicy: "On a public holiday or weekend",
      policyKeep: "Keep the day",
      policyMove: "Move to the next working day",
      ruleSlots: "Hours",
      ruleSlotsHint: "e.g. 09:00-12:00 14:30-17:30; empty: the venue's opening hours.",
      ruleSave: "Save rule",
      ruleSaved: "The reception rule is saved. Sessions scheduled from now on follow it.",
      ruleEffective: "Hours in effect",
      dayN: "day {day}",
      errorTitle: "That did not work",
      networkError: "The network connection failed; please try again.",
      requestId: "Request id: {id}",
      roles: {
        constituent: "Constituent",
        deputy: "Deputy",
        station_staff: "Station staff",
        street_committee: "Street committee",
        standing_committee_office: "Standing committee office",
        working_body: "Working body",
        government_office: "Government office",
        department: "Department",
        admin: "Administrator",
      },
      weekdays: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    },
  };
  // Roles that may change a station's calendar (the API decides for each station).
  var CALENDAR_WRITERS = ["admin", "standing_committee_office", "station_staff", "street_committee"];
  var DISTRICT_ROLES = ["admin", "standing_committee_office"];

  var lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh-CN";

  function t(key, vars) {
    var text = TEXT[lang][key];
    if (text === undefined) text = TEXT["zh-CN"][key];
    if (typeof text !== "string") return text;
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return vars && vars[name] !== undefined ? String(vars[name]) : "";
    });
  }

  // ------------------------------------------------------------- helpers

  var main = document.getElementById("main");
  var nav = document.getElementById("nav");
  var who = document.getElementById("who");
  var signOutButton = document.getElementById("sign-out");
  var langButton = document.getElementById("lang");
  var announcer = document.getElementById("announce");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = String(value);
      else if (name === "className") node.className = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = text;
    }, 50);
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function todayInShanghai() {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: "Asia/Shanghai",
      year: "numeric",
      month: "numeric",
      day: "numeric",
    })
      .formatToParts(new Date())
      .forEach(function (p) {
        parts[p.type] = Number(p.value);
      });
    return parts.year + "-" + pad(parts.month) + "-" + pad(parts.day);
  }

  function monthTitle(month) {
    var year = Number(month.slice(0, 4));
    var number = Number(month.slice(5, 7));
    var monthName = new Intl.DateTimeFormat("en", { month: "long", timeZone: "UTC" }).format(
      new Date(Date.UTC(year, number - 1, 1))
    );
    return t("monthTitle", { year: year, month: number, monthName: monthName });
  }

  function shiftMonth(month, delta) {
    var date = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1 + delta, 1));
    return date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1);
  }

  function lastDay(month) {
    var date = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0));
    return month + "-" + pad(date.getUTCDate());
  }

  function dayText(iso) {
    var date = new Date(iso + "T00:00:00Z");
    var weekday = t("weekdays")[date.getUTCDay()];
    return iso + " " + weekday;
  }

  // ---------------------------------------------------------- the token

  // The sign-in itself is /shared/signin.js, which the portal loads too.
  var signin = window.LiaisonSignIn.create({
    config: "/console/config.json",
    key: "liaison.console",
    notConfigured: function () {
      return t("signInNotConfigured");
    },
  });

  // The signed-in user: {token, claims}, or null.
  function currentUser() {
    return signin.user();
  }

  function signIn() {
    signin.begin(location.hash).catch(function (error) {
      showSignIn(error.message || String(error));
    });
  }

  // Back from the provider with ?code=…&state=… (or ?error=…).
  function finishSignIn(params) {
    var result = signin.finish(params);
    history.replaceState(null, "", window.location.pathname + (result.back || "#/calendar"));
    main.replaceChildren(el("p", { text: t("signInBusy"), className: "note" }));
    return result.done.then(route, function (error) {
      showSignIn(error.message || String(error));
    });
  }

  function signOut() {
    signin.forget();
    history.replaceState(null, "", window.location.pathname);
    showSignIn(null, t("signedOut"));
  }

  // ----------------------------------------------------------- the API

  // {ok, status, body}; a 401 signs the user out.
  function api(method, path, body) {
    return signin
      .call(method, path, body)
      .then(function (reply) {
        if (reply.status === 401) showSignIn(null, t("sessionExpired"));
        return reply;
      })
      .catch(function () {
        return { ok: false, status: 0, body: { detail: t("networkError") } };
      });
  }

  // A problem's detail and field errors, in a box; each named field of
  // `form` is marked invalid and described by its message.
  function problemBox(reply, form) {
    var problem = reply.body || {};
    var errors = (problem.errors || []).filter(function (e) {
      return e.field;
    });
    var box = el("div", { className: "error", role: "alert" }, [el("h3", { text: t("errorTitle") })]);
    // With field errors the detail only repeats them.
    if (!errors.length) box.appendChild(el("p", { text: problem.detail || problem.title || "HTTP " + reply.status }));
    if (errors.length) {
      var list = el("ul", { className: "field-errors" });
      errors.forEach(function (e) {
        list.appendChild(el("li", { text: e.field + ": " + e.message }));
        var name = e.field.replace(/^body\./, "").split(/[.[]/)[0];
        var input = form && form.elements.namedItem(name);
        if (input && input.setAttribute) {
          input.setAttribute("aria-invalid", "true");
          var id = input.id + "-error";
          var message = document.getElementById(id);
          if (!message) {
            message = el("p", { id: id, className: "field-error" });
            input.insertAdjacentElement("afterend", message);
          }
          message.textContent = e.message;
          input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + id).trim());
        }
      });
      box.appendChild(list);
    }
    if (problem.request_id) box.appendChild(el("p", { className: "note", text: t("requestId", { id: problem.request_id }) }));
    return box;
  }

  function clearFieldErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (node) {
      node.remove();
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (node) {
      node.removeAttribute("aria-invalid");
      var described = (node.getAttribute("aria-describedby") || "")
        .split(" ")
        .filter(function (id) {
          return id && !/-error$/.test(id);
        })
        .join(" ");
      if (described) node.setAttribute("aria-describedby", described);
      else node.removeAttribute("aria-describedby");
    });
  }

  function field(id, label, input, hint) {
    input.id = id;
    var children = [el("label", { for: id, text: label })];
    if (hint) {
      children.push(el("p", { id: id + "-hint", className: "hint", text: hint }));
      input.setAttribute("aria-describedby", id + "-hint");
    }
    children.push(input);
    return el("div", { className: "field" }, children);
  }

  // ------------------------------------------------------------ the shell

  function applyLanguage() {
    document.documentElement.lang = lang;
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-label]"), function (node) {
      node.setAttribute("aria-label", t(node.getAttribute("data-i18n-label")));
    });
    document.title = t("console") + " · " + t("platform");
    // The switch names the other language, in that language.
    langButton.textContent = lang === "en" ? "中文" : "English";
    langButton.setAttribute("lang", lang === "en" ? "zh-CN" : "en");
  }

  var streetNames = {};

  function showWho(user) {
    var claims = user.claims;
    var roleName = t("roles")[claims.role] || claims.role;
    var parts = [claims.name || claims.sub, roleName];
    who.replaceChildren(el("span", { className: "visually-hidden", text: t("whoLabel") + " " }));
    who.appendChild(el("span", { className: "who-name", text: parts[0] }));
    who.appendChild(el("span", { className: "who-role", text: parts[1] }));
    if (claims.street_id) {
      var street = el("span", { className: "who-street", text: streetNames[claims.street_id] || t("street") + " " + claims.street_id });
      who.appendChild(street);
      if (!streetNames[claims.street_id]) {
        api("GET", "/api/v1/streets/" + claims.street_id).then(function (reply) {
          if (reply.ok && reply.body) {
            streetNames[claims.street_id] = reply.body.name;
            street.textContent = reply.body.name;
          }
        });
      }
    }
    who.hidden = false;
    signOutButton.hidden = false;
    nav.hidden = false;
  }

  function hideWho() {
    who.hidden = true;
    who.replaceChildren();
    signOutButton.hidden = true;
    nav.hidden = true;
  }

  function showSignIn(failure, notice) {
    hideWho();
    var children = [
      el("h1", { id: "screen-title", text: t("signInTitle") }),
      el("p", { text: t("signInText") }),
    ];
    if (notice) children.push(el("p", { className: "notice", role: "status", text: notice }));
    if (failure) {
      children.push(
        el("div", { className: "error", role: "alert" }, [
          el("h2", { text: t("signInFailed") }),
          el("p", { text: failure }),
        ])
      );
    }
    children.push(el("button", { id: "sign-in", type: "button", text: t("signIn"), onclick: signIn }));
    main.replaceChildren(el("section", { className: "sign-in", "aria-labelledby": "screen-title" }, children));
  }

  // ------------------------------------------------- choosing a station

  // A street picker (for district roles and roles of no one street) and a
  // station picker, appended to `pickers`; `state` keeps {street, station}
  // between visits, and `onStation()` runs whenever the station changes.
  // Without stations it says so in `body`.
  function stationPicker(pickers, body, user, state, onStation) {
    var claims = user.claims;
    var district = DISTRICT_ROLES.indexOf(claims.role) >= 0 || !claims.street_id;
    if (!district) state.street = claims.street_id || null;

    function pickStation() {
      if (!state.street) return;
      api("GET", "/api/v1/stations?street_id=" + state.street + "&page_size=100").then(function (reply) {
        var old = document.getElementById("station-field");
        if (old) old.remove();
        if (!reply.ok) return body.replaceChildren(problemBox(reply));
        var stations = reply.body.items || [];
        if (!stations.length) return body.replaceChildren(el("p", { className: "note", text: t("noStations") }));
        if (!stations.some(function (s) { return s.id === state.station; })) state.station = stations[0].id;
        var select = el("select", {
          name: "station",
          onchange: function () {
            state.station = Number(select.value);
            onStation();
          },
        });
        stations.forEach(function (s) {
          select.appendChild(el("option", { value: s.id, text: s.name, selected: s.id === state.station }));
        });
        var wrapper = field("station", t("chooseStation"), select);
        wrapper.id = "station-field";
        pickers.appendChild(wrapper);
        onStation();
      });
    }

    if (district) {
      api("GET", "/api/v1/streets?page_size=100").then(function (reply) {
        if (!reply.ok) return body.replaceChildren(problemBox(reply));
        var streets = reply.body.items || [];
        if (!state.street && streets.length) state.street = streets[0].id;
        var select = el("select", {
          name: "street",
          onchange: function () {
            state.street = Number(select.value);
            state.station = null;
            pickStation();
          },
        });
        streets.forEach(function (s) {
          select.appendChild(el("option", { value: s.id, text: s.name, selected: s.id === state.street }));
        });
        pickers.insertBefore(field("street", t("chooseStreet"), select), pickers.firstChild);
        pickStation();
      });
    } else {
      pickStation();
    }
  }

  // --------------------------------------------------------------- routing

  // Each screen is a script of its own under /console/static/ (calendar.js,
  // ...), loaded after this one, that registers itself with
  // LiaisonConsole.screen(name, render) and its texts with
  // LiaisonConsole.addText({"zh-CN": {...}, en: {...}}); its link is in
  // index.html's <nav>. The first registered screen is the default.
  var SCREENS = {};
  var defaultScreen = null;

  function route() {
    applyLanguage();
    var user = currentUser();
    if (!user) return showSignIn();
    showWho(user);
    var match = /^#\/(\w+)/.exec(location.hash);
    var name = match && SCREENS[match[1]] ? match[1] : defaultScreen;
    Array.prototype.forEach.call(nav.querySelectorAll("a"), function (link) {
      if (link.getAttribute("data-screen") === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    SCREENS[name](user);
  }

  window.LiaisonConsole = {
    CALENDAR_WRITERS: CALENDAR_WRITERS,
    DISTRICT_ROLES: DISTRICT_ROLES,
    main: main,
    addText: function (texts) {
      Object.keys(texts).forEach(function (language) {
        Object.assign(TEXT[language], texts[language]);
      });
    },
    screen: function (name, render) {
      SCREENS[name] = render;
      if (!defaultScreen) defaultScreen = name;
    },
    t: t,
    el: el,
    field: field,
    api: api,
    problemBox: problemBox,
    clearFieldErrors: clearFieldErrors,
    announce: announce,
    pad: pad,
    todayInShanghai: todayInShanghai,
    monthTitle: monthTitle,
    shiftMonth: shiftMonth,
    lastDay: lastDay,
    dayText: dayText,
    stationPicker: stationPicker,
    currentUser: currentUser,
  };

  langButton.addEventListener("click", function () {
    lang = lang === "en" ? "zh-CN" : "en";
    localStorage.setItem(LANG_KEY, lang);
    route();
    langButton.focus();
  });
  signOutButton.addEventListener("click", signOut);
  // The skip link moves focus without changing the route.
  document.querySelector(".skip-link").addEventListener("click", function (event) {
    event.preventDefault();
    main.focus();
  });
  window.addEventListener("hashchange", function () {
    if (/^#\//.test(location.hash)) {
      route();
      var title = document.getElementById("screen-title");
      if (title) title.focus();
    }
  });

  // The screens' scripts (deferred, in order after this one) have run by
  // DOMContentLoaded.
  document.addEventListener("DOMContentLoaded", function () {
    var params = new URLSearchParams(window.location.search);
    applyLanguage();
    if (params.get("code") || params.get("error")) finishSignIn(params);
    else route();
  });
})();

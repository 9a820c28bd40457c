// The portal's "联系代表" pages (conversations of the notifications service),
// reached by the address's hash:
//   #/conversations        a signed-in constituent's threads with the deputies
//       of a station, newest first, and a form to write to a station's
//       deputies (the station, a subject, the message, a phone left for the
//       station's staff only);
//   #/conversations/<id>   one thread: the messages the constituent may see
//       (their own waiting for the station's approval are marked so, a
//       rejected one with its reason), the tracking code once the staff have
//       recorded it as an opinion, and a form to write again.
// What the service refuses is said with its own message next to the field
// it names. portal.js lends the helpers, the sign-in and the language
// (window.LiaisonPortal); everything is rendered with textContent.
"use strict";

(function () {
  var P = window.LiaisonPortal;
  if (!P) return;
  var el = P.el;
  var append = P.append;

  var TEXT = {
    "zh-CN": {
      nav: "联系代表",
      back: "返回查找联络站",
      title: "联系代表",
      note: "选择您所在社区的联络站，给站里的人大代表留言。留言经联络站工作人员审核后代表才能看到；代表看到的是您姓名的首字（如“张**”），电话只给联络站工作人员。",
      signIn: "登录",
      signInFirst: "登录后可以给代表留言，并查看代表的回复。",
      notConstituent: "只有选民账号可以在这里给代表留言。",
      mine: "我的留言",
      none: "您还没有给代表留言。",
      loading: "正在查询…",
      failed: "暂时无法查询，请稍后再试：{detail}",
      station: "联络站",
      subject: "主题",
      text: "留言内容",
      textHint: "请勿填写他人的姓名、电话等个人信息。",
      phone: "联系电话（可不填）",
      phoneHint: "只给联络站工作人员，用于把您的留言登记为社情民意后联系您；不会显示在留言中。",
      send: "发送",
      sent: "已发送，等待联络站审核。",
      sendFailed: "没有发送：{detail}",
      reply: "继续留言",
      held: "待审核",
      published: "已公开",
      rejected: "未通过审核：{reason}",
      opinion: "已登记为社情民意，跟踪码 {code}",
      waiting: "{n} 条待审核",
      open: "查看",
      networkText: "网络连接出现问题，请检查网络后重试。",
    },
    en: {
      nav: "Write to deputies",
      back: "Back to finding a station",
      title: "Write to your deputies",
      note: "Choose your community's liaison station and write to its deputies. The station's staff approve each message before the deputies see it; deputies see only the first character of your name, and only the station's staff see your phone.",
      signIn: "Sign in",
      signInFirst: "Sign in to write to deputies and read their replies.",
      notConstituent: "Only a constituent's account writes to deputies here.",
      mine: "My conversations",
      none: "You have not written to deputies yet.",
      loading: "Looking it up…",
      failed: "This cannot be looked up just now: {detail}",
      station: "Liaison station",
      subject: "Subject",
      text: "Message",
      textHint: "Please do not write other people's names or phone numbers.",
      phone: "Phone (optional)",
      phoneHint: "For the station's staff only, to reach you once your message is recorded as an opinion; never shown in the conversation.",
      send: "Send",
      sent: "Sent: waiting for the station's approval.",
      sendFailed: "Not sent: {detail}",
      reply: "Write again",
      held: "Waiting for approval",
      published: "Published",
      rejected: "Not approved: {reason}",
      opinion: "Recorded as an opinion, tracking code {code}",
      waiting: "{n} waiting for approval",
      open: "Open",
      networkText: "The network connection failed; please check it and try again.",
    },
  };

  function t(key, values) {
    var text = (TEXT[P.lang()] || TEXT["zh-CN"])[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.replace("{" + name + "}", String(values[name]));
    });
    return text;
  }

  function detail(reply) {
    return (reply.body && (reply.body.detail || reply.body.title)) || t("networkText");
  }

  function constituent() {
    var user = P.signin.user();
    return user && user.claims.role === "constituent" ? user : null;
  }

  function signInBox(box) {
    var user = P.signin.user();
    if (user && !constituent()) return box.appendChild(el("p", "note", t("notConstituent")));
    var button = el("button", null, t("signIn"));
    button.type = "button";
    button.addEventListener("click", function () {
      P.signin.begin(window.location.search + window.location.hash);
    });
    return append(box, [el("p", "note", t("signInFirst")), button]);
  }

  // ---------------------------------------------------------- my threads

  function listPage(view) {
    var heading = el("h2", "conversations-heading", t("title"));
    heading.tabIndex = -1;
    append(view, [heading, el("p", "note", t("note"))]);
    if (!constituent()) {
      signInBox(view);
      return heading;
    }
    var list = el("section", "conversations-mine");
    list.setAttribute("aria-label", t("mine"));
    append(list, [el("h3", null, t("mine")), el("p", "note", t("loading"))]);
    view.appendChild(list);
    P.authorized("GET", "/api/v1/conversations?kind=constituent").then(function (reply) {
      list.replaceChildren(el("h3", null, t("mine")));
      if (!reply.ok) return list.appendChild(el("p", "form-error", t("failed", { detail: detail(reply) })));
      if (!reply.body.items.length) return list.appendChild(el("p", "note", t("none")));
      var items = el("ul", "conversation-list");
      reply.body.items.forEach(function (c) {
        var link = el("a", null, c.subject);
        link.href = "#/conversations/" + c.id;
        var row = append(el("li", "conversation-item"), [link, el("span", "station", " · " + c.station_name)]);
        if (c.held_count) row.appendChild(el("span", "badge", " " + t("waiting", { n: c.held_count })));
        if (c.opinion_tracking_code) row.appendChild(el("span", "badge", " " + t("opinion", { code: c.opinion_tracking_code })));
        items.appendChild(row);
      });
      list.appendChild(items);
    });
    view.appendChild(startForm());
    return heading;
  }

  function startForm() {
    var form = el("form", "conversation-form");
    form.noValidate = true;
    form.appendChild(el("h3", null, t("send")));
    var station = P.formField(form, "station_id", t("station"), el("select"));
    fetch("/api/v1/stations?page_size=500", { headers: { Accept: "application/json" } })
      .then(P.readReply)
      .then(function (reply) {
        if (!reply.ok) return;
        reply.body.items.forEach(function (s) {
          var option = el("option", null, s.name);
          option.value = String(s.id);
          station.appendChild(option);
        });
      });
    var subject = P.formField(form, "subject", t("subject"), el("input"));
    subject.maxLength = 200;
    var text = P.formField(form, "text", t("text"), el("textarea"), t("textHint"));
    text.maxLength = 2000;
    text.rows = 5;
    var phone = P.formField(form, "phone", t("phone"), el("input"), t("phoneHint"));
    phone.type = "tel";
    phone.maxLength = 40;
    P.submitRow(form, t("send"), null, function (submit, status) {
      submit.disabled = true;
      var body = {
        kind: "constituent",
        station_id: Number(station.value) || 0,
        subject: subject.value,
        text: text.value,
        phone: phone.value.trim(),
      };
      P.authorized("POST", "/api/v1/conversations", body).then(function (reply) {
        submit.disabled = false;
        if (!reply.ok) {
          P.showProblem(form, status, reply.body, t("sendFailed", { detail: detail(reply) }));
          return;
        }
        status.textContent = t("sent");
        window.location.hash = "#/conversations/" + reply.body.id;
      });
    });
    return form;
  }

  // ---------------------------------------------------------- one thread

  function threadPage(view, id) {
    var heading = el("h2", "conversations-heading", t("title"));
    heading.tabIndex = -1;
    view.appendChild(heading);
    if (!constituent()) {
      signInBox(view);
      return heading;
    }
    var box = el("section", "conversation");
    box.appendChild(el("p", "note", t("loading")));
    view.appendChild(box);
    P.authorized("GET", "/api/v1/conversations/" + id).then(function (reply) {
      if (!reply.ok) {
        box.replaceChildren(el("p", "form-error", t("failed", { detail: detail(reply) })));
        return;
      }
      drawThread(box, reply.body);
    });
    return heading;
  }

  function drawThread(box, c) {
    box.replaceChildren(el("h3", null, c.subject), el("p", "note", c.station_name));
    if (c.opinion_tracking_code) {
      var tracked = el("p", "conversation-opinion", t("opinion", { code: c.opinion_tracking_code }));
      box.appendChild(tracked);
    }
    var list = el("ol", "conversation-messages");
    c.messages.forEach(function (m) {
      var item = el("li", "conversation-message" + (m.mine ? " mine" : ""));
      item.setAttribute("data-state", m.state);
      append(item, [el("p", "author", m.author_label), el("p", "text", m.text)]);
      if (m.created_at) item.appendChild(P.timeNode(m.created_at, "when"));
      if (m.state === "held") item.appendChild(el("p", "badge", t("held")));
      if (m.state === "rejected") item.appendChild(el("p", "form-error", t("rejected", { reason: m.reject_reason })));
      list.appendChild(item);
    });
    box.appendChild(list);
    var form = el("form", "conversation-form");
    form.noValidate = true;
    var text = P.formField(form, "text", t("reply"), el("textarea"), t("textHint"));
    text.maxLength = 2000;
    text.rows = 4;
    P.submitRow(form, t("send"), null, function (submit, status) {
      submit.disabled = true;
      P.authorized("POST", "/api/v1/conversations/" + c.id + "/messages", { text: text.value }).then(
        function (reply) {
          submit.disabled = false;
          if (!reply.ok) {
            P.showProblem(form, status, reply.body, t("sendFailed", { detail: detail(reply) }));
            return;
          }
          P.authorized("GET", "/api/v1/conversations/" + c.id).then(function (again) {
            if (again.ok) drawThread(box, again.body);
            var fresh = box.querySelector(".form-status");
            if (fresh) fresh.textContent = t("sent");
          });
        }
      );
    });
    box.appendChild(form);
  }

  // ----------------------------------------------------------- the routes

  var main = document.getElementById("main");
  var view = el("div", "conversations-view");
  view.id = "conversations-view";
  view.hidden = true;
  main.appendChild(view);
  var nav = el("a", "conversations-nav", t("nav"));
  nav.href = "#/conversations";
  nav.id = "conversations-nav";
  var bar = document.querySelector(".site-bar");
  if (bar) bar.insertBefore(nav, document.getElementById("lang"));
  var ROUTE = /^#\/conversations(?:\/(\d{1,18}))?\/?$/;
  var current = "";

  function route(moveFocus) {
    nav.textContent = t("nav");
    var match = ROUTE.exec(window.location.hash);
    document.body.classList.toggle("conversations-route", Boolean(match));
    if (!match) {
      view.hidden = true;
      view.replaceChildren();
      current = "";
      return;
    }
    view.hidden = false;
    var back = el("a", "conversations-back", t("back"));
    back.href = "#";
    view.replaceChildren(append(el("p"), [back]));
    var heading = match[1] ? threadPage(view, Number(match[1])) : listPage(view);
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

// The portal's pages of the notifications service, reached by the hash:
//   #/inbox                   我的消息: the signed-in person's messages, newest
//       first (the current ones or the archived), each read, marked unread,
//       archived or brought back; every current one archived at once;
//   #/notification-settings   通知设置: contacts (email, mobile, WeChat), the
//       language, quiet hours, and per kind of message the channels, muted,
//       or a daily digest;
//   #/unsubscribe/<token>     an email's or a text's unsubscribe link: what it
//       stops, and a button that stops it, without signing in.
// The header shows "我的消息" with the number unread while signed in. What the
// service refuses is said with its own message. portal.js lends the helpers,
// the sign-in and the language (window.LiaisonPortal); everything is rendered
// with textContent (a message's HTML body is never inserted).
"use strict";

(function () {
  var P = window.LiaisonPortal;
  if (!P) return;
  var el = P.el;
  var append = P.append;

  var KINDS = ["bookings", "sessions", "opinions", "letters", "duties", "conversations"];
  var CHANNELS = ["email", "sms", "wechat"];
  var TEXT = {
    "zh-CN": {
      back: "返回首页",
      inbox: "我的消息",
      inboxUnread: "我的消息（{n}条未读）",
      inboxTitle: "我的消息",
      unreadNote: "{n} 条未读",
      current: "收件箱",
      archived: "已归档",
      empty: "这里还没有消息。",
      failed: "暂时无法读取消息，请稍后再试。",
      read: "标为已读",
      unread: "标为未读",
      archive: "归档",
      unarchive: "移回收件箱",
      archiveAll: "全部归档",
      archivedAll: "已归档 {n} 条消息。",
      open: "查看详情",
      isUnread: "未读",
      urgent: "紧急",
      more: "显示更多",
      signInFirst: "登录后可以查看您的消息和通知设置。",
      signIn: "登录",
      settings: "通知设置",
      settingsTitle: "通知设置",
      settingsNote: "站内消息总会收到。其他方式只在相关通知使用、且您留下联系方式时发送。联系方式只有您本人和系统管理员可以看到。",
      contacts: "联系方式",
      email: "电子邮箱",
      phone: "手机号码",
      phoneHint: "11位手机号，或带国家代码，例如 +8613800138000",
      wechat: "微信 openid",
      locale: "通知语言",
      quiet: "免打扰时段",
      quietOn: "开启免打扰（紧急通知除外）",
      quietStart: "开始",
      quietEnd: "结束",
      kindsTitle: "各类通知",
      muted: "只在站内消息中提醒",
      digest: "每天汇总一次",
      digestHour: "汇总时间（时）",
      save: "保存设置",
      saved: "设置已保存。",
      saveFailed: "没有保存：{detail}",
      kinds: {
        bookings: "预约接待",
        sessions: "接待日程",
        opinions: "意见建议",
        letters: "转办函",
        duties: "履职事务",
        conversations: "留言沟通",
      },
      channels: { email: "电子邮件", sms: "短信", wechat: "微信" },
      unsubscribeTitle: "退订通知",
      unsubscribeAsk: "不再通过{channel}接收“{kind}”类通知？站内消息仍会收到。",
      unsubscribeDone: "已退订：今后不再通过{channel}发送“{kind}”类通知。",
      unsubscribeButton: "确认退订",
      unsubscribeFailed: "这个退订链接无效：{detail}",
      networkText: "网络连接出现问题，请检查网络后重试。",
    },
    en: {
      back: "Back to the start",
      inbox: "My messages",
      inboxUnread: "My messages ({n} unread)",
      inboxTitle: "My messages",
      unreadNote: "{n} unread",
      current: "Inbox",
      archived: "Archived",
      empty: "No messages here yet.",
      failed: "The messages cannot be read just now; please try again later.",
      read: "Mark read",
      unread: "Mark unread",
      archive: "Archive",
      unarchive: "Back to the inbox",
      archiveAll: "Archive all",
      archivedAll: "{n} messages archived.",
      open: "Open",
      isUnread: "Unread",
      urgent: "Urgent",
      more: "Show more",
      signInFirst: "Sign in to see your messages and notification settings.",
      signIn: "Sign in",
      settings: "Notification settings",
      settingsTitle: "Notification settings",
      settingsNote: "Messages always reach your inbox here. Other channels are used only where a notice uses them and you left a contact. Only you and the administrator see your contacts.",
      contacts: "Contacts",
      email: "Email",
      phone: "Mobile phone",
      phoneHint: "11 digits, or with the country code, e.g. +8613800138000",
      wechat: "WeChat openid",
      locale: "Language of notices",
      quiet: "Quiet hours",
      quietOn: "Quiet hours on (urgent notices still come)",
      quietStart: "From",
      quietEnd: "Until",
      kindsTitle: "Each kind of notice",
      muted: "Inbox only",
      digest: "Once a day, gathered",
      digestHour: "At (hour)",
      save: "Save",
      saved: "Saved.",
      saveFailed: "Not saved: {detail}",
      kinds: {
        bookings: "Bookings",
        sessions: "Reception sessions",
        opinions: "Opinions",
        letters: "Referral letters",
        duties: "Duties",
        conversations: "Conversations",
      },
      channels: { email: "email", sms: "text message", wechat: "WeChat" },
      unsubscribeTitle: "Unsubscribe",
      unsubscribeAsk: "Stop “{kind}” notices by {channel}? They still reach your inbox here.",
      unsubscribeDone: "Unsubscribed: no more “{kind}” notices by {channel}.",
      unsubscribeButton: "Unsubscribe",
      unsubscribeFailed: "This unsubscribe link does not work: {detail}",
      networkText: "The network failed; please check it and try again.",
    },
  };

  function t(key, vars) {
    var text = TEXT[P.lang()][key];
    if (typeof text !== "string") return text;
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return vars && vars[name] !== undefined ? String(vars[name]) : "";
    });
  }

  function detailOf(reply) {
    var problem = reply.body || {};
    var fields = (problem.errors || []).map(function (e) {
      return (e.field ? e.field + ": " : "") + (e.message || e.description || "");
    });
    return fields.join("; ") || problem.detail || problem.title || String(reply.status);
  }

  function alertLine(text) {
    var line = el("p", "form-error", text);
    line.setAttribute("role", "alert");
    return line;
  }

  function button(label, className, onClick) {
    var b = el("button", className || "secondary", label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function signInBox() {
    var box = el("div", "card");
    var go = button(t("signIn"), "secondary", function () {
      P.signin.begin(window.location.search + window.location.hash).catch(function (error) {
        go.after(alertLine(error.message || String(error)));
      });
    });
    go.id = "notifications-sign-in";
    return append(box, [el("p", "note", t("signInFirst")), go]);
  }

  // ------------------------------------------------------ the header link

  var headerLink = null;
  function refreshHeader() {
    var account = document.getElementById("account");
    if (!account) return;
    if (headerLink) headerLink.remove();
    headerLink = null;
    if (!P.signin.user()) return;
    var link = el("a", "inbox-link", t("inbox"));
    link.href = "#/inbox";
    link.id = "inbox-link";
    var settings = el("a", "settings-link", t("settings"));
    settings.href = "#/notification-settings";
    headerLink = append(el("span", "notifications-links"), [link, document.createTextNode(" · "), settings]);
    account.appendChild(headerLink);
    P.authorized("GET", "/api/v1/inbox/unread-count").then(function (reply) {
      if (!reply.ok || !link.isConnected) return;
      var n = reply.body.unread || 0;
      link.textContent = n ? t("inboxUnread", { n: n }) : t("inbox");
      link.setAttribute("data-unread", String(n));
      if (n) {
        var badge = el("span", "badge unread-badge", String(n));
        badge.setAttribute("aria-hidden", "true");
        link.appendChild(badge);
      }
    });
  }

  // ------------------------------------------------------ the inbox

  function inboxPage(view) {
    var heading = el("h2", "notifications-heading", t("inboxTitle"));
    heading.tabIndex = -1;
    view.appendChild(heading);
    if (!P.signin.user()) {
      view.appendChild(signInBox());
      return heading;
    }
    var folder = "current";
    var tabs = el("div", "inbox-tabs");
    tabs.setAttribute("role", "group");
    var note = el("p", "note inbox-unread");
    note.setAttribute("aria-live", "polite");
    var status = el("div", "form-status");
    status.setAttribute("aria-live", "polite");
    var list = el("ul", "inbox-list");
    list.id = "inbox-list";
    var moreBox = el("div");
    var all = button(t("archiveAll"), "secondary", function () {
      P.authorized("POST", "/api/v1/inbox:archive-all", {}).then(function (reply) {
        if (!reply.ok) {
          status.replaceChildren(alertLine(detailOf(reply)));
          return;
        }
        status.replaceChildren(el("p", "note", t("archivedAll", { n: reply.body.archived })));
        load("");
      });
    });
    all.id = "inbox-archive-all";
    ["current", "archived"].forEach(function (name) {
      var tab = button(t(name), "secondary inbox-tab", function () {
        folder = name;
        Array.prototype.forEach.call(tabs.children, function (b) {
          b.setAttribute("aria-pressed", String(b === tab));
        });
        all.hidden = name !== "current";
        load("");
      });
      tab.setAttribute("aria-pressed", String(name === folder));
      tab.setAttribute("data-folder", name);
      tabs.appendChild(tab);
    });
    append(view, [tabs, note, all, status, list, moreBox]);

    function load(token) {
      if (!token) list.replaceChildren();
      moreBox.replaceChildren();
      list.setAttribute("aria-busy", "true");
      var url = "/api/v1/inbox?page_size=20&folder=" + folder;
      if (token) url += "&page_token=" + encodeURIComponent(token);
      P.authorized("GET", url)
        .then(function (reply) {
          if (!reply.ok) {
            status.replaceChildren(alertLine(reply.status === 401 ? t("signInFirst") : t("failed")));
            return;
          }
          var page = reply.body;
          note.textContent = t("unreadNote", { n: page.unread });
          if (!token && !page.items.length) list.appendChild(el("li", "note inbox-empty", t("empty")));
          page.items.forEach(function (m) {
            list.appendChild(messageItem(m));
          });
          if (page.next_page_token) {
            moreBox.appendChild(
              button(t("more"), "secondary", function () {
                load(page.next_page_token);
              })
            );
          }
        })
        .catch(function () {
          status.replaceChildren(alertLine(t("networkText")));
        })
        .finally(function () {
          list.setAttribute("aria-busy", "false");
        });
    }

    function messageItem(m) {
      var item = el("li", "card inbox-message");
      item.setAttribute("data-id", String(m.id));
      item.setAttribute("data-read", String(m.read));
      var title = el("h3", "inbox-subject", m.subject);
      var meta = el("p", "note inbox-meta");
      var when = m.created_at ? P.timeNode(m.created_at) : null;
      // portal.js's append takes nodes only.
      append(meta, [
        document.createTextNode((t("kinds")[m.kind] || m.kind) + (when ? " · " : "")),
        when,
        document.createTextNode((m.read ? "" : " · " + t("isUnread")) + (m.urgent ? " · " + t("urgent") : "")),
      ]);
      var body = el("p", "inbox-body", m.body_text);
      var actions = el("div", "inbox-actions");
      function change(verb) {
        return function () {
          P.authorized("POST", "/api/v1/inbox/" + m.id + ":" + verb).then(function (reply) {
            if (!reply.ok) {
              status.replaceChildren(alertLine(detailOf(reply)));
              return;
            }
            if (verb === "archive" || verb === "unarchive") item.remove();
            else item.replaceWith(messageItem(reply.body));
            refreshHeader();
            P.authorized("GET", "/api/v1/inbox/unread-count").then(function (count) {
              if (count.ok) note.textContent = t("unreadNote", { n: count.body.unread });
            });
          });
        };
      }
      actions.appendChild(
        button(m.read ? t("unread") : t("read"), "secondary inbox-read", change(m.read ? "unread" : "read"))
      );
      actions.appendChild(
        button(
          m.archived ? t("unarchive") : t("archive"),
          "secondary inbox-archive",
          change(m.archived ? "unarchive" : "archive")
        )
      );
      if (m.link && m.link.charAt(0) === "/") {
        var open = el("a", "inbox-open", t("open"));
        open.href = m.link;
        actions.appendChild(open);
      }
      return append(item, [title, meta, body, actions]);
    }

    load("");
    return heading;
  }

  // ------------------------------------------------------ the settings

  function settingsPage(view) {
    var heading = el("h2", "notifications-heading", t("settingsTitle"));
    heading.tabIndex = -1;
    view.appendChild(heading);
    if (!P.signin.user()) {
      view.appendChild(signInBox());
      return heading;
    }
    var holder = el("div", "card");
    holder.setAttribute("aria-busy", "true");
    view.appendChild(holder);
    P.authorized("GET", "/api/v1/notification-preferences")
      .then(function (reply) {
        holder.setAttribute("aria-busy", "false");
        if (!reply.ok) {
          holder.replaceChildren(alertLine(detailOf(reply)));
          return;
        }
        holder.replaceChildren(settingsForm(reply.body));
      })
      .catch(function () {
        holder.replaceChildren(alertLine(t("networkText")));
      });
    return heading;
  }

  function settingsForm(prefs) {
    var form = el("form", "settings-form");
    form.noValidate = true;
    form.appendChild(el("p", "note", t("settingsNote")));
    form.appendChild(el("h3", null, t("contacts")));
    var email = P.formField(form, "email", t("email"), el("input"));
    email.type = "email";
    email.autocomplete = "email";
    email.value = prefs.contacts.email || "";
    var phone = P.formField(form, "phone", t("phone"), el("input"), t("phoneHint"));
    phone.type = "tel";
    phone.autocomplete = "tel";
    phone.value = prefs.contacts.phone || "";
    var openid = P.formField(form, "wechat_openid", t("wechat"), el("input"));
    openid.value = prefs.contacts.wechat_openid || "";

    var locale = P.formField(form, "locale", t("locale"), el("select"));
    [["zh-CN", "中文"], ["en", "English"]].forEach(function (pair) {
      var option = el("option", null, pair[1]);
      option.value = pair[0];
      locale.appendChild(option);
    });
    locale.value = prefs.locale;

    form.appendChild(el("h3", null, t("quiet")));
    var quietOn = checkbox(form, "quiet-enabled", t("quietOn"), prefs.quiet_hours.enabled);
    var start = P.formField(form, "quiet-start", t("quietStart"), el("input"));
    start.type = "time";
    start.value = prefs.quiet_hours.start;
    var end = P.formField(form, "quiet-end", t("quietEnd"), el("input"));
    end.type = "time";
    end.value = prefs.quiet_hours.end;

    form.appendChild(el("h3", null, t("kindsTitle")));
    var kindRows = {};
    var byKind = {};
    (prefs.kinds || []).forEach(function (k) {
      byKind[k.kind] = k;
    });
    KINDS.forEach(function (kind) {
      var k = byKind[kind] || { channels: ["inbox"].concat(CHANNELS), muted: false, digest: false };
      var set = el("fieldset", "kind-choice");
      set.setAttribute("data-kind", kind);
      set.appendChild(el("legend", null, t("kinds")[kind]));
      var boxes = {};
      CHANNELS.forEach(function (channel) {
        boxes[channel] = checkbox(set, "kind-" + kind + "-" + channel, t("channels")[channel], k.channels.indexOf(channel) >= 0);
      });
      var muted = checkbox(set, "kind-" + kind + "-muted", t("muted"), k.muted);
      var digest = checkbox(set, "kind-" + kind + "-digest", t("digest"), k.digest);
      var hour = el("input");
      hour.type = "number";
      hour.min = "0";
      hour.max = "23";
      hour.id = "kind-" + kind + "-hour";
      hour.value = String(k.digest ? k.digest_hour : 18);
      var hourLabel = el("label", null, t("digestHour"));
      hourLabel.htmlFor = hour.id;
      append(set, [append(el("div", "field"), [hourLabel, hour])]);
      kindRows[kind] = { boxes: boxes, muted: muted, digest: digest, hour: hour };
      form.appendChild(set);
    });

    P.submitRow(form, t("save"), null, function (submit, status) {
      var body = {
        contacts: { email: email.value.trim(), phone: phone.value.trim(), wechat_openid: openid.value.trim() },
        locale: locale.value,
        quiet_hours: { enabled: quietOn.checked, start: start.value || "22:00", end: end.value || "08:00" },
        kinds: KINDS.map(function (kind) {
          var row = kindRows[kind];
          return {
            kind: kind,
            channels: ["inbox"].concat(
              CHANNELS.filter(function (c) {
                return row.boxes[c].checked;
              })
            ),
            muted: row.muted.checked,
            digest: row.digest.checked,
            digest_hour: Number(row.hour.value) || 0,
          };
        }),
      };
      P.authorized("PATCH", "/api/v1/notification-preferences", body)
        .then(function (reply) {
          if (reply.ok) {
            status.replaceChildren(el("p", "form-ok", t("saved")));
            return;
          }
          status.replaceChildren(alertLine(t("saveFailed", { detail: detailOf(reply) })));
        })
        .catch(function () {
          status.replaceChildren(alertLine(t("networkText")));
        });
    });
    return form;
  }

  function checkbox(parent, id, label, checked) {
    var input = el("input");
    input.type = "checkbox";
    input.id = id;
    input.checked = Boolean(checked);
    var text = el("label", null, label);
    text.htmlFor = id;
    parent.appendChild(append(el("div", "field check"), [input, text]));
    return input;
  }

  // ------------------------------------------------------ unsubscribe

  function unsubscribePage(view, token) {
    var heading = el("h2", "notifications-heading", t("unsubscribeTitle"));
    heading.tabIndex = -1;
    var box = el("div", "card unsubscribe");
    box.setAttribute("aria-live", "polite");
    append(view, [heading, box]);
    var url = "/api/v1/unsubscribe/" + encodeURIComponent(token);
    function words(link) {
      return { kind: t("kinds")[link.kind] || link.kind, channel: t("channels")[link.channel] || link.channel };
    }
    fetch(url, { headers: { Accept: "application/json" } })
      .then(P.readReply)
      .then(function (reply) {
        if (!reply.ok) {
          box.replaceChildren(alertLine(t("unsubscribeFailed", { detail: detailOf(reply) })));
          return;
        }
        if (reply.body.unsubscribed) {
          box.replaceChildren(el("p", "form-ok", t("unsubscribeDone", words(reply.body))));
          return;
        }
        var go = button(t("unsubscribeButton"), null, function () {
          fetch(url, { method: "POST", headers: { Accept: "application/json" } })
            .then(P.readReply)
            .then(function (done) {
              if (!done.ok) {
                box.replaceChildren(alertLine(t("unsubscribeFailed", { detail: detailOf(done) })));
                return;
              }
              box.replaceChildren(el("p", "form-ok", t("unsubscribeDone", words(done.body))));
            })
            .catch(function () {
              box.appendChild(alertLine(t("networkText")));
            });
        });
        go.id = "unsubscribe-confirm";
        box.replaceChildren(el("p", null, t("unsubscribeAsk", words(reply.body))), go);
      })
      .catch(function () {
        box.replaceChildren(alertLine(t("networkText")));
      });
    return heading;
  }

  // ----------------------------------------------------------- the routes

  var main = document.getElementById("main");
  var view = el("div", "notifications-view");
  view.id = "notifications-view";
  view.hidden = true;
  main.appendChild(view);
  var ROUTE = /^#\/(inbox|notification-settings|unsubscribe)(?:\/([A-Za-z0-9._-]{1,600}))?\/?$/;
  var current = "";

  function route(moveFocus) {
    var match = ROUTE.exec(window.location.hash);
    if (match && match[1] === "unsubscribe" && !match[2]) match = null;
    document.body.classList.toggle("notifications-route", Boolean(match));
    if (!match) {
      view.hidden = true;
      view.replaceChildren();
      current = "";
      return;
    }
    view.hidden = false;
    var back = el("a", "notifications-back", t("back"));
    back.href = "#";
    view.replaceChildren(append(el("p"), [back]));
    var heading =
      match[1] === "inbox"
        ? inboxPage(view)
        : match[1] === "notification-settings"
          ? settingsPage(view)
          : unsubscribePage(view, match[2]);
    if (moveFocus && current !== window.location.hash) heading.focus();
    current = window.location.hash;
  }

  window.addEventListener("hashchange", function () {
    route(true);
  });
  P.onChange(function () {
    refreshHeader();
    route(false);
  });
  refreshHeader();
  route(true);
})();

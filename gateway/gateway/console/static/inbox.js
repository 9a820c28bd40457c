// The console's inbox (消息, #/inbox): the messages of the signed-in staff
// member's mailboxes (their own account's and their office's, shared by its
// people: one reads or archives for all), newest first, with the office's
// mailbox to pick, unread only, the archived; each read, marked unread,
// archived or brought back, and every current one archived at once. The
// same routes as the portal's 我的消息 (/api/v1/inbox); the notifications
// service decides whose messages the caller reads.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  C.addText({
    "zh-CN": {
      navInbox: "消息",
      ibTitle: "消息",
      ibMailbox: "信箱",
      ibAllMailboxes: "全部信箱",
      ibFolder: "查看",
      ibCurrent: "收件箱",
      ibArchived: "已归档",
      ibUnreadOnly: "只看未读",
      ibUnread: "{n} 条未读",
      ibNone: "没有消息。",
      ibRead: "标为已读",
      ibMarkUnread: "标为未读",
      ibArchive: "归档",
      ibUnarchive: "移回收件箱",
      ibArchiveAll: "全部归档",
      ibArchivedAll: "已归档 {n} 条消息。",
      ibOpen: "查看详情",
      ibMore: "显示更多",
      ibIsUnread: "未读",
      ibUrgent: "紧急",
      ibKinds: { bookings: "预约接待", sessions: "接待日程", opinions: "意见建议", letters: "转办函", duties: "履职事务", conversations: "留言沟通" },
    },
    en: {
      navInbox: "Messages",
      ibTitle: "Messages",
      ibMailbox: "Mailbox",
      ibAllMailboxes: "Every mailbox",
      ibFolder: "Show",
      ibCurrent: "Inbox",
      ibArchived: "Archived",
      ibUnreadOnly: "Unread only",
      ibUnread: "{n} unread",
      ibNone: "No messages.",
      ibRead: "Mark read",
      ibMarkUnread: "Mark unread",
      ibArchive: "Archive",
      ibUnarchive: "Back to the inbox",
      ibArchiveAll: "Archive all",
      ibArchivedAll: "{n} messages archived.",
      ibOpen: "Open",
      ibMore: "Show more",
      ibIsUnread: "Unread",
      ibUrgent: "Urgent",
      ibKinds: { bookings: "Bookings", sessions: "Sessions", opinions: "Opinions", letters: "Referral letters", duties: "Duties", conversations: "Conversations" },
    },
  });

  function when(iso) {
    if (!iso) return "";
    return new Intl.DateTimeFormat("zh-CN", {
      timeZone: "Asia/Shanghai",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    }).format(new Date(iso));
  }

  function inboxScreen() {
    var mailbox = el("select", { name: "mailbox" }, [el("option", { value: "", text: t("ibAllMailboxes") })]);
    var folder = el("select", { name: "folder" }, [
      el("option", { value: "current", text: t("ibCurrent") }),
      el("option", { value: "archived", text: t("ibArchived") }),
    ]);
    var unreadOnly = el("input", { type: "checkbox", name: "unread_only", id: "inbox-unread-only" });
    var count = el("p", { className: "note", id: "inbox-unread", "aria-live": "polite" });
    var status = el("div", { className: "form-status" });
    var list = el("ul", { className: "inbox-list", id: "inbox-list" });
    var more = el("div");
    var archiveAll = el("button", {
      type: "button",
      className: "secondary",
      id: "inbox-archive-all",
      text: t("ibArchiveAll"),
      onclick: function () {
        var body = mailbox.value ? { mailbox: mailbox.value } : {};
        api("POST", "/api/v1/inbox:archive-all", body).then(function (reply) {
          if (!reply.ok) return status.replaceChildren(C.problemBox(reply));
          C.announce(t("ibArchivedAll", { n: reply.body.archived }));
          status.replaceChildren(el("p", { className: "notice", role: "status", text: t("ibArchivedAll", { n: reply.body.archived }) }));
          load("");
        });
      },
    });
    var filters = el("div", { className: "field-row" }, [
      C.field("inbox-mailbox", t("ibMailbox"), mailbox),
      C.field("inbox-folder", t("ibFolder"), folder),
      el("div", { className: "field check" }, [unreadOnly, el("label", { for: "inbox-unread-only", text: t("ibUnreadOnly") })]),
    ]);
    [mailbox, folder, unreadOnly].forEach(function (control) {
      control.addEventListener("change", function () {
        archiveAll.hidden = folder.value !== "current";
        load("");
      });
    });
    var panel = el("section", { className: "panel", "aria-labelledby": "screen-title" }, [filters, count, archiveAll, status, list, more]);
    C.main.replaceChildren(el("h1", { id: "screen-title", tabindex: "-1", text: t("ibTitle") }), panel);

    api("GET", "/api/v1/inbox/unread-count").then(function (reply) {
      if (!reply.ok) return status.replaceChildren(C.problemBox(reply));
      (reply.body.mailboxes || []).forEach(function (m) {
        mailbox.appendChild(el("option", { value: m.mailbox, text: m.mailbox + " (" + m.unread + ")" }));
      });
    });

    function load(token) {
      if (!token) list.replaceChildren();
      more.replaceChildren();
      var query = new URLSearchParams({ page_size: "20", folder: folder.value });
      if (mailbox.value) query.set("mailbox", mailbox.value);
      if (unreadOnly.checked) query.set("unread_only", "true");
      if (token) query.set("page_token", token);
      list.setAttribute("aria-busy", "true");
      api("GET", "/api/v1/inbox?" + query.toString()).then(function (reply) {
        list.setAttribute("aria-busy", "false");
        if (!reply.ok) return status.replaceChildren(C.problemBox(reply));
        count.textContent = t("ibUnread", { n: reply.body.unread });
        if (!token && !reply.body.items.length) list.appendChild(el("li", { className: "note", text: t("ibNone") }));
        reply.body.items.forEach(function (m) {
          list.appendChild(item(m));
        });
        if (reply.body.next_page_token) {
          more.appendChild(
            el("button", {
              type: "button",
              className: "secondary",
              text: t("ibMore"),
              onclick: function () {
                load(reply.body.next_page_token);
              },
            })
          );
        }
      });
    }

    function item(m) {
      function change(verb) {
        return function () {
          api("POST", "/api/v1/inbox/" + m.id + ":" + verb).then(function (reply) {
            if (!reply.ok) return status.replaceChildren(C.problemBox(reply));
            if (verb === "archive" || verb === "unarchive") node.remove();
            else node.replaceWith(item(reply.body));
            api("GET", "/api/v1/inbox/unread-count").then(function (counted) {
              if (counted.ok) count.textContent = t("ibUnread", { n: counted.body.unread });
            });
          });
        };
      }
      var meta = [(t("ibKinds") || {})[m.kind] || m.kind, m.mailbox, when(m.created_at)];
      if (!m.read) meta.push(t("ibIsUnread"));
      if (m.urgent) meta.push(t("ibUrgent"));
      var actions = [
        el("button", { type: "button", className: "secondary inbox-read", text: m.read ? t("ibMarkUnread") : t("ibRead"), onclick: change(m.read ? "unread" : "read") }),
        el("button", { type: "button", className: "secondary inbox-archive", text: m.archived ? t("ibUnarchive") : t("ibArchive"), onclick: change(m.archived ? "unarchive" : "archive") }),
      ];
      if (m.link && m.link.charAt(0) === "/") actions.push(el("a", { href: m.link, text: t("ibOpen") }));
      var node = el("li", { className: "panel inbox-message", "data-id": m.id, "data-read": String(m.read) }, [
        el("h2", { text: m.subject }),
        el("p", { className: "hint", text: meta.join(" · ") }),
        el("p", { className: "inbox-body", text: m.body_text }),
        el("div", { className: "field-row" }, actions),
      ]);
      return node;
    }

    load("");
  }

  C.screen("inbox", inboxScreen);
})();

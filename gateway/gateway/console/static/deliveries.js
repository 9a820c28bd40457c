// The console's delivery log (投递记录, #/deliveries): every message's
// delivery on each channel (in-app inbox, email, SMS, WeChat) with its state,
// attempts, provider and why the last attempt failed, filtered by state,
// channel, event type, recipient and the day it was made
// (GET /api/v1/notification-deliveries), a page at a time; a failed or dead
// delivery has a button to send it again
// (POST /api/v1/notification-deliveries/{id}:retry). The admin and the
// standing committee office only: the service decides.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  var STATES = ["queued", "sending", "sent", "delivered", "failed", "dead", "suppressed", "digested"];
  var CHANNELS = ["inbox", "email", "sms", "wechat"];
  var PAGE_SIZE = 50;

  C.addText({
    "zh-CN": {
      navDeliveries: "投递记录",
      dlTitle: "通知投递记录",
      dlFilters: "筛选",
      dlState: "状态",
      dlChannel: "渠道",
      dlEventType: "事件类型",
      dlEventHint: "例如 reception.booking_confirmed",
      dlRecipient: "收件地址",
      dlRecipientHint: "例如 user:…、deputy:3、role:street_committee@street:1",
      dlFrom: "起始日期",
      dlTo: "截止日期",
      dlAny: "全部",
      dlSearch: "查询",
      dlList: "投递",
      dlNone: "没有符合条件的投递。",
      dlTotal: "共 {count} 条",
      dlId: "编号",
      dlAttempts: "尝试次数",
      dlProvider: "服务商",
      dlError: "最近错误",
      dlUpdated: "更新时间",
      dlActions: "操作",
      dlRetry: "重新发送",
      dlRetryLabel: "重新发送投递 {id}",
      dlRetried: "投递 {id} 已重新排队发送。",
      dlMore: "下一页",
      dlOnlyOffice: "投递记录仅供系统管理员和区人大常委会办公室查看。",
      dlStates: {
        queued: "排队中",
        sending: "发送中",
        sent: "已发送",
        delivered: "已送达",
        failed: "失败待重试",
        dead: "已放弃",
        suppressed: "未发送",
        digested: "已并入每日摘要",
      },
      dlChannels: { inbox: "站内信", email: "电子邮件", sms: "短信", wechat: "微信" },
    },
    en: {
      navDeliveries: "Deliveries",
      dlTitle: "Notification deliveries",
      dlFilters: "Filters",
      dlState: "State",
      dlChannel: "Channel",
      dlEventType: "Event type",
      dlEventHint: "e.g. reception.booking_confirmed",
      dlRecipient: "Recipient address",
      dlRecipientHint: "e.g. user:…, deputy:3, role:street_committee@street:1",
      dlFrom: "From",
      dlTo: "To",
      dlAny: "Any",
      dlSearch: "Search",
      dlList: "Deliveries",
      dlNone: "No delivery matches.",
      dlTotal: "{count} in all",
      dlId: "No.",
      dlAttempts: "Attempts",
      dlProvider: "Provider",
      dlError: "Last error",
      dlUpdated: "Updated",
      dlActions: "Actions",
      dlRetry: "Send again",
      dlRetryLabel: "Send delivery {id} again",
      dlRetried: "Delivery {id} is queued again.",
      dlMore: "Next page",
      dlOnlyOffice: "The delivery log is for the admin and the standing committee office.",
      dlStates: {
        queued: "Queued",
        sending: "Sending",
        sent: "Sent",
        delivered: "Delivered",
        failed: "Failed, to retry",
        dead: "Dead",
        suppressed: "Not sent",
        digested: "Sent in a daily digest",
      },
      dlChannels: { inbox: "Inbox", email: "Email", sms: "SMS", wechat: "WeChat" },
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

  function choice(name, label, values, names) {
    var select = el("select", { name: name }, [el("option", { value: "", text: t("dlAny") })]);
    values.forEach(function (value) {
      select.appendChild(el("option", { value: value, text: (names || {})[value] || value }));
    });
    return C.field("dl-" + name, label, select);
  }

  function deliveriesScreen(user) {
    var filters = el("form", { className: "panel", id: "delivery-filters", "aria-labelledby": "dl-filters-title", novalidate: true }, [
      el("h2", { id: "dl-filters-title", text: t("dlFilters") }),
      choice("state", t("dlState"), STATES, t("dlStates")),
      choice("channel", t("dlChannel"), CHANNELS, t("dlChannels")),
      C.field("dl-event_type", t("dlEventType"), el("input", { name: "event_type", type: "text", maxlength: "100" }), t("dlEventHint")),
      C.field("dl-recipient", t("dlRecipient"), el("input", { name: "recipient", type: "text", maxlength: "240" }), t("dlRecipientHint")),
      C.field("dl-created_from", t("dlFrom"), el("input", { name: "created_from", type: "date" })),
      C.field("dl-created_to", t("dlTo"), el("input", { name: "created_to", type: "date" })),
      el("button", { type: "submit", text: t("dlSearch") }),
    ]);
    var list = el("section", { className: "panel", id: "deliveries", "aria-labelledby": "dl-list-title" });
    C.main.replaceChildren(el("h1", { id: "screen-title", tabindex: "-1", text: t("dlTitle") }), filters, list);
    if (C.DISTRICT_ROLES.indexOf(user.claims.role) < 0) {
      filters.remove();
      list.replaceChildren(el("p", { className: "note", text: t("dlOnlyOffice") }));
      return;
    }
    filters.addEventListener("submit", function (event) {
      event.preventDefault();
      load(filters, list, null, []);
    });
    load(filters, list, null, []);
  }

  function query(form, token) {
    var params = new URLSearchParams({ page_size: String(PAGE_SIZE) });
    ["state", "channel", "event_type", "recipient", "created_from", "created_to"].forEach(function (name) {
      var value = form.elements.namedItem(name).value.trim();
      if (value) params.set(name, value);
    });
    if (token) params.set("page_token", token);
    return params.toString();
  }

  function load(form, section, token, shown) {
    C.clearFieldErrors(form);
    section.setAttribute("aria-busy", "true");
    api("GET", "/api/v1/notification-deliveries?" + query(form, token)).then(function (reply) {
      section.setAttribute("aria-busy", "false");
      var heading = el("h2", { id: "dl-list-title", text: t("dlList") });
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply, form));
      var items = shown.concat(reply.body.items || []);
      if (!items.length) return section.replaceChildren(heading, el("p", { className: "note", text: t("dlNone") }));
      var body = el("tbody");
      items.forEach(function (d) {
        body.appendChild(row(d, form, section));
      });
      var table = el("table", {}, [
        el("thead", {}, [
          el("tr", {}, [t("dlId"), t("dlChannel"), t("dlState"), t("dlEventType"), t("dlRecipient"), t("dlAttempts"), t("dlProvider"), t("dlError"), t("dlUpdated"), t("dlActions")].map(function (name) {
            return el("th", { scope: "col", text: name });
          })),
        ]),
        body,
      ]);
      var children = [heading, el("p", { className: "note", text: t("dlTotal", { count: reply.body.total_size || 0 }) }), table];
      if (reply.body.next_page_token) {
        children.push(
          el("button", {
            type: "button",
            className: "secondary",
            text: t("dlMore"),
            onclick: function () {
              load(form, section, reply.body.next_page_token, items);
            },
          })
        );
      }
      section.replaceChildren.apply(section, children);
    });
  }

  function row(d, form, section) {
    var actions = el("td");
    if (d.state === "failed" || d.state === "dead") {
      actions.appendChild(
        el("button", {
          type: "button",
          className: "secondary",
          text: t("dlRetry"),
          "aria-label": t("dlRetryLabel", { id: d.id }),
          onclick: function (event) {
            var button = event.currentTarget;
            button.disabled = true;
            api("POST", "/api/v1/notification-deliveries/" + d.id + ":retry").then(function (reply) {
              if (!reply.ok) {
                button.disabled = false;
                actions.appendChild(C.problemBox(reply));
                return;
              }
              C.announce(t("dlRetried", { id: d.id }));
              tr.replaceWith(row(reply.body, form, section));
            });
          },
        })
      );
    }
    var tr = el("tr", { "data-delivery": d.id, "data-state": d.state }, [
      el("th", { scope: "row", text: String(d.id) }),
      el("td", { text: (t("dlChannels") || {})[d.channel] || d.channel }),
      el("td", { text: (t("dlStates") || {})[d.state] || d.state }),
      el("td", { text: d.event_type }),
      el("td", { text: d.recipient }),
      el("td", { text: String(d.attempts || 0) }),
      el("td", { text: d.provider || "" }),
      el("td", { text: d.last_error || "" }),
      el("td", {}, [el("time", { datetime: d.updated_at || "", text: when(d.updated_at) })]),
      actions,
    ]);
    return tr;
  }

  C.screen("deliveries", deliveriesScreen);
})();

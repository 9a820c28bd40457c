// The console's notification rules (通知规则, #/notifications): which event
// tells whom, with which template, on which channels
// (GET /api/v1/notification-rules), a rule added, changed or disabled; and
// the templates, each locale's subject, text and HTML, edited with a live
// preview rendered by the service with an event type's sample payload
// (POST /api/v1/notification-templates/{key}:preview). The admin and the
// standing committee office read; the admin writes: the notifications
// service decides. The HTML preview is shown in a sandboxed frame (no
// scripts, no same origin).
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  C.addText({
    "zh-CN": {
      navNotifications: "通知规则",
      nTitle: "通知规则",
      nRules: "规则",
      nNone: "还没有规则。",
      nKey: "规则键",
      nEvent: "事件",
      nAudience: "通知对象",
      nTemplate: "模板",
      nChannels: "渠道",
      nKind: "类别",
      nUrgent: "紧急（免打扰时段也发送）",
      nEnabled: "启用",
      nConditions: "条件（每行一条：字段=值1,值2）",
      nLink: "链接（门户或工作台路径，可用模板变量）",
      nDescription: "说明",
      nEdit: "修改",
      nDisable: "停用",
      nNew: "新增规则",
      nSave: "保存规则",
      nSaved: "规则 {key} 已保存。",
      nDisabled: "规则 {key} 已停用。",
      nOn: "启用",
      nOff: "停用",
      nYes: "是",
      nTemplates: "模板",
      nLocale: "语言",
      nSubject: "标题",
      nText: "正文（纯文本）",
      nHtml: "正文（HTML）",
      nPreviewWith: "预览用的事件（示例数据）",
      nPreview: "预览",
      nPreviewHtml: "HTML 预览",
      nSaveTemplate: "保存模板",
      nTemplateSaved: "模板 {key}（{locale}）已保存。",
      nChannelNames: { inbox: "站内信", email: "电子邮件", sms: "短信", wechat: "微信" },
    },
    en: {
      navNotifications: "Notification rules",
      nTitle: "Notification rules",
      nRules: "Rules",
      nNone: "No rule yet.",
      nKey: "Key",
      nEvent: "Event",
      nAudience: "Who is told",
      nTemplate: "Template",
      nChannels: "Channels",
      nKind: "Kind",
      nUrgent: "Urgent (sent in quiet hours too)",
      nEnabled: "Enabled",
      nConditions: "Conditions (a line each: field=value1,value2)",
      nLink: "Link (a portal or console path; template variables allowed)",
      nDescription: "Description",
      nEdit: "Edit",
      nDisable: "Disable",
      nNew: "New rule",
      nSave: "Save the rule",
      nSaved: "Rule {key} is saved.",
      nDisabled: "Rule {key} is disabled.",
      nOn: "on",
      nOff: "off",
      nYes: "yes",
      nTemplates: "Templates",
      nLocale: "Language",
      nSubject: "Subject",
      nText: "Text body",
      nHtml: "HTML body",
      nPreviewWith: "Preview with the event (sample data)",
      nPreview: "Preview",
      nPreviewHtml: "HTML preview",
      nSaveTemplate: "Save the template",
      nTemplateSaved: "Template {key} ({locale}) is saved.",
      nChannelNames: { inbox: "Inbox", email: "Email", sms: "SMS", wechat: "WeChat" },
    },
  });

  var CHANNELS = ["inbox", "email", "sms", "wechat"];
  var KINDS = ["bookings", "sessions", "opinions", "letters", "duties", "conversations"];
  var state = { eventTypes: [], templates: [], admin: false };

  function channelNames(channels) {
    var names = t("nChannelNames") || {};
    return channels
      .map(function (c) {
        return names[c] || c;
      })
      .join("、");
  }

  function options(select, values, chosen, label) {
    select.replaceChildren();
    values.forEach(function (v) {
      select.appendChild(el("option", { value: v, text: label ? label(v) : v, selected: v === chosen }));
    });
  }

  function screen(user) {
    state.admin = user.claims.role === "admin";
    var rules = el("section", { className: "panel", id: "notification-rules", "aria-labelledby": "rules-title" });
    var editor = el("section", { className: "panel", id: "rule-editor", "aria-labelledby": "rule-editor-title", hidden: true });
    var templates = el("section", { className: "panel", id: "notification-templates", "aria-labelledby": "templates-title" });
    C.main.replaceChildren(el("h1", { id: "screen-title", tabindex: "-1", text: t("nTitle") }), rules, editor, templates);
    Promise.all([api("GET", "/api/v1/notification-event-types"), api("GET", "/api/v1/notification-templates")]).then(function (replies) {
      var failed = replies.filter(function (r) {
        return !r.ok;
      })[0];
      if (failed) return rules.replaceChildren(el("h2", { id: "rules-title", text: t("nRules") }), C.problemBox(failed));
      state.eventTypes = replies[0].body.event_types || [];
      state.templates = replies[1].body.templates || [];
      loadRules(rules, editor);
      showTemplates(templates);
    });
  }

  function loadRules(section, editor) {
    section.setAttribute("aria-busy", "true");
    api("GET", "/api/v1/notification-rules").then(function (reply) {
      section.setAttribute("aria-busy", "false");
      var heading = el("h2", { id: "rules-title", text: t("nRules") });
      var children = [heading];
      if (state.admin) {
        children.push(
          el("button", {
            type: "button",
            id: "new-rule",
            text: t("nNew"),
            onclick: function () {
              editRule(editor, null, section);
            },
          })
        );
      }
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
      var items = reply.body.rules || [];
      if (!items.length) return section.replaceChildren.apply(section, children.concat([el("p", { className: "note", text: t("nNone") })]));
      var body = el("tbody");
      items.forEach(function (r) {
        var actions = el("td");
        if (state.admin) {
          actions.appendChild(
            el("button", {
              type: "button",
              className: "secondary",
              text: t("nEdit"),
              "aria-label": t("nEdit") + "：" + r.key,
              onclick: function () {
                editRule(editor, r, section);
              },
            })
          );
          if (r.enabled) {
            actions.appendChild(
              el("button", {
                type: "button",
                className: "secondary",
                text: t("nDisable"),
                "aria-label": t("nDisable") + "：" + r.key,
                onclick: function () {
                  api("POST", "/api/v1/notification-rules/" + encodeURIComponent(r.key) + ":disable").then(function (done) {
                    if (!done.ok) return section.appendChild(C.problemBox(done));
                    C.announce(t("nDisabled", { key: r.key }));
                    loadRules(section, editor);
                  });
                },
              })
            );
          }
        }
        body.appendChild(
          el("tr", { "data-rule": r.key }, [
            el("th", { scope: "row", text: r.key }),
            el("td", { text: r.event_type }),
            el("td", { text: r.audience }),
            el("td", { text: r.template_key }),
            el("td", { text: channelNames(r.channels || []) }),
            el("td", { text: r.kind + (r.urgent ? " !" : "") }),
            el("td", { text: r.enabled ? t("nOn") : t("nOff") }),
            actions,
          ])
        );
      });
      var head = [t("nKey"), t("nEvent"), t("nAudience"), t("nTemplate"), t("nChannels"), t("nKind"), t("nEnabled"), ""];
      var table = el("table", { className: "queue-table rules-table" }, [
        el("thead", {}, [
          el(
            "tr",
            {},
            head.map(function (h) {
              return el("th", { scope: "col", text: h });
            })
          ),
        ]),
        body,
      ]);
      section.replaceChildren.apply(section, children.concat([el("div", { className: "table-scroll" }, [table])]));
    });
  }

  function conditionText(conditions) {
    return (conditions || [])
      .map(function (c) {
        return c.field + "=" + c.values.join(",");
      })
      .join("\n");
  }

  function parseConditions(text) {
    return text
      .split("\n")
      .map(function (line) {
        return line.trim();
      })
      .filter(Boolean)
      .map(function (line) {
        var at = line.indexOf("=");
        return {
          field: (at < 0 ? line : line.slice(0, at)).trim(),
          values: (at < 0 ? "" : line.slice(at + 1))
            .split(",")
            .map(function (v) {
              return v.trim();
            })
            .filter(Boolean),
        };
      });
  }

  function editRule(section, rule, rulesSection) {
    section.hidden = false;
    var isNew = !rule;
    rule = rule || { key: "", event_type: (state.eventTypes[0] || {}).name, channels: ["inbox"], kind: "bookings", enabled: true, conditions: [] };
    var key = el("input", { type: "text", name: "key", maxlength: "100", value: rule.key, required: true, readonly: !isNew, autocomplete: "off" });
    var eventType = el("select", { name: "event_type" });
    options(
      eventType,
      state.eventTypes.map(function (e) {
        return e.name;
      }),
      rule.event_type
    );
    var audience = el("select", { name: "audience" });
    function fillAudiences() {
      var found = state.eventTypes.filter(function (e) {
        return e.name === eventType.value;
      })[0];
      options(
        audience,
        ((found && found.audiences) || []).map(function (a) {
          return a.name;
        }),
        rule.audience
      );
    }
    eventType.addEventListener("change", fillAudiences);
    fillAudiences();
    var template = el("select", { name: "template_key" });
    var keys = [];
    state.templates.forEach(function (tp) {
      if (keys.indexOf(tp.key) < 0) keys.push(tp.key);
    });
    options(template, keys, rule.template_key);
    var boxes = CHANNELS.map(function (c) {
      return el("label", { className: "check" }, [
        el("input", { type: "checkbox", name: "channels", value: c, checked: (rule.channels || []).indexOf(c) >= 0 }),
        " " + (t("nChannelNames") || {})[c],
      ]);
    });
    var kind = el("select", { name: "kind" });
    options(kind, KINDS, rule.kind);
    var urgent = el("input", { type: "checkbox", name: "urgent", checked: !!rule.urgent });
    var enabled = el("input", { type: "checkbox", name: "enabled", checked: rule.enabled !== false });
    var conditions = el("textarea", { name: "conditions", rows: "2" });
    conditions.value = conditionText(rule.conditions);
    var link = el("input", { type: "text", name: "link", maxlength: "300", value: rule.link || "", autocomplete: "off" });
    var description = el("input", { type: "text", name: "description", maxlength: "500", value: rule.description || "", autocomplete: "off" });
    var status = el("div", { className: "form-status" });
    var form = el(
      "form",
      {
        novalidate: true,
        id: "rule-form",
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(form);
          status.replaceChildren();
          var body = {
            event_type: eventType.value,
            audience: audience.value,
            template_key: template.value,
            channels: boxes
              .map(function (b) {
                return b.querySelector("input");
              })
              .filter(function (i) {
                return i.checked;
              })
              .map(function (i) {
                return i.value;
              }),
            kind: kind.value,
            urgent: urgent.checked,
            enabled: enabled.checked,
            conditions: parseConditions(conditions.value),
            link: link.value.trim(),
            description: description.value.trim(),
          };
          var call = isNew
            ? api("POST", "/api/v1/notification-rules", Object.assign({ key: key.value.trim() }, body))
            : api("PUT", "/api/v1/notification-rules/" + encodeURIComponent(rule.key), body);
          call.then(function (reply) {
            if (!reply.ok) return status.replaceChildren(C.problemBox(reply, form));
            C.announce(t("nSaved", { key: reply.body.key }));
            status.replaceChildren(el("p", { className: "notice", role: "status", text: t("nSaved", { key: reply.body.key }) }));
            loadRules(rulesSection, section);
          });
        },
      },
      [
        el("div", { className: "field-row" }, [C.field("rule-key", t("nKey"), key), C.field("rule-event", t("nEvent"), eventType)]),
        el("div", { className: "field-row" }, [C.field("rule-audience", t("nAudience"), audience), C.field("rule-template", t("nTemplate"), template), C.field("rule-kind", t("nKind"), kind)]),
        el("fieldset", {}, [el("legend", { text: t("nChannels") })].concat(boxes)),
        el("label", { className: "check" }, [urgent, " " + t("nUrgent")]),
        el("label", { className: "check" }, [enabled, " " + t("nEnabled")]),
        C.field("rule-conditions", t("nConditions"), conditions),
        C.field("rule-link", t("nLink"), link),
        C.field("rule-description", t("nDescription"), description),
        el("button", { type: "submit", text: t("nSave") }),
        status,
      ]
    );
    var heading = el("h2", { id: "rule-editor-title", tabindex: "-1", text: isNew ? t("nNew") : t("nEdit") + "：" + rule.key });
    section.replaceChildren(heading, form);
    heading.focus();
  }

  function showTemplates(section) {
    var keys = [];
    state.templates.forEach(function (tp) {
      if (keys.indexOf(tp.key) < 0) keys.push(tp.key);
    });
    var key = el("select", { name: "template" });
    options(key, keys, keys[0]);
    var locale = el("select", { name: "locale" });
    options(locale, ["zh-CN", "en"], "zh-CN");
    var eventType = el("select", { name: "preview_event" });
    options(
      eventType,
      state.eventTypes.map(function (e) {
        return e.name;
      }),
      null
    );
    var subject = el("input", { type: "text", name: "subject", maxlength: "300", autocomplete: "off" });
    var text = el("textarea", { name: "text", rows: "5", maxlength: "20000" });
    var html = el("textarea", { name: "html", rows: "5", maxlength: "20000" });
    var preview = el("div", { className: "template-preview", id: "template-preview", "aria-live": "polite" });
    var status = el("div", { className: "form-status" });
    var timer = null;

    function render() {
      var body = {
        event_type: eventType.value,
        locale: locale.value,
        draft: { subject: subject.value, text: text.value, html: html.value },
      };
      api("POST", "/api/v1/notification-templates/" + encodeURIComponent(key.value) + ":preview", body).then(function (reply) {
        if (!reply.ok) return preview.replaceChildren(C.problemBox(reply));
        var frame = el("iframe", { sandbox: "", title: t("nPreviewHtml"), className: "html-preview" });
        frame.setAttribute("srcdoc", reply.body.html || "");
        preview.replaceChildren(
          el("h3", { text: t("nPreview") }),
          el("p", { className: "preview-subject", id: "preview-subject", text: reply.body.subject }),
          el("pre", { className: "preview-text", id: "preview-text", text: reply.body.text }),
          el("h3", { text: t("nPreviewHtml") }),
          frame
        );
      });
    }

    function soon() {
      clearTimeout(timer);
      timer = setTimeout(render, 300);
    }

    // The event type a rule using the template names, else the first.
    function pickEvent() {
      api("GET", "/api/v1/notification-rules").then(function (reply) {
        var using = ((reply.ok && reply.body.rules) || []).filter(function (r) {
          return r.template_key === key.value;
        })[0];
        if (using) eventType.value = using.event_type;
        render();
      });
    }

    function load() {
      var found = state.templates.filter(function (tp) {
        return tp.key === key.value && tp.locale === locale.value;
      })[0];
      subject.value = found ? found.subject : "";
      text.value = found ? found.text : "";
      html.value = found ? found.html : "";
      status.replaceChildren();
      pickEvent();
    }

    [subject, text, html].forEach(function (input) {
      input.addEventListener("input", soon);
      input.readOnly = !state.admin;
    });
    key.addEventListener("change", load);
    locale.addEventListener("change", load);
    eventType.addEventListener("change", render);

    var form = el(
      "form",
      {
        novalidate: true,
        id: "template-form",
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(form);
          status.replaceChildren();
          var body = { locale: locale.value, subject: subject.value, text: text.value, html: html.value };
          api("PUT", "/api/v1/notification-templates/" + encodeURIComponent(key.value), body).then(function (reply) {
            if (!reply.ok) return status.replaceChildren(C.problemBox(reply, form));
            state.templates = state.templates.map(function (tp) {
              return tp.key === reply.body.key && tp.locale === reply.body.locale ? reply.body : tp;
            });
            var words = t("nTemplateSaved", { key: reply.body.key, locale: reply.body.locale });
            C.announce(words);
            status.replaceChildren(el("p", { className: "notice", role: "status", text: words }));
          });
        },
      },
      [
        el("div", { className: "field-row" }, [C.field("template-key", t("nTemplate"), key), C.field("template-locale", t("nLocale"), locale), C.field("template-event", t("nPreviewWith"), eventType)]),
        C.field("template-subject", t("nSubject"), subject),
        C.field("template-text", t("nText"), text),
        C.field("template-html", t("nHtml"), html),
        state.admin ? el("button", { type: "submit", text: t("nSaveTemplate") }) : null,
        status,
      ]
    );
    section.replaceChildren(el("h2", { id: "templates-title", text: t("nTemplates") }), form, preview);
    if (keys.length) load();
  }

  C.screen("notifications", screen);
})();

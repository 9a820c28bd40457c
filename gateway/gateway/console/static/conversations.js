// The console's conversations screen (互动交流, #/conversations[/<id>]):
// - the moderation queue of the caller's street (station staff and street
//   committees): each constituent's held message with its thread, approved
//   or rejected with a reason (POST /api/v1/conversation-messages/{id}:moderate);
// - the caller's threads (GET /api/v1/conversations), newest first;
// - a new thread among deputies or a working thread (participants by
//   address: deputy:<id>, role:station_staff@street:<id>,
//   role:street_committee@street:<id>, role:standing_committee_office);
// - one thread (#/conversations/<id>): its messages, writing in it, and for
//   the staff of its street turning it into an opinion in reception
//   (POST /api/v1/conversations/{id}:to-opinion: category, community, the
//   text or the approved messages, a phone when the constituent left none).
// The opinions' category names are triage.js's texts (loaded before).
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  var MODERATORS = ["station_staff", "street_committee"];

  C.addText({
    "zh-CN": {
      navConversations: "互动交流",
      cvTitle: "互动交流",
      cvQueue: "待审核的选民留言",
      cvQueueEmpty: "没有待审核的留言。",
      cvApprove: "通过",
      cvReject: "不通过",
      cvReason: "不通过的理由（选民会看到）",
      cvMine: "我的会话",
      cvNone: "还没有会话。",
      cvHeld: "{n} 条待审核",
      cvOpinion: "已转为社情民意：{code}",
      cvNew: "发起会话",
      cvKind: "类型",
      cvKinds: { deputies: "代表之间", working: "工作交流（代表、联络站、街道工委、常委会办公室）" },
      cvParticipants: "参与方地址（以逗号分隔）",
      cvParticipantsHint: "例如 deputy:12, role:street_committee@street:3, role:standing_committee_office",
      cvSubject: "主题",
      cvText: "内容",
      cvStart: "发起",
      cvBack: "返回互动交流",
      cvWrite: "回复",
      cvSend: "发送",
      cvStates: { held: "待审核", published: "已公开", rejected: "未通过" },
      cvRejectedBecause: "未通过：{reason}",
      cvToOpinion: "转为社情民意",
      cvToOpinionHint: "以网上反映登记到接待系统；同一会话只登记一次。",
      cvCategory: "类别",
      cvCommunity: "社区编号",
      cvContent: "意见内容（不填则用主题和已通过的选民留言）",
      cvPhone: "选民联系电话（选民未留电话时必填）",
      cvPhoneGiven: "选民已留联系电话。",
      cvRecord: "登记",
      cvDone: "已处理。",
    },
    en: {
      navConversations: "Conversations",
      cvTitle: "Conversations",
      cvQueue: "Constituents' messages to moderate",
      cvQueueEmpty: "Nothing waits for moderation.",
      cvApprove: "Approve",
      cvReject: "Reject",
      cvReason: "Why it is rejected (the constituent reads it)",
      cvMine: "My conversations",
      cvNone: "No conversation yet.",
      cvHeld: "{n} waiting",
      cvOpinion: "Recorded as an opinion: {code}",
      cvNew: "Start a conversation",
      cvKind: "Kind",
      cvKinds: { deputies: "Among deputies", working: "Working (deputies, stations, street committees, the office)" },
      cvParticipants: "Participants' addresses (comma separated)",
      cvParticipantsHint: "e.g. deputy:12, role:street_committee@street:3, role:standing_committee_office",
      cvSubject: "Subject",
      cvText: "Message",
      cvStart: "Start",
      cvBack: "Back to conversations",
      cvWrite: "Reply",
      cvSend: "Send",
      cvStates: { held: "Waiting", published: "Published", rejected: "Rejected" },
      cvRejectedBecause: "Rejected: {reason}",
      cvToOpinion: "Turn into an opinion",
      cvToOpinionHint: "Recorded in reception as an online opinion; once per conversation.",
      cvCategory: "Category",
      cvCommunity: "Community id",
      cvContent: "The opinion's text (empty: the subject and the approved messages)",
      cvPhone: "The constituent's phone (required when they left none)",
      cvPhoneGiven: "The constituent left a phone.",
      cvRecord: "Record",
      cvDone: "Done.",
    },
  });

  function named(group, key) {
    return (t(group) || {})[key] || key;
  }

  function moderates(user) {
    return MODERATORS.indexOf(user.claims.role) >= 0;
  }

  function conversationsScreen(user) {
    var match = /^#\/conversations\/(\d{1,18})/.exec(location.hash);
    if (match) return threadScreen(user, Number(match[1]));
    var queue = el("section", { id: "cv-queue", "aria-labelledby": "cv-queue-title" });
    var mine = el("section", { id: "cv-mine", "aria-labelledby": "cv-mine-title" });
    C.main.replaceChildren(el("h1", { id: "screen-title", tabindex: "-1", text: t("cvTitle") }));
    if (moderates(user)) {
      C.main.appendChild(queue);
      drawQueue(queue);
    }
    C.main.appendChild(mine);
    drawMine(mine);
    if (user.claims.role !== "constituent") C.main.appendChild(startForm());
  }

  function drawQueue(section) {
    var heading = el("h2", { id: "cv-queue-title", text: t("cvQueue") });
    section.replaceChildren(heading, el("p", { className: "note", text: t("loading") }));
    api("GET", "/api/v1/conversation-messages/held?page_size=100").then(function (reply) {
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
      var items = reply.body.items;
      if (!items.length) return section.replaceChildren(heading, el("p", { className: "note", text: t("cvQueueEmpty") }));
      var list = el("ul", { className: "cv-queue" });
      items.forEach(function (held) {
        list.appendChild(heldItem(held, section));
      });
      section.replaceChildren(heading, list);
    });
  }

  function heldItem(held, section) {
    var m = held.message;
    var reason = el("input", { type: "text", maxlength: "500" });
    var form = el("form", { className: "cv-moderate", "data-message": m.id, novalidate: true });
    var status = el("div", { className: "form-status", "aria-live": "polite" });
    function decide(decision) {
      C.clearFieldErrors(form);
      api("POST", "/api/v1/conversation-messages/" + m.id + ":moderate", { decision: decision, reason: reason.value }).then(function (reply) {
        if (!reply.ok) return status.replaceChildren(C.problemBox(reply, form));
        C.announce(t("cvDone"));
        drawQueue(section);
      });
    }
    var link = el("a", { href: "#/conversations/" + m.conversation_id, text: held.conversation_subject });
    form.appendChild(C.field("cv-reason-" + m.id, t("cvReason"), reason));
    reason.name = "reason";
    form.appendChild(el("button", { type: "button", text: t("cvApprove"), onclick: function () { decide("approve"); } }));
    form.appendChild(el("button", { type: "button", className: "secondary", text: t("cvReject"), onclick: function () { decide("reject"); } }));
    form.appendChild(status);
    return el("li", { className: "cv-held", "data-message": m.id }, [
      el("p", {}, [link, " · " + held.station_name]),
      el("p", {}, [el("strong", { text: m.author_label }), "：", m.text]),
      form,
    ]);
  }

  function drawMine(section) {
    var heading = el("h2", { id: "cv-mine-title", text: t("cvMine") });
    section.replaceChildren(heading, el("p", { className: "note", text: t("loading") }));
    api("GET", "/api/v1/conversations?page_size=100").then(function (reply) {
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
      var items = reply.body.items;
      if (!items.length) return section.replaceChildren(heading, el("p", { className: "note", text: t("cvNone") }));
      var list = el("ul", { className: "cv-list" });
      items.forEach(function (c) {
        var extra = [];
        if (c.held_count) extra.push(" · " + t("cvHeld", { n: c.held_count }));
        if (c.opinion_tracking_code) extra.push(" · " + t("cvOpinion", { code: c.opinion_tracking_code }));
        list.appendChild(
          el("li", { "data-conversation": c.id }, [
            el("a", { href: "#/conversations/" + c.id, text: c.subject }),
            " · " + (c.station_name || named("cvKinds", c.kind) || c.kind),
          ].concat(extra))
        );
      });
      section.replaceChildren(heading, list);
    });
  }

  function startForm() {
    var kind = el("select", { name: "kind" }, ["deputies", "working"].map(function (k) {
      return el("option", { value: k, text: named("cvKinds", k) });
    }));
    var participants = el("input", { type: "text", name: "participants", maxlength: "2000" });
    var subject = el("input", { type: "text", name: "subject", maxlength: "200" });
    var text = el("textarea", { name: "text", rows: "4", maxlength: "2000" });
    var status = el("div", { className: "form-status", "aria-live": "polite" });
    var form = el("form", { id: "cv-start", novalidate: true }, [
      el("h2", { text: t("cvNew") }),
      C.field("cv-kind", t("cvKind"), kind),
      C.field("cv-participants", t("cvParticipants"), participants, t("cvParticipantsHint")),
      C.field("cv-subject", t("cvSubject"), subject),
      C.field("cv-text", t("cvText"), text),
      el("button", { type: "submit", text: t("cvStart") }),
      status,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      C.clearFieldErrors(form);
      var body = {
        kind: kind.value,
        subject: subject.value,
        text: text.value,
        participants: participants.value.split(/[,，\s]+/).filter(Boolean),
      };
      api("POST", "/api/v1/conversations", body).then(function (reply) {
        if (!reply.ok) return status.replaceChildren(C.problemBox(reply, form));
        location.hash = "#/conversations/" + reply.body.id;
      });
    });
    return form;
  }

  // ---------------------------------------------------------------- a thread

  function threadScreen(user, id) {
    var box = el("section", { id: "cv-thread" }, [el("p", { className: "note", text: t("loading") })]);
    C.main.replaceChildren(
      el("p", {}, [el("a", { href: "#/conversations", text: t("cvBack") })]),
      el("h1", { id: "screen-title", tabindex: "-1", text: t("cvTitle") }),
      box
    );
    api("GET", "/api/v1/conversations/" + id).then(function (reply) {
      if (!reply.ok) return box.replaceChildren(C.problemBox(reply));
      drawThread(box, reply.body);
    });
  }

  function drawThread(box, c) {
    var facts = [el("h2", { text: c.subject })];
    if (c.station_name) facts.push(el("p", { className: "note", text: c.station_name + (c.constituent_label ? " · " + c.constituent_label : "") }));
    facts.push(el("p", { className: "hint", text: c.participants.map(function (p) { return p.label || p.address; }).join("、") }));
    if (c.opinion_tracking_code) facts.push(el("p", { id: "cv-opinion", text: t("cvOpinion", { code: c.opinion_tracking_code }) }));
    var list = el("ol", { className: "cv-messages" });
    c.messages.forEach(function (m) {
      var state = named("cvStates", m.state);
      list.appendChild(
        el("li", { "data-state": m.state, "data-message": m.id }, [
          el("p", {}, [el("strong", { text: m.author_label }), " · " + state]),
          el("p", { className: "cv-text", text: m.text }),
          m.state === "rejected" ? el("p", { className: "hint", text: t("cvRejectedBecause", { reason: m.reject_reason }) }) : null,
        ])
      );
    });
    box.replaceChildren.apply(box, facts.concat([list, replyForm(box, c)]));
    if (c.may_turn_into_opinion && !c.opinion_id) box.appendChild(opinionForm(box, c));
  }

  function replyForm(box, c) {
    var text = el("textarea", { name: "text", rows: "3", maxlength: "2000" });
    var status = el("div", { className: "form-status", "aria-live": "polite" });
    var form = el("form", { id: "cv-reply", novalidate: true }, [
      C.field("cv-reply-text", t("cvWrite"), text),
      el("button", { type: "submit", text: t("cvSend") }),
      status,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      C.clearFieldErrors(form);
      api("POST", "/api/v1/conversations/" + c.id + "/messages", { text: text.value }).then(function (reply) {
        if (!reply.ok) return status.replaceChildren(C.problemBox(reply, form));
        api("GET", "/api/v1/conversations/" + c.id).then(function (again) {
          if (again.ok) drawThread(box, again.body);
          C.announce(t("cvDone"));
        });
      });
    });
    return form;
  }

  function opinionForm(box, c) {
    var categories = Object.keys(t("categories") || {});
    var category = el("select", { name: "category" }, categories.map(function (k) {
      return el("option", { value: k, text: named("categories", k) });
    }));
    var community = el("input", { type: "number", name: "community_id", min: "1", step: "1" });
    var content = el("textarea", { name: "content", rows: "4", maxlength: "1960" });
    var phone = el("input", { type: "tel", name: "phone", maxlength: "40" });
    var status = el("div", { className: "form-status", "aria-live": "polite" });
    var form = el("form", { id: "cv-to-opinion", novalidate: true }, [
      el("h2", { text: t("cvToOpinion") }),
      el("p", { className: "hint", text: t("cvToOpinionHint") }),
      C.field("cv-category", t("cvCategory"), category),
      C.field("cv-community", t("cvCommunity"), community),
      C.field("cv-content", t("cvContent"), content),
      c.phone_given ? el("p", { className: "note", text: t("cvPhoneGiven") }) : C.field("cv-phone", t("cvPhone"), phone),
      el("button", { type: "submit", text: t("cvRecord") }),
      status,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      C.clearFieldErrors(form);
      var body = { category: category.value, community_id: Number(community.value) || 0, content: content.value };
      if (!c.phone_given) body.phone = phone.value.trim();
      api("POST", "/api/v1/conversations/" + c.id + ":to-opinion", body).then(function (reply) {
        if (!reply.ok) return status.replaceChildren(C.problemBox(reply, form));
        drawThread(box, reply.body);
        C.announce(t("cvOpinion", { code: reply.body.opinion_tracking_code }));
      });
    });
    return form;
  }

  C.screen("conversations", conversationsScreen);
})();

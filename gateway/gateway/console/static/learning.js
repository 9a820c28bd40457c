// The console's learning materials (学习教育, #/learning): the materials the
// caller may read (the district's, and a street's), publishing one — the
// district's offices for the whole district or one street, a street
// committee for its own street — and, per material, which of the deputies
// it is meant for have read it and which have not
// (GET /api/v1/learning-materials/{id}/readership). The service decides who
// may publish and read what.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  C.addText({
    "zh-CN": {
      navLearning: "学习教育",
      mTitle: "代表学习教育",
      mList: "学习材料",
      mNone: "还没有学习材料。",
      mTitleField: "标题",
      mKind: "类型",
      mFor: "面向",
      mPublishedAt: "发布时间",
      mReaders: "阅读情况",
      mShowReaders: "谁读过",
      mWholeDistrict: "全区代表",
      mKinds: { document: "文件", article: "文章", video: "视频" },
      mPublishTitle: "发布学习材料",
      mText: "正文（文件、文章）",
      mUrl: "链接（视频必填，https）",
      mPublish: "发布",
      mPublished: "已发布《{title}》。",
      mReadTitle: "《{title}》的阅读情况",
      mRead: "已读 {count} 位",
      mNotRead: "未读 {count} 位",
      mReadAt: "阅读时间",
      mNobody: "无",
    },
    en: {
      navLearning: "Learning",
      mTitle: "Deputies' learning",
      mList: "Learning materials",
      mNone: "No learning material yet.",
      mTitleField: "Title",
      mKind: "Kind",
      mFor: "For",
      mPublishedAt: "Published",
      mReaders: "Readers",
      mShowReaders: "Who has read it",
      mWholeDistrict: "The whole district",
      mKinds: { document: "Document", article: "Article", video: "Video" },
      mPublishTitle: "Publish a learning material",
      mText: "Text (a document, an article)",
      mUrl: "Link (a video's, https)",
      mPublish: "Publish",
      mPublished: "“{title}” is published.",
      mReadTitle: "Who has read “{title}”",
      mRead: "Read: {count}",
      mNotRead: "Not read: {count}",
      mReadAt: "Read at",
      mNobody: "Nobody",
    },
  });

  var streets = {};

  function streetName(id) {
    return streets[id] || t("street") + " " + id;
  }

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

  function learningScreen(user) {
    var district = !user.claims.street_id;
    var list = el("section", { className: "panel", id: "materials", "aria-labelledby": "materials-title" });
    var readers = el("section", { className: "panel", id: "material-readers", "aria-labelledby": "readers-title", hidden: true });
    var publish = el("section", { className: "panel", id: "material-publish", "aria-labelledby": "publish-title" });
    C.main.replaceChildren(el("h1", { id: "screen-title", tabindex: "-1", text: t("mTitle") }), list, readers, publish);
    api("GET", "/api/v1/streets?page_size=100").then(function (reply) {
      if (reply.ok) {
        (reply.body.items || []).forEach(function (s) {
          streets[s.id] = s.name;
        });
      }
      var canPublish = ["admin", "standing_committee_office", "working_body", "street_committee"].indexOf(user.claims.role) >= 0;
      if (canPublish) showPublish(publish, district, user, function () {
        load(list, readers);
      });
      else publish.remove();
      load(list, readers);
    });
  }

  // Every material the caller may read (page by page, up to 2000), the
  // newest first.
  function allMaterials(token, items) {
    var query = new URLSearchParams({ page_size: "500" });
    if (token) query.set("page_token", token);
    return api("GET", "/api/v1/learning-materials?" + query.toString()).then(function (reply) {
      if (!reply.ok) return reply;
      var all = (items || []).concat(reply.body.items || []);
      if (reply.body.next_page_token && all.length < 2000) return allMaterials(reply.body.next_page_token, all);
      return { ok: true, items: all };
    });
  }

  function load(section, readers) {
    section.setAttribute("aria-busy", "true");
    allMaterials(null, []).then(function (reply) {
      section.setAttribute("aria-busy", "false");
      var heading = el("h2", { id: "materials-title", text: t("mList") });
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
      var items = reply.items.slice().reverse();
      if (!items.length) return section.replaceChildren(heading, el("p", { className: "note", text: t("mNone") }));
      var body = el("tbody");
      items.forEach(function (m) {
        var title = m.url && /^https:\/\//.test(m.url) ? el("a", { href: m.url, rel: "noopener noreferrer", target: "_blank", text: m.title }) : document.createTextNode(m.title);
        body.appendChild(
          el("tr", { "data-material": m.id }, [
            el("th", { scope: "row" }, [title]),
            el("td", { text: (t("mKinds") || {})[m.kind] || m.kind }),
            el("td", { text: m.street_id ? streetName(m.street_id) : t("mWholeDistrict") }),
            el("td", {}, [el("time", { datetime: m.published_at || "", text: when(m.published_at) })]),
            el("td", {}, [
              el("button", {
                type: "button",
                className: "secondary",
                text: t("mShowReaders"),
                "aria-label": t("mShowReaders") + "：" + m.title,
                onclick: function () {
                  showReaders(readers, m);
                },
              }),
            ]),
          ])
        );
      });
      var head = [t("mTitleField"), t("mKind"), t("mFor"), t("mPublishedAt"), t("mReaders")];
      var table = el("table", { className: "queue-table materials-table" }, [
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
      var children = [heading, el("div", { className: "table-scroll" }, [table])];
      section.replaceChildren.apply(section, children);
    });
  }

  function readerList(id, title, people, withTime) {
    var list = el("ul", { className: "reader-list", id: id });
    if (!people.length) list.appendChild(el("li", { className: "note", text: t("mNobody") }));
    people.forEach(function (p) {
      var text = (p.name || t("repDeputy") + " " + p.deputy_id) + " · " + streetName(p.street_id);
      var item = el("li", { "data-deputy": p.deputy_id, text: text });
      if (withTime && p.read_at) item.appendChild(el("time", { className: "hint", datetime: p.read_at, text: " " + when(p.read_at) }));
      list.appendChild(item);
    });
    return el("div", { className: "reader-group" }, [el("h3", { text: title }), list]);
  }

  function showReaders(section, material) {
    section.hidden = false;
    section.setAttribute("aria-busy", "true");
    var heading = el("h2", { id: "readers-title", tabindex: "-1", text: t("mReadTitle", { title: material.title }) });
    section.replaceChildren(heading, el("p", { className: "note", text: t("loading") }));
    heading.focus();
    api("GET", "/api/v1/learning-materials/" + material.id + "/readership").then(function (reply) {
      section.setAttribute("aria-busy", "false");
      if (!reply.ok) return section.replaceChildren(heading, C.problemBox(reply));
      var read = reply.body.read || [];
      var notRead = reply.body.not_read || [];
      section.replaceChildren(
        heading,
        el("div", { className: "reader-groups" }, [
          readerList("readers-read", t("mRead", { count: read.length }), read, true),
          readerList("readers-not-read", t("mNotRead", { count: notRead.length }), notRead, false),
        ])
      );
      C.announce(t("mRead", { count: read.length }) + "，" + t("mNotRead", { count: notRead.length }));
    });
  }

  function showPublish(section, district, user, onPublished) {
    var title = el("input", { type: "text", name: "title", maxlength: "200", required: true, autocomplete: "off" });
    var kind = el("select", { name: "kind" });
    ["document", "article", "video"].forEach(function (k) {
      kind.appendChild(el("option", { value: k, text: t("mKinds")[k] }));
    });
    var text = el("textarea", { name: "text", rows: "6", maxlength: "100000" });
    var url = el("input", { type: "url", name: "url", maxlength: "2000", inputmode: "url", autocomplete: "off" });
    var fields = [
      el("div", { className: "field-row" }, [C.field("material-title", t("mTitleField"), title), C.field("material-kind", t("mKind"), kind)]),
      C.field("material-text", t("mText"), text),
      C.field("material-url", t("mUrl"), url),
    ];
    var street = null;
    if (district) {
      street = el("select", { name: "street_id" }, [el("option", { value: "", text: t("mWholeDistrict") })]);
      Object.keys(streets).forEach(function (id) {
        street.appendChild(el("option", { value: id, text: streetName(id) }));
      });
      fields.push(C.field("material-street", t("mFor"), street));
    } else {
      fields.push(el("p", { className: "hint", text: t("mFor") + "：" + streetName(user.claims.street_id) }));
    }
    var status = el("div", { className: "form-status" });
    var form = el(
      "form",
      {
        novalidate: true,
        id: "publish-form",
        "aria-labelledby": "publish-title",
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(form);
          status.replaceChildren();
          var body = { title: title.value.trim(), kind: kind.value, text: text.value, url: url.value.trim() };
          if (street && street.value) body.street_id = Number(street.value);
          if (!district) body.street_id = user.claims.street_id;
          api("POST", "/api/v1/learning-materials", body).then(function (reply) {
            if (!reply.ok) return status.replaceChildren(C.problemBox(reply, form));
            C.announce(t("mPublished", { title: reply.body.title }));
            status.replaceChildren(el("p", { className: "notice", role: "status", text: t("mPublished", { title: reply.body.title }) }));
            title.value = "";
            text.value = "";
            url.value = "";
            onPublished();
          });
        },
      },
      fields.concat([el("button", { type: "submit", text: t("mPublish") }), status])
    );
    section.replaceChildren(el("h2", { id: "publish-title", text: t("mPublishTitle") }), form);
  }

  C.screen("learning", learningScreen);
})();

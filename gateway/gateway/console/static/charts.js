// The console's charts: a horizontal bar chart drawn as inline SVG, with
// text labels and values on the bars, named for assistive technology
// (role="img", its <title> and a <desc> that reads every value), and the
// same figures as a table beside it. No library: a few shapes and texts.
// Published as LiaisonConsole.barChart; registered after console.js.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var el = C.el;
  // SVG's namespace: a name, nothing is loaded from it (spelled in parts so
  // that no address of another host is written here).
  var SVG = ["http:", "", "www.w3.org", "2000", "svg"].join("/");

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, String(attrs[name]));
    });
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // barChart({id, title, column, valueColumn, rows: [{key, label, value, text}]})
  // -> <figure> with the chart and its table. `text` is how a value reads
  // (e.g. "12.5 天"); by default the number itself.
  function barChart(options) {
    var rows = options.rows || [];
    var id = options.id;
    var figure = el("figure", { className: "chart", id: id, "aria-labelledby": id + "-caption" }, [
      el("figcaption", { id: id + "-caption", text: options.title }),
    ]);
    if (!rows.length) {
      figure.appendChild(el("p", { className: "note", text: options.empty || "" }));
      return figure;
    }
    // Room for the longest label (a CJK character about 13 units wide at
    // the chart's 13px, another about 7.5), within reason.
    var labelWidth = Math.min(
      320,
      Math.max.apply(
        null,
        rows.map(function (r) {
          return Array.from(String(r.label)).reduce(function (width, c) {
            return width + (c.charCodeAt(0) > 0x2e80 ? 13.5 : 7.5);
          }, 16);
        })
      )
    );
    var barArea = 420;
    var rowHeight = 28;
    var width = labelWidth + barArea + 110;
    var height = rows.length * rowHeight + 8;
    var max = Math.max.apply(
      null,
      rows.map(function (r) {
        return r.value;
      })
    );
    var reading = rows.map(function (r) {
      return r.label + " " + (r.text || String(r.value));
    });
    var chart = svg("svg", {
      class: "bar-chart",
      role: "img",
      viewBox: "0 0 " + width + " " + height,
      width: width,
      height: height,
      preserveAspectRatio: "xMinYMin meet",
      "aria-labelledby": id + "-svg-title " + id + "-svg-desc",
    });
    chart.appendChild(svg("title", { id: id + "-svg-title" }, options.title));
    chart.appendChild(svg("desc", { id: id + "-svg-desc" }, reading.join("；")));
    rows.forEach(function (r, index) {
      var y = index * rowHeight + 4;
      var length = max > 0 ? Math.max(r.value > 0 ? 2 : 0, Math.round((r.value / max) * barArea)) : 0;
      var group = svg("g", { class: "bar", "data-key": r.key, "aria-hidden": "true" });
      group.appendChild(svg("text", { x: labelWidth - 8, y: y + 18, "text-anchor": "end", class: "bar-label" }, r.label));
      group.appendChild(svg("rect", { x: labelWidth, y: y + 4, width: length, height: rowHeight - 10, rx: 3, class: "bar-rect" }));
      group.appendChild(svg("text", { x: labelWidth + length + 6, y: y + 18, class: "bar-value" }, r.text || String(r.value)));
      chart.appendChild(group);
    });
    figure.appendChild(el("div", { className: "chart-svg" }, [chart]));
    var table = el("table", { className: "figures-table chart-table" }, [
      el("caption", { className: "visually-hidden", text: options.title }),
      el("thead", {}, [
        el("tr", {}, [
          el("th", { scope: "col", text: options.column }),
          el("th", { scope: "col", text: options.valueColumn }),
        ].concat((options.extraColumns || []).map(function (c) {
          return el("th", { scope: "col", text: c });
        }))),
      ]),
    ]);
    var body = el("tbody");
    rows.forEach(function (r) {
      var cells = [el("th", { scope: "row", text: r.label }), el("td", { text: r.text || String(r.value) })];
      (r.extra || []).forEach(function (value) {
        cells.push(el("td", { text: value }));
      });
      body.appendChild(el("tr", { "data-key": r.key }, cells));
    });
    table.appendChild(body);
    figure.appendChild(el("div", { className: "table-scroll" }, [table]));
    return figure;
  }

  C.barChart = barChart;
})();

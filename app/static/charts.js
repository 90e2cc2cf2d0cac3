/* Mutualise — charts drawn from the table of their numbers.

   A template never writes chart code: it writes the table, and marks it

     <table class="table" data-chart="bar|stacked" [data-chart-unit="€|h"]
            [data-chart-axis="y"] [data-chart-title="..."]>
       <caption>Répartition par adhérent</caption>
       <thead><tr><th>Adhérent</th><th>Comptabilité</th><th data-chart-skip>Total</th></tr></thead>
       <tbody><tr><th>ABC</th><td class="num" data-value="1234.56">1 234,56 €</td>…</tr></tbody>
       <tfoot>… (never charted)</tfoot>
     </table>

   The first cell of each body row is the label; every other header cell is a series (columns
   with data-chart-skip on their header, rows with data-chart-skip, and the tfoot are left out).
   A cell's number is its data-value (a plain "1234.56"), else its French text is read.
   "bar" draws grouped bars, "stacked" stacks the series; data-chart-axis="y" lays the bars
   horizontally (many labels). The canvas is inserted above the table, hidden from screen
   readers: the table stays visible, it is the accessible and copyable form of the chart.

   On a phone (a chart narrower than 480 px) the labels and the legend are shortened with « … »
   (Chart.js cuts them otherwise: « ECYCLERIE La Recyclerie »); the table below has them whole.

   Chart.js (app/static/vendor/chartjs, pinned, see README) is loaded only on pages that
   have such a table. window.MutualiseCharts.draw(table) draws one more (e.g. after an update).
*/
(function () {
  "use strict";

  /** « RECYCLERIE La Re… »: a text cut to ``max`` characters (phones only). */
  function shorten(text, max) {
    text = String(text);
    return text.length > max ? text.slice(0, max - 1).trimEnd() + "\u2026" : text;
  }

  var PALETTE = [
    "#1f6f5c", "#2b59c3", "#e69f00", "#cc79a7", "#56b4e9", "#d55e00", "#009e73", "#7a5195",
    "#8c8c8c", "#b8860b",
  ];
  var script = document.currentScript;
  var vendorUrl = script ? script.src.replace(/charts\.js(\?.*)?$/, "vendor/chartjs/chart.umd.js") : null;

  function cellNumber(cell) {
    if (!cell) return null;
    var raw = cell.getAttribute("data-value");
    if (raw !== null && raw !== "") return Number(raw);
    var text = cell.textContent.trim();
    var hm = /^(-?\d+)\s*h(?:\s*(\d{1,2}))?$/.exec(text.replace(/[\u00a0\u202f]/g, " "));
    if (hm) {
      var minutes = hm[2] ? Number(hm[2]) / 60 : 0;
      return hm[1][0] === "-" ? Number(hm[1]) - minutes : Number(hm[1]) + minutes;
    }
    var s = text.replace(/[\s\u00a0\u202f€%]/g, "").replace(/[^\d,.\-]/g, "").replace(",", ".");
    if (s === "" || s === "-" || s === "—") return null;
    var n = Number(s);
    return isFinite(n) ? n : null;
  }

  function readTable(table) {
    var headRows = table.tHead ? table.tHead.rows : [];
    var head = headRows.length ? headRows[headRows.length - 1] : null;
    var columns = [];
    if (head) {
      Array.prototype.forEach.call(head.cells, function (cell, index) {
        if (index === 0 || cell.hasAttribute("data-chart-skip")) return;
        columns.push({ index: index, label: cell.textContent.trim() });
      });
    }
    var labels = [];
    var series = columns.map(function (c) { return { label: c.label, data: [] }; });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        if (row.hasAttribute("data-chart-skip") || !row.cells.length) return;
        labels.push(row.cells[0].textContent.trim());
        columns.forEach(function (c, i) { series[i].data.push(cellNumber(row.cells[c.index])); });
      });
    });
    return { labels: labels, series: series };
  }

  function formatter(unit) {
    if (unit === "€") {
      var money = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR", maximumFractionDigits: 0 });
      var exact = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });
      return { tick: function (v) { return money.format(v); }, exact: function (v) { return exact.format(v); } };
    }
    if (unit === "h") {  // decimal hours read as « 1 h 30 », never « 1,5 h »
      var clock = function (v) {
        var total = Math.round(Math.abs(v) * 60), h = Math.floor(total / 60), m = total % 60;
        return (v < 0 ? "-" : "") + h + "\u00a0h" + (m ? "\u00a0" + (m < 10 ? "0" : "") + m : "");
      };
      return { tick: clock, exact: clock };
    }
    var num = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 2 });
    var suffix = unit ? "\u00a0" + unit : "";
    return {
      tick: function (v) { return num.format(v) + suffix; },
      exact: function (v) { return num.format(v) + suffix; },
    };
  }

  function draw(table) {
    if (!window.Chart || table.dataset.chartDrawn) return null;
    var kind = table.getAttribute("data-chart") || "bar";
    var horizontal = table.getAttribute("data-chart-axis") === "y";
    var data = readTable(table);
    if (!data.labels.length || !data.series.length) return null;
    table.dataset.chartDrawn = "1";
    var fmt = formatter(table.getAttribute("data-chart-unit") || "");
    var caption = table.caption ? table.caption.textContent.trim() : "";
    var title = table.getAttribute("data-chart-title") || caption;

    var box = document.createElement("div");
    box.className = "chart-canvas";
    if (horizontal && data.labels.length > 10) box.classList.add("tall");
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Graphique" + (title ? " : " + title : "") +
      ". Les chiffres sont dans le tableau qui suit.");
    box.appendChild(canvas);
    var anchor = table.closest(".table-wrap") || table;
    anchor.parentNode.insertBefore(box, anchor);
    if (title) {
      // The title reads above the chart; the caption stays for screen readers and copying.
      var heading = document.createElement("p");
      heading.className = "chart-title";
      heading.setAttribute("aria-hidden", "true");
      heading.textContent = title;
      box.parentNode.insertBefore(heading, box);
      if (table.caption) table.caption.classList.add("visually-hidden");
    }

    var stacked = kind === "stacked";
    var valueAxis = horizontal ? "x" : "y";
    var labelAxis = horizontal ? "y" : "x";
    var scales = {};
    scales[valueAxis] = { stacked: stacked, beginAtZero: true, ticks: { callback: fmt.tick } };
    var narrow = box.clientWidth < 480;
    var labelTicks = { autoSkip: !horizontal };
    if (narrow) {
      labelTicks.callback = function (value) {
        return shorten(this.getLabelForValue(value), horizontal ? 16 : 12);
      };
    }
    scales[labelAxis] = { stacked: stacked, ticks: labelTicks };
    var legendLabels = {};
    if (narrow) {
      legendLabels = {
        boxWidth: 14,
        generateLabels: function (chart) {
          var items = window.Chart.defaults.plugins.legend.labels.generateLabels(chart);
          items.forEach(function (item) { item.text = shorten(item.text, 36); });
          return items;
        },
      };
    }
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return {
            label: s.label, data: s.data,
            backgroundColor: PALETTE[i % PALETTE.length], borderWidth: 0, maxBarThickness: 48,
          };
        }),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        responsive: true,
        locale: "fr-FR",
        animation: reduced ? false : { duration: 300 },
        scales: scales,
        plugins: {
          legend: { display: data.series.length > 1, position: "bottom", labels: legendLabels },
          title: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = horizontal ? ctx.parsed.x : ctx.parsed.y;
                return (ctx.dataset.label ? ctx.dataset.label + " : " : "") + fmt.exact(v);
              },
            },
          },
        },
      },
    });
    table._chart = chart;
    return chart;
  }

  function drawAll(root) {
    (root || document).querySelectorAll("table[data-chart]").forEach(draw);
  }

  function load(callback) {
    if (window.Chart) return callback();
    if (!vendorUrl) return;
    var s = document.createElement("script");
    s.src = vendorUrl;
    s.addEventListener("load", function () {
      window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      window.Chart.defaults.color = "#1d2433";
      callback();
    });
    document.head.appendChild(s);
  }

  window.MutualiseCharts = { draw: draw, drawAll: drawAll };
  if (document.querySelector("table[data-chart]")) load(function () { drawAll(document); });
})();

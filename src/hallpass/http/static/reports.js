// The Reports page's charts (Chart.js, served with the app). The figures come from the JSON
// block #report-charts that the page carries; every chart's numbers are also in its table.
// Series are told apart by pattern and border as well as colour, and the heatmap writes each
// cell's count in it, so no chart needs colour to be read.
(function () {
  "use strict";
  var block = document.getElementById("report-charts");
  if (!block || typeof Chart === "undefined") return;
  var charts = JSON.parse(block.textContent);
  var matrix = window["chartjs-chart-matrix"];
  if (matrix && matrix.MatrixController) Chart.register(matrix.MatrixController, matrix.MatrixElement);

  var INK = "#1f3a5f";
  var STYLES = [
    { color: "#1f6fb2", pattern: "solid", dash: [] },
    { color: "#d9822b", pattern: "stripes", dash: [6, 3] },
    { color: "#5b8a3c", pattern: "dots", dash: [2, 2] },
  ];

  function pattern(style) {
    if (style.pattern === "solid") return style.color;
    var tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    var c = tile.getContext("2d");
    c.fillStyle = "#ffffff";
    c.fillRect(0, 0, 8, 8);
    c.fillStyle = style.color;
    c.strokeStyle = style.color;
    if (style.pattern === "stripes") {
      c.lineWidth = 2;
      c.beginPath();
      c.moveTo(0, 8); c.lineTo(8, 0);
      c.moveTo(-2, 2); c.lineTo(2, -2);
      c.moveTo(6, 10); c.lineTo(10, 6);
      c.stroke();
    } else {
      c.beginPath();
      c.arc(4, 4, 2, 0, 2 * Math.PI);
      c.fill();
    }
    return c.createPattern(tile, "repeat");
  }

  function drawn(canvas) {
    canvas.setAttribute("data-drawn", "true");
  }

  function bar(canvas, spec) {
    var datasets = spec.series.map(function (s, i) {
      var style = STYLES[i % STYLES.length];
      return {
        label: s.label,
        data: s.data,
        backgroundColor: pattern(style),
        borderColor: style.color,
        borderWidth: 2,
        borderDash: style.dash,
      };
    });
    return new Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked, beginAtZero: true } },
        plugins: { legend: { display: datasets.length > 1 }, title: { display: false } },
      },
    });
  }

  // The heatmap's first row (Monday) is drawn at the top, as in its table.
  // Writes each heatmap cell's count in the cell, dark on light and light on dark.
  var counts = {
    id: "hallpassCounts",
    afterDatasetsDraw: function (chart) {
      var meta = chart.getDatasetMeta(0);
      var ctx = chart.ctx;
      ctx.save();
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = "12px sans-serif";
      meta.data.forEach(function (element, i) {
        var v = chart.data.datasets[0].data[i].v;
        var box = element.getProps(["x", "y", "width", "height"], true);
        ctx.fillStyle = v / chart.$max > 0.55 ? "#ffffff" : INK;
        ctx.fillText(String(v), box.x + box.width / 2, box.y + box.height / 2);
      });
      ctx.restore();
    },
  };

  function heatmap(canvas, spec) {
    var max = 1;
    var data = spec.cells.map(function (cell) {
      max = Math.max(max, cell[2]);
      return { x: spec.x[cell[1]], y: spec.y[cell[0]], v: cell[2] };
    });
    var chart = new Chart(canvas, {
      type: "matrix",
      data: {
        datasets: [{
          label: spec.title,
          data: data,
          backgroundColor: function (c) {
            var v = c.dataset.data[c.dataIndex].v;
            return "rgba(31, 111, 178, " + (0.08 + 0.92 * v / max).toFixed(3) + ")";
          },
          borderColor: "#c9d3df",
          borderWidth: 1,
          width: function (c) { var a = c.chart.chartArea; return a ? a.width / spec.x.length - 2 : 0; },
          height: function (c) { var a = c.chart.chartArea; return a ? a.height / spec.y.length - 2 : 0; },
        }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { type: "category", labels: spec.x, offset: true, grid: { display: false } },
          y: { type: "category", labels: spec.y.slice().reverse(), offset: true, grid: { display: false } },
        },
      },
      plugins: [counts],
    });
    chart.$max = max;
    chart.update();
    return chart;
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[canvas.getAttribute("data-chart")];
    if (!spec) return;
    if (spec.kind === "heatmap") heatmap(canvas, spec);
    else bar(canvas, spec);
    drawn(canvas);
  });
})();

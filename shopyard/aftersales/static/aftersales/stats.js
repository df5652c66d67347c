// After-sales statistics: draw the charts from the figures the page embeds (json_script
// "aftersales-chart-data"). The tables under the charts hold the same numbers.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("aftersales-chart-data");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var charts = [["chart-days", "line", data.days], ["chart-kinds", "bar", data.kinds],
                  ["chart-reasons", "bar", data.reasons]];
    charts.forEach(function (spec) {
      var canvas = document.getElementById(spec[0]);
      if (!canvas || !spec[2]) return;
      new window.Chart(canvas, {
        type: spec[1],
        data: {labels: spec[2].labels, datasets: [{label: spec[2].title, data: spec[2].values,
               backgroundColor: "rgba(255, 80, 0, 0.55)", borderColor: "#ff5000", tension: 0.2}]},
        options: {responsive: true, maintainAspectRatio: false, animation: false,
                  indexAxis: spec[0] === "chart-reasons" ? "y" : "x",
                  plugins: {title: {display: true, text: spec[2].title}, legend: {display: false}},
                  scales: {y: {beginAtZero: true, ticks: {precision: 0}}, x: {ticks: {precision: 0}}}}
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

// Report dashboard: one ECharts chart per non-empty chart of the report, with value labels on the
// bars and an axis that starts at zero. Empty charts are never drawn (the page says 本期无数据).
(function () {
  var node = document.getElementById("chart-data");
  if (!node || typeof echarts === "undefined") { return; }
  JSON.parse(node.textContent).forEach(function (chart) {
    var holder = document.querySelector('[data-chart="' + chart.name + '"]');
    if (!holder || chart.empty) { return; }
    var instance = echarts.init(holder, null, { renderer: "svg" });
    var option;
    if (chart.kind === "pie") {
      option = {
        tooltip: { trigger: "item" },
        series: [{
          type: "pie", radius: "60%",
          label: { formatter: "{b}: {c}" },
          data: chart.categories.map(function (name, i) { return { name: name, value: chart.values[i] }; })
        }]
      };
    } else {
      option = {
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 16, bottom: 60, top: 20 },
        xAxis: { type: "category", data: chart.categories, axisLabel: { interval: 0, rotate: chart.categories.length > 5 ? 30 : 0 } },
        yAxis: { type: "value", min: 0 },
        series: [{ type: "bar", data: chart.values, label: { show: true, position: "top" }, itemStyle: { color: "#3b82c4" } }]
      };
    }
    instance.setOption(option);
    holder.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { instance.resize(); });
  });
})();

// snoopdb dashboard, the Runs page: one line chart per job of its runs' coverage over
// time (the document in #runs-data: each run's `at`, endpoints_hit, tested_stable,
// conf_tested_stable), drawn as SVG on a time axis. Every count comes from the
// document; the script only places points.
"use strict";
(() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const SERIES = [
    {key: "endpoints_hit", label: "endpoints hit", color: "#8c959f"},
    {key: "tested_stable", label: "stable, tested", color: "#d4a72c"},
    {key: "conf_tested_stable", label: "stable, conformance-tested", color: "#2da44e"},
  ];

  function svg(name, attrs, parent, text) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  function niceStep(max) {
    const rough = max / 5, power = 10 ** Math.floor(Math.log10(rough));
    return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough);
  }

  function draw(container, runs) {
    container.replaceChildren();
    const legend = document.createElement("ul");
    legend.className = "legend";
    for (const s of SERIES) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = s.color;
      item.append(swatch, s.label);
      legend.appendChild(item);
    }
    container.appendChild(legend);
    const plot = svg("svg", {role: "img", "aria-label": "coverage per run over time"}, container);
    const width = plot.clientWidth || 800, height = plot.clientHeight || 320;
    const margin = {top: 10, right: 16, bottom: 40, left: 46};
    const times = runs.map((run) => Date.parse(run.at));
    const t0 = Math.min(...times), t1 = Math.max(...times);
    const span = Math.max(1, t1 - t0);
    const x = (t) => margin.left + (runs.length > 1 ? (width - margin.left - margin.right) * (t - t0) / span
                                                     : (width - margin.left - margin.right) / 2);
    const top = Math.max(1, ...runs.map((run) => run.endpoints_hit));
    const step = niceStep(top), yMax = Math.ceil(top / step) * step;
    const y = (v) => margin.top + (height - margin.top - margin.bottom) * (1 - v / yMax);

    const grid = svg("g", {class: "grid"}, plot);
    for (let v = 0; v <= yMax; v += step) {
      svg("line", {x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v)}, grid);
      svg("text", {x: margin.left - 6, y: y(v) + 4, "text-anchor": "end"}, grid, String(v));
    }
    const axis = svg("g", {class: "axis-time"}, plot);
    const ticks = Math.min(6, runs.length);
    for (let i = 0; i < ticks; i++) {
      const t = runs.length > 1 ? t0 + span * i / Math.max(1, ticks - 1) : t0;
      const anchor = ticks > 1 && i === 0 ? "start" : ticks > 1 && i === ticks - 1 ? "end" : "middle";
      svg("text", {x: x(t), y: height - margin.bottom + 16, "text-anchor": anchor}, axis,
          new Date(t).toISOString().slice(0, 16).replace("T", " "));
    }
    for (const s of SERIES) {
      const points = runs.map((run, i) => `${x(times[i]).toFixed(1)},${y(run[s.key]).toFixed(1)}`);
      svg("path", {class: "line", stroke: s.color, d: `M${points.join("L")}`}, plot);
      runs.forEach((run, i) => {
        const point = svg("circle", {class: "point", cx: x(times[i]), cy: y(run[s.key]), r: 3.5,
                                     fill: s.color, "data-series": s.key, "data-run": run.name,
                                     "data-value": run[s.key]}, plot);
        svg("title", {}, point, `${run.name} (${run.at}): ${run[s.key]} ${s.label}`);
      });
    }
  }

  function init() {
    const script = document.getElementById("runs-data");
    if (!script) return;
    const data = JSON.parse(script.textContent);
    const charts = [...document.querySelectorAll("[data-runs-chart]")];
    const redraw = () => charts.forEach((chart) => draw(chart, data.jobs[Number(chart.dataset.runsChart)].runs));
    redraw();
    let pending = null;
    window.addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(redraw, 150);
    });
    // what the browser tests wait for: the run charts are drawn
    document.body.dataset.runsReady = "true";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

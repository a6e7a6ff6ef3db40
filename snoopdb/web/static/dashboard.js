// snoopdb dashboard: draws the page's charts from its own API document (the JSON
// in #page-data) as hand-made SVG, no library. Every count comes from that
// document; the script only lays counts out (angles, bar heights, percentages).
"use strict";
(() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const STATES = ["conformance", "tested", "untested"];
  const STATE_LABELS = {conformance: "conformance-tested", tested: "tested, not by conformance",
                        untested: "untested"};

  function make(namespace, name, attrs, parent, text) {
    const node = namespace ? document.createElementNS(namespace, name) : document.createElement(name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  const svg = (name, attrs, parent, text) => make(SVG_NS, name, attrs, parent, text);
  const html = (name, attrs, parent, text) => make(null, name, attrs, parent, text);
  const percent = (part, whole) => (whole ? (100 * part / whole).toFixed(1) : "0.0") + "%";

  // ---- sunburst: release -> level -> category -> kind -> endpoint ----------------

  const R = 195, HOLE = 58;

  function arcPath(a0, a1, r0, r1) {
    // A full circle's start and end points coincide and SVG would draw nothing.
    if (a1 - a0 > 2 * Math.PI - 1e-6) a1 = a0 + 2 * Math.PI - 1e-4;
    const large = a1 - a0 > Math.PI ? 1 : 0;
    const at = (r, a) => `${(r * Math.sin(a)).toFixed(2)},${(-r * Math.cos(a)).toFixed(2)}`;
    return `M${at(r1, a0)}A${r1},${r1} 0 ${large} 1 ${at(r1, a1)}` +
           `L${at(r0, a1)}A${r0},${r0} 0 ${large} 0 ${at(r0, a0)}Z`;
  }

  function nodeLabel(node) {
    return node.name ?? `(no ${node.type})`;
  }

  function describe(node) {
    if (!node.children) {
      const state = STATES.find((s) => node.states[s]);
      return `${node.name}: ${STATE_LABELS[state]}`;
    }
    return `${node.type} ${nodeLabel(node)}: ${node.total} endpoints, ${node.tested} tested, ` +
           `${node.conf_tested} conformance-tested`;
  }

  function sunburst(svgElement, panel, root) {
    const parent = new Map(), height = new Map();
    (function link(node) {
      let below = 0;
      for (const child of node.children || []) {
        parent.set(child, node);
        below = Math.max(below, link(child) + 1);
      }
      height.set(node, below);
      return below;
    })(root);
    let focus = root;

    function choose(node) {
      if (node.children) {
        focus = node;
        draw();
      } else {
        window.location.href = "/endpoints/" + encodeURIComponent(node.name);
      }
    }

    function drawNode(node, a0, a1, r0, r1) {
      const group = svg("g", {class: "node", "data-type": node.type, "data-name": node.name ?? ""},
                        svgElement);
      let a = a0;
      for (const state of STATES) {
        if (!node.states[state]) continue;
        const b = a + (a1 - a0) * node.states[state] / node.total;
        svg("path", {d: arcPath(a, b, r0, r1), class: `${state}-fill`}, group);
        a = b;
      }
      svg("path", {d: arcPath(a0, a1, r0, r1), class: "outline"}, group);
      svg("title", {}, group, describe(node));
      group.addEventListener("click", () => choose(node));
    }

    function draw() {
      svgElement.replaceChildren();
      const ring = (R - HOLE) / Math.max(1, height.get(focus));
      (function layout(node, a0, a1, depth) {
        let a = a0;
        for (const child of node.children || []) {
          const span = (a1 - a0) * child.total / node.total;
          drawNode(child, a, a + span, HOLE + depth * ring, HOLE + (depth + 1) * ring);
          layout(child, a, a + span, depth + 1);
          a += span;
        }
      })(focus, 0, 2 * Math.PI, 0);

      const centre = svg("g", {id: "sunburst-centre"}, svgElement);
      svg("circle", {r: HOLE - 2, class: "centre"}, centre);
      svg("title", {}, centre, parent.has(focus) ? "zoom out" : describe(focus));
      const name = nodeLabel(focus);
      svg("text", {y: -14, class: "name"}, centre, name.length > 16 ? name.slice(0, 15) + "…" : name);
      svg("text", {y: 4, "data-centre": "total"}, centre, `${focus.total} endpoints`);
      svg("text", {y: 19, "data-centre": "tested"}, centre, `${focus.tested} tested`);
      svg("text", {y: 34, "data-centre": "conf_tested"}, centre, `${focus.conf_tested} conformance`);
      centre.addEventListener("click", () => {
        if (parent.has(focus)) {
          focus = parent.get(focus);
          draw();
        }
      });
      drawPanel();
    }

    function drawPanel() {
      panel.querySelectorAll(".crumbs, .focus-body").forEach((node) => node.remove());
      const path = [];
      for (let node = focus; node; node = parent.get(node)) path.unshift(node);
      const crumbs = html("div", {class: "crumbs"}, panel);
      if (path.length > 1) path.forEach((node, index) => {
        if (index) html("span", {class: "sep"}, crumbs, "›");
        if (node === focus) {
          html("span", {}, crumbs, nodeLabel(node));
        } else {
          html("button", {type: "button"}, crumbs, nodeLabel(node))
            .addEventListener("click", () => choose(node));
        }
      });
      const body = html("div", {class: "focus-body"}, panel);
      html("h3", {id: "focus-name"}, body, `${focus.type} ${nodeLabel(focus)}`);
      const counts = html("p", {id: "focus-counts"}, body);
      html("strong", {"data-focus": "total"}, counts, String(focus.total));
      counts.append(" endpoints · ");
      html("strong", {"data-focus": "tested"}, counts, String(focus.tested));
      counts.append(` tested (${percent(focus.tested, focus.total)}) · `);
      html("strong", {"data-focus": "conf_tested"}, counts, String(focus.conf_tested));
      counts.append(` conformance-tested (${percent(focus.conf_tested, focus.total)})`);
      const list = html("ul", {class: "children"}, body);
      for (const child of focus.children) {
        const item = html("li", {"data-child": child.name ?? ""}, list);
        if (child.children) {
          html("button", {type: "button"}, item, nodeLabel(child))
            .addEventListener("click", () => choose(child));
          html("span", {class: "nums"}, item,
               `${child.total} · ${child.tested} tested · ${child.conf_tested} conf.`);
        } else {
          html("a", {href: "/endpoints/" + encodeURIComponent(child.name)}, item, child.name);
          html("span", {class: "nums"}, item, STATE_LABELS[STATES.find((s) => child.states[s])]);
        }
        const bar = html("div", {class: "bar"}, item);
        for (const state of STATES.slice(0, 2)) {
          html("span", {style: `width: ${percent(child.states[state], child.total)}`}, bar);
        }
      }
    }

    draw();
  }

  // ---- bar and line charts over releases ------------------------------------------

  function niceStep(max) {
    const rough = max / 5, power = 10 ** Math.floor(Math.log10(rough));
    return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough);
  }

  // series: [{key, label, color, values}]; mode: "bars" (grouped), "stacked" or "line";
  // gaps: [{after, before, missing}], releases with no row between two labels, marked
  // where the axis jumps over them (and a line is broken there).
  function chart(container, labels, series, mode, gaps = []) {
    const hidden = new Set();
    const legend = html("div", {class: "legend"}, container);
    const plot = svg("svg", {role: "img"}, container);
    for (const s of series) {
      const button = html("button", {type: "button", "aria-pressed": "true", "data-series": s.key},
                          legend);
      html("span", {class: "swatch", style: `background: ${s.color}`}, button);
      button.append(s.label);
      button.addEventListener("click", () => {
        hidden.has(s.key) ? hidden.delete(s.key) : hidden.add(s.key);
        button.setAttribute("aria-pressed", String(!hidden.has(s.key)));
        draw();
      });
    }

    function draw() {
      plot.replaceChildren();
      const width = plot.clientWidth || 800, heightPx = plot.clientHeight || 320;
      const margin = {top: 10, right: 10, bottom: 52, left: 46};
      const inner = {w: width - margin.left - margin.right, h: heightPx - margin.top - margin.bottom};
      const shown = series.filter((s) => !hidden.has(s.key));
      // null is "no data" (no coverage loaded): not drawn, never drawn as 0
      const tops = mode === "stacked"
        ? labels.map((_, i) => shown.reduce((sum, s) => sum + (s.values[i] ?? 0), 0))
        : shown.flatMap((s) => s.values.filter((v) => v !== null));
      const step = niceStep(Math.max(1, ...tops));
      const yMax = Math.ceil(Math.max(1, ...tops) / step) * step;
      const y = (value) => margin.top + inner.h * (1 - value / yMax);
      const band = inner.w / Math.max(1, labels.length);
      const x = (i) => margin.left + band * (i + 0.5);

      const grid = svg("g", {class: "grid"}, plot);
      for (let value = 0; value <= yMax; value += step) {
        svg("line", {x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value)}, grid);
        svg("text", {x: margin.left - 6, y: y(value) + 4, "text-anchor": "end"}, grid, String(value));
      }
      const every = Math.max(1, Math.ceil(16 / band));
      labels.forEach((label, i) => {
        if (i % every) return;
        svg("text", {x: x(i), y: heightPx - margin.bottom + 14, "text-anchor": "end",
                     transform: `rotate(-40 ${x(i)} ${heightPx - margin.bottom + 14})`}, plot, label);
      });

      const breaks = new Set();
      for (const gap of gaps) {
        const i = labels.indexOf(gap.before);
        if (i < 1) continue;
        breaks.add(i);
        const missing = gap.missing.length > 1
          ? `${gap.missing[0]}–${gap.missing[gap.missing.length - 1]}` : gap.missing[0];
        const mark = svg("g", {class: "gap", "data-missing": missing}, plot);
        const at = x(i) - band / 2;
        svg("line", {x1: at, x2: at, y1: margin.top, y2: heightPx - margin.bottom}, mark);
        // the missing releases named along the line, reading downwards
        svg("text", {x: at + 4, y: margin.top + 4, transform: `rotate(90 ${at + 4} ${margin.top + 4})`},
            mark, `no data: ${missing}`);
        svg("title", {}, mark, `no data: ${missing} not loaded (no spec)`);
      }

      if (mode === "line") {
        for (const s of shown) {
          const known = s.values.map((v, i) => [v, i]).filter(([v]) => v !== null);
          // a line never crosses a gap: one piece between two gaps
          const pieces = [];
          for (const [v, i] of known) {
            if (!pieces.length || breaks.has(i)) pieces.push([]);
            pieces[pieces.length - 1].push([v, i]);
          }
          for (const piece of pieces) {
            const points = piece.map(([v, i]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
            const [first, last] = [piece[0][1], piece[piece.length - 1][1]];
            svg("path", {class: "area", fill: s.color,
                         d: `M${x(first)},${y(0)}L${points.join("L")}L${x(last)},${y(0)}Z`}, plot);
            svg("path", {class: "line", stroke: s.color, d: `M${points.join("L")}`}, plot);
          }
          s.values.forEach((v, i) => {
            if (v === null) return;
            const point = svg("circle", {class: "point", cx: x(i), cy: y(v), r: 3.5, fill: s.color,
                                         "data-series": s.key, "data-label": labels[i], "data-value": v},
                              plot);
            svg("title", {}, point, `${labels[i]}: ${v} ${s.label}`);
          });
        }
        return;
      }
      const barWidth = band * 0.8 / (mode === "stacked" ? 1 : Math.max(1, shown.length));
      labels.forEach((label, i) => {
        let base = 0;
        shown.forEach((s, k) => {
          const v = s.values[i];
          if (v === null) return;
          const left = x(i) - band * 0.4 + (mode === "stacked" ? 0 : k * barWidth);
          const top = mode === "stacked" ? base + v : v;
          const rect = svg("rect", {class: "bar", x: left.toFixed(1), width: Math.max(1, barWidth - 1).toFixed(1),
                                    y: y(top).toFixed(1), height: (y(top - v) - y(top)).toFixed(1),
                                    fill: s.color, "data-series": s.key, "data-label": label,
                                    "data-value": v}, plot);
          svg("title", {}, rect, `${label}: ${v} ${s.label}`);
          if (mode === "stacked") base = top;
        });
      });
    }

    draw();
    return draw;
  }

  function progressCharts(data) {
    const releases = data.progress.map((row) => row.release);
    const column = (rows, key) => rows.map((row) => row[key]);
    const p = (key) => column(data.progress, key);
    const c = (key) => column(data.coverage_per_release, key);
    return [
      chart(document.getElementById("chart-totals"), releases, [
        {key: "total_endpoints", label: "eligible endpoints", color: "#8c959f", values: p("total_endpoints")},
        {key: "total_tested_endpoints", label: "tested by conformance tests", color: "#2da44e",
         values: p("total_tested_endpoints")},
      ], "line", data.progress_gaps),
      chart(document.getElementById("chart-new"), releases, [
        {key: "new_endpoints", label: "new endpoints", color: "#8c959f", values: p("new_endpoints")},
        {key: "new_endpoints_covered_by_new_tests", label: "new, covered by new tests", color: "#2da44e",
         values: p("new_endpoints_covered_by_new_tests")},
        {key: "new_endpoints_covered_by_old_tests", label: "new, covered by old tests", color: "#1f6feb",
         values: p("new_endpoints_covered_by_old_tests")},
        {key: "old_endpoints_covered_by_new_tests", label: "old, covered by new tests", color: "#8250df",
         values: p("old_endpoints_covered_by_new_tests")},
      ], "bars", data.progress_gaps),
      chart(document.getElementById("chart-debt"), data.coverage_per_release.map((row) => row.release), [
        {key: "tested", label: "tested today", color: "#2da44e", values: c("tested")},
        {key: "untested", label: "untested today (debt)", color: "#ff8182", values: c("untested")},
      ], "stacked", data.coverage_per_release_gaps),
    ];
  }

  // ---- forms and the live page ----------------------------------------------------

  function autosubmit(form) {
    // Blank filters are left out of the URL, so links to a filtered table stay short.
    form.addEventListener("submit", () => {
      const blank = [...form.elements].filter((field) => field.name && field.value === "");
      blank.forEach((field) => { field.disabled = true; });
      setTimeout(() => blank.forEach((field) => { field.disabled = false; }));
    });
    form.querySelectorAll("select").forEach((select) => {
      select.addEventListener("change", () => form.requestSubmit());
    });
  }

  function liveRefresh(button) {
    const stamp = document.getElementById("updated");
    stamp.textContent = `as of ${new Date().toLocaleTimeString()}`;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const response = await fetch(window.location.href, {cache: "no-store"});
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = response.ok && page.getElementById("live-content");
        if (fresh) {
          document.getElementById("live-content").replaceWith(fresh);
          stamp.textContent = `as of ${new Date().toLocaleTimeString()}`;
        } else {
          stamp.textContent = `refresh failed: HTTP ${response.status}`;
        }
      } catch (error) {
        stamp.textContent = `refresh failed: ${error.message}`;
      } finally {
        button.disabled = false;
      }
    });
  }

  function init() {
    const script = document.getElementById("page-data");
    const data = script ? JSON.parse(script.textContent) : null;
    const redraws = [];
    // no sunburst where the release has no coverage data: every ring would be empty
    if (data && data.sunburst && data.coverage !== "no data") {
      sunburst(document.getElementById("sunburst"), document.getElementById("sunburst-focus"),
               data.sunburst);
    }
    if (data && data.progress) redraws.push(...progressCharts(data));
    document.querySelectorAll("form[data-autosubmit]").forEach(autosubmit);
    const refresh = document.getElementById("refresh");
    if (refresh) liveRefresh(refresh);
    let pending = null;
    window.addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(() => redraws.forEach((redraw) => redraw()), 150);
    });
    // What the browser tests and the benchmark wait for: the page is drawn.
    performance.mark("dashboard-ready");
    document.body.dataset.ready = "true";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

// The live charts of `rightsizer run --web`: polls ./stats once a second and draws per task
// CPU % and memory % (of the reservation) on canvases, each alarm on that metric as a dashed
// threshold line, and the tasks' and alarms' tables. No library, no network beyond ./stats.
"use strict";
(function () {
  const POLL_MS = 1000;
  const WINDOW_S = 300; // the charts show the last five minutes at most,
  const MIN_WINDOW_S = 60; // and at least a minute, so a young run fills the width
  const STALE_S = 5;
  const COLORS = ["#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#558b2f", "#ad1457", "#4e342e"];
  const SYMBOLS = {
    GreaterThanThreshold: ">",
    GreaterThanOrEqualToThreshold: ">=",
    LessThanThreshold: "<",
    LessThanOrEqualToThreshold: "<=",
  };
  const CHARTS = [
    { canvas: "cpu-chart", field: "cpu", metric: "CPUUtilization" },
    { canvas: "memory-chart", field: "memory", metric: "MemoryUtilization" },
  ];

  if (new URLSearchParams(location.search).has("embed")) {
    document.body.classList.add("embed");
  }

  const color = (index) => COLORS[index % COLORS.length];
  const fixed = (value, digits) =>
    value === null || value === undefined ? "-" : value.toFixed(digits);
  const clock = (epoch) => (epoch ? new Date(epoch * 1000).toLocaleTimeString() : "-");

  function cell(row, content, className) {
    const td = row.insertCell();
    if (content instanceof Node) td.appendChild(content);
    else td.textContent = content;
    if (className) td.className = className;
    return td;
  }

  function badge(text, className) {
    const span = document.createElement("span");
    span.textContent = text;
    span.className = className;
    return span;
  }

  // The table's emptied body, with a one-cell row saying `empty` when there are no rows.
  function fill(tableId, rows, empty, columns) {
    const body = document.querySelector(`#${tableId} tbody`);
    body.replaceChildren();
    if (!rows.length) cell(body.insertRow(), empty).colSpan = columns;
    return body;
  }

  function showTasks(doc) {
    const body = fill("tasks", doc.tasks, "no tasks of this run to show (a --host target)", 4);
    const order = Object.keys(doc.series);
    doc.tasks.forEach((task) => {
      const row = body.insertRow();
      row.dataset.task = String(task.id);
      const name = document.createElement("span");
      const swatch = badge("", "swatch");
      swatch.style.background = color(Math.max(0, order.indexOf(String(task.id))));
      name.append(swatch, `task ${task.id}`);
      cell(row, name);
      cell(row, fixed(task.cpu_utilization, 1), "num cpu");
      cell(row, fixed(task.memory_utilization, 1), "num memory");
      const word = task.healthy === null ? "unknown" : task.healthy ? "healthy" : "unhealthy";
      cell(row, word, task.healthy === false ? "unhealthy" : "healthy");
    });
    const hosts = document.getElementById("healthy-hosts");
    hosts.textContent =
      doc.healthy_hosts === null ? "healthy hosts: -" : `healthy hosts: ${doc.healthy_hosts} of ${doc.tasks.length}`;
  }

  function showAlarms(doc) {
    const body = fill("alarms", doc.alarms, "no alarms", 5);
    doc.alarms.forEach((alarm) => {
      const row = body.insertRow();
      row.dataset.alarm = alarm.name;
      row.dataset.state = alarm.state;
      cell(row, alarm.name);
      cell(row, badge(alarm.state, `state state-${alarm.state}`));
      const threshold =
        typeof alarm.threshold === "number"
          ? `${alarm.statistic} ${alarm.metric} ${SYMBOLS[alarm.comparison] || alarm.comparison} ${alarm.threshold}`
          : "-";
      cell(row, threshold);
      cell(row, clock(alarm.since));
      cell(row, alarm.reason || "-", "reason");
    });
  }

  function draw(chart, doc) {
    const canvas = document.getElementById(chart.canvas);
    const ctx = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    const pad = { left: 46, right: 12, top: 12, bottom: 22 };
    const end = doc.sampled_at || doc.time;
    const ids = Object.keys(doc.series);
    const first = Math.min(end, ...ids.map((id) => doc.series[id].t[0]));
    const span = Math.min(WINDOW_S, Math.max(MIN_WINDOW_S, end - first));
    const start = end - span;
    const lines = doc.alarms.filter((a) => a.metric === chart.metric && typeof a.threshold === "number");
    let peak = 0;
    ids.forEach((id) => doc.series[id][chart.field].forEach((v) => { if (v !== null) peak = Math.max(peak, v); }));
    lines.forEach((a) => { peak = Math.max(peak, a.threshold); });
    const want = Math.max(100, peak * 1.05); // 100 % always shows; higher when a task is above
    const step = want <= 125 ? 25 : want <= 250 ? 50 : 100; // round ticks
    const top = Math.ceil(want / step) * step;
    const x = (t) => pad.left + ((t - start) / span) * (w - pad.left - pad.right);
    const y = (v) => h - pad.bottom - (v / top) * (h - pad.top - pad.bottom);

    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#e6e6e6";
    ctx.fillStyle = "#666";
    for (let v = 0; v <= top; v += step) {
      ctx.beginPath();
      ctx.moveTo(pad.left, y(v));
      ctx.lineTo(w - pad.right, y(v));
      ctx.stroke();
      ctx.fillText(`${v.toFixed(0)}%`, 6, y(v) + 4);
    }
    const every = span <= 60 ? 10 : span <= 120 ? 20 : 60; // seconds between time labels
    for (let ago = 0; ago <= span; ago += every) {
      const label = ago === 0 ? "now" : every < 60 ? `-${ago} s` : `-${ago / 60} min`;
      ctx.fillText(label, x(end - ago) - 14, h - 6);
    }
    ids.forEach((id, index) => {
      const series = doc.series[id];
      ctx.strokeStyle = color(index);
      ctx.lineWidth = 2;
      ctx.beginPath();
      let drawing = false;
      series.t.forEach((t, k) => {
        const v = series[chart.field][k];
        if (v === null || t < start) {
          drawing = false;
          return;
        }
        if (drawing) ctx.lineTo(x(t), y(v));
        else ctx.moveTo(x(t), y(v));
        drawing = true;
      });
      ctx.stroke();
    });
    legend(ctx, ids, w - pad.right, pad.top);
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = "#c62828";
    ctx.fillStyle = "#c62828";
    ctx.lineWidth = 1.5;
    lines.forEach((a) => {
      ctx.beginPath();
      ctx.moveTo(pad.left, y(a.threshold));
      ctx.lineTo(w - pad.right, y(a.threshold));
      ctx.stroke();
      ctx.fillText(`${a.name} (${a.state}) ${a.threshold}%`, pad.left + 6, y(a.threshold) - 4);
    });
    ctx.setLineDash([]);
    const latest = doc.tasks.map((t) => `task ${t.id} ${fixed(t[`${chart.field}_utilization`], 1)}%`);
    const marks = lines.map((a) => `threshold ${a.name} ${a.threshold}%`);
    canvas.setAttribute("aria-label", [...latest, ...marks].join("; ") || "no data yet");
  }

  // One swatch and name per task, right-aligned at (right, top).
  function legend(ctx, ids, right, top) {
    ctx.font = "12px system-ui, sans-serif";
    let x = right;
    [...ids].reverse().forEach((id) => {
      const label = `task ${id}`;
      x -= ctx.measureText(label).width + 22;
      ctx.fillStyle = color(ids.indexOf(id));
      ctx.fillRect(x, top, 10, 10);
      ctx.fillStyle = "#333";
      ctx.fillText(label, x + 14, top + 10);
    });
    ctx.font = "11px system-ui, sans-serif";
  }

  function status(message, stale) {
    const node = document.getElementById("status");
    node.textContent = message;
    node.classList.toggle("stale", stale);
  }

  async function poll() {
    try {
      const reply = await fetch("stats", { cache: "no-store", credentials: "same-origin" });
      if (reply.status === 401) {
        status("login required", true);
        return;
      }
      if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
      const doc = await reply.json();
      showTasks(doc);
      showAlarms(doc);
      CHARTS.forEach((chart) => draw(chart, doc));
      const age = doc.sampled_at ? doc.time - doc.sampled_at : null;
      if (age !== null && age > STALE_S) status(`fleet last sampled ${age.toFixed(0)} s ago`, true);
      else status(`updated ${clock(doc.time)}`, false);
    } catch (error) {
      status(`no answer from the run (${error.message})`, true);
    }
  }

  poll();
  setInterval(poll, POLL_MS);
})();

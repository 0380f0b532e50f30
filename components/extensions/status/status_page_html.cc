// The status page: one HTML document with its style and script inline, so it needs nothing but
// otlpd (no framework, no CDN; it works offline). The script polls /status.json every second
// and redraws; rates are the difference between two polls. status_page.h describes what it
// shows; apps/otlpd/status_page_e2e_test.cc loads it in a headless Chromium.

#include "components/extensions/status/status_page.h"

namespace components {

const char kStatusPageHtml[] = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>otlpd status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f4f6f8; }
  header { background: #1b2a3a; color: #fff; padding: 10px 20px; display: flex; gap: 16px;
           align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 20px; margin: 0; }
  main { padding: 10px 20px 40px; }
  section { background: #fff; border: 1px solid #d8dee4; border-radius: 6px; margin: 12px 0;
            padding: 10px 14px; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  .pill { padding: 1px 8px; border-radius: 10px; background: #2d7d46; }
  .pill.starting, .pill.stopping { background: #b8860b; }
  .pipeline { margin: 8px 0 14px; }
  .pipeline h3 { font-size: 14px; margin: 0 0 6px; }
  .flow { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  .column { display: flex; flex-direction: column; gap: 6px; }
  .arrow { font-size: 22px; color: #57606a; }
  .box { border: 1px solid #8c959f; border-radius: 5px; padding: 6px 10px; min-width: 170px;
         background: #fafbfc; }
  .box.receiver { border-left: 4px solid #0969da; }
  .box.processor { border-left: 4px solid #8250df; }
  .box.exporter { border-left: 4px solid #1a7f37; }
  .box .name { font-weight: 600; }
  .box .kind { color: #57606a; font-size: 12px; }
  .row { display: flex; justify-content: space-between; gap: 10px; font-size: 12px; }
  .bad { color: #cf222e; }
  .bar { height: 8px; background: #d8dee4; border-radius: 4px; overflow: hidden; margin: 3px 0; }
  .bar > div { height: 100%; background: #0969da; }
  .bar.warn > div { background: #bf8700; }
  .bar.full > div { background: #cf222e; }
  table { border-collapse: collapse; font-size: 13px; }
  td, th { padding: 3px 10px; border-bottom: 1px solid #eaeef2; text-align: left; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  pre { font-size: 12px; max-height: 420px; overflow: auto; background: #f6f8fa; padding: 8px; }
  #error { color: #cf222e; }
</style>
</head>
<body>
<header>
  <h1>otlpd</h1>
  <span id="version"></span>
  <span id="phase" class="pill"></span>
  <span id="uptime"></span>
  <span id="updated"></span>
  <span id="error"></span>
</header>
<main>
  <section><h2>Memory</h2><div id="memory"></div></section>
  <section><h2>Pipelines</h2><div id="pipelines">loading…</div></section>
  <section><h2>Channels</h2><table id="channels"></table></section>
  <section><h2>Runtime</h2><div id="runtime"></div></section>
  <section><h2>Goroutines</h2><div id="goroutine-summary"></div><pre id="goroutines"></pre></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let previous = null;  // {at, totals}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;",
    '"': "&quot;", "'": "&#39;"}[c]));
}
function fmt(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  if (Math.abs(n) >= 1e9) return (n / 1e9).toFixed(2) + "G";
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(2) + "M";
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
function exact(n) {  // totals: every digit, grouped
  return n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US");
}
function bytes(n) {
  if (!n) return "0 B";
  const u = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + " " + u[i];
}
function seconds(s) {
  if (s === null || s === undefined) return "–";
  return s < 1 ? (s * 1000).toFixed(s < 0.01 ? 2 : 1) + " ms" : s.toFixed(2) + " s";
}
function bar(fraction) {
  const f = Math.max(0, Math.min(1, fraction || 0));
  const cls = f >= 0.9 ? "bar full" : f >= 0.6 ? "bar warn" : "bar";
  return `<div class="${cls}"><div style="width:${(f * 100).toFixed(1)}%"></div></div>`;
}

// Sum of every sample of the metrics whose name starts with `prefix` and whose labels have
// `key` = `value` (key null: all samples).
// null when no such sample exists (a component that does not count it).
function total(data, prefix, key, value) {
  let sum = null;
  for (const m of data.metrics) {
    if (!m.name.startsWith(prefix) || m.kind === "histogram") continue;
    for (const s of m.samples) {
      if (key === null || s.labels[key] === value) sum = (sum || 0) + s.value;
    }
  }
  return sum;
}
function gauge(data, name, key, value) {
  const m = data.metrics.find((x) => x.name === name);
  if (!m) return null;
  const s = m.samples.find((x) => key === null || x.labels[key] === value);
  return s ? s.value : null;
}
// Percentile q of a cumulative histogram, interpolated inside its bucket.
function percentile(h, q) {
  if (!h || !h.count) return null;
  const rank = q * h.count;
  let below = 0;
  for (let i = 0; i < h.cumulative.length; i++) {
    if (h.cumulative[i] >= rank) {
      const lo = i === 0 ? 0 : h.bounds[i - 1];
      const hi = i < h.bounds.length ? h.bounds[i] : h.bounds[h.bounds.length - 1];
      const inside = h.cumulative[i] - below;
      return inside > 0 ? lo + (hi - lo) * (rank - below) / inside : hi;
    }
    below = h.cumulative[i];
  }
  return null;
}
function histogram(data, name, key, value) {
  const m = data.metrics.find((x) => x.name === name);
  if (!m) return null;
  const hs = m.samples.filter((x) => key === null || x.labels[key] === value);
  if (!hs.length) return null;
  const out = {bounds: hs[0].bounds, cumulative: hs[0].cumulative.map(() => 0), count: 0, sum: 0};
  for (const h of hs) {
    h.cumulative.forEach((c, i) => { out.cumulative[i] += c; });
    out.count += h.count;
    out.sum += h.sum;
  }
  return out;
}

function rate(key, now, dt) {
  if (now === null || !previous || previous.totals[key] == null || dt <= 0) return null;
  return Math.max(0, (now - previous.totals[key]) / dt);
}

function box(kind, id, rows) {
  const body = rows.map((r) => `<div class="row"><span>${r[0]}</span>` +
    `<span class="${r[2] || ""}" data-testid="${kind}-${esc(id)}-${r[3] || ""}">${r[1]}</span></div>`).join("");
  return `<div class="box ${kind}" data-component="${kind}/${esc(id)}"><div class="name">${esc(id)}</div>` +
    `<div class="kind">${kind}</div>${body}</div>`;
}

function render(data) {
  const at = performance.now() / 1000;
  const dt = previous ? at - previous.at : 0;
  const totals = {};
  $("version").textContent = "v" + data.version;
  $("phase").textContent = data.phase;
  $("phase").className = "pill " + data.phase;
  $("uptime").textContent = "up " + Math.round(data.uptime_seconds) + " s";
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  $("error").textContent = "";

  // Memory against the limiter's limit.
  const rss = gauge(data, "otelcol_process_memory_rss", null);
  const used = gauge(data, "otlpd_admission_bytes_in_use", null);
  const limit = gauge(data, "otlpd_admission_bytes_limit", null);
  $("memory").innerHTML =
    `<div class="row"><span>resident memory</span><span data-testid="memory-rss">${bytes(rss)}</span></div>` +
    `<div class="row"><span>telemetry held (memory_limiter's budget)</span><span data-testid="memory-used">${bytes(used)}` +
    `${limit ? " of " + bytes(limit) : " (no limit)"}</span></div>` + (limit ? bar(used / limit) : "");

  // Pipelines: receivers -> processors -> exporters.
  const parts = [];
  for (const p of data.pipelines) {
    const receivers = p.receivers.map((id) => {
      const acc = total(data, "otelcol_receiver_accepted_", "receiver", id);
      const ref = total(data, "otelcol_receiver_refused_", "receiver", id);
      totals["r/a/" + id] = acc; totals["r/r/" + id] = ref;
      return box("receiver", id, [
        ["accepted/s", fmt(rate("r/a/" + id, acc, dt)), "", "accepted-rate"],
        ["accepted", exact(acc), "", "accepted"],
        ["refused", exact(ref), ref > 0 ? "bad" : "", "refused"]]);
    }).join("");
    const processors = p.processors.map((id) => {
      const rows = [];
      for (const m of data.metrics) {
        if (m.kind !== "counter" || !m.name.startsWith("otelcol_processor_")) continue;
        const v = m.samples.filter((s) => s.labels.processor === id).reduce((a, s) => a + s.value, 0);
        if (m.samples.some((s) => s.labels.processor === id)) {
          rows.push([m.name.replace(/^otelcol_processor_(batch_)?/, "").replace(/_/g, " "), exact(v), "", m.name]);
        }
      }
      return box("processor", id, rows);
    }).join(`<span class="arrow">→</span>`);
    const exporters = p.exporters.map((id) => {
      const sent = total(data, "otelcol_exporter_sent_", "exporter", id);
      const sendFailed = total(data, "otelcol_exporter_send_failed_", "exporter", id);
      const enqueueFailed = total(data, "otelcol_exporter_enqueue_failed_", "exporter", id);
      const failed = sendFailed === null && enqueueFailed === null ? null :
        (sendFailed || 0) + (enqueueFailed || 0);
      totals["e/s/" + id] = sent;
      const size = gauge(data, "otelcol_exporter_queue_size", "exporter", id);
      const cap = gauge(data, "otelcol_exporter_queue_capacity", "exporter", id);
      const lat = histogram(data, "otlpd_exporter_latency_seconds", "exporter", id);
      const rows = [
        ["sent/s", fmt(rate("e/s/" + id, sent, dt)), "", "sent-rate"],
        ["sent", exact(sent), "", "sent"],
        ["failed", exact(failed), failed > 0 ? "bad" : "", "failed"]];
      if (lat && lat.count) {
        rows.push(["latency p50 / p99", seconds(percentile(lat, 0.5)) + " / " +
          seconds(percentile(lat, 0.99)), "", "latency"]);
      }
      if (cap) rows.push(["queue", fmt(size) + " / " + fmt(cap), "", "queue"]);
      return box("exporter", id, rows).replace(/<\/div>$/, (cap ? bar(size / cap) : "") + "</div>");
    }).join("");
    parts.push(`<div class="pipeline" data-pipeline="${esc(p.id)}"><h3>${esc(p.id)}</h3><div class="flow">` +
      `<div class="column">${receivers}</div><span class="arrow">→</span>` +
      (processors ? `${processors}<span class="arrow">→</span>` : "") +
      `<div class="column">${exporters}</div></div></div>`);
  }
  $("pipelines").innerHTML = parts.join("") || "no pipelines";

  // Channels: each pipeline's entrance and each exporter's sending queue.
  const rows = ["<tr><th>channel</th><th>length</th><th>capacity</th><th>fill</th></tr>"];
  const inside = data.metrics.find((m) => m.name === "otlpd_pipeline_batches_inside");
  for (const s of inside ? inside.samples : []) {
    const cap = gauge(data, "otlpd_pipeline_batches_capacity", "pipeline", s.labels.pipeline);
    rows.push(`<tr><td>pipeline ${esc(s.labels.pipeline)} (batches inside)</td><td class="num">${fmt(s.value)}</td>` +
      `<td class="num">${fmt(cap)}</td><td>${bar(cap ? s.value / cap : 0)}</td></tr>`);
  }
  for (const c of data.channels || []) {
    rows.push(`<tr data-channel="${esc(c.name)}"><td>${esc(c.name)}${c.closed ? " (closed)" : ""}</td>` +
      `<td class="num">${fmt(c.length)}</td><td class="num">${fmt(c.capacity)}</td>` +
      `<td>${bar(c.capacity ? c.length / c.capacity : 0)} ${c.senders} sending, ${c.receivers} receiving</td></tr>`);
  }
  $("channels").innerHTML = rows.join("");

  // The runtime.
  const rt = data.runtime;
  $("runtime").innerHTML =
    `<div class="row"><span>goroutines</span><span data-testid="goroutines">${rt.goroutines}</span></div>` +
    `<div class="row"><span>running / runnable / parked</span><span>${rt.running} / ${rt.runnable} / ${rt.parked}</span></div>` +
    `<div class="row"><span>workers</span><span>${rt.workers} (queues: ${rt.per_worker.map((w) => w.queue).join(", ")}; ` +
    `global ${rt.global_queue})</span></div>`;
  const groups = data.goroutine_groups || [];
  $("goroutine-summary").innerHTML =
    `<div class="row"><span>${data.goroutine_count} goroutines, by where they started and what they wait on</span></div>` +
    `<table><tr><th>count</th><th>state</th><th>started at</th><th>longest wait</th></tr>` +
    groups.map((g) => `<tr><td class="num">${g.count}</td><td>${esc(g.state)}` +
      `${g.channel ? " (" + esc(g.channel) + ")" : ""}</td><td>${esc(g.origin)}</td>` +
      `<td class="num">${g.longest_wait_seconds ? Math.round(g.longest_wait_seconds) + " s" : ""}</td></tr>`).join("") +
    `</table>`;
  $("goroutines").textContent = (data.goroutines || []).map((g) =>
    `goroutine ${g.id} [${g.state}${g.channel ? " on " + g.channel : ""}` +
    `${g.waiting_seconds >= 1 ? ", " + Math.round(g.waiting_seconds) + " s" : ""}]:\n` +
    `    started at ${g.origin}, ${Math.round(g.age_seconds)} s ago`).join("\n\n");
  previous = {at, totals};
}

async function poll() {
  try {
    const response = await fetch("status.json", {cache: "no-store"});
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
  } catch (e) {
    $("error").textContent = "cannot reach otlpd: " + e.message;
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
)html";

}  // namespace components

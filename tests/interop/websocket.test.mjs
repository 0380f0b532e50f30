// websocket.test.mjs — OTLP over WebSocket with clients nobody here wrote:
//  - Node's `ws` package (npm) sending the OpenTelemetry JS SDK's own encodings of spans (its
//    protobuf and JSON serializers), pipelined, with permessage-deflate, plus bad input, an
//    oversized message and a foreign Origin, each with the answer or close code it must get;
//  - a page in headless Chromium using the browser's own WebSocket API to send OTLP/JSON;
//  - otlpd → otlpd: one otlpd's `otlp_websocket` exporter feeding another's receiver.
// Every span sent must appear exactly once in the file exporter's output.
//
//   node --test tests/interop/websocket.test.mjs   (tests/interop/run runs it with the rest)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import traceBase from '@opentelemetry/sdk-trace-base';
import transformer from '@opentelemetry/otlp-transformer';
import { notOtlpd, startOtlpd, until } from './otlpd.mjs';

const CHROMIUM = '/usr/bin/chromium';
const skip = notOtlpd;

async function readyPort(otlpd, component) {
  await until(() => /^otlpd: ready/m.test(otlpd.stdout), '"otlpd: ready"');
  const m = otlpd.stdout.match(new RegExp(`^otlpd: listening ${component} http 127\\.0\\.0\\.1:(\\d+)$`, 'm'));
  assert.ok(m, `no "otlpd: listening ${component} http" line in:\n${otlpd.stdout}`);
  return Number(m[1]);
}

async function stop(otlpd) {
  otlpd.child.kill('SIGTERM');
  const exit = await otlpd.exit;
  assert.equal(exit.code, 0, `otlpd exited with ${JSON.stringify(exit)}\n${otlpd.stderr}`);
}

// span name -> how many times it is in the file exporter's OTLP/JSON lines.
function spanCounts(file) {
  const counts = new Map();
  if (!existsSync(file)) return counts;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    for (const rs of JSON.parse(line).resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) counts.set(span.name, (counts.get(span.name) ?? 0) + 1);
      }
    }
  }
  return counts;
}

function spanAttributes(file, name) {
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    for (const rs of JSON.parse(line).resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          if (span.name === name) return Object.fromEntries((span.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
        }
      }
    }
  }
  return null;
}

// Finished spans from the SDK, named prefix-0, prefix-1, ...
function makeSpans(prefix, n) {
  const exporter = new traceBase.InMemorySpanExporter();
  const provider = new traceBase.BasicTracerProvider({ spanProcessors: [new traceBase.SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('websocket-interop', '1.0.0');
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan(`${prefix}-${i}`, { attributes: { 'test.index': i } });
    span.end();
  }
  return exporter.getFinishedSpans();
}

const protobufOf = (spans) => Buffer.from(transformer.ProtobufTraceSerializer.serializeRequest(spans));
const jsonOf = (spans) => Buffer.from(transformer.JsonTraceSerializer.serializeRequest(spans)).toString('utf8');

function withTemp(prefix, body) {
  return async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    const procs = [];
    let passed = false;
    try {
      await body(t, dir, (config) => {
        const p = startOtlpd(config, dir);
        procs.push(p);
        return p;
      });
      passed = true;
    } finally {
      for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
      if (passed) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      else for (const p of procs) t.diagnostic(`kept ${dir}\n--- otlpd stdout ---\n${p.stdout}\n--- otlpd stderr ---\n${p.stderr}`);
    }
  };
}

function receiverConfig(dir, out, extra = '') {
  const config = path.join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(config, `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
        cors: {allowed_origins: ["http://127.0.0.1:*"]}
        websocket: {window: 8, max_message_size: 256KiB}
exporters:
  file: {path: ${JSON.stringify(out)}, flush_interval: 100ms}
${extra}service:
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
`);
  return config;
}

function open(url, options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode })));
    ws.once('error', reject);
  });
}

// Sends every message at once, then collects as many answers, in order.
function exchange(ws, messages) {
  return new Promise((resolve, reject) => {
    const answers = [];
    const onMessage = (data, isBinary) => {
      answers.push({ data, isBinary });
      if (answers.length === messages.length) {
        ws.off('message', onMessage);
        resolve(answers);
      }
    };
    ws.on('message', onMessage);
    ws.once('close', (code) => reject(new Error(`closed with ${code} after ${answers.length} answers`)));
    for (const m of messages) ws.send(m);
  });
}

const closed = (ws) => new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

test('ws (npm) -> otlpd over WebSocket: the SDK\'s protobuf and JSON, pipelined, deflated, and bad input', { skip, timeout: 180_000 }, withTemp('otlpd-ws-', async (t, dir, start) => {
  const out = path.join(dir, 'out.json');
  const otlpd = start(receiverConfig(dir, out));
  const port = await readyPort(otlpd, 'otlp');
  const url = `ws://127.0.0.1:${port}/v1/traces`;

  const ws = await open(url, { perMessageDeflate: { threshold: 0 } });
  assert.match(ws.extensions, /permessage-deflate/, 'deflate was negotiated');
  // 24 protobuf requests of 5 spans and 6 JSON requests of 5 spans, all sent before any answer.
  const messages = [];
  for (let i = 0; i < 24; i++) messages.push(protobufOf(makeSpans(`ws-proto-${i}`, 5)));
  for (let i = 0; i < 6; i++) messages.push(jsonOf(makeSpans(`ws-json-${i}`, 5)));
  const answers = await exchange(ws, messages);
  for (let i = 0; i < 24; i++) {
    assert.equal(answers[i].isBinary, true, `answer ${i} is binary like its request`);
    assert.ok(answers[i].data.length === 0 || answers[i].data[0] === 0x0a, 'an ExportTraceServiceResponse, not a Status');
  }
  for (let i = 24; i < 30; i++) {
    assert.equal(answers[i].isBinary, false, `answer ${i} is text like its request`);
    assert.equal(answers[i].data.toString(), '{}');
  }

  // Not OTLP: answered INVALID_ARGUMENT (3) in the request's encoding; the connection stays.
  const [badText, badBinary] = await exchange(ws, ['{"resourceSpans": "nope"}', Buffer.from([0xff, 0xff, 0xff, 0x01])]);
  assert.equal(JSON.parse(badText.data.toString()).code, 3);
  assert.equal(badBinary.isBinary, true);
  assert.equal(badBinary.data[0], 0x08, 'a google.rpc.Status (field 1, the code)');
  assert.equal(badBinary.data[1], 3);
  const [late] = await exchange(ws, [protobufOf(makeSpans('ws-after-bad', 1))]);
  assert.equal(late.isBinary, true);

  // Over max_message_size (256 KiB): closed with 1009.
  const big = await open(url);
  const bigClosed = closed(big);
  big.send(Buffer.alloc(300 * 1024, 1));
  assert.equal((await bigClosed).code, 1009);

  // A browser page from an origin not in cors.allowed_origins is refused before the upgrade.
  await assert.rejects(open(url, { origin: 'http://evil.test' }), (e) => e.statusCode === 403);

  const byeClosed = closed(ws);
  ws.close(1000, 'done');
  assert.equal((await byeClosed).code, 1000);
  await stop(otlpd);
  const counts = spanCounts(out);
  for (let i = 0; i < 24; i++) for (let j = 0; j < 5; j++) assert.equal(counts.get(`ws-proto-${i}-${j}`), 1, `ws-proto-${i}-${j}`);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 5; j++) assert.equal(counts.get(`ws-json-${i}-${j}`), 1, `ws-json-${i}-${j}`);
  assert.equal(counts.get('ws-after-bad-0'), 1);
  assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 151, 'nothing else, nothing twice');
}));

test('a page in headless Chromium sends OTLP/JSON over the browser\'s WebSocket', { skip: skip || (!existsSync(CHROMIUM) && 'no chromium'), timeout: 180_000 }, withTemp('otlpd-ws-chromium-', async (t, dir, start) => {
  const out = path.join(dir, 'out.json');
  const otlpd = start(receiverConfig(dir, out));
  const port = await readyPort(otlpd, 'otlp');
  // The page sends two requests, then a third whose span carries the answers it was given.
  const requests = [jsonOf(makeSpans('browser-a', 3)), jsonOf(makeSpans('browser-b', 2))];
  const page = `<!doctype html><meta charset="utf-8"><title>otlp over websocket</title><pre id="log"></pre>
<script>
const requests = ${JSON.stringify(requests)};
const log = (s) => { document.getElementById('log').textContent += s + '\\n'; };
const ws = new WebSocket('ws://127.0.0.1:${port}/v1/traces');
const answers = [];
ws.onopen = () => { for (const r of requests) ws.send(r); };
ws.onmessage = (event) => {
  answers.push(typeof event.data === 'string' ? event.data : 'binary');
  log('answer: ' + answers[answers.length - 1]);
  if (answers.length === requests.length) {
    const report = { resourceSpans: [{ scopeSpans: [{ spans: [{
      traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708', name: 'browser-report',
      kind: 1, startTimeUnixNano: '1', endTimeUnixNano: '2',
      attributes: [{ key: 'answers', value: { stringValue: answers.join('|') } },
                   { key: 'extensions', value: { stringValue: ws.extensions } }] }] }] }] };
    ws.send(JSON.stringify(report));
  }
  if (answers.length === requests.length + 1) ws.close(1000, 'done');
};
ws.onclose = (event) => log('closed ' + event.code);
</script>`;
  const server = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pageUrl = `http://127.0.0.1:${server.address().port}/`;
  const browser = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    `--user-data-dir=${path.join(dir, 'profile')}`, '--remote-debugging-port=0', pageUrl], { stdio: 'ignore', detached: true });
  const browserExit = new Promise((resolve) => browser.on('exit', resolve));
  try {
    await until(() => spanCounts(out).get('browser-report') === 1, 'the page\'s report span', 120_000);
  } finally {
    // Chromium's helper processes share its process group: end them all.
    try { process.kill(-browser.pid, 'SIGKILL'); } catch { browser.kill('SIGKILL'); }
    await browserExit;
    server.close();
  }
  await stop(otlpd);
  const counts = spanCounts(out);
  for (let j = 0; j < 3; j++) assert.equal(counts.get(`browser-a-${j}`), 1);
  for (let j = 0; j < 2; j++) assert.equal(counts.get(`browser-b-${j}`), 1);
  const report = spanAttributes(out, 'browser-report');
  assert.equal(report.answers, '{}|{}', 'the page got one success answer per request, as text');
  assert.match(report.extensions, /permessage-deflate/, 'Chromium negotiated deflate');
}));

test('otlpd -> otlpd over WebSocket: the otlp_websocket exporter feeds another otlpd', { skip, timeout: 180_000 }, withTemp('otlpd-ws-chain-', async (t, dir, start) => {
  const out = path.join(dir, 'out.json');
  const downstream = start(receiverConfig(dir, out));
  const downPort = await readyPort(downstream, 'otlp');
  const upConfig = path.join(dir, 'upstream.yaml');
  writeFileSync(upConfig, `receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
processors:
  batch: {timeout: 20ms, send_batch_size: 50}
exporters:
  otlp_websocket:
    endpoint: ws://127.0.0.1:${downPort}
    window: 4
service:
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp_websocket]}
`);
  const upstream = start(upConfig);
  const upPort = await readyPort(upstream, 'otlp');
  // 40 requests of 10 spans over plain OTLP/HTTP JSON into the first otlpd.
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`http://127.0.0.1:${upPort}/v1/traces`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonOf(makeSpans(`chain-${i}`, 10)),
    });
    assert.equal(res.status, 200);
  }
  await stop(upstream);  // flushes its batches through the WebSocket before exiting
  await stop(downstream);
  const counts = spanCounts(out);
  for (let i = 0; i < 40; i++) for (let j = 0; j < 10; j++) assert.equal(counts.get(`chain-${i}-${j}`), 1, `chain-${i}-${j}`);
  assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 400);
}));

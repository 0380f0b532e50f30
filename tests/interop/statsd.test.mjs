// statsd.test.mjs — hot-shots (a StatsD client from npm) as a real client of otlpd's `statsd`
// receiver: counters, gauges, timings, histograms, distributions and sets with DogStatsD tags
// go in over UDP; otlpd aggregates them per interval and its file exporter writes OTLP/JSON,
// which must hold exactly what was sent.
//
//   node --test tests/interop/statsd.test.mjs   (tests/interop/run runs it with the rest)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import StatsD from 'hot-shots';
import { notOtlpd, startOtlpd, until } from './otlpd.mjs';

const skip = notOtlpd;

// name -> [{kind, attributes: {k: v}, point}] from the file exporter's OTLP/JSON lines.
function readPoints(text) {
  const out = new Map();
  for (const line of text.split('\n').filter(Boolean)) {
    for (const rm of JSON.parse(line).resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          for (const kind of ['sum', 'gauge', 'summary', 'exponentialHistogram']) {
            for (const p of m[kind]?.dataPoints ?? []) {
              const attributes = Object.fromEntries((p.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
              if (!out.has(m.name)) out.set(m.name, []);
              out.get(m.name).push({ kind, attributes, point: p, metric: m });
            }
          }
        }
      }
    }
  }
  return out;
}

const num = (v) => (v === undefined ? 0 : Number(v));

test('hot-shots -> otlpd statsd receiver (UDP, DogStatsD tags) -> OTLP metrics', { skip, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'otlpd-statsd-'));
  const out = path.join(dir, 'out.json');
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, `receivers:
  statsd:
    endpoint: 127.0.0.1:0
    aggregation_interval: 200ms
    enable_metric_type: true
    is_monotonic_counter: true
    timer_histogram_mapping:
      - {statsd_type: timing, observer_type: summary, summary: {percentiles: [50, 100]}}
      - {statsd_type: histogram, observer_type: histogram}
exporters:
  file: {path: ${JSON.stringify(out)}, flush_interval: 100ms}
service:
  pipelines:
    metrics: {receivers: [statsd], exporters: [file]}
`);
  const otlpd = startOtlpd(config, dir);
  let passed = false;
  try {
    await until(() => /^otlpd: ready/m.test(otlpd.stdout), '"otlpd: ready"');
    const m = otlpd.stdout.match(/^otlpd: listening statsd udp 127\.0\.0\.1:(\d+)$/m);
    assert.ok(m, `no "otlpd: listening statsd udp" line in:\n${otlpd.stdout}`);

    const errors = [];
    const client = new StatsD({ host: '127.0.0.1', port: Number(m[1]), protocol: 'udp', globalTags: { service: 'checkout' }, errorHandler: (e) => errors.push(e) });
    const send = (fn, ...args) => new Promise((resolve, reject) => fn.call(client, ...args, (err) => (err ? reject(err) : resolve())));
    for (let i = 0; i < 10; i++) await send(client.increment, 'orders', 2, { region: 'eu' });
    await send(client.increment, 'orders', 5, { region: 'us' });
    await send(client.gauge, 'queue.depth', 42);
    for (const ms of [10, 20, 30, 40]) await send(client.timing, 'checkout.latency', ms);
    for (const v of [1, 2, 4, 1000]) await send(client.histogram, 'payload.bytes', v);
    for (const user of ['ann', 'bob', 'ann', 'cy']) await send(client.set, 'users', user);
    await new Promise((resolve) => client.close(resolve));
    assert.deepEqual(errors, []);

    // Past an interval or two the file holds every line's aggregate; then stop (a last flush).
    await new Promise((r) => setTimeout(r, 600));
    otlpd.child.kill('SIGTERM');
    const exit = await otlpd.exit;
    assert.equal(exit.code, 0, `otlpd exited with ${JSON.stringify(exit)}`);
    assert.ok(existsSync(out), 'the file exporter wrote nothing');
    const points = readPoints(readFileSync(out, 'utf8'));

    const orders = points.get('orders') ?? [];
    const sumFor = (region) => orders.filter((p) => p.attributes.region === region).reduce((s, p) => s + num(p.point.asInt), 0);
    assert.equal(sumFor('eu'), 20);
    assert.equal(sumFor('us'), 5);
    assert.ok(orders.every((p) => p.kind === 'sum' && p.metric.sum.isMonotonic === true &&
      [1, 'AGGREGATION_TEMPORALITY_DELTA'].includes(p.metric.sum.aggregationTemporality)), 'delta, monotonic sums');
    assert.ok(orders.every((p) => p.attributes.service === 'checkout' && p.attributes.metric_type === 'counter'), 'global and metric_type tags');

    const depth = points.get('queue.depth') ?? [];
    assert.equal(depth.length, 1);
    assert.equal(depth[0].point.asDouble, 42);

    const latency = points.get('checkout.latency') ?? [];
    assert.equal(latency.length, 1);
    assert.equal(num(latency[0].point.count), 4);
    assert.equal(latency[0].point.sum, 100);
    assert.deepEqual(latency[0].point.quantileValues.map((q) => [q.quantile ?? 0, q.value]), [[0.5, 20], [1, 40]]);

    const bytes = points.get('payload.bytes') ?? [];
    assert.equal(bytes.length, 1);
    assert.equal(bytes[0].kind, 'exponentialHistogram');
    assert.equal(num(bytes[0].point.count), 4);
    assert.equal(bytes[0].point.sum, 1007);
    assert.equal(bytes[0].point.positive.bucketCounts.reduce((s, n) => s + num(n), 0), 4);

    const users = points.get('users') ?? [];
    assert.equal(users.length, 1);
    assert.equal(num(users[0].point.asInt), 3);
    t.diagnostic(`verified ${[...points.values()].reduce((s, l) => s + l.length, 0)} data points from hot-shots`);
    passed = true;
  } finally {
    if (otlpd.child.exitCode === null) otlpd.child.kill('SIGKILL');
    if (passed) rmSync(dir, { recursive: true, force: true });
    else t.diagnostic(`kept ${dir}\n--- otlpd stdout ---\n${otlpd.stdout}\n--- otlpd stderr ---\n${otlpd.stderr}`);
  }
});

// check.mjs — compare a file exporter's OTLP/JSON output with the manifest emit.mjs wrote.
//
//   import { checkOutput } from './check.mjs';   checkOutput(manifest, fileText) -> summary
//   node check.mjs MANIFEST.json OUTPUT.json      (stand-alone, for debugging a kept run)
//
// The output is read as OTLP/JSON is specified: lowerCamelCase keys, trace/span ids as
// lowercase hex, 64-bit integers as decimal strings, enums and 32-bit integers as JSON numbers,
// fields holding their default value may be omitted (a missing list is an empty list, a missing
// number is 0, a missing string is ""). Anything else is a failure: a 64-bit integer written as a
// JSON number, an enum written as a name, a value of the wrong AnyValue type, a lost, extra or
// duplicated span, log record or metric data point.
//
// Tolerated, because the SDK legitimately does it: resource attributes the SDK adds itself
// (telemetry.sdk.*), which the manifest records as they were sent; metric collection times,
// which the manifest also records from what the SDK exported; attribute order (attributes are
// a map in OTLP; duplicates are still an error).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Field readers. `p` is the JSON path, for messages.

// deepStrictEqual with context in front of node's own diff (a custom message would replace the
// diff, which is the useful part).
function same(actual, expected, context) {
  try {
    assert.deepStrictEqual(actual, expected);
  } catch (err) {
    err.message = `${context}\n${err.message}`;
    throw err;
  }
}

function isObj(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function obj(v, p) {
  if (v === undefined) return {};
  assert.ok(isObj(v), `${p}: expected an object, got ${JSON.stringify(v)}`);
  return v;
}

function list(v, p) {
  if (v === undefined || v === null) return [];
  assert.ok(Array.isArray(v), `${p}: expected an array, got ${JSON.stringify(v)}`);
  return v;
}

function str(v, p) {
  if (v === undefined) return '';
  assert.equal(typeof v, 'string', `${p}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v, p) {
  if (v === undefined) return false;
  assert.equal(typeof v, 'boolean', `${p}: expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}

// 32-bit integers and enums: JSON numbers (OTLP/JSON: enums as integers).
function int32(v, p) {
  if (v === undefined) return 0;
  assert.ok(typeof v === 'number' && Number.isInteger(v), `${p}: expected an integer JSON number, got ${JSON.stringify(v)}`);
  return v;
}

// 64-bit integers: decimal strings.
const DEC = /^-?(0|[1-9][0-9]*)$/;
function int64(v, p) {
  if (v === undefined) return '0';
  assert.ok(typeof v === 'string' && DEC.test(v), `${p}: expected a 64-bit integer as a decimal string, got ${JSON.stringify(v)}`);
  return BigInt(v).toString();
}

function double(v, p) {
  if (v === undefined) return 0;
  if (typeof v === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(v)) return Number(v);
  assert.equal(typeof v, 'number', `${p}: expected a JSON number, got ${JSON.stringify(v)}`);
  return v;
}

function optionalDouble(v, p) {
  return v === undefined ? undefined : double(v, p);
}

function hexId(v, bytes, p) {
  if (v === undefined || v === '') return '';
  assert.ok(typeof v === 'string' && new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(v),
    `${p}: expected ${bytes} bytes as ${bytes * 2} lowercase hex digits, got ${JSON.stringify(v)}`);
  return v;
}

const ANY_KEYS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'];

// AnyValue -> the manifest's tagged form (see emit.mjs).
function anyValue(v, p) {
  if (v === undefined || v === null) return { empty: true };
  assert.ok(isObj(v), `${p}: expected an AnyValue object, got ${JSON.stringify(v)}`);
  const keys = Object.keys(v);
  const unknown = keys.filter((k) => !ANY_KEYS.includes(k));
  assert.deepEqual(unknown, [], `${p}: unknown AnyValue field(s)`);
  assert.ok(keys.length <= 1, `${p}: AnyValue has more than one value: ${keys.join(', ')}`);
  if (keys.length === 0) return { empty: true };
  const [k] = keys;
  const x = v[k];
  switch (k) {
    case 'stringValue':
      assert.equal(typeof x, 'string', `${p}.stringValue: expected a string`);
      return { string: x };
    case 'boolValue':
      assert.equal(typeof x, 'boolean', `${p}.boolValue: expected a boolean`);
      return { bool: x };
    case 'intValue':
      return { int: int64(x, `${p}.intValue`) };
    case 'doubleValue':
      return { double: double(x, `${p}.doubleValue`) };
    case 'bytesValue': {
      assert.ok(typeof x === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(x), `${p}.bytesValue: expected base64, got ${JSON.stringify(x)}`);
      return { bytes: Buffer.from(x, 'base64').toString('base64') };
    }
    case 'arrayValue':
      return { array: list(obj(x, `${p}.arrayValue`).values, `${p}.arrayValue.values`).map((e, i) => anyValue(e, `${p}.arrayValue.values[${i}]`)) };
    case 'kvlistValue':
      return { kvlist: attributes(obj(x, `${p}.kvlistValue`).values, `${p}.kvlistValue.values`) };
    default:
      throw new Error('unreachable');
  }
}

// repeated KeyValue -> {key: tagged}; order-insensitive, duplicates rejected.
function attributes(v, p) {
  const out = {};
  list(v, p).forEach((kv, i) => {
    const q = `${p}[${i}]`;
    assert.ok(isObj(kv), `${q}: expected a KeyValue object`);
    const key = str(kv.key, `${q}.key`);
    assert.ok(!Object.prototype.hasOwnProperty.call(out, key), `${q}: duplicate attribute key ${JSON.stringify(key)}`);
    out[key] = anyValue(kv.value, `${q}.value`);
  });
  return out;
}

function scopeOf(v, p) {
  const s = obj(v, p);
  return {
    name: str(s.name, `${p}.name`),
    version: str(s.version, `${p}.version`),
    attributes: attributes(s.attributes, `${p}.attributes`),
    droppedAttributesCount: int32(s.droppedAttributesCount, `${p}.droppedAttributesCount`),
  };
}

// ---------------------------------------------------------------------------------------------
// Output file -> lines

export function parseOutput(text) {
  const docs = { traces: [], metrics: [], logs: [] };
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let doc;
    try {
      doc = JSON.parse(line);
    } catch (err) {
      assert.fail(`output line ${i + 1} is not JSON (${err.message}): ${line.slice(0, 200)}`);
    }
    assert.ok(isObj(doc), `output line ${i + 1}: expected a JSON object`);
    const keys = Object.keys(doc);
    assert.equal(keys.length, 1, `output line ${i + 1}: expected exactly one of resourceSpans/resourceMetrics/resourceLogs, got keys ${JSON.stringify(keys)}`);
    const [k] = keys;
    const signal = { resourceSpans: 'traces', resourceMetrics: 'metrics', resourceLogs: 'logs' }[k];
    assert.ok(signal, `output line ${i + 1}: unexpected top-level key ${JSON.stringify(k)}`);
    list(doc[k], `line ${i + 1}.${k}`).forEach((r, j) => docs[signal].push({ r, p: `line ${i + 1}.${k}[${j}]` }));
  });
  return docs;
}

// Checks the resource and scope wrappers of one signal; returns [{item, p}] for the leaf list.
function unwrap(manifest, entries, scopeListKey, itemListKey, expectedScope) {
  const items = [];
  for (const { r, p } of entries) {
    assert.ok(isObj(r), `${p}: expected an object`);
    const res = obj(r.resource, `${p}.resource`);
    same(attributes(res.attributes, `${p}.resource.attributes`), manifest.resource.attributes,
      `${p}.resource.attributes differ from what the SDK sent`);
    assert.equal(int32(res.droppedAttributesCount, `${p}.resource.droppedAttributesCount`), 0, `${p}.resource.droppedAttributesCount`);
    assert.equal(str(r.schemaUrl, `${p}.schemaUrl`), manifest.resource.schemaUrl, `${p}.schemaUrl`);
    list(r[scopeListKey], `${p}.${scopeListKey}`).forEach((s, j) => {
      const q = `${p}.${scopeListKey}[${j}]`;
      assert.ok(isObj(s), `${q}: expected an object`);
      same(scopeOf(s.scope, `${q}.scope`), {
        name: expectedScope.name, version: expectedScope.version, attributes: expectedScope.attributes, droppedAttributesCount: 0,
      }, `${q}.scope differs from the SDK's instrumentation scope`);
      assert.equal(str(s.schemaUrl, `${q}.schemaUrl`), expectedScope.schemaUrl, `${q}.schemaUrl`);
      list(s[itemListKey], `${q}.${itemListKey}`).forEach((item, k) => items.push({ item, p: `${q}.${itemListKey}[${k}]` }));
    });
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// Traces

function normalizeSpan(s, p) {
  assert.ok(isObj(s), `${p}: expected an object`);
  const status = obj(s.status, `${p}.status`);
  return {
    name: str(s.name, `${p}.name`),
    traceId: hexId(s.traceId, 16, `${p}.traceId`),
    spanId: hexId(s.spanId, 8, `${p}.spanId`),
    parentSpanId: hexId(s.parentSpanId, 8, `${p}.parentSpanId`),
    traceState: str(s.traceState, `${p}.traceState`),
    kind: int32(s.kind, `${p}.kind`),
    flags: int32(s.flags, `${p}.flags`),
    startTimeUnixNano: int64(s.startTimeUnixNano, `${p}.startTimeUnixNano`),
    endTimeUnixNano: int64(s.endTimeUnixNano, `${p}.endTimeUnixNano`),
    attributes: attributes(s.attributes, `${p}.attributes`),
    droppedAttributesCount: int32(s.droppedAttributesCount, `${p}.droppedAttributesCount`),
    events: list(s.events, `${p}.events`).map((e, i) => {
      const q = `${p}.events[${i}]`;
      assert.ok(isObj(e), `${q}: expected an object`);
      return {
        name: str(e.name, `${q}.name`),
        timeUnixNano: int64(e.timeUnixNano, `${q}.timeUnixNano`),
        attributes: attributes(e.attributes, `${q}.attributes`),
        droppedAttributesCount: int32(e.droppedAttributesCount, `${q}.droppedAttributesCount`),
      };
    }),
    droppedEventsCount: int32(s.droppedEventsCount, `${p}.droppedEventsCount`),
    links: list(s.links, `${p}.links`).map((l, i) => {
      const q = `${p}.links[${i}]`;
      assert.ok(isObj(l), `${q}: expected an object`);
      return {
        traceId: hexId(l.traceId, 16, `${q}.traceId`),
        spanId: hexId(l.spanId, 8, `${q}.spanId`),
        traceState: str(l.traceState, `${q}.traceState`),
        flags: int32(l.flags, `${q}.flags`),
        attributes: attributes(l.attributes, `${q}.attributes`),
        droppedAttributesCount: int32(l.droppedAttributesCount, `${q}.droppedAttributesCount`),
      };
    }),
    droppedLinksCount: int32(s.droppedLinksCount, `${p}.droppedLinksCount`),
    status: { code: int32(status.code, `${p}.status.code`), message: str(status.message, `${p}.status.message`) },
  };
}

function expectedSpan(m) {
  return {
    name: m.name,
    traceId: m.traceId,
    spanId: m.spanId,
    parentSpanId: m.parentSpanId,
    traceState: m.traceState,
    kind: m.kind,
    flags: m.flags,
    startTimeUnixNano: m.startTimeUnixNano,
    endTimeUnixNano: m.endTimeUnixNano,
    attributes: m.attributes,
    droppedAttributesCount: 0,
    events: m.events.map((e) => ({ ...e, droppedAttributesCount: 0 })),
    droppedEventsCount: 0,
    links: m.links.map((l) => ({ ...l, droppedAttributesCount: 0 })),
    droppedLinksCount: 0,
    status: m.status,
  };
}

export function checkTraces(manifest, docs) {
  const items = unwrap(manifest, docs.traces, 'scopeSpans', 'spans', manifest.traces.scope);
  const got = new Map();
  for (const { item, p } of items) {
    const s = normalizeSpan(item, p);
    const key = `${s.traceId}/${s.spanId}`;
    assert.ok(!got.has(key), `${p}: span ${JSON.stringify(s.name)} (${key}) appears more than once (first at ${got.get(key)?.p})`);
    got.set(key, { s, p });
  }
  const wanted = manifest.traces.spans;
  for (const m of wanted) {
    const key = `${m.traceId}/${m.spanId}`;
    const entry = got.get(key);
    assert.ok(entry, `span ${JSON.stringify(m.name)} (${key}) is missing from the output`);
    same(entry.s, expectedSpan(m), `${entry.p}: span ${JSON.stringify(m.name)} differs from what the SDK sent`);
    got.delete(key);
  }
  assert.equal(got.size, 0, `unexpected span(s) in the output: ${[...got.values()].map((e) => `${e.s.name} at ${e.p}`).join('; ')}`);
  return wanted.length;
}

// ---------------------------------------------------------------------------------------------
// Logs

function normalizeLog(r, p) {
  assert.ok(isObj(r), `${p}: expected an object`);
  return {
    timeUnixNano: int64(r.timeUnixNano, `${p}.timeUnixNano`),
    observedTimeUnixNano: int64(r.observedTimeUnixNano, `${p}.observedTimeUnixNano`),
    severityNumber: int32(r.severityNumber, `${p}.severityNumber`),
    severityText: str(r.severityText, `${p}.severityText`),
    eventName: str(r.eventName, `${p}.eventName`),
    body: anyValue(r.body, `${p}.body`),
    attributes: attributes(r.attributes, `${p}.attributes`),
    droppedAttributesCount: int32(r.droppedAttributesCount, `${p}.droppedAttributesCount`),
    traceId: hexId(r.traceId, 16, `${p}.traceId`),
    spanId: hexId(r.spanId, 8, `${p}.spanId`),
    flags: int32(r.flags, `${p}.flags`),
  };
}

export function checkLogs(manifest, docs) {
  const items = unwrap(manifest, docs.logs, 'scopeLogs', 'logRecords', manifest.logs.scope);
  // Every record the emitter writes has its own timestamp: use it as the identity.
  const got = new Map();
  for (const { item, p } of items) {
    const r = normalizeLog(item, p);
    assert.ok(!got.has(r.timeUnixNano), `${p}: log record with timeUnixNano ${r.timeUnixNano} appears more than once (first at ${got.get(r.timeUnixNano)?.p})`);
    got.set(r.timeUnixNano, { r, p });
  }
  for (const m of manifest.logs.records) {
    const entry = got.get(m.timeUnixNano);
    assert.ok(entry, `log record with timeUnixNano ${m.timeUnixNano} (severity ${m.severityText || m.severityNumber}) is missing from the output`);
    same(entry.r, { ...m, droppedAttributesCount: 0 }, `${entry.p}: log record differs from what the SDK sent`);
    got.delete(m.timeUnixNano);
  }
  assert.equal(got.size, 0, `unexpected log record(s) in the output: ${[...got.values()].map((e) => e.p).join('; ')}`);
  return manifest.logs.records.length;
}

// ---------------------------------------------------------------------------------------------
// Metrics

const METRIC_TYPES = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'];

function buckets(v, p) {
  const b = obj(v, p);
  return {
    offset: int32(b.offset, `${p}.offset`),
    bucketCounts: list(b.bucketCounts, `${p}.bucketCounts`).map((c, i) => int64(c, `${p}.bucketCounts[${i}]`)),
  };
}

function normalizePoint(type, dp, p) {
  assert.ok(isObj(dp), `${p}: expected an object`);
  assert.equal(int32(dp.flags, `${p}.flags`), 0, `${p}.flags: the SDK sets none`);
  assert.equal(list(dp.exemplars, `${p}.exemplars`).length, 0, `${p}.exemplars: the SDK sent none`);
  let value;
  if (type === 'sum' || type === 'gauge') {
    const has = ['asInt', 'asDouble'].filter((k) => dp[k] !== undefined);
    assert.equal(has.length, 1, `${p}: expected exactly one of asInt/asDouble, got ${JSON.stringify(has)}`);
    value = has[0] === 'asInt' ? { asInt: int64(dp.asInt, `${p}.asInt`) } : { asDouble: double(dp.asDouble, `${p}.asDouble`) };
  } else if (type === 'histogram') {
    value = {
      count: int64(dp.count, `${p}.count`),
      sum: optionalDouble(dp.sum, `${p}.sum`),
      min: optionalDouble(dp.min, `${p}.min`),
      max: optionalDouble(dp.max, `${p}.max`),
      bucketCounts: list(dp.bucketCounts, `${p}.bucketCounts`).map((c, i) => int64(c, `${p}.bucketCounts[${i}]`)),
      explicitBounds: list(dp.explicitBounds, `${p}.explicitBounds`).map((b, i) => double(b, `${p}.explicitBounds[${i}]`)),
    };
  } else if (type === 'exponentialHistogram') {
    assert.equal(double(dp.zeroThreshold, `${p}.zeroThreshold`), 0, `${p}.zeroThreshold: the SDK sends none`);
    value = {
      count: int64(dp.count, `${p}.count`),
      sum: optionalDouble(dp.sum, `${p}.sum`),
      min: optionalDouble(dp.min, `${p}.min`),
      max: optionalDouble(dp.max, `${p}.max`),
      scale: int32(dp.scale, `${p}.scale`),
      zeroCount: int64(dp.zeroCount, `${p}.zeroCount`),
      positive: buckets(dp.positive, `${p}.positive`),
      negative: buckets(dp.negative, `${p}.negative`),
    };
  } else {
    assert.fail(`${p}: the SDK sends no ${type} metrics`);
  }
  // undefined members would make deepStrictEqual disagree with the JSON manifest.
  for (const k of Object.keys(value)) if (value[k] === undefined) delete value[k];
  return {
    attributes: attributes(dp.attributes, `${p}.attributes`),
    startTimeUnixNano: int64(dp.startTimeUnixNano, `${p}.startTimeUnixNano`),
    timeUnixNano: int64(dp.timeUnixNano, `${p}.timeUnixNano`),
    value,
  };
}

function normalizeMetricPoints(scopeName, m, p) {
  assert.ok(isObj(m), `${p}: expected an object`);
  const types = METRIC_TYPES.filter((t) => m[t] !== undefined);
  assert.equal(types.length, 1, `${p}: expected exactly one of ${METRIC_TYPES.join('/')}, got ${JSON.stringify(types)}`);
  const [type] = types;
  const data = obj(m[type], `${p}.${type}`);
  const head = {
    scope: scopeName,
    metric: str(m.name, `${p}.name`),
    description: str(m.description, `${p}.description`),
    unit: str(m.unit, `${p}.unit`),
    type,
    temporality: type === 'gauge' ? 0 : int32(data.aggregationTemporality, `${p}.${type}.aggregationTemporality`),
  };
  if (type === 'sum') head.isMonotonic = bool(data.isMonotonic, `${p}.sum.isMonotonic`);
  assert.deepEqual(attributes(m.metadata, `${p}.metadata`), {}, `${p}.metadata: the SDK sends none`);
  return list(data.dataPoints, `${p}.${type}.dataPoints`).map((dp, i) => ({
    point: { ...head, ...normalizePoint(type, dp, `${p}.${type}.dataPoints[${i}]`) },
    p: `${p}.${type}.dataPoints[${i}]`,
  }));
}

// Stable text for a JSON value (sorted keys), for multiset comparison.
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

export function checkMetrics(manifest, docs) {
  const scope = manifest.metrics.scope;
  const got = [];
  for (const { r, p } of docs.metrics) {
    // unwrap() checks resource and scope; metric points need the scope name too.
    unwrap(manifest, [{ r, p }], 'scopeMetrics', 'metrics', scope).forEach(({ item, p: q }) => {
      got.push(...normalizeMetricPoints(scope.name, item, q));
    });
  }

  // 1. Exactly the data points the SDK exported, each once: nothing lost, added or altered.
  const sent = manifest.metrics.exports.flat();
  const pending = new Map();
  for (const s of sent) {
    const k = canon(s);
    pending.set(k, [...(pending.get(k) ?? []), s]);
  }
  const unexpected = [];
  for (const { point, p } of got) {
    const k = canon(point);
    const bucket = pending.get(k);
    if (bucket && bucket.length) bucket.pop();
    else unexpected.push({ point, p });
  }
  const missing = [...pending.values()].flat();
  if (missing.length || unexpected.length) {
    // Pair each missing point with an output point of the same metric and attributes, so the
    // diff shows the field that changed.
    const first = missing[0];
    const near = first && unexpected.find((u) => u.point.metric === first.metric && canon(u.point.attributes) === canon(first.attributes));
    if (near) {
      same(near.point, first, `${near.p}: metric data point ${first.metric} differs from what the SDK sent ` +
        `(${missing.length} point(s) missing, ${unexpected.length} unexpected)`);
    }
    assert.fail(`metric data points: ${missing.length} sent but missing from the output ` +
      `(${missing.slice(0, 5).map((m) => `${m.metric} ${canon(m.attributes)}`).join('; ')}), ` +
      `${unexpected.length} in the output but never sent (${unexpected.slice(0, 5).map((u) => `${u.point.metric} at ${u.p}`).join('; ')})`);
  }

  // 2. The values the instruments must report (everything was recorded before the first
  //    collection, so the earliest point of each stream carries it, delta or cumulative).
  for (const inst of manifest.metrics.instruments) {
    const points = got.map((g) => g.point).filter((pt) => pt.metric === inst.name);
    assert.ok(points.length > 0, `metric ${inst.name} is missing from the output`);
    for (const pt of points) {
      same(
        { description: pt.description, unit: pt.unit, type: pt.type, temporality: pt.temporality, isMonotonic: pt.isMonotonic },
        { description: inst.description, unit: inst.unit, type: inst.type, temporality: inst.temporality, isMonotonic: inst.isMonotonic },
        `metric ${inst.name}: descriptor, type or temporality differs`);
      assert.ok(inst.streams.some((s) => canon(s.attributes) === canon(pt.attributes)),
        `metric ${inst.name}: unexpected attribute set ${canon(pt.attributes)}`);
      assert.ok(BigInt(pt.timeUnixNano) > 0n, `metric ${inst.name}: timeUnixNano is 0`);
      if (inst.type !== 'gauge') {
        assert.ok(BigInt(pt.startTimeUnixNano) <= BigInt(pt.timeUnixNano), `metric ${inst.name}: startTimeUnixNano after timeUnixNano`);
      }
    }
    for (const stream of inst.streams) {
      const mine = points.filter((pt) => canon(pt.attributes) === canon(stream.attributes));
      assert.ok(mine.length > 0, `metric ${inst.name}: no data point for attributes ${canon(stream.attributes)}`);
      mine.sort((a, b) => (BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1));
      const firstValue = mine[0].value;
      const subset = Object.fromEntries(Object.keys(stream.value).map((k) => [k, firstValue[k]]));
      same(subset, stream.value, `metric ${inst.name} ${canon(stream.attributes)}: value differs`);
    }
  }
  return got.length;
}

// ---------------------------------------------------------------------------------------------

export function checkOutput(manifest, text) {
  const docs = parseOutput(text);
  const spans = checkTraces(manifest, docs);
  const points = checkMetrics(manifest, docs);
  const logs = checkLogs(manifest, docs);
  return { spans, points, logs, lines: { traces: docs.traces.length, metrics: docs.metrics.length, logs: docs.logs.length } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [manifestPath, outputPath] = process.argv.slice(2);
  if (!manifestPath || !outputPath) {
    process.stderr.write('usage: node check.mjs MANIFEST.json OUTPUT.json\n');
    process.exit(2);
  }
  const summary = checkOutput(JSON.parse(readFileSync(manifestPath, 'utf8')), readFileSync(outputPath, 'utf8'));
  process.stdout.write(`ok: ${summary.spans} spans, ${summary.points} metric data points, ${summary.logs} log records\n`);
}

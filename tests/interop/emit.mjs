#!/usr/bin/env node
// emit.mjs — drive the OpenTelemetry JS SDK against one OTLP endpoint and write a manifest of
// exactly what was emitted.
//
//   node emit.mjs --protocol grpc|http/protobuf|http/json --endpoint HOST:PORT|URL [--ca FILE]
//                 --manifest FILE [--compression none|gzip] [--temporality cumulative|delta]
//                 [--case NAME]
//
// Everything it emits is deterministic: trace and span ids come from a seeded generator, span,
// event and log timestamps are fixed, metric values are fixed. Metric collection times are the
// SDK's own; they are recorded from what the SDK handed to the exporter.
//
// The manifest describes the data in the terms of OTLP/JSON, with every value tagged by its
// AnyValue type (see tag() below), so the checker can compare type and value field for field.
//
// Exit status: 0 only if every export call reported SUCCESS, every span and log record created
// was exported, at least one metric export happened, and the SDK logged no warning or error
// (a partial-success response or an undecodable response body is only logged by the SDK, so it
// is caught here).

import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';

import grpc from '@grpc/grpc-js';
import api from '@opentelemetry/api';
import apiLogs from '@opentelemetry/api-logs';
import core from '@opentelemetry/core';
import resources from '@opentelemetry/resources';
import traceBase from '@opentelemetry/sdk-trace-base';
import sdkMetrics from '@opentelemetry/sdk-metrics';
import sdkLogs from '@opentelemetry/sdk-logs';

import traceGrpc from '@opentelemetry/exporter-trace-otlp-grpc';
import traceProto from '@opentelemetry/exporter-trace-otlp-proto';
import traceJson from '@opentelemetry/exporter-trace-otlp-http';
import metricsGrpc from '@opentelemetry/exporter-metrics-otlp-grpc';
import metricsProto from '@opentelemetry/exporter-metrics-otlp-proto';
import metricsJson from '@opentelemetry/exporter-metrics-otlp-http';
import logsGrpc from '@opentelemetry/exporter-logs-otlp-grpc';
import logsProto from '@opentelemetry/exporter-logs-otlp-proto';
import logsJson from '@opentelemetry/exporter-logs-otlp-http';

// ---------------------------------------------------------------------------------------------
// Arguments

const { values: args } = parseArgs({
  options: {
    protocol: { type: 'string' },
    endpoint: { type: 'string' },
    manifest: { type: 'string' },
    compression: { type: 'string', default: 'none' },
    temporality: { type: 'string', default: 'cumulative' },
    case: { type: 'string', default: '' },
    ca: { type: 'string', default: '' },
  },
  strict: true,
});

function usage(msg) {
  process.stderr.write(`emit.mjs: ${msg}\n` +
    'usage: node emit.mjs --protocol grpc|http/protobuf|http/json --endpoint HOST:PORT|URL ' +
    '--manifest FILE [--compression none|gzip] [--temporality cumulative|delta] [--case NAME] ' +
    '[--ca FILE (TLS: trust this CA; the endpoint is https)]\n');
  process.exit(2);
}

const PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'];
if (!PROTOCOLS.includes(args.protocol)) usage(`--protocol must be one of ${PROTOCOLS.join(', ')}`);
if (!args.endpoint) usage('--endpoint is required');
if (!args.manifest) usage('--manifest is required');
if (!['none', 'gzip'].includes(args.compression)) usage('--compression must be none or gzip');
if (!['cumulative', 'delta'].includes(args.temporality)) usage('--temporality must be cumulative or delta');

const scheme = args.ca ? 'https' : 'http';
const base = /^[a-z]+:\/\//.test(args.endpoint) ? args.endpoint.replace(/\/+$/, '') : `${scheme}://${args.endpoint}`;
// TLS: the gRPC exporters take channel credentials, the HTTP ones an https agent's options.
const caPem = args.ca ? readFileSync(args.ca) : null;
const grpcTls = caPem ? { credentials: grpc.credentials.createSsl(caPem) } : {};
const httpTls = caPem ? { httpAgentOptions: { ca: caPem } } : {};
const caseName = args.case || `${args.protocol}${args.compression === 'gzip' ? '+gzip' : ''}`;

// ---------------------------------------------------------------------------------------------
// Failure collection: nothing the SDK reports is swallowed.

const problems = [];
function problem(where, what) {
  const text = what instanceof Error ? `${what.name}: ${what.message}${what.code !== undefined ? ` (code ${what.code})` : ''}${what.data ? ` body=${JSON.stringify(String(what.data))}` : ''}` : String(what);
  problems.push(`${where}: ${text}`);
  process.stderr.write(`emit.mjs: ${where}: ${text}\n`);
}

function fmtDiag(parts) {
  return parts.map((p) => (p instanceof Error ? `${p.name}: ${p.message}` : typeof p === 'string' ? p : safeJson(p))).join(' ');
}
function safeJson(v) {
  try { return JSON.stringify(v); } catch { return String(v); }
}

// The SDK reports partial-success responses, undecodable response bodies and dropped data
// through diag at WARN; treat every warning and error as a failure.
api.diag.setLogger({
  error: (...p) => problem('diag error', fmtDiag(p)),
  warn: (...p) => problem('diag warn', fmtDiag(p)),
  info: () => {},
  debug: () => {},
  verbose: () => {},
}, api.DiagLogLevel.WARN);
core.setGlobalErrorHandler((err) => problem('global error handler', err));
process.on('unhandledRejection', (err) => problem('unhandled rejection', err));

// A hung export must not hang the suite; the checker has its own, longer, timeout too.
const watchdog = setTimeout(() => {
  process.stderr.write('emit.mjs: timed out after 75 s waiting for the SDK to flush and shut down\n');
  for (const p of problems) process.stderr.write(`  ${p}\n`);
  process.exit(3);
}, 75_000);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// Tagged values: the manifest's typed description of an AnyValue, following the SDK's own
// mapping to OTLP (string -> stringValue; number -> intValue if Number.isInteger, else
// doubleValue; boolean -> boolValue; Uint8Array -> bytesValue; array -> arrayValue; plain
// object -> kvlistValue; null/undefined -> empty AnyValue).
//   {string: "x"} {bool: true} {int: "42"} {double: 0.5} {bytes: "<base64>"}
//   {array: [tagged, ...]} {kvlist: {key: tagged, ...}} {empty: true}
// 64-bit integers are decimal strings, as in OTLP/JSON.

function tag(v) {
  if (v === null || v === undefined) return { empty: true };
  switch (typeof v) {
    case 'string': return { string: v };
    case 'boolean': return { bool: v };
    case 'number': return Number.isInteger(v) ? { int: BigInt(v).toString() } : { double: v };
    default: break;
  }
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { array: v.map(tag) };
  if (typeof v === 'object') return { kvlist: tagAttributes(v) };
  throw new Error(`cannot tag value of type ${typeof v}`);
}

function tagAttributes(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj ?? {})) out[k] = tag(v);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Deterministic ids (splitmix64), seeded by the case name so every case has its own ids.

function makeIdGenerator(seedText) {
  let state = 0x9e3779b97f4a7c15n;
  for (const ch of Buffer.from(seedText)) state = BigInt.asUintN(64, (state ^ BigInt(ch)) * 0x100000001b3n);
  const next64 = () => {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    z ^= z >> 31n;
    return z === 0n ? 1n : z;
  };
  const hex64 = () => next64().toString(16).padStart(16, '0');
  return {
    generateTraceId: () => hex64() + hex64(),
    generateSpanId: () => hex64(),
  };
}

const ids = makeIdGenerator(`otlpd-interop/${caseName}`);

// ---------------------------------------------------------------------------------------------
// Fixed time base: 2023-11-14T22:13:20.123456789Z. HrTime inputs reach OTLP unchanged.

const T0 = [1_700_000_000, 123_456_789];
function at(offsetNs) {
  const total = BigInt(T0[0]) * 1_000_000_000n + BigInt(T0[1]) + BigInt(offsetNs);
  return [Number(total / 1_000_000_000n), Number(total % 1_000_000_000n)];
}
function nanos(hr) {
  return (BigInt(hr[0]) * 1_000_000_000n + BigInt(hr[1])).toString();
}
const MS = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Exporters for the chosen protocol, wrapped so every export result is seen.

const compression = args.compression;
const timeoutMillis = 15_000;
const TemporalityPreference = metricsJson.AggregationTemporalityPreference;
const temporalityPreference = args.temporality === 'delta' ? TemporalityPreference.DELTA : TemporalityPreference.CUMULATIVE;

function makeExporters() {
  switch (args.protocol) {
    case 'grpc':
      return {
        traces: new traceGrpc.OTLPTraceExporter({ url: base, compression, timeoutMillis, ...grpcTls }),
        metrics: new metricsGrpc.OTLPMetricExporter({ url: base, compression, timeoutMillis, temporalityPreference, ...grpcTls }),
        logs: new logsGrpc.OTLPLogExporter({ url: base, compression, timeoutMillis, ...grpcTls }),
      };
    case 'http/protobuf':
      return {
        traces: new traceProto.OTLPTraceExporter({ url: `${base}/v1/traces`, compression, timeoutMillis, ...httpTls }),
        metrics: new metricsProto.OTLPMetricExporter({ url: `${base}/v1/metrics`, compression, timeoutMillis, temporalityPreference, ...httpTls }),
        logs: new logsProto.OTLPLogExporter({ url: `${base}/v1/logs`, compression, timeoutMillis, ...httpTls }),
      };
    case 'http/json':
      return {
        traces: new traceJson.OTLPTraceExporter({ url: `${base}/v1/traces`, compression, timeoutMillis, ...httpTls }),
        metrics: new metricsJson.OTLPMetricExporter({ url: `${base}/v1/metrics`, compression, timeoutMillis, temporalityPreference, ...httpTls }),
        logs: new logsJson.OTLPLogExporter({ url: `${base}/v1/logs`, compression, timeoutMillis, ...httpTls }),
      };
    default:
      throw new Error('unreachable');
  }
}

const exportStats = {
  traces: { calls: 0, succeeded: 0, items: 0 },
  metrics: { calls: 0, succeeded: 0, items: 0 },
  logs: { calls: 0, succeeded: 0, items: 0 },
};

// Wraps an SDK exporter; `onExport` sees what the SDK handed over before it goes on the wire.
function guard(signal, inner, onExport, countItems) {
  const wrapper = {
    export(items, resultCallback) {
      const stats = exportStats[signal];
      stats.calls += 1;
      try {
        onExport?.(items);
      } catch (err) {
        problem(`${signal} manifest recording`, err);
      }
      inner.export(items, (result) => {
        if (result.code === core.ExportResultCode.SUCCESS) {
          stats.succeeded += 1;
          stats.items += countItems(items);
        } else {
          problem(`${signal} export failed`, result.error ?? `result code ${result.code}`);
        }
        resultCallback(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => (inner.forceFlush ? inner.forceFlush() : Promise.resolve()),
  };
  // Metric exporters also choose temporality and aggregation for the reader.
  if (typeof inner.selectAggregationTemporality === 'function') {
    wrapper.selectAggregationTemporality = (t) => inner.selectAggregationTemporality(t);
  }
  if (typeof inner.selectAggregation === 'function') {
    wrapper.selectAggregation = (t) => inner.selectAggregation(t);
  }
  return wrapper;
}

const exporters = makeExporters();

// ---------------------------------------------------------------------------------------------
// Resource and scopes

const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.28.0';
const resource = resources.defaultResource().merge(resources.resourceFromAttributes({
  'service.name': 'otlpd-interop',
  'service.version': '1.2.3',
  'service.namespace': 'otlpd.tests',
  'interop.case': caseName,
  'interop.protocol': args.protocol,
}, { schemaUrl: SCHEMA_URL }));

const manifest = {
  case: caseName,
  protocol: args.protocol,
  compression: args.compression,
  temporality: args.temporality,
  endpoint: base,
  resource: { attributes: tagAttributes(resource.attributes), schemaUrl: resource.schemaUrl ?? '' },
  traces: null,
  metrics: null,
  logs: null,
  exportStats,
};

// ---------------------------------------------------------------------------------------------
// Traces

// Every attribute type the API allows. Doubles are non-integers: the SDK encodes integral
// numbers as intValue.
const ALL_TYPES = {
  'attr.string': 'hello, wörld ✓ 🚀',
  'attr.string.escapes': 'quote " backslash \\ slash / tab \t newline \n cr \r nul \u0000 bell \u0007 del \u007f',
  'attr.string.empty': '',
  'attr.bool.true': true,
  'attr.bool.false': false,
  'attr.int': 42,
  'attr.int.zero': 0,
  'attr.int.negative': -7,
  'attr.int.large': 1234567890123,
  'attr.int.max_safe': Number.MAX_SAFE_INTEGER,
  'attr.int.min_safe': Number.MIN_SAFE_INTEGER,
  'attr.double': 3.14159,
  'attr.double.negative': -0.5,
  'attr.double.point_one': 0.1,
  'attr.double.small': 6.02214076e-23,
  'attr.double.tiny': 5e-324,
  'attr.array.string': ['a', 'β', ''],
  'attr.array.bool': [true, false, true],
  'attr.array.int': [1, -2, 3000000000, 0],
  'attr.array.double': [1.5, -2.25, 0.1],
  'attr.array.empty': [],
};

function recordSpans(tracerScope) {
  const tracerProvider = new traceBase.BasicTracerProvider({
    resource,
    idGenerator: ids,
    sampler: new traceBase.ParentBasedSampler({ root: new traceBase.AlwaysOnSampler() }),
    spanProcessors: [
      new traceBase.BatchSpanProcessor(
        guard('traces', exporters.traces, null, (spans) => spans.length),
        // Only forceFlush/shutdown export: one request carries all spans.
        { scheduledDelayMillis: 600_000, maxExportBatchSize: 512, maxQueueSize: 2048, exportTimeoutMillis: 30_000 },
      ),
    ],
  });
  const tracer = tracerProvider.getTracer(tracerScope.name, tracerScope.version, { schemaUrl: tracerScope.schemaUrl });
  const created = [];

  const SpanKind = api.SpanKind;
  const rootCtx = api.ROOT_CONTEXT;

  // External span contexts to link to and to continue from.
  const remoteParent = {
    traceId: ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    traceFlags: api.TraceFlags.SAMPLED,
    isRemote: true,
    traceState: api.createTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'),
  };
  const linkedSampled = {
    traceId: ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    traceFlags: api.TraceFlags.SAMPLED,
    isRemote: true,
    traceState: api.createTraceState('vendor1=a,vendor2=b'),
  };
  const linkedUnsampled = {
    traceId: ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    traceFlags: api.TraceFlags.NONE,
  };

  const expected = new Map(); // span -> expectation (filled in as the span is built)
  function describe(span, spec) {
    expected.set(span, spec);
    created.push(span);
    return span;
  }

  // 1. Root SERVER span carrying every attribute type.
  const root = tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: at(0), attributes: ALL_TYPES }, rootCtx);
  describe(root, { attributes: ALL_TYPES, events: [], links: [], status: { code: 0, message: '' }, start: at(0), end: at(900 * MS), kind: SpanKind.SERVER });
  const rootParentCtx = api.trace.setSpan(rootCtx, root);

  // 2. CLIENT child: error status, events with and without attributes, links at start.
  const dbEvents = [
    { name: 'retry', attributes: { attempt: 1, 'backoff.ms': 12.5, 'retry.reason': 'timeout' }, time: at(15 * MS) },
    { name: 'cache.miss', attributes: {}, time: at(20 * MS) },
    { name: 'exception', attributes: { 'exception.type': 'DeadlineExceeded', 'exception.message': 'db timeout after 250ms', 'exception.escaped': false }, time: at(260 * MS) },
  ];
  const dbLinks = [
    { context: linkedSampled, attributes: { 'link.reason': 'follows-from', 'link.index': 0, 'link.weight': 0.75 } },
    { context: linkedUnsampled, attributes: {} },
  ];
  const db = tracer.startSpan('SELECT orders', {
    kind: SpanKind.CLIENT,
    startTime: at(10 * MS),
    attributes: { 'db.system': 'postgresql', 'db.rows': 0, 'db.sampled': true, 'db.cost': 12.75 },
    links: dbLinks,
  }, rootParentCtx);
  for (const e of dbEvents) db.addEvent(e.name, e.attributes, e.time);
  db.setStatus({ code: api.SpanStatusCode.ERROR, message: 'deadline exceeded: db timeout (ünïcode)' });
  describe(db, {
    attributes: { 'db.system': 'postgresql', 'db.rows': 0, 'db.sampled': true, 'db.cost': 12.75 },
    events: dbEvents, links: dbLinks,
    status: { code: 2, message: 'deadline exceeded: db timeout (ünïcode)' },
    start: at(10 * MS), end: at(270 * MS), kind: SpanKind.CLIENT,
  });
  db.end(at(270 * MS));

  // 3. PRODUCER child: OK status, a link added after start.
  const producer = tracer.startSpan('orders publish', { kind: SpanKind.PRODUCER, startTime: at(300 * MS), attributes: { 'messaging.system': 'kafka', 'messaging.batch.message_count': 3 } }, rootParentCtx);
  const producerLink = { context: remoteParent, attributes: { 'link.added': 'after-start' } };
  producer.addLink(producerLink);
  producer.setStatus({ code: api.SpanStatusCode.OK });
  describe(producer, {
    attributes: { 'messaging.system': 'kafka', 'messaging.batch.message_count': 3 },
    events: [], links: [producerLink], status: { code: 1, message: '' },
    start: at(300 * MS), end: at(310 * MS), kind: SpanKind.PRODUCER,
  });
  producer.end(at(310 * MS));

  // 4. CONSUMER and 5. INTERNAL children; INTERNAL has nothing but a name.
  const consumer = tracer.startSpan('orders process', { kind: SpanKind.CONSUMER, startTime: at(400 * MS), attributes: { 'messaging.operation.type': 'process' } }, rootParentCtx);
  describe(consumer, { attributes: { 'messaging.operation.type': 'process' }, events: [{ name: 'ack', attributes: { ok: true }, time: at(450 * MS) }], links: [], status: { code: 0, message: '' }, start: at(400 * MS), end: at(500 * MS), kind: SpanKind.CONSUMER });
  consumer.addEvent('ack', { ok: true }, at(450 * MS));
  consumer.end(at(500 * MS));

  const internal = tracer.startSpan('compute totals — ünïcødé 🚀', { kind: SpanKind.INTERNAL, startTime: at(600 * MS) }, rootParentCtx);
  describe(internal, { attributes: {}, events: [], links: [], status: { code: 0, message: '' }, start: at(600 * MS), end: at(600 * MS + 1), kind: SpanKind.INTERNAL });
  internal.end(at(600 * MS + 1));

  root.end(at(900 * MS));

  // 6. A SERVER span continuing a remote trace (remote parent, inherited trace state).
  const remoteCtx = api.trace.setSpanContext(rootCtx, remoteParent);
  const cont = tracer.startSpan('POST /webhook', { kind: SpanKind.SERVER, startTime: at(1000 * MS), attributes: { 'http.request.method': 'POST', 'http.response.status_code': 202 } }, remoteCtx);
  describe(cont, { attributes: { 'http.request.method': 'POST', 'http.response.status_code': 202 }, events: [], links: [], status: { code: 0, message: '' }, start: at(1000 * MS), end: at(1200 * MS), kind: SpanKind.SERVER });
  cont.end(at(1200 * MS));

  // The manifest entry for each span: ids and trace state as the SDK assigned them, the rest
  // from what was asked for above.
  const spans = created.map((span) => {
    const spec = expected.get(span);
    const sc = span.spanContext();
    const parent = span.parentSpanContext;
    return {
      name: span.name,
      traceId: sc.traceId,
      spanId: sc.spanId,
      parentSpanId: parent?.spanId ?? '',
      traceState: sc.traceState?.serialize() ?? '',
      // OTLP's SpanKind is the API's plus one (0 is UNSPECIFIED).
      kind: spec.kind + 1,
      // Low byte: W3C trace flags; 0x100: "has is-remote"; 0x200: "parent is remote".
      flags: (sc.traceFlags & 0xff) | 0x100 | (parent?.isRemote ? 0x200 : 0),
      startTimeUnixNano: nanos(spec.start),
      endTimeUnixNano: nanos(spec.end),
      attributes: tagAttributes(spec.attributes),
      events: spec.events.map((e) => ({ name: e.name, timeUnixNano: nanos(e.time), attributes: tagAttributes(e.attributes) })),
      links: spec.links.map((l) => ({
        traceId: l.context.traceId,
        spanId: l.context.spanId,
        traceState: l.context.traceState?.serialize() ?? '',
        flags: (l.context.traceFlags & 0xff) | 0x100 | (l.context.isRemote ? 0x200 : 0),
        attributes: tagAttributes(l.attributes),
      })),
      status: spec.status,
    };
  });

  return { tracerProvider, root, spans };
}

// ---------------------------------------------------------------------------------------------
// Metrics

const OTLP_TEMPORALITY = { [sdkMetrics.AggregationTemporality.DELTA]: 1, [sdkMetrics.AggregationTemporality.CUMULATIVE]: 2 };
const DATA_POINT_TYPE = {
  [sdkMetrics.DataPointType.SUM]: 'sum',
  [sdkMetrics.DataPointType.GAUGE]: 'gauge',
  [sdkMetrics.DataPointType.HISTOGRAM]: 'histogram',
  [sdkMetrics.DataPointType.EXPONENTIAL_HISTOGRAM]: 'exponentialHistogram',
};

// Describes one SDK data point in OTLP/JSON terms.
function describePoint(metric, dp) {
  const type = DATA_POINT_TYPE[metric.dataPointType];
  let value;
  if (type === 'sum' || type === 'gauge') {
    value = metric.descriptor.valueType === api.ValueType.INT
      ? { asInt: BigInt(dp.value).toString() }
      : { asDouble: dp.value };
  } else if (type === 'histogram') {
    value = {
      count: String(dp.value.count),
      sum: dp.value.sum,
      min: dp.value.min,
      max: dp.value.max,
      bucketCounts: dp.value.buckets.counts.map(String),
      explicitBounds: [...dp.value.buckets.boundaries],
    };
  } else {
    value = {
      count: String(dp.value.count),
      sum: dp.value.sum,
      min: dp.value.min,
      max: dp.value.max,
      scale: dp.value.scale,
      zeroCount: String(dp.value.zeroCount),
      positive: { offset: dp.value.positive.offset, bucketCounts: dp.value.positive.bucketCounts.map(String) },
      negative: { offset: dp.value.negative.offset, bucketCounts: dp.value.negative.bucketCounts.map(String) },
    };
  }
  return {
    attributes: tagAttributes(dp.attributes),
    startTimeUnixNano: nanos(dp.startTime),
    timeUnixNano: nanos(dp.endTime),
    value,
  };
}

function describeResourceMetrics(rm) {
  const points = [];
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      const type = DATA_POINT_TYPE[m.dataPointType];
      for (const dp of m.dataPoints) {
        points.push({
          scope: sm.scope.name,
          metric: m.descriptor.name,
          description: m.descriptor.description ?? '',
          unit: m.descriptor.unit ?? '',
          type,
          temporality: type === 'gauge' ? 0 : OTLP_TEMPORALITY[m.aggregationTemporality],
          isMonotonic: type === 'sum' ? Boolean(m.isMonotonic) : undefined,
          ...describePoint(m, dp),
        });
      }
    }
  }
  return points;
}

function recordMetrics(meterScope) {
  const sentExports = [];
  const reader = new sdkMetrics.PeriodicExportingMetricReader({
    exporter: guard('metrics', exporters.metrics, (rm) => sentExports.push(describeResourceMetrics(rm)),
      (rm) => rm.scopeMetrics.reduce((n, sm) => n + sm.metrics.reduce((k, m) => k + m.dataPoints.length, 0), 0)),
    // Only forceFlush/shutdown export.
    exportIntervalMillis: 600_000,
    exportTimeoutMillis: 30_000,
  });
  const meterProvider = new sdkMetrics.MeterProvider({
    resource,
    readers: [reader],
    views: [{
      instrumentName: 'interop.payload.size',
      aggregation: { type: sdkMetrics.AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160, recordMinMax: true } },
    }],
  });
  const meter = meterProvider.getMeter(meterScope.name, meterScope.version, { schemaUrl: meterScope.schemaUrl });
  const { INT, DOUBLE } = api.ValueType;

  const counter = meter.createCounter('interop.requests', { description: 'Requests handled', unit: '{request}', valueType: INT });
  counter.add(5, { 'http.route': '/a', ok: true });
  counter.add(7, { 'http.route': '/a', ok: true });
  counter.add(3, { 'http.route': '/b', ok: false });

  const upDown = meter.createUpDownCounter('interop.queue.depth', { description: 'Items queued', unit: '{item}', valueType: DOUBLE });
  upDown.add(10.5, { queue: 'q1' });
  upDown.add(-3, { queue: 'q1' });
  upDown.add(-2.25, { queue: 'q2' });

  const histogram = meter.createHistogram('interop.latency', {
    description: 'Request latency', unit: 'ms', valueType: DOUBLE,
    advice: { explicitBucketBoundaries: [0, 5, 10, 100] },
  });
  for (const v of [1, 5, 12, 250, 0.5, 7]) histogram.record(v, { 'http.request.method': 'GET' });
  histogram.record(42, { 'http.request.method': 'POST', 'attr.array': ['x', 'y'] });

  const expHistogram = meter.createHistogram('interop.payload.size', { description: 'Payload sizes', unit: 'By', valueType: DOUBLE });
  for (const v of [0, 0.25, 1, 3, 3, 100, 1000]) expHistogram.record(v, { direction: 'in' });

  const gauge = meter.createObservableGauge('interop.temperature', { description: 'Room temperature', unit: 'Cel', valueType: DOUBLE });
  gauge.addCallback((r) => {
    r.observe(21.5, { room: 'a' });
    r.observe(-4, { room: 'b' });
  });
  const obsUpDown = meter.createObservableUpDownCounter('interop.balance', { description: 'Account balance', unit: '{credit}', valueType: INT });
  obsUpDown.addCallback((r) => r.observe(-17, { account: 'x' }));
  const obsCounter = meter.createObservableCounter('interop.bytes.received', { description: 'Bytes received', unit: 'By', valueType: INT });
  obsCounter.addCallback((r) => r.observe(3000000000, { 'network.io.direction': 'receive' }));

  // What the first collection must report for each stream (all values were recorded before
  // it, so this holds for delta and cumulative temporality alike).
  const sel = (t) => OTLP_TEMPORALITY[exporters.metrics.selectAggregationTemporality(t)];
  const IT = sdkMetrics.InstrumentType;
  const instruments = [
    {
      name: 'interop.requests', description: 'Requests handled', unit: '{request}', type: 'sum', isMonotonic: true, temporality: sel(IT.COUNTER),
      streams: [
        { attributes: tagAttributes({ 'http.route': '/a', ok: true }), value: { asInt: '12' } },
        { attributes: tagAttributes({ 'http.route': '/b', ok: false }), value: { asInt: '3' } },
      ],
    },
    {
      name: 'interop.queue.depth', description: 'Items queued', unit: '{item}', type: 'sum', isMonotonic: false, temporality: sel(IT.UP_DOWN_COUNTER),
      streams: [
        { attributes: tagAttributes({ queue: 'q1' }), value: { asDouble: 7.5 } },
        { attributes: tagAttributes({ queue: 'q2' }), value: { asDouble: -2.25 } },
      ],
    },
    {
      name: 'interop.latency', description: 'Request latency', unit: 'ms', type: 'histogram', temporality: sel(IT.HISTOGRAM),
      streams: [
        {
          attributes: tagAttributes({ 'http.request.method': 'GET' }),
          value: { count: '6', sum: 275.5, min: 0.5, max: 250, bucketCounts: ['0', '3', '1', '1', '1'], explicitBounds: [0, 5, 10, 100] },
        },
        {
          attributes: tagAttributes({ 'http.request.method': 'POST', 'attr.array': ['x', 'y'] }),
          value: { count: '1', sum: 42, min: 42, max: 42, bucketCounts: ['0', '0', '0', '1', '0'], explicitBounds: [0, 5, 10, 100] },
        },
      ],
    },
    {
      name: 'interop.payload.size', description: 'Payload sizes', unit: 'By', type: 'exponentialHistogram', temporality: sel(IT.HISTOGRAM),
      // Bucket layout (scale, offsets, counts) is the SDK's choice; it is checked against
      // what the SDK exported (metrics.exports).
      streams: [
        { attributes: tagAttributes({ direction: 'in' }), value: { count: '7', sum: 1107.25, min: 0, max: 1000, zeroCount: '1' } },
      ],
    },
    {
      name: 'interop.temperature', description: 'Room temperature', unit: 'Cel', type: 'gauge', temporality: 0,
      streams: [
        { attributes: tagAttributes({ room: 'a' }), value: { asDouble: 21.5 } },
        { attributes: tagAttributes({ room: 'b' }), value: { asDouble: -4 } },
      ],
    },
    {
      name: 'interop.balance', description: 'Account balance', unit: '{credit}', type: 'sum', isMonotonic: false, temporality: sel(IT.OBSERVABLE_UP_DOWN_COUNTER),
      streams: [{ attributes: tagAttributes({ account: 'x' }), value: { asInt: '-17' } }],
    },
    {
      name: 'interop.bytes.received', description: 'Bytes received', unit: 'By', type: 'sum', isMonotonic: true, temporality: sel(IT.OBSERVABLE_COUNTER),
      streams: [{ attributes: tagAttributes({ 'network.io.direction': 'receive' }), value: { asInt: '3000000000' } }],
    },
  ];

  return { meterProvider, instruments, sentExports };
}

// ---------------------------------------------------------------------------------------------
// Logs

function recordLogs(loggerScope, rootSpan) {
  const loggerProvider = new sdkLogs.LoggerProvider({
    resource,
    processors: [
      new sdkLogs.BatchLogRecordProcessor({
        exporter: guard('logs', exporters.logs, null, (records) => records.length),
        scheduledDelayMillis: 600_000, maxExportBatchSize: 512, maxQueueSize: 2048, exportTimeoutMillis: 30_000,
      }),
    ],
  });
  const logger = loggerProvider.getLogger(loggerScope.name, loggerScope.version, {
    schemaUrl: loggerScope.schemaUrl,
    attributes: loggerScope.attributes,
  });
  const S = apiLogs.SeverityNumber;
  const spanCtx = api.trace.setSpan(api.ROOT_CONTEXT, rootSpan);
  const sc = rootSpan.spanContext();

  const records = [
    {
      in: {
        timestamp: at(1 * MS), observedTimestamp: at(2 * MS),
        severityNumber: S.INFO, severityText: 'INFO',
        body: 'user logged in: ünïcødé "quoted" \\ 🚀',
        attributes: { 'user.id': 'u-123', 'login.attempts': 2, 'login.mfa': true, 'login.score': 0.875, 'login.tags': ['sso', 'web'], 'login.empty': [] },
        context: spanCtx,
      },
      trace: { traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags },
    },
    {
      in: {
        timestamp: at(3 * MS), observedTimestamp: at(4 * MS),
        severityNumber: S.ERROR, severityText: 'ERROR', eventName: 'order.failed',
        body: { message: 'boom', code: 500, nested: { ok: false, list: [1, 'two', 3.5, null] }, raw: new Uint8Array([0, 1, 2, 254, 255]) },
        attributes: { 'error.type': 'OrderError', 'attr.bytes': new Uint8Array([222, 173, 190, 239]), 'attr.map': { k: 'v', n: -1, d: 2.5, inner: { deep: true } }, 'attr.mixed': ['s', 1, 1.5, false] },
        context: spanCtx,
      },
      trace: { traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags },
    },
    {
      in: {
        timestamp: at(5 * MS), observedTimestamp: at(6 * MS),
        severityNumber: S.WARN4, severityText: 'WARN4',
        body: 9007199254740991,
        attributes: { 'disk.free_ratio': 0.05 },
      },
      trace: null,
    },
    {
      in: { timestamp: at(7 * MS), observedTimestamp: at(8 * MS), severityNumber: S.FATAL, severityText: 'FATAL', body: ['a', 1, 2.5, true], attributes: {} },
      trace: null,
    },
    {
      // Minimal: no severity, no body, no attributes.
      in: { timestamp: at(9 * MS), observedTimestamp: at(10 * MS) },
      trace: null,
    },
  ];
  for (const r of records) logger.emit(r.in);

  const described = records.map((r) => ({
    timeUnixNano: nanos(r.in.timestamp),
    observedTimeUnixNano: nanos(r.in.observedTimestamp),
    severityNumber: r.in.severityNumber ?? 0,
    severityText: r.in.severityText ?? '',
    eventName: r.in.eventName ?? '',
    body: tag(r.in.body),
    attributes: tagAttributes(r.in.attributes),
    traceId: r.trace?.traceId ?? '',
    spanId: r.trace?.spanId ?? '',
    flags: r.trace ? r.trace.flags : 0,
  }));
  return { loggerProvider, records: described };
}

// ---------------------------------------------------------------------------------------------
// Run

const tracerScope = { name: 'otlpd-interop/traces', version: '0.1.0', schemaUrl: SCHEMA_URL };
const meterScope = { name: 'otlpd-interop/metrics', version: '0.1.0', schemaUrl: SCHEMA_URL };
const loggerScope = { name: 'otlpd-interop/logs', version: '0.1.0', schemaUrl: SCHEMA_URL, attributes: { 'scope.kind': 'logger', 'scope.index': 3 } };

const t = recordSpans(tracerScope);
const m = recordMetrics(meterScope);
const l = recordLogs(loggerScope, t.root);

async function settle(label, fn) {
  try {
    await fn();
  } catch (err) {
    problem(label, err);
  }
}

await settle('traces forceFlush', () => t.tracerProvider.forceFlush());
await settle('metrics forceFlush', () => m.meterProvider.forceFlush());
await settle('logs forceFlush', () => l.loggerProvider.forceFlush());
await settle('traces shutdown', () => t.tracerProvider.shutdown());
await settle('metrics shutdown', () => m.meterProvider.shutdown());
await settle('logs shutdown', () => l.loggerProvider.shutdown());

manifest.traces = { scope: { name: tracerScope.name, version: tracerScope.version, schemaUrl: tracerScope.schemaUrl, attributes: {} }, spans: t.spans };
manifest.metrics = { scope: { name: meterScope.name, version: meterScope.version, schemaUrl: meterScope.schemaUrl, attributes: {} }, instruments: m.instruments, exports: m.sentExports };
manifest.logs = { scope: { name: loggerScope.name, version: loggerScope.version, schemaUrl: loggerScope.schemaUrl, attributes: tagAttributes(loggerScope.attributes) }, records: l.records };

if (exportStats.traces.items !== t.spans.length) problem('traces', `exported ${exportStats.traces.items} spans, created ${t.spans.length}`);
if (exportStats.logs.items !== l.records.length) problem('logs', `exported ${exportStats.logs.items} log records, emitted ${l.records.length}`);
if (exportStats.metrics.succeeded < 1) problem('metrics', 'no successful metric export');

manifest.problems = problems;
writeFileSync(args.manifest, `${JSON.stringify(manifest, null, 2)}\n`);

process.stdout.write(`emit.mjs: ${caseName}: ${t.spans.length} spans, ${m.instruments.length} instruments ` +
  `(${m.sentExports.length} metric exports), ${l.records.length} log records -> ${base}; ` +
  `export calls traces=${exportStats.traces.calls} metrics=${exportStats.metrics.calls} logs=${exportStats.logs.calls}` +
  `${problems.length ? `; ${problems.length} problem(s)` : ''}\n`);
process.exit(problems.length ? 1 : 0);

#!/usr/bin/env node
// dev/fake-otlpd.mjs — a stand-in for `otlpd --config FILE`, for checking the interop suite
// itself (not a test of otlpd's receivers). It speaks the same command-line contract:
// prints `otlpd: listening <id> <grpc|http> <host:port>` per endpoint, then `otlpd: ready`,
// and exits 0 on SIGTERM. It understands only the config shape interop.test.mjs writes.
//
// It receives OTLP/gRPC (over node:http2, h2c) and OTLP/HTTP (protobuf and JSON, optionally
// gzip) and turns each request into one OTLP/JSON line in the file exporter's path using
// `otlpd convert` (the project's own codecs), found via OTLPD_CONVERT_BIN or
// ../../build/bin/otlpd.
//
//   OTLPD_BIN=tests/interop/dev/fake-otlpd.mjs node --test tests/interop/
//
// Request headers are logged to stderr, to record what the SDK sends.
//
// FAKE_OTLPD_FAULT makes it misbehave, to prove the suite notices:
//   partial  accept, but answer with a partial-success response (1 item rejected)
//   reject   refuse every request (HTTP 400 / gRPC INVALID_ARGUMENT)
//   drop     accept, but write nothing

import { readFileSync, appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import http from 'node:http';
import http2 from 'node:http2';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const convertBin = process.env.OTLPD_CONVERT_BIN || path.resolve(here, '../../../build/bin/otlpd');

const argv = process.argv.slice(2);
const cfgIdx = argv.indexOf('--config');
if (cfgIdx < 0 || !argv[cfgIdx + 1]) {
  process.stderr.write('usage: fake-otlpd.mjs --config FILE\n');
  process.exit(2);
}
const config = readFileSync(argv[cfgIdx + 1], 'utf8');

// Crude: the first `grpc:` / `http:` block's endpoint and the file exporter's path.
function after(re) {
  const m = config.match(re);
  return m ? m[1].trim().replace(/^["']|["']$/g, '') : null;
}
const grpcEndpoint = after(/grpc:\s*\n\s*endpoint:\s*(\S+)/);
const httpEndpoint = after(/http:\s*\n\s*endpoint:\s*(\S+)/);
const outPath = after(/file:\s*\n\s*path:\s*(\S+)/);
if (!outPath) {
  process.stderr.write('fake-otlpd: no file exporter path in config\n');
  process.exit(2);
}

function log(msg) {
  process.stderr.write(`fake-otlpd: ${msg}\n`);
}

function toJsonLine(signal, format, body) {
  const r = spawnSync(convertBin, ['convert', '--signal', signal, '--from', format, '--to', 'json'], { input: body, maxBuffer: 256 << 20 });
  if (r.status !== 0) {
    throw new Error(`otlpd convert failed (${r.status}): ${r.stderr}`);
  }
  return r.stdout.toString('utf8').trim();
}

const FAULT = process.env.FAKE_OTLPD_FAULT || '';
// ExportXServiceResponse{partial_success{rejected_*: 1, error_message: "x"}}: field 1 in
// every signal, so the bytes are the same for traces, metrics and logs.
const PARTIAL_PROTO = Buffer.from([0x0a, 0x05, 0x08, 0x01, 0x12, 0x01, 0x78]);
const PARTIAL_JSON = {
  traces: '{"partialSuccess":{"rejectedSpans":"1","errorMessage":"x"}}',
  metrics: '{"partialSuccess":{"rejectedDataPoints":"1","errorMessage":"x"}}',
  logs: '{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"x"}}',
};

function store(signal, format, body) {
  if (FAULT === 'reject') throw new Error('rejected by FAKE_OTLPD_FAULT=reject');
  if (FAULT === 'drop') return;
  const line = toJsonLine(signal, format, body);
  appendFileSync(outPath, `${line.replace(/\n/g, '')}\n`);
}

const servers = [];

function splitHostPort(ep) {
  const i = ep.lastIndexOf(':');
  return { host: ep.slice(0, i), port: Number(ep.slice(i + 1)) };
}

const GRPC_PATHS = {
  '/opentelemetry.proto.collector.trace.v1.TraceService/Export': 'traces',
  '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export': 'metrics',
  '/opentelemetry.proto.collector.logs.v1.LogsService/Export': 'logs',
};

async function startGrpc(ep) {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    log(`grpc ${headers[':path']} ${JSON.stringify(Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith(':'))))}`);
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const signal = GRPC_PATHS[headers[':path']];
      const fail = (code, msg) => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(code), 'grpc-message': encodeURIComponent(msg) }));
        stream.end();
      };
      if (!signal) return fail(12, `unknown method ${headers[':path']}`);
      if (FAULT === 'reject') return fail(3, 'rejected by FAKE_OTLPD_FAULT=reject');
      try {
        const buf = Buffer.concat(chunks);
        if (buf.length < 5) return fail(13, 'short frame');
        const compressed = buf[0] === 1;
        const len = buf.readUInt32BE(1);
        let msg = buf.subarray(5, 5 + len);
        if (compressed) {
          if (headers['grpc-encoding'] !== 'gzip') return fail(12, `unsupported grpc-encoding ${headers['grpc-encoding']}`);
          msg = zlib.gunzipSync(msg);
        }
        store(signal, 'proto', msg);
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        const reply = FAULT === 'partial' ? PARTIAL_PROTO : Buffer.alloc(0);
        const frame = Buffer.alloc(5);
        frame.writeUInt32BE(reply.length, 1);
        stream.end(Buffer.concat([frame, reply]));
      } catch (err) {
        log(String(err));
        fail(13, String(err.message));
      }
    });
  });
  const { host, port } = splitHostPort(ep);
  await new Promise((res) => server.listen(port, host, res));
  servers.push(server);
  return `${host}:${server.address().port}`;
}

const HTTP_PATHS = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

async function startHttp(ep) {
  const server = http.createServer((req, res) => {
    log(`http ${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const signal = HTTP_PATHS[req.url];
      if (req.method !== 'POST' || !signal) {
        res.writeHead(404).end();
        return;
      }
      const ct = (req.headers['content-type'] || '').split(';')[0].trim();
      const format = ct === 'application/json' ? 'json' : ct === 'application/x-protobuf' ? 'proto' : null;
      if (!format) {
        res.writeHead(415).end();
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        store(signal, format, body);
        res.writeHead(200, { 'content-type': ct });
        if (FAULT === 'partial') res.end(format === 'json' ? PARTIAL_JSON[signal] : PARTIAL_PROTO);
        else res.end(format === 'json' ? '{}' : Buffer.alloc(0));
      } catch (err) {
        log(String(err));
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err.message));
      }
    });
  });
  const { host, port } = splitHostPort(ep);
  await new Promise((res) => server.listen(port, host, res));
  servers.push(server);
  return `${host}:${server.address().port}`;
}

if (grpcEndpoint) process.stdout.write(`otlpd: listening otlp grpc ${await startGrpc(grpcEndpoint)}\n`);
if (httpEndpoint) process.stdout.write(`otlpd: listening otlp http ${await startHttp(httpEndpoint)}\n`);
process.stdout.write('otlpd: ready\n');

process.on('SIGTERM', () => {
  for (const s of servers) s.close();
  setTimeout(() => process.exit(0), 50);
});

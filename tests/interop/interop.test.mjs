// interop.test.mjs — the OpenTelemetry JS SDK as a real client of otlpd.
//
// For each case: write a Collector-style config (OTLP receiver on gRPC and HTTP, port 0; file
// exporter), start otlpd, read the endpoints it prints, run emit.mjs (the SDK) against the
// case's protocol, stop otlpd with SIGTERM (it must flush and exit 0), then compare the file
// exporter's OTLP/JSON output with the manifest emit.mjs wrote (check.mjs), field for field.
//
//   node --test tests/interop/            (or tests/interop/run, which installs the SDK first)
//
// Environment:
//   OTLPD_BIN      the collector executable (default: ../../build/bin/otlpd from this file);
//                  a .mjs/.js path is run with node (dev/fake-otlpd.mjs, to check the suite)
//   INTEROP_CASES  comma-separated case names to run (default: all)
//   INTEROP_KEEP   set to 1 to keep every case's temporary directory (kept on failure anyway)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';

import { checkOutput } from './check.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OTLPD_BIN = process.env.OTLPD_BIN ? path.resolve(process.env.OTLPD_BIN) : path.resolve(here, '../../build/bin/otlpd');
const EMIT = path.join(here, 'emit.mjs');
const KEEP = process.env.INTEROP_KEEP === '1';

const READY_TIMEOUT_MS = 60_000;
const EMIT_TIMEOUT_MS = 120_000;
const EXIT_TIMEOUT_MS = 60_000;
const CASE_TIMEOUT_MS = 300_000;

// Each protocol with and without gzip; temporality and the batch processor vary across them
// so each protocol sees both temporalities and a pipeline with and without a processor.
const CASES = [
  { name: 'grpc', protocol: 'grpc', compression: 'none', temporality: 'cumulative', batch: false },
  { name: 'grpc+gzip', protocol: 'grpc', compression: 'gzip', temporality: 'delta', batch: true },
  { name: 'http-protobuf', protocol: 'http/protobuf', compression: 'none', temporality: 'delta', batch: false },
  { name: 'http-protobuf+gzip', protocol: 'http/protobuf', compression: 'gzip', temporality: 'cumulative', batch: true },
  { name: 'http-json', protocol: 'http/json', compression: 'none', temporality: 'cumulative', batch: true },
  { name: 'http-json+gzip', protocol: 'http/json', compression: 'gzip', temporality: 'delta', batch: false },
  // The same SDK over TLS: otlpd's receivers with a certificate the test makes, the SDK trusting
  // only the test's CA.
  { name: 'grpc+tls', protocol: 'grpc', compression: 'gzip', temporality: 'cumulative', batch: true, tls: true },
  { name: 'http-protobuf+tls', protocol: 'http/protobuf', compression: 'none', temporality: 'delta', batch: false, tls: true },
];

const selected = process.env.INTEROP_CASES ? new Set(process.env.INTEROP_CASES.split(',').map((s) => s.trim()).filter(Boolean)) : null;
if (selected) {
  const unknown = [...selected].filter((n) => !CASES.some((c) => c.name === n));
  if (unknown.length) throw new Error(`INTEROP_CASES names unknown case(s) ${unknown.join(', ')}; known: ${CASES.map((c) => c.name).join(', ')}`);
}

// A CA and a server certificate for localhost and 127.0.0.1, made with the openssl command.
function makeCertificates(dir) {
  const run = (args) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=otlpd interop CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(path.join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
}

function configYaml(c, outPath, certs) {
  const tls = certs ? `\n        tls:\n          cert_file: ${JSON.stringify(certs.cert)}\n          key_file: ${JSON.stringify(certs.key)}` : '';
  const processors = c.batch ? '\nprocessors:\n  batch:\n    timeout: 100ms\n' : '\n';
  const pipeline = (signal) => `    ${signal}:\n      receivers: [otlp]\n${c.batch ? '      processors: [batch]\n' : ''}      exporters: [file]\n`;
  return `# written by tests/interop/interop.test.mjs for case ${c.name}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0${tls}
      http:
        endpoint: 127.0.0.1:0${tls}
${processors}exporters:
  file:
    path: ${JSON.stringify(outPath)}
    flush_interval: 100ms
service:
  pipelines:
${pipeline('traces')}${pipeline('metrics')}${pipeline('logs')}`;
}

// ---------------------------------------------------------------------------------------------
// Child processes

const live = new Set();
after(() => {
  for (const child of live) child.kill('SIGKILL');
});

function startProcess(file, argv, opts = {}) {
  const isScript = /\.(mjs|cjs|js)$/.test(file);
  const child = spawn(isScript ? process.execPath : file, isScript ? [file, ...argv] : argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...opts,
  });
  const proc = { child, stdout: '', stderr: '', exited: null };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { proc.stdout += d; });
  child.stderr.on('data', (d) => { proc.stderr += d; });
  live.add(child);
  proc.exit = new Promise((resolve) => {
    child.on('error', (err) => {
      live.delete(child);
      proc.exited = { code: null, signal: null, error: err };
      resolve(proc.exited);
    });
    child.on('close', (code, signal) => {
      live.delete(child);
      proc.exited = proc.exited ?? { code, signal, error: null };
      resolve(proc.exited);
    });
  });
  return proc;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s ${what}`)), ms); }),
  ]);
}

// Resolves with {listening: Map("otlp grpc" -> "host:port")} once otlpd prints `otlpd: ready`.
function waitReady(proc) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const lines = proc.stdout.split('\n');
      // `otlpd: ready`, possibly followed by a human note after a space.
      if (lines.some((l) => /^otlpd: ready(\s|$)/.test(l.trim()))) {
        const listening = new Map();
        for (const l of lines) {
          const m = l.trim().match(/^otlpd: listening (\S+) (grpc|http) (\S+)$/);
          if (m) listening.set(`${m[1]} ${m[2]}`, m[3]);
        }
        resolve({ listening });
        return true;
      }
      return false;
    };
    if (check()) return;
    const onData = () => { if (check()) cleanup(); };
    const onExit = (ex) => {
      cleanup();
      reject(new Error(`otlpd exited before printing "otlpd: ready" (${describeExit(ex)})`));
    };
    const cleanup = () => proc.child.stdout.off('data', onData);
    proc.child.stdout.on('data', onData);
    proc.exit.then(onExit);
  });
}

function describeExit(ex) {
  if (!ex) return 'still running';
  if (ex.error) return `could not start: ${ex.error.message}`;
  return ex.signal ? `killed by ${ex.signal}` : `exit code ${ex.code}`;
}

function cleanEnv() {
  // The SDK reads OTEL_* variables; the emitter must only do what it is told.
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
}

function section(title, text) {
  const body = (text ?? '').trimEnd();
  return `\n----- ${title} -----\n${body === '' ? '(empty)' : body.length > 20000 ? `${body.slice(0, 2000)}\n[... ${body.length - 12000} characters cut ...]\n${body.slice(-10000)}` : body}`;
}

// ---------------------------------------------------------------------------------------------

for (const c of CASES) {
  const skip = selected && !selected.has(c.name) ? 'not in INTEROP_CASES' : false;
  test(`${c.name}: OpenTelemetry JS SDK -> otlpd (${c.protocol}${c.tls ? ' over TLS' : ''}, compression ${c.compression}, ${c.temporality}, ${c.batch ? 'batch processor' : 'no processor'})`,
    { timeout: CASE_TIMEOUT_MS, skip }, async (t) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), `otlpd-interop-${c.name.replace(/[^a-z0-9]+/gi, '-')}-`));
      const outPath = path.join(dir, 'out.json');
      const cfgPath = path.join(dir, 'config.yaml');
      const manifestPath = path.join(dir, 'manifest.json');
      const certs = c.tls ? makeCertificates(dir) : null;
      writeFileSync(cfgPath, configYaml(c, outPath, certs));

      let otlpd = null;
      let emit = null;
      let passed = false;
      try {
        if (!/\.(mjs|cjs|js)$/.test(OTLPD_BIN)) {
          assert.ok(existsSync(OTLPD_BIN), `otlpd not found at ${OTLPD_BIN} (build it, or set OTLPD_BIN)`);
          accessSync(OTLPD_BIN, constants.X_OK);
        }
        otlpd = startProcess(OTLPD_BIN, ['--config', cfgPath], { cwd: dir });
        const { listening } = await withTimeout(waitReady(otlpd), READY_TIMEOUT_MS, 'waiting for "otlpd: ready"');
        const kind = c.protocol === 'grpc' ? 'grpc' : 'http';
        // Over TLS the certificate names localhost: the SDK connects by that name.
        const endpoint = certs ? listening.get(`otlp ${kind}`)?.replace(/^127\.0\.0\.1:/, 'localhost:') : listening.get(`otlp ${kind}`);
        assert.ok(endpoint, `otlpd printed no "otlpd: listening otlp ${kind} HOST:PORT" line`);
        assert.match(endpoint, /^(\[[^\]]+\]|[^\s:\[\]]+):[1-9][0-9]*$/, `listening address for otlp ${kind} is not HOST:PORT with a real port`);

        emit = startProcess(EMIT, [
          '--protocol', c.protocol, '--endpoint', endpoint, '--manifest', manifestPath,
          '--compression', c.compression, '--temporality', c.temporality, '--case', c.name,
          ...(certs ? ['--ca', certs.ca] : []),
        ], { env: cleanEnv(), cwd: here });
        // If otlpd dies while the SDK is sending, say so at once instead of waiting out the
        // SDK's retries.
        const first = await withTimeout(Promise.race([
          emit.exit.then(() => 'emit'),
          otlpd.exit.then(() => 'otlpd'),
        ]), EMIT_TIMEOUT_MS, 'waiting for emit.mjs (the SDK) to finish');
        if (first === 'otlpd') {
          emit.child.kill('SIGKILL');
          await emit.exit;
          assert.fail(`otlpd exited while the SDK was sending (${describeExit(otlpd.exited)})`);
        }
        const emitExit = await emit.exit;
        assert.ok(!otlpd.exited, `otlpd exited before it was asked to stop (${describeExit(otlpd.exited)})`);

        otlpd.child.kill('SIGTERM');
        const otlpdExit = await withTimeout(otlpd.exit, EXIT_TIMEOUT_MS, 'waiting for otlpd to exit after SIGTERM');

        assert.ok(emitExit.code === 0, `emit.mjs failed (${describeExit(emitExit)}): the SDK reported an export error or lost data`);
        assert.ok(otlpdExit.code === 0 && !otlpdExit.signal, `otlpd did not exit 0 after SIGTERM (${describeExit(otlpdExit)})`);
        assert.ok(existsSync(outPath), `the file exporter wrote nothing to ${outPath}`);

        const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
        const summary = checkOutput(manifest, readFileSync(outPath, 'utf8'));
        t.diagnostic(`${c.name}: verified ${summary.spans} spans, ${summary.points} metric data points, ${summary.logs} log records ` +
          `(${summary.lines.traces}/${summary.lines.metrics}/${summary.lines.logs} resource entries) via ${c.protocol} at ${endpoint}`);
        passed = true;
      } catch (err) {
        if (otlpd && !otlpd.exited) {
          otlpd.child.kill('SIGKILL');
          await otlpd.exit;
        }
        if (emit && !emit.exited) {
          emit.child.kill('SIGKILL');
          await emit.exit;
        }
        const kept = ['config.yaml', 'manifest.json', 'out.json'].filter((f) => existsSync(path.join(dir, f)));
        // A new Error: reporters print an AssertionError's stack, fixed when it was made.
        throw new Error(`${err.message}\n(kept ${dir}: ${kept.join(', ')})` +
          section(`otlpd stdout (${OTLPD_BIN})`, otlpd?.stdout) +
          section('otlpd stderr', otlpd?.stderr) +
          section('emit.mjs stdout', emit?.stdout) +
          section('emit.mjs stderr', emit?.stderr), { cause: err });
      } finally {
        if (passed && !KEEP) rmSync(dir, { recursive: true, force: true });
      }
    });
}

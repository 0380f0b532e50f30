// otlpd.mjs — what the interop tests that run otlpd themselves share: where the binary is,
// starting it with a config and collecting its output, and waiting for a condition.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

export const OTLPD_BIN = process.env.OTLPD_BIN ? path.resolve(process.env.OTLPD_BIN) : path.resolve(here, '../../build/bin/otlpd');

// The suite's fake collector (dev/fake-otlpd.mjs) speaks OTLP over HTTP and gRPC only: tests of
// other protocols skip with this reason when OTLPD_BIN is a script.
export const notOtlpd = /\.(mjs|cjs|js)$/.test(OTLPD_BIN) ? 'OTLPD_BIN is a script, not otlpd' : false;

// Starts otlpd on `config` in `dir`; .stdout and .stderr accumulate, .exit resolves on exit.
export function startOtlpd(config, dir) {
  const child = spawn(OTLPD_BIN, ['--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { child, stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d) => { proc.stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { proc.stderr += d; });
  proc.exit = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return proc;
}

// Polls `predicate` (which may be async) every 20 ms until it holds; throws after `ms`.
export async function until(predicate, what, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

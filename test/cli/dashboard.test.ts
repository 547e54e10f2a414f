import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runDashboard } from '../../src/cli/dashboard.js';
import { makeRunsFolder } from '../dashboard/fixture.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs the command with its output collected. */
async function capture(argv: string[], extra: { signal?: AbortSignal; onStart?: (url: string) => void } = {}): Promise<{ result: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const result = await runDashboard(argv, { out: (s) => void out.push(s), err: (s) => void err.push(s), ...extra });
  return { result, out: out.join(''), err: err.join('') };
}

test('gradkit dashboard serves the runs folder on loopback until stopped', async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-dashboard.mjs')]);
  const fx = makeRunsFolder();
  const stop = new AbortController();
  let started!: (url: string) => void;
  const urlP = new Promise<string>((r) => (started = r));
  const run = capture([fx.runs, '--port', '0'], { signal: stop.signal, onStart: started });
  const url = await urlP;
  const runs = (await (await fetch(`${url}api/runs`)).json()) as { name: string }[];
  assert.deepEqual(runs.map((r) => r.name), ['alpha', 'beta', 'study']);
  stop.abort();
  const { result, out, err } = await run;
  assert.equal(result, 0);
  assert.match(out, /^gradkit dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C to stop\)/);
  assert.equal(err, '', 'no warning on loopback');
});

test('gradkit dashboard: usage errors exit 2, a missing folder exits 1, both with one clear line', async () => {
  const bad = await capture(['runs', '--port', 'abc']);
  assert.equal(bad.result, 2);
  assert.match(bad.err, /--port must be a whole number from 0 to 65535, got 'abc'/);
  const two = await capture(['a', 'b']);
  assert.equal(two.result, 2);
  const missing = await capture(['/nonexistent/runs', '--port', '0']);
  assert.equal(missing.result, 1);
  assert.match(missing.err, /^gradkit: gradkit dashboard: \/nonexistent\/runs is not a folder/);
  assert.doesNotMatch(missing.err, /\n\s+at /);
});

test('main dispatches gradkit dashboard (a bad flag exits 2)', async () => {
  const { main } = await import('../../src/cli/main.js');
  const errs: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
  try {
    assert.equal(await main(['dashboard', '--port', '70000']), 2);
  } finally {
    process.stderr.write = orig;
  }
  assert.match(errs.join(''), /--port must be a whole number/);
});

test('a host other than loopback prints a warning first (an address not on this machine then fails to bind: exit 1)', async () => {
  const fx = makeRunsFolder();
  // 203.0.113.1 is TEST-NET-3 (RFC 5737): never a local address, so nothing is exposed by this test.
  const r = await capture([fx.runs, '--host', '203.0.113.1', '--port', '0']);
  assert.equal(r.result, 1);
  assert.match(r.err, /warning: listening on 203\.0\.113\.1, not loopback; the dashboard has no login/);
  assert.match(r.err, /cannot listen on 203\.0\.113\.1:0/);
});

/**
 * Issue 11 item 7: the thread pool splits a job into at most 255 slices, so thread counts above
 * that used to pass the check and crash at the first parallel job. They are refused up front.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWasmBackend, setNumThreads, getNumThreads } from '../../src/backends/wasm/index.js';
import { MAX_SLICES } from '../../src/backends/wasm/worker-source.js';

test('setNumThreads and createWasmBackend refuse counts outside 1..255', () => {
  assert.equal(MAX_SLICES, 255);
  const before = getNumThreads();
  assert.throws(() => setNumThreads(1000), /^GradkitError: setNumThreads: thread count must be an integer in 1\.\.255 \(the thread pool's limit\), got 1000$/);
  assert.throws(() => setNumThreads(256), /1\.\.255/);
  assert.throws(() => setNumThreads(0), /1\.\.255/);
  assert.throws(() => createWasmBackend({ threads: 256 }), /createWasmBackend: thread count must be an integer in 1\.\.255/);
  assert.equal(getNumThreads(), before, 'a refused count changes nothing');
});

test('GRADKIT_NUM_THREADS outside 1..255 is an error naming the variable and the range', () => {
  const saved = process.env.GRADKIT_NUM_THREADS;
  try {
    for (const v of ['256', '1000', '0', 'many']) {
      process.env.GRADKIT_NUM_THREADS = v;
      assert.throws(() => createWasmBackend(), new RegExp(`GRADKIT_NUM_THREADS=${v} is not a thread count in 1\\.\\.255`), v);
    }
    process.env.GRADKIT_NUM_THREADS = '2';
    const b = createWasmBackend();
    if (b !== null) {
      assert.equal(b.threads, 2);
      b.dispose?.();
    }
  } finally {
    if (saved === undefined) delete process.env.GRADKIT_NUM_THREADS;
    else process.env.GRADKIT_NUM_THREADS = saved;
  }
});

test('gradkit with GRADKIT_NUM_THREADS=256 exits with one line instead of crashing at the first job', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const r = spawnSync(process.execPath, [path.join(root, 'bin/gradkit.js'), 'info'], { cwd: root, encoding: 'utf8', env: { ...process.env, GRADKIT_NUM_THREADS: '256' }, timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trim(), "gradkit: wasm backend: GRADKIT_NUM_THREADS=256 is not a thread count in 1..255 (the thread pool's limit); set it in that range or unset it");
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a module snippet in a fresh node (no flags), returning its last stdout line parsed as JSON. */
function inFreshNode(code: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

test('enableRelaxedSimd: a process that calls it first gets the FMA kernels; the backend then matches the reference', () => {
  const out = inFreshNode(`
    import { enableRelaxedSimd, relaxedSimdFlagForChildren } from './src/platform/relaxed-simd-node.ts';
    const before = WebAssembly.validate(new Uint8Array(0));
    const state = enableRelaxedSimd();
    const again = enableRelaxedSimd();
    const g = await import('./src/index.ts');
    const a = g.randn([37, 53], { seed: 1 }), b = g.randn([53, 29], { seed: 2 });
    const fast = g.matmul(a, b).dataSync();
    const ref = g.withBackend('reference', () => g.matmul(g.toBackend(a, 'reference'), g.toBackend(b, 'reference')).dataSync());
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(fast[i] - ref[i]));
    console.log(JSON.stringify({ before, state, again, describe: g.getBackend().describe(), worst, flag: relaxedSimdFlagForChildren() }));
  `);
  assert.ok(out.state === 'enabled' || out.state === 'default', `state ${String(out.state)}`);
  assert.equal(out.again, 'default', 'once on, it stays on');
  assert.match(String(out.describe), /relaxed-simd fma, 6x8 micro-kernel/);
  assert.ok((out.worst as number) < 1e-4, `relaxed GEMM vs reference: ${String(out.worst)}`);
  assert.equal(out.flag, null, 'a process that already has relaxed SIMD needs no flag for itself');
});

test('relaxedSimdFlagForChildren: the flag a child node needs (Node 20), and the child really gets the FMA kernels', () => {
  const out = inFreshNode(`
    import { relaxedSimdFlagForChildren } from './src/platform/relaxed-simd-node.ts';
    console.log(JSON.stringify({ flag: relaxedSimdFlagForChildren() }));
  `);
  const flags = out.flag === null ? [] : [String(out.flag)];
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e',
    `const g = await import('./src/index.ts'); console.log(g.getBackend().describe());`], { cwd: root, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /relaxed-simd fma/);
});

test('the gradkit command turns relaxed SIMD on before any kernel is compiled (gradkit info says so)', () => {
  const r = spawnSync(process.execPath, ['bin/gradkit.js', 'info'], { cwd: root, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^gradkit \d+\.\d+\.\d+ on Node v\d+/);
  assert.match(r.stdout, /backend in use: wasm: wasm \(simd, relaxed-simd fma, 6x8 micro-kernel, \d+ threads?\)/);
  assert.match(r.stdout, /reference\s+priority  0  available/);
  const bad = spawnSync(process.execPath, ['bin/gradkit.js', 'info', 'extra'], { cwd: root, encoding: 'utf8', timeout: 60000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /info takes no arguments, got extra/);
});

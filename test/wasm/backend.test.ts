import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as g from '../../src/index.js';
import { createWasmBackend, getNumThreads, isWasmBackend, setNumThreads } from '../../src/backends/wasm/index.js';
import { pickBinary } from '../../src/backends/wasm/detect.js';
import { RELAXED_WASM_BASE64 } from '../../src/backends/wasm/generated/kernels.js';
import { assertThrowsMsg } from '../helpers.js';
import { disposeAll, wasmWithThreads } from './util.js';

after(disposeAll);

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the wasm backend is the default on Node (SIMD available), so the whole suite runs on it', () => {
  assert.equal(g.backendName(), 'wasm');
  const wasm = g.listBackends().find((b) => b.name === 'wasm');
  assert.ok(wasm && wasm.available && wasm.priority > 0);
  const b = g.getBackend();
  assert.ok(isWasmBackend(b));
  assert.match(b.describe!(), /^wasm \(simd.*\d+ threads?\)$/);
  // A float32 matmul through the public op really runs a wasm job on the default backend.
  const before = b.stats().jobs;
  const x = g.randn([8, 16], { seed: 1 });
  const y = g.randn([16, 4], { seed: 2 });
  const z = g.matmul(x, y).dataSync();
  assert.equal(b.stats().jobs, before + 1);
  const ref = g.referenceKernels.matmul(x.dataSync(), y.dataSync(), { batch: 1, m: 8, k: 16, n: 4, transA: false, transB: false, strideA: 0, strideB: 0 });
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(z[i] - ref[i]) < 1e-5, `element ${i}`);
});

test('feature detection: the flavour matches what WebAssembly.validate accepts', () => {
  const relaxedOk = WebAssembly.validate(Uint8Array.from(atob(RELAXED_WASM_BASE64), (c) => c.charCodeAt(0)));
  const b = wasmWithThreads(1);
  assert.equal(b.flavour, relaxedOk ? 'relaxed-simd' : 'simd');
  assert.equal(pickBinary('simd')?.flavour, 'simd', 'plain SIMD always validates where the backend runs');
  const forced = createWasmBackend({ flavour: 'simd', threads: 1 });
  assert.ok(forced);
  assert.match(forced.describe!(), /5x8 micro-kernel, 1 thread\)/);
  forced.dispose!();
});

test('feature detection: no SIMD (validate fails) → the factory returns null and reference stays usable', () => {
  const original = WebAssembly.validate;
  try {
    (WebAssembly as { validate: typeof original }).validate = () => false;
    assert.equal(pickBinary(), null);
    assert.equal(createWasmBackend(), null);
  } finally {
    (WebAssembly as { validate: typeof original }).validate = original;
  }
  assert.equal(g.withBackend('reference', () => g.backendName()), 'reference');
});

test('relaxed SIMD (FMA) build is picked when the runtime enables it; its GEMM and conv match the reference', () => {
  // Node 20 ships relaxed SIMD behind a flag: run a child with it and check flavour and results.
  const script = `
    import * as g from './src/index.ts';
    const b = g.getBackend();
    const p = { batch: 2, m: 67, k: 300, n: 45, transA: true, transB: false, strideA: 67 * 300, strideB: 0 };
    const rng = new g.Random(3);
    const a = Float32Array.from({ length: 2 * 67 * 300 }, () => rng.uniform(-1, 1));
    const w = Float32Array.from({ length: 300 * 45 }, () => rng.uniform(-1, 1));
    const got = b.kernels.matmul(a, w, p), want = g.referenceKernels.matmul(a, w, p);
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    const cp = { n: 3, cIn: 4, h: 9, w: 8, cOut: 6, kh: 3, kw: 2, strideH: 2, strideW: 1, padTop: 1, padBottom: 0,
      padLeft: 0, padRight: 1, dilationH: 1, dilationW: 2, groups: 2, outH: 4, outW: 7 };
    const x = Float32Array.from({ length: 3 * 4 * 9 * 8 }, () => rng.uniform(-1, 1));
    const wt = Float32Array.from({ length: 6 * 2 * 3 * 2 }, () => rng.uniform(-1, 1));
    const dy = Float32Array.from({ length: 3 * 6 * 4 * 7 }, () => rng.uniform(-1, 1));
    const pairs = [
      [b.kernels.conv2d(x, wt, cp), g.referenceKernels.conv2d(x, wt, cp)],
      [b.kernels.conv2dBackwardInput(dy, wt, cp), g.referenceKernels.conv2dBackwardInput(dy, wt, cp)],
      [b.kernels.conv2dBackwardFilter(x, dy, cp), g.referenceKernels.conv2dBackwardFilter(x, dy, cp)],
    ];
    for (const [u, v] of pairs) for (let i = 0; i < v.length; i++) err = Math.max(err, Math.abs(u[i] - v[i]));
    console.log(JSON.stringify({ describe: b.describe(), err }));
    process.exit(0);
  `;
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root, encoding: 'utf8', env: { ...process.env, GRADKIT_NUM_THREADS: '2' },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.match(out.describe, /relaxed-simd fma, 6x8 micro-kernel, 2 threads/);
  assert.ok(out.err < 1e-3, `max error ${out.err}`);
});

test('setNumThreads: changes the pool, validates its argument, and 1 thread works', () => {
  const b = createWasmBackend({ threads: 2 });
  assert.ok(b);
  assert.equal(b.threads, 2);
  b.setNumThreads(1);
  assert.equal(b.threads, 1);
  assert.match(b.describe!(), /1 thread\)$/);
  b.setNumThreads(3);
  assert.equal(b.threads, 3);
  assertThrowsMsg(() => b.setNumThreads(0), /setNumThreads/, /integer in 1\.\.255 \(the thread pool.s limit\), got 0/);
  assertThrowsMsg(() => b.setNumThreads(1.5), /setNumThreads/, /got 1\.5/);
  b.dispose!();
  assertThrowsMsg(() => createWasmBackend({ threads: -2 }), /createWasmBackend/, /integer in 1\.\.255 \(the thread pool.s limit\), got -2/);
  assertThrowsMsg(() => createWasmBackend({ flavour: 'avx' as 'simd' }), /createWasmBackend/, /'simd' or 'relaxed-simd', got 'avx'/);
  // The module-level helpers act on the registered backend.
  const prev = getNumThreads();
  setNumThreads(1);
  assert.equal(getNumThreads(), 1);
  setNumThreads(prev);
  assert.equal(getNumThreads(), prev);
});

test('idle workers block in Atomics.wait instead of spinning', async () => {
  const b = wasmWithThreads(2);
  const p = { batch: 1, m: 128, k: 128, n: 128, transA: false, transB: false, strideA: 0, strideB: 0 };
  const a = new Float32Array(128 * 128).fill(0.5);
  const h = b.upload(a);
  b.kernels.matmul(h, h, p);
  assert.ok(b.stats().parallelJobs > 0, 'the worker took part');
  await new Promise((r) => setTimeout(r, 50));
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 400));
  const wall = (performance.now() - t0) * 1000;
  const used = process.cpuUsage(before);
  // A worker spinning through the idle period would add ~one core's worth (≈ wall time).
  assert.ok(used.user + used.system < 0.5 * wall, `process used ${(used.user + used.system) / 1000} ms CPU in ${wall / 1000} ms idle`);
});

test('npm test builds the kernels first (pretest) and the build is reproducible from source', () => {
  const pkg = JSON.parse(spawnSync(process.execPath, ['-e', 'process.stdout.write(require("fs").readFileSync("package.json","utf8"))'], { cwd: root, encoding: 'utf8' }).stdout);
  // pretest and prepare run the package build, which compiles the kernels before anything else.
  assert.match(pkg.scripts.pretest, /scripts\/build\.mjs/);
  assert.match(pkg.scripts.prepare, /scripts\/build\.mjs/);
  assert.match(readFileSync(join(root, 'scripts/build.mjs'), 'utf8'), /scripts\/build-wasm\.mjs/);
});

/**
 * The pure parts of the benchmark harness (bench/): argument parsing, the JSON report and its
 * atomic writer, ratios, the table, the memory verdict and layout conversions (the gradkit
 * models are tested in models.test.ts). No timing is asserted: the machine is shared.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ArgError, libSelected, parseArgs } from '../../bench/args.js';
import { runOrder } from '../../bench/budget.js';
import { batchAt, makeDataset, makeImageDataset, makeRng } from '../../bench/data.js';
import { backendThreads } from '../../bench/libs/gradkit.js';
import { flattenRowsToNhwc, nchwToNhwc, oihwToHwio } from '../../bench/libs/layout.js';
import { parseLine, MARK } from '../../bench/protocol.js';
import {
  buildReport, computeRatios, formatRatios, formatTable, lossAgreement, median, memoryVerdict, writeJsonAtomic, type BenchResult, type MachineInfo,
} from '../../bench/report.js';
import { WORKLOADS, cnnFeatures, unitOf } from '../../bench/spec.js';
import { lossTrend, measure } from '../../bench/timing.js';

const machine: MachineInfo = { cpu: 'Test CPU', cores: 2, memoryGiB: 4, platform: 'linux', arch: 'x64', node: 'v20.0.0', v8: '11' };

const r = (workload: BenchResult['workload'], library: string, value: number | null, note?: string): BenchResult =>
  ({ workload, library, threads: library === 'gradkit-wasm' ? 2 : 1, value, unit: unitOf(workload), ...(note ? { note } : {}) });

test('parseArgs: defaults, flags, groups, inline values', () => {
  const d = parseArgs([]);
  assert.equal(d.quick, false);
  assert.equal(d.json, null);
  assert.deepEqual(d.workloads, [...WORKLOADS]);
  assert.equal(d.libs, null);
  assert.equal(d.memoryEpochs, 20);
  const q = parseArgs(['--quick', '--json', 'out.json', '--only', 'mlp,sgemm-1024', '--libs=gradkit,tfjs-wasm']);
  assert.equal(q.quick, true);
  assert.equal(q.json, 'out.json');
  assert.deepEqual(q.workloads, ['sgemm-1024', 'mlp-train'], 'canonical order, groups expanded');
  assert.deepEqual(q.libs, ['gradkit', 'tfjs-wasm']);
  assert.equal(q.memoryEpochs, 5, '--quick shortens the memory run');
  assert.deepEqual(parseArgs(['--only', 'sgemm']).workloads, ['sgemm-256', 'sgemm-512', 'sgemm-1024', 'sgemm-128x784x256']);
  assert.equal(parseArgs(['--memory-epochs', '7', '--no-memory']).memoryEpochs, 7);
  assert.equal(parseArgs(['--no-memory']).memory, false);
});

test('parseArgs: bad input names the problem and the accepted values', () => {
  assert.throws(() => parseArgs(['--only', 'sgem']), (e: Error) => e instanceof ArgError && /unknown workload 'sgem'/.test(e.message) && /sgemm-1024/.test(e.message));
  assert.throws(() => parseArgs(['--libs', 'torch']), /unknown library 'torch'.*tfjs-cpu/s);
  assert.throws(() => parseArgs(['--json']), /--json needs a file name/);
  assert.throws(() => parseArgs(['--json', '--quick']), /--json needs a file name/);
  assert.throws(() => parseArgs(['--memory-epochs', '1']), /integer >= 2/);
  assert.throws(() => parseArgs(['--fast']), /unknown argument '--fast'/);
});

test('libSelected: "gradkit" selects every gradkit backend', () => {
  assert.ok(libSelected('gradkit-wasm', ['gradkit']));
  assert.ok(libSelected('gradkit-reference', ['gradkit']));
  assert.ok(!libSelected('tfjs-cpu', ['gradkit']));
  assert.ok(libSelected('tfjs-cpu', null));
  assert.ok(!libSelected('gradkit-reference', ['gradkit-wasm']));
  // The raw-ops comparison is opt-in: never by default, nor by 'gradkit'; only when named.
  assert.ok(!libSelected('rawops-wasm', null));
  assert.ok(!libSelected('rawops-wasm', ['gradkit']));
  assert.ok(libSelected('rawops-wasm', ['rawops-wasm', 'gradkit-wasm']));
  assert.deepEqual(parseArgs(['--libs', 'gradkit-wasm,rawops-wasm']).libs, ['gradkit-wasm', 'rawops-wasm']);
  assert.throws(() => parseArgs(['--libs', 'rawops']), /unknown library 'rawops'/);
});

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]));
});

test('computeRatios: best gradkit backend per workload over each peer; peers without a value keep their reason', () => {
  const rows = computeRatios([
    r('sgemm-1024', 'gradkit-wasm', 100), r('sgemm-1024', 'gradkit-reference', 1), r('sgemm-1024', 'tfjs-wasm', 40), r('sgemm-1024', 'jax-js', 50),
    r('cnn-train', 'gradkit-reference', 30), r('cnn-train', 'gradkit-wasm', 3000), r('cnn-train', 'tfjs-wasm', null, 'cannot run: no Conv2DBackpropFilter'),
    r('mlp-train', 'tfjs-cpu', 600), // no gradkit value: no row
  ]);
  assert.equal(rows.length, 2);
  const sg = rows[0];
  assert.equal(sg.workload, 'sgemm-1024');
  assert.equal(sg.gradkit, 'gradkit-wasm');
  assert.deepEqual(sg.ratios.map((x) => [x.peer, x.ratio]), [['tfjs-wasm', 2.5], ['jax-js', 2]]);
  const cnn = rows[1];
  assert.equal(cnn.gradkit, 'gradkit-wasm', 'the faster backend wins even when listed later');
  assert.equal(cnn.ratios[0].ratio, null);
  assert.match(cnn.ratios[0].why ?? '', /Conv2DBackpropFilter/);
  const text = formatRatios(rows);
  assert.match(text, /2\.50×/);
  assert.match(text, /cannot run/);
});

test('formatTable shows every cell, failed ones with their reason underneath', () => {
  const text = formatTable([r('cnn-train', 'gradkit-wasm', 3210.7), r('cnn-train', 'tfjs-wasm', null, 'cannot run: no kernel'), r('sgemm-256', 'gradkit-wasm', 55.55)]);
  assert.match(text, /3,211/);
  assert.match(text, /55\.5|55\.6/);
  assert.match(text, /n\/a \[1\]/);
  assert.match(text, /\[1\] tfjs-wasm cnn-train: cannot run: no kernel/);
  assert.match(text, /threads\s+2\s+1/);
  const sgemmLine = text.split('\n').findIndex((l) => l.startsWith('sgemm-256'));
  const cnnLine = text.split('\n').findIndex((l) => l.startsWith('cnn-train'));
  assert.ok(sgemmLine >= 0 && sgemmLine < cnnLine, 'rows in workload order');
});

test('buildReport: the documented JSON shape, nulls kept, values rounded', () => {
  const rep = buildReport(machine, [r('sgemm-1024', 'gradkit-wasm', 104.23456789), r('cnn-train', 'tfjs-wasm', null, 'cannot run')], { quick: true });
  assert.deepEqual(Object.keys(rep).slice(0, 2), ['machine', 'results']);
  assert.equal(rep.machine.cpu, 'Test CPU');
  assert.deepEqual(rep.results[0], { workload: 'sgemm-1024', library: 'gradkit-wasm', threads: 2, value: 104.235, unit: 'GFLOP/s' });
  assert.deepEqual(rep.results[1], { workload: 'cnn-train', library: 'tfjs-wasm', threads: 1, value: null, unit: 'samples/s', note: 'cannot run' });
  assert.equal(rep.quick, true);
});

test('writeJsonAtomic writes parseable JSON and leaves no temp file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gradkit-bench-'));
  try {
    const file = path.join(dir, 'out.json');
    writeJsonAtomic(file, { a: 1 });
    writeJsonAtomic(file, buildReport(machine, [r('mlp-train', 'gradkit-wasm', 15000)]));
    const back = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(back.results[0].value, 15000);
    assert.deepEqual(readdirSync(dir), ['out.json']);
    assert.throws(() => writeJsonAtomic(path.join(dir, 'missing', 'x.json'), {}));
    assert.deepEqual(readdirSync(dir), ['out.json'], 'a failed write leaves nothing behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memoryVerdict: epochs 2..n stay within 10% of their median and never grow 10% past epoch 1', () => {
  const flat = memoryVerdict([200, 205, 210, 208]);
  assert.equal(flat.flat, true);
  assert.equal(flat.baselineMB, 200);
  assert.equal(flat.levelMB, 208);
  assert.equal(flat.maxMB, 210);
  assert.equal(flat.minMB, 205);
  assert.ok(Math.abs(flat.growthOverFirst - 0.05) < 1e-12);
  // A slow leak: every epoch a little more; the later epochs drift away from their median.
  const leak = memoryVerdict([200, 200, 210, 220, 230, 240, 250]);
  assert.equal(leak.flat, false);
  assert.ok(Math.abs(Math.abs(leak.maxChange) - 25 / 225) < 1e-12, "200 and 250 are both 25 MB from the median 225");
  // Growth past epoch 1 alone also fails, even when the later epochs are steady.
  const grown = memoryVerdict([200, 230, 231, 229]);
  assert.equal(grown.flat, false);
  assert.ok(Math.abs(grown.growthOverFirst - 0.155) < 1e-12);
  // Epoch 1 holding the warm-up's garbage, later epochs steady below it: flat (the bench's real case).
  const warm = memoryVerdict([230, 203.3, 200.9, 183.3, 213.3, 198.1, 205.9]);
  assert.equal(warm.flat, true);
  assert.ok(warm.growthOverFirst < 0);
  assert.throws(() => memoryVerdict([200]));
});

test('protocol lines round-trip and foreign lines are ignored', () => {
  const line = MARK + JSON.stringify({ type: 'start', workload: 'mlp-train' });
  assert.deepEqual(parseLine(line), { type: 'start', workload: 'mlp-train' });
  assert.equal(parseLine('Hi, looks like you are running TensorFlow.js in Node.js'), null);
  assert.equal(parseLine(MARK + '{broken'), null);
});

test('measure: warm-up plus repeats, every loss recorded in order', async () => {
  let calls = 0;
  const m = await measure({ workPerStep: 10, step: () => ++calls }, { warmupSteps: 2, stepsPerRepeat: 3, repeats: 3, budgetMs: 60000 });
  assert.equal(calls, 2 + 3 * 3);
  assert.deepEqual(m.losses, Array.from({ length: 11 }, (_, i) => i + 1));
  assert.equal(m.perRepeat.length, 3);
  assert.equal(m.timedSteps, 9);
  assert.ok(m.value > 0 && Number.isFinite(m.value));
  assert.equal(m.caveat, undefined);
});

test('lossTrend compares the first and last quarter', () => {
  assert.deepEqual(lossTrend([4, 3, 2, 1]), { first: 4, last: 1, decreased: true });
  assert.equal(lossTrend([1, 1, 2, 2])!.decreased, false);
  assert.equal(lossTrend([3, 3.5, 2]), null, 'three steps are too few to call a trend');
});

test('the CNN spec gives 800 features before the linear layer', () => {
  assert.equal(cnnFeatures(), 800);
});

test('layout: NCHW→NHWC, OIHW→HWIO, and flatten-row reordering keeps flatten·W unchanged', () => {
  const [n, c, h, w, out] = [2, 3, 2, 4, 5];
  const rng = makeRng(3);
  const x = Float32Array.from({ length: n * c * h * w }, () => rng.normal());
  const xh = nchwToNhwc(x, n, c, h, w);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
    assert.equal(xh[((i * h + y) * w + xx) * c + ch], x[((i * c + ch) * h + y) * w + xx]);
  }
  const wt = Float32Array.from({ length: 4 * 3 * 2 * 2 }, (_, i) => i);
  const hw = oihwToHwio(wt, 4, 3, 2, 2);
  assert.equal(hw[((1 * 2 + 0) * 3 + 2) * 4 + 3], wt[((3 * 3 + 2) * 2 + 1) * 2 + 0]);
  // A linear layer on flattened features must give the same result in either layout.
  const W = Float32Array.from({ length: c * h * w * out }, () => rng.normal());
  const Wh = flattenRowsToNhwc(W, c, h, w, out);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < out; o++) {
      let a = 0;
      let b = 0;
      for (let f = 0; f < c * h * w; f++) {
        a += x[i * c * h * w + f] * W[f * out + o];
        b += xh[i * c * h * w + f] * Wh[f * out + o];
      }
      assert.ok(Math.abs(a - b) < 1e-4, `sample ${i} output ${o}: ${a} vs ${b}`);
    }
  }
});

test('synthetic data: seeded, labels in range, batches are views in order', () => {
  const a = makeDataset(64, [2, 3], 10, 5);
  const b = makeDataset(64, [2, 3], 10, 5);
  assert.deepEqual(a.y, b.y);
  assert.ok(a.y.every((v) => v >= 0 && v < 10));
  assert.ok(new Set(a.y).size > 1, 'the teacher uses more than one class');
  const batch = batchAt(a, 16, 5); // 4 batches per pass: batch 5 is batch 1
  assert.deepEqual(batch.y, a.y.subarray(16, 32));
  assert.equal(batch.x.length, 16 * 6);
});

test('backendThreads: a numeric property first, else "N threads" in the description', () => {
  assert.equal(backendThreads({ threads: 4 }, 'whatever'), 4);
  assert.equal(backendThreads({ numThreads: () => 3 }, ''), 3);
  assert.equal(backendThreads({}, 'wasm (simd, 5x8 micro-kernel, 2 threads)'), 2);
  assert.equal(backendThreads({}, 'reference (plain TypeScript)'), 1);
});

test('runOrder: --quick puts cheap workloads first and keeps only the chosen ones', () => {
  assert.deepEqual(runOrder(['sgemm-1024', 'mlp-train', 'resnet-train'], false), ['sgemm-1024', 'mlp-train', 'resnet-train']);
  assert.deepEqual(runOrder(['sgemm-1024', 'mlp-train', 'resnet-train'], true), ['mlp-train', 'sgemm-1024', 'resnet-train']);
  assert.deepEqual(runOrder([...WORKLOADS], true).slice().sort(), [...WORKLOADS].sort(), 'nothing dropped');
});

test('lossAgreement: over the common prefix, relative, per step', () => {
  assert.deepEqual(lossAgreement([2, 1.5, 1], [2, 1.5]), { steps: 2, maxRelDiff: 0, relDiffs: [0, 0] });
  const a = lossAgreement([2, 1], [2, 1.1], 5)!;
  assert.equal(a.steps, 2);
  assert.ok(Math.abs(a.maxRelDiff - 0.1 / 1.1) < 1e-12);
  assert.equal(a.relDiffs[0], 0);
  assert.equal(a.relDiffs[1], a.maxRelDiff);
  assert.equal(lossAgreement([], [1]), null);
  assert.equal(lossAgreement([1], [NaN])!.maxRelDiff, Infinity, 'a NaN loss never counts as agreement');
  assert.equal(lossAgreement([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7])!.steps, 5, 'five steps by default');
});

test('image data: seeded, and the class signal survives global average pooling', () => {
  const a = makeImageDataset(200, [3, 4, 4], 10, 9);
  assert.deepEqual(a.y, makeImageDataset(200, [3, 4, 4], 10, 9).y);
  assert.ok(a.y.every((v) => v >= 0 && v < 10));
  // Per-channel means of two samples of the same class are closer than those of different classes, on average.
  const means = (i: number): number[] => [0, 1, 2].map((c) => a.x.subarray(i * 48 + c * 16, i * 48 + c * 16 + 16).reduce((s, v) => s + v, 0) / 16);
  let same = 0, diff = 0, ns = 0, nd = 0;
  for (let i = 0; i < 60; i++) for (let j = i + 1; j < 60; j++) {
    const [mi, mj] = [means(i), means(j)];
    const dist = mi.reduce((s, v, c) => s + (v - mj[c]) ** 2, 0);
    if (a.y[i] === a.y[j]) { same += dist; ns++; } else { diff += dist; nd++; }
  }
  assert.ok(ns > 0 && nd > 0);
  assert.ok(same / ns < 0.5 * (diff / nd), `same-class ${same / ns} vs different-class ${diff / nd}`);
});

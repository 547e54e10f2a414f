/**
 * The benchmark's webgpu library (bench/libs/webgpu.ts, issue 14). Without an adapter: how a
 * software adapter is named, that its figures are marked in the table and left out of the ratios,
 * its small budget, `--libs webgpu`, and that the timing loop awaits asynchronous steps. With one
 * (llvmpipe on a machine without a GPU): the runner's label agrees with the adapter, a few MLP
 * steps give finite, falling losses that start where a CPU backend's do, and the child process
 * labels its results. No timing is asserted; the workloads are the bench's own (tiny step counts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as g from '../../src/index.js';
import { initWebGPU, type WebGPUBackend } from '../../src/backends/webgpu/index.js';
import { libSelected, parseArgs } from '../../bench/args.js';
import { SOFTWARE_BUDGET, budgetFor } from '../../bench/budget.js';
import { gradkitRunner } from '../../bench/libs/gradkit.js';
import { adapterName, webgpuDescribe, webgpuRunner } from '../../bench/libs/webgpu.js';
import { parseLine, type Message } from '../../bench/protocol.js';
import { buildReport, computeRatios, formatTable, type BenchResult, type MachineInfo } from '../../bench/report.js';
import { WEBGPU_LIB, WORKLOADS, unitOf } from '../../bench/spec.js';
import { measure } from '../../bench/timing.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LLVMPIPE = 'llvmpipe-llvm-15-0-6-256-bits- (OpenGL version 4.5 (Core Profile) Mesa 22.3.6)';

const r = (workload: BenchResult['workload'], library: string, value: number | null, software?: string): BenchResult =>
  ({ workload, library, threads: 1, value, unit: unitOf(workload), ...(software ? { software } : {}) });

test('webgpuDescribe: a software adapter is named as such and "not a GPU speed"; a GPU is not', () => {
  const sw = { label: `${LLVMPIPE} [software]`, software: true };
  assert.equal(adapterName(sw), LLVMPIPE);
  assert.equal(webgpuDescribe(sw), `webgpu (software: ${LLVMPIPE}; not a GPU speed)`);
  const hw = { label: 'nvidia hopper NVIDIA H100 80GB HBM3', software: false };
  assert.equal(webgpuDescribe(hw), 'webgpu on nvidia hopper NVIDIA H100 80GB HBM3');
  assert.doesNotMatch(webgpuDescribe(hw), /software|not a GPU speed/);
});

test('software figures: marked in every table cell, kept in the JSON, left out of the ratios on both sides', () => {
  const results = [
    r('sgemm-256', 'gradkit-wasm', 20), r('sgemm-256', WEBGPU_LIB, 40, LLVMPIPE), r('sgemm-256', 'tfjs-wasm', 10),
    r('mlp-train', 'gradkit-wasm', 5000), r('mlp-train', WEBGPU_LIB, 300, LLVMPIPE), r('mlp-train', 'tfjs-wasm', 1000),
  ];
  const rows = computeRatios(results);
  // Faster than wasm here, but a software adapter is never the "best gradkit backend".
  assert.deepEqual(rows.map((x) => [x.workload, x.gradkit, x.ratios.map((q) => q.peer)]), [
    ['sgemm-256', 'gradkit-wasm', ['tfjs-wasm']], ['mlp-train', 'gradkit-wasm', ['tfjs-wasm']],
  ]);
  assert.equal(rows[0].ratios[0].ratio, 2);
  const table = formatTable(results);
  assert.match(table, /sgemm-256 \(GFLOP\/s\)\s+20\.0\s+40\.0 \[sw\]\s+10\.0/);
  assert.match(table, /mlp-train \(samples\/s\)\s+5,000\s+300 \[sw\]\s+1,000/);
  assert.match(table, new RegExp(`^\\[sw\\] ${WEBGPU_LIB}: software adapter ${LLVMPIPE.replace(/[()]/g, '\\$&')}: not a GPU speed; left out of the ratios$`, 'm'));
  // Only the software library's cells are marked.
  assert.equal(table.split('\n').filter((l) => l.includes('[sw]')).length, 3);
  const machine: MachineInfo = { cpu: 'Test CPU', cores: 2, memoryGiB: 4, platform: 'linux', arch: 'x64', node: 'v20.0.0', v8: '11' };
  assert.deepEqual(buildReport(machine, results).results[1], { workload: 'sgemm-256', library: WEBGPU_LIB, threads: 1, value: 40, unit: 'GFLOP/s', software: LLVMPIPE });
});

test('a software adapter gets a few steps in quick and full runs; --libs webgpu selects it', () => {
  for (const w of WORKLOADS) {
    for (const quick of [true, false]) {
      const { budgetMs, ...steps } = budgetFor(w, quick, true);
      const { budgetMs: _, ...few } = SOFTWARE_BUDGET;
      assert.deepEqual(steps, few);
      assert.equal(budgetMs, Math.min(SOFTWARE_BUDGET.budgetMs, budgetFor(w, quick).budgetMs), 'never more time than a CPU backend gets');
    }
  }
  assert.equal(budgetFor('resnet-train', false, true).budgetMs, 4000);
  // Enough steps for the loss check's trend (four).
  assert.ok(SOFTWARE_BUDGET.warmupSteps + SOFTWARE_BUDGET.stepsPerRepeat * SOFTWARE_BUDGET.repeats >= 4);
  assert.deepEqual(parseArgs(['--libs', 'webgpu,gradkit-wasm']).libs, [WEBGPU_LIB, 'gradkit-wasm']);
  assert.ok(libSelected(WEBGPU_LIB, null) && libSelected(WEBGPU_LIB, ['gradkit']) && !libSelected(WEBGPU_LIB, ['gradkit-wasm']));
});

test('measure awaits an asynchronous step before starting the next, and records its loss', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let n = 0;
  const m = await measure({
    workPerStep: 1,
    step: async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return 10 - n++;
    },
  }, { warmupSteps: 2, stepsPerRepeat: 3, repeats: 2, budgetMs: 60000 });
  assert.equal(maxInFlight, 1);
  assert.equal(inFlight, 0, 'the last step finished before measure returned');
  assert.deepEqual(m.losses, [10, 9, 8, 7, 6, 5, 4, 3]);
  assert.equal(m.timedSteps, 6);
});

const got = await initWebGPU();
const skip = 'error' in got ? `no WebGPU adapter (${got.error}): webgpu bench tests skipped` : false;
if (skip) console.log(skip);

after(() => {
  if (!skip) (got as WebGPUBackend).device.destroy();
});

test('webgpu runner: labelled by its adapter; MLP steps give finite falling losses from the CPU backends\' start', { skip }, async () => {
  const gpu = got as WebGPUBackend;
  // A CPU backend's first loss, before webgpu is selected (same data, same initial weights).
  const cpuName = g.listBackends().filter((b) => b.available && b.name !== 'webgpu' && b.name !== 'strict').sort((a, b) => b.priority - a.priority)[0].name;
  const cpuFirst = (await (await gradkitRunner(cpuName)).stepper('mlp-train')).step() as number;

  const runner = await webgpuRunner(gpu);
  assert.equal(runner.library, WEBGPU_LIB);
  assert.equal(runner.describe, webgpuDescribe(gpu.adapter));
  assert.equal(runner.software, gpu.adapter.software ? adapterName(gpu.adapter) : undefined);
  if (gpu.adapter.software) assert.match(runner.describe, /^webgpu \(software: .+; not a GPU speed\)$/);
  assert.equal(g.backendName(), 'webgpu');

  const s = await runner.stepper('mlp-train');
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const l = await s.step();
    assert.equal(typeof l, 'number');
    losses.push(l as number);
  }
  assert.ok(losses.every(Number.isFinite), `finite losses: ${losses.join(', ')}`);
  assert.ok(losses[2] < losses[0], `the loss falls over three Adam steps: ${losses.join(', ')}`);
  assert.ok(Math.abs(losses[0] - cpuFirst) <= 1e-4 * Math.abs(cpuFirst), `first loss ${losses[0]} vs ${cpuName}'s ${cpuFirst}`);

  // An SGEMM step resolves (nothing to return) once the product is done.
  const mm = await runner.stepper('sgemm-256');
  assert.equal(mm.workPerStep, 2 * 256 ** 3);
  assert.equal(await mm.step(), undefined);
  runner.release?.();
});

test('the webgpu child process labels itself and every result with the adapter', { skip }, () => {
  const gpu = got as WebGPUBackend;
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/child.ts', '--lib', WEBGPU_LIB, '--workloads', 'sgemm-256', '--quick'], {
    cwd: root, encoding: 'utf8', timeout: 120000,
  });
  const messages = run.stdout.split('\n').map(parseLine).filter((m): m is Message => m !== null);
  const info = messages.find((m) => m.type === 'info');
  const result = messages.find((m) => m.type === 'result');
  assert.ok(info?.type === 'info' && result?.type === 'result', `info and result expected; got ${run.stdout.slice(0, 500)} ${run.stderr.slice(-500)}`);
  assert.equal(info.describe, webgpuDescribe(gpu.adapter));
  const software = gpu.adapter.software ? adapterName(gpu.adapter) : undefined;
  assert.equal(info.software, software);
  assert.equal(result.result.software, software);
  assert.equal(result.result.library, WEBGPU_LIB);
  assert.ok(result.result.value !== null && result.result.value > 0, `a value: ${JSON.stringify(result.result)}`);
});

/**
 * Conv kernel timings for the benchmark CNN's two layers at batch 64 (wasm backend vs itself
 * across runs). Usage: node --import tsx scripts/bench-conv.ts [threads] [rounds]
 * Prints the median and best milliseconds per call of forward, backward-input and backward-filter,
 * and the median CPU time per call (with one thread the steadiest number on a shared machine).
 */
import { getBackend, Random, type Conv2dParams } from '../src/index.js';
import { isWasmBackend } from '../src/backends/wasm/index.js';

const backend = getBackend();
if (!isWasmBackend(backend)) throw new Error(`bench-conv needs the wasm backend, got ${backend.name}`);
backend.setNumThreads(Number(process.argv[2] ?? 2));
const rounds = Number(process.argv[3] ?? 9);
const rng = new Random(0);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));

function geo(n: number, cIn: number, hw: number, cOut: number, k: number): Conv2dParams {
  const out = hw - k + 1;
  return {
    n, cIn, h: hw, w: hw, cOut, kh: k, kw: k, strideH: 1, strideW: 1, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0,
    dilationH: 1, dilationW: 1, groups: 1, outH: out, outW: out,
  };
}

const layers: [string, Conv2dParams][] = [['conv1 1→16 28²', geo(64, 1, 28, 16, 3)], ['conv2 16→32 13²', geo(64, 16, 13, 32, 3)]];
console.log(backend.describe!());
for (const [name, p] of layers) {
  const x = backend.upload(rand(p.n * p.cIn * p.h * p.w));
  const w = backend.upload(rand(p.cOut * p.cIn * p.kh * p.kw));
  const dy = backend.upload(rand(p.n * p.cOut * p.outH * p.outW));
  const flop = 2 * p.n * p.cOut * p.cIn * p.kh * p.kw * p.outH * p.outW;
  const k = backend.kernels;
  const fns: [string, () => unknown][] = [
    // Each output is freed at once, as a tensor leaving a scope would be.
    ['forward', () => backend.free(k.conv2d(x, w, p))],
    ['bwd-input', () => backend.free(k.conv2dBackwardInput(dy, w, p))],
    ['bwd-filter', () => backend.free(k.conv2dBackwardFilter(x, dy, p))],
  ];
  for (const [label, f] of fns) {
    for (let i = 0; i < 10; i++) f();
    const times: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      for (let i = 0; i < 5; i++) f();
      const c = process.cpuUsage(c0);
      times.push((performance.now() - t0) / 5);
      cpu.push((c.user + c.system) / 1000 / 5);
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const med = times[times.length >> 1];
    // CPU time (all threads of the process) is far less disturbed by other load than wall time.
    console.log(`  ${name} ${label}: median ${med.toFixed(3)} ms (${(flop / med / 1e6).toFixed(1)} GFLOP/s), best ${times[0].toFixed(3)} ms; cpu median ${cpu[cpu.length >> 1].toFixed(3)} ms`);
  }
  for (const h of [x, w, dy]) backend.free(h);
}
backend.dispose?.();

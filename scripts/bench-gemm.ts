/**
 * Quick SGEMM throughput check for the wasm backend (the full comparison with peers lives in
 * bench/). Usage: node --import tsx scripts/bench-gemm.ts [threads,...] [rounds]
 * Warms up first (V8 tiers wasm up from Liftoff to TurboFan), then times `rounds` batches per
 * shape and prints the best and the median GFLOP/s — report both on a shared machine.
 */
import { getBackend, Random, type MatmulParams } from '../src/index.js';
import { isWasmBackend } from '../src/backends/wasm/index.js';

const backend = getBackend();
if (!isWasmBackend(backend)) throw new Error(`bench-gemm needs the wasm backend, got ${backend.name}`);
const threadCounts = (process.argv[2] ?? '1,2').split(',').map(Number);
const rounds = Number(process.argv[3] ?? 7);
const shapes: [number, number, number][] = [[256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [128, 784, 256]];
const rng = new Random(0);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));

for (const t of threadCounts) {
  backend.setNumThreads(t);
  console.log(backend.describe!());
  for (const [m, k, n] of shapes) {
    const a = backend.upload(rand(m * k));
    const b = backend.upload(rand(k * n));
    const p: MatmulParams = { batch: 1, m, k, n, transA: false, transB: false, strideA: 0, strideB: 0 };
    const flop = 2 * m * n * k;
    const reps = Math.max(2, Math.ceil(1e9 / flop));
    // Each product is freed at once, as a tensor leaving a scope would be.
    for (let i = 0; i < 2 * reps; i++) backend.free(backend.kernels.matmul(a, b, p));
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) backend.free(backend.kernels.matmul(a, b, p));
      rates.push((flop * reps) / (performance.now() - t0) / 1e6);
    }
    rates.sort((x, y) => x - y);
    console.log(`  ${m}x${k}x${n}: best ${rates[rates.length - 1].toFixed(1)}, median ${rates[rates.length >> 1].toFixed(1)} GFLOP/s`);
    backend.free(a);
    backend.free(b);
  }
}
backend.dispose?.();

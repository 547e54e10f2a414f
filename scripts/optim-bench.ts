/**
 * Micro-benchmark of optimizer steps (issue 3): ms per step() for Adam, AdamW and SGD with
 * momentum on float32 parameters, composed path (update buffers, separate lr and apply passes)
 * against the fused one-pass path, in the same process.
 *
 *   node --import tsx scripts/optim-bench.ts [--steps 200] [--only Adam|AdamW|SGD+momentum|RMSprop|RMSprop+c+m]
 *     [--layout 'mlp 203k'] [--backend wasm]
 *   # the code before a change, same script: export that commit and point --src at it
 *   git archive HEAD~1 | tar -x -C /tmp/base && node --import tsx scripts/optim-bench.ts --src /tmp/base/src
 *
 * Wall time, best of 5 alternating runs: on a shared machine the minimum is the stable figure.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type * as G from '../src/index.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const STEPS = Number(arg('--steps') ?? 200);
// --src DIR benchmarks another checkout's src (e.g. an export of the previous commit), to
// compare against the code before the fused path in the same way; it reports one column then.
const SRC = resolve(arg('--src') ?? new URL('../src', import.meta.url).pathname);
const g = (await import(pathToFileURL(`${SRC}/index.ts`).href)) as typeof G;
const fusion = (await import(pathToFileURL(`${SRC}/optim/fusion.ts`).href).catch(() => null)) as
  | { setFusedSteps(on: boolean): boolean }
  | null;
const setFusedSteps = (on: boolean): void => void fusion?.setFusedSteps(on);

// Parameter layouts: the benchmark MLP 784-256-256-10 (269,322 values) and a ~1M one.
const LAYOUTS: Record<string, number[][]> = {
  'mlp 269k': [[784, 256], [256], [256, 256], [256], [256, 10], [10]],
  'mlp 203k': [[784, 256], [256], [256, 10], [10]],
  '1M': [[1024, 1024], [1024], [1024, 10], [10]],
};

function makeParams(shapes: number[][], seed: number): G.Parameter[] {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  return shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const p = new g.Parameter(g.tensor(Float32Array.from({ length: n }, rnd), { shape }), { tags: shape.length === 1 ? ['noDecay'] : [] });
    p.grad = g.tensor(Float32Array.from({ length: n }, () => 0.01 * rnd()), { shape });
    return p;
  });
}

const OPTIMIZERS: Record<string, (ps: G.Parameter[]) => G.optim.Optimizer<any>> = {
  Adam: (ps) => new g.optim.Adam(ps, { lr: 1e-3 }),
  AdamW: (ps) => new g.optim.AdamW(ps, { lr: 1e-3, weightDecay: 0.01 }),
  'SGD+momentum': (ps) => new g.optim.SGD(ps, { lr: 0.01, momentum: 0.9 }),
  RMSprop: (ps) => new g.optim.RMSprop(ps, { lr: 1e-3 }),
  'RMSprop+c+m': (ps) => new g.optim.RMSprop(ps, { lr: 1e-3, centered: true, momentum: 0.9, weightDecay: 1e-4 }),
};

function msPerStep(fused: boolean, layout: number[][], make: (ps: G.Parameter[]) => G.optim.Optimizer<any>): number {
  setFusedSteps(fused);
  const opt = make(makeParams(layout, 1));
  for (let i = 0; i < 10; i++) opt.step(); // warm up the JIT and the slots
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) opt.step();
  return (performance.now() - t0) / STEPS;
}

console.log(`optimizer step, float32, ${STEPS} steps, best of 5 runs (ms/step; the best, as the machine is shared), src ${SRC}`);
console.log(fusion ? 'layout     optimizer      composed    fused   speedup' : 'layout     optimizer      composed');
// The backend decides whether a fused step may hand off to a backend kernel (wasm SIMD).
if (arg('--backend') !== undefined) g.setBackend(arg('--backend')!);
for (const [lname, layout] of Object.entries(LAYOUTS)) {
  if (arg('--layout') !== undefined && arg('--layout') !== lname) continue;
  for (const [oname, make] of Object.entries(OPTIMIZERS)) {
    if (arg('--only') !== undefined && arg('--only') !== oname) continue;
    // Composed and fused runs alternate, so a burst of load from other processes hits both.
    let before = Infinity;
    let after = Infinity;
    for (let r = 0; r < 5; r++) {
      before = Math.min(before, msPerStep(false, layout, make));
      if (fusion) after = Math.min(after, msPerStep(true, layout, make));
    }
    if (!fusion) {
      console.log(`${lname.padEnd(10)} ${oname.padEnd(13)} ${before.toFixed(3).padStart(9)}`);
      continue;
    }
    console.log(`${lname.padEnd(10)} ${oname.padEnd(13)} ${before.toFixed(3).padStart(9)} ${after.toFixed(3).padStart(8)} ${(before / after).toFixed(2).padStart(8)}x`);
  }
}
setFusedSteps(true);

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as g from '../../src/index.js';
import { createWasmBackend, type WasmBackend } from '../../src/backends/wasm/index.js';
import { Resident } from '../../src/backends/wasm/runtime.js';
import { adamUpdate as referenceAdam } from '../../src/backends/reference/optim.js';
import type { Handle } from '../../src/backend/handle.js';
import { randArray } from './util.js';

// Issue 13 item 3: wasm fast-kernel outputs stay in wasm memory as resident blocks, freed by
// scopes/dispose, and fall back to plain arrays when the memory is at its limit.

const made: WasmBackend[] = [];
after(() => {
  for (const b of made) b.dispose?.();
});
function backend(limit?: number): WasmBackend {
  const b = createWasmBackend({ threads: 1, memoryLimit: limit });
  assert.ok(b);
  made.push(b);
  return b;
}
const isResident = (t: g.Tensor) => (t.ownHandle as unknown) instanceof Resident;
let n = 0;
function on<T>(b: WasmBackend, fn: () => T): T {
  const name = `wasm-resident-test-${n++}`;
  g.registerBackend(name, () => b, -100);
  return g.withBackend(name, fn);
}

test('fast-kernel outputs are resident; other kernels read them; values equal the reference backend', () => {
  const b = backend();
  const data = randArray(new g.Random(1), 8 * 16 * 32 * 32);
  const want = g.withBackend('reference', () => {
    const x = g.fromArray(data.slice(), [8, 16, 32, 32]);
    const y = x.relu().add(x).mul(x);
    return [y.toArray(), y.sum().item(), y.permute([0, 2, 1, 3]).toArray()];
  });
  on(b, () => g.scope(() => {
    const x = g.fromArray(data.slice(), [8, 16, 32, 32]);
    const r = x.relu();
    assert.ok(isResident(r), 'relu output is resident');
    const y = r.add(x).mul(x);
    assert.ok(isResident(y), 'same-shape add/mul outputs are resident');
    assert.deepEqual([y.toArray(), y.sum().item(), y.permute([0, 2, 1, 3]).toArray()], want);
  }));
  assert.equal(b.residentMemory().blocks, 1, 'the scope freed every block: only the scratch arena is left');
});

test('live resident bytes stay flat over many scoped steps; a disposed block is reused', () => {
  const b = backend();
  on(b, () => {
    const x = g.keep(g.randn([4, 16, 32, 32], { seed: 2 }));
    const step = () => g.scope(() => x.relu().mul(x).add(x).relu().sum().item());
    step();
    const base = b.residentMemory();
    for (let i = 0; i < 200; i++) step();
    assert.deepEqual(b.residentMemory(), base);
    g.scope(() => {
      const y1 = x.relu();
      const at = (y1.ownHandle as unknown as Resident).at;
      y1.dispose();
      const y2 = x.relu();
      assert.equal((y2.ownHandle as unknown as Resident).at, at, 'the freed block is handed out again');
    });
    // Outside every scope outputs are plain arrays: nothing would free a block deterministically.
    const plain = x.relu();
    assert.ok(!isResident(plain));
    g.dispose([x, plain]);
  });
});

test('at the memory limit outputs fall back to plain arrays and results stay right', () => {
  const limit = 4 << 20; // 4 MiB: 1 MiB outputs fit for a while, then the heap refuses
  const b = backend(limit);
  const data = randArray(new g.Random(3), 256 * 1024);
  const want = g.withBackend('reference', () => g.fromArray(data.slice()).relu().toArray());
  on(b, () => g.scope(() => {
    const x = g.fromArray(data.slice());
    const outs: g.Tensor[] = [];
    for (let i = 0; i < 12; i++) outs.push(x.relu());
    assert.ok(isResident(outs[0]));
    assert.ok(!isResident(outs[11]), 'past the limit an output is a plain array');
    for (const o of outs) assert.deepEqual(o.toArray(), want);
    assert.ok(b.residentMemory().memoryBytes <= limit);
  }));
  // A small training run under a tight limit: outputs spill to plain arrays and calls that find
  // no scratch run the reference kernels (another summation order), so the losses agree closely.
  const run = (bk: WasmBackend) => on(bk, () => {
    const rng = new g.Random(1);
    const model = new g.nn.Sequential(new g.nn.Conv2d(3, 8, 3, { padding: 1, rng }), new g.nn.BatchNorm2d(8), new g.nn.ReLU(), new g.nn.Flatten(), new g.nn.Linear(8 * 16 * 16, 10, { rng }));
    const opt = new g.optim.Adam(model.parameters());
    const xs = g.randn([16, 3, 16, 16], { seed: 4 });
    const ys = g.tensor(Array.from({ length: 16 }, (_, i) => i % 10), { dtype: 'int32' });
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) {
      losses.push(g.scope(() => {
        opt.zeroGrad();
        const l = g.losses.crossEntropy(model.call(xs), ys);
        l.backward();
        opt.step();
        return l.item();
      }));
    }
    return losses;
  });
  // The first refusal says so once (a silent slow path would go unnoticed).
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => void warnings.push(m);
  let tight: number[];
  try {
    tight = run(backend(2 << 20));
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /wasm backend's memory is full \(2 MiB\).*model\.dispose\(\)/);
  const free = run(backend());
  for (let i = 0; i < free.length; i++) assert.ok(Math.abs(tight[i] - free[i]) <= 1e-5 * Math.abs(free[i]), `step ${i}: ${tight[i]} vs ${free[i]}`);
});

test('adamUpdate steps resident parameters and slots in place', () => {
  const b = backend();
  const k = b.kernels;
  const len = 32768;
  const rng = new g.Random(5);
  const w0 = randArray(rng, len).map(Math.abs), gr = randArray(rng, len);
  const m0 = randArray(rng, len).map(Math.abs), v0 = randArray(rng, len).map((x) => x * x);
  // relu of non-negative data: resident copies.
  const res = (a: Float32Array): Handle => k.unary('relu', b.upload(a.slice()));
  const [w, m, v] = g.scope(() => [res(w0), res(m0), res(v0)]);
  for (const h of [w, m, v]) assert.ok((h as unknown) instanceof Resident);
  k.adamUpdate(w, b.upload(gr.slice()), m, v, null, 0.9, 0.999, 1e-8, 3, 0, 0.01, -1e-3, true);
  const rw = w0.slice(), rm = m0.slice(), rv = v0.slice();
  referenceAdam(rw, gr, rm, rv, null, 0.9, 0.999, 1e-8, 3, 0, 0.01, -1e-3, true);
  assert.deepEqual(b.readSync(w), rw);
  assert.deepEqual(b.readSync(m), rm);
  assert.deepEqual(b.readSync(v), rv);
  for (const h of [w, m, v]) b.free(h);
  assert.throws(() => b.free(w), /freed twice/);
});

test('a Parameter moves its buffer into wasm memory; the tensor it wraps follows; freeing both frees the block', async () => {
  const b = backend();
  on(b, () => {
    const base = b.residentMemory();
    const t = g.zeros([4096]);
    assert.ok(!isResident(t), 'made outside a scope: a plain array');
    const p = new g.nn.Parameter(t);
    assert.ok(isResident(p) && isResident(t), 'parameter and source share the moved buffer');
    assert.equal(b.residentMemory().blocks, base.blocks + 1);
    t.assign(Float32Array.from({ length: 4096 }, (_, i) => i));
    assert.equal(p.dataSync()[4095], 4095, 'a write through the source is seen by the parameter');
    t.dispose();
    assert.equal(b.residentMemory().blocks, base.blocks + 1, 'the parameter still holds the block');
    p.dispose();
    assert.deepEqual(b.residentMemory(), base);
  });
});

test('parameters and Adam slots are resident and staggered off 4 KiB; a step copies none of them; results match the reference', () => {
  const build = () => {
    const rng = new g.Random(7);
    // No biases: every buffer is a multiple of 4 KiB, so blocks allocated one after another
    // would share their offset modulo 4096 but for the stagger.
    const model = new g.nn.Sequential(new g.nn.Linear(256, 256, { rng, bias: false }), new g.nn.ReLU(), new g.nn.Linear(256, 16, { rng, bias: false }));
    return { model, opt: new g.optim.Adam(model.parameters(), { lr: 1e-2 }) };
  };
  const xs = randArray(new g.Random(8), 32 * 256);
  const ys = Array.from({ length: 32 }, (_, i) => i % 16);
  const train = (steps: number, check?: () => void) => {
    const { model, opt } = build();
    const x = g.fromArray(xs.slice(), [32, 256]);
    const y = g.tensor(ys, { dtype: 'int32' });
    for (let i = 0; i < steps; i++) {
      g.scope(() => {
        opt.zeroGrad();
        g.losses.crossEntropy(model.call(x), y).backward();
        opt.step();
      });
      check?.();
    }
    return { model, opt };
  };
  const want = g.withBackend('reference', () => train(3).model.parameters().map((p) => p.dataSync()));
  const b = backend();
  on(b, () => {
    let flat: ReturnType<WasmBackend['residentMemory']> | null = null;
    const { model, opt } = train(3, () => {
      // After the first step the slots exist: every later step keeps the same live blocks.
      if (flat === null) flat = b.residentMemory();
      else assert.deepEqual(b.residentMemory(), flat, 'no block made or lost by a step');
    });
    const params = model.parameters();
    for (const p of params) assert.ok(isResident(p), `${p.name} resident`);
    // The optimizer's slot tensors (private state: found by walking it).
    const slots: g.Tensor[] = [];
    const walk = (v: unknown): void => {
      if (v instanceof g.Tensor) slots.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk((opt as unknown as { states: unknown }).states);
    assert.equal(slots.length, 2 * params.length, 'm and v per parameter');
    for (const s of slots) assert.ok(isResident(s), 'slot resident');
    // The 256×256 weight and its m and v: three different offsets modulo 4096 (no 4K aliasing).
    const weightAndSlots = [params[0], ...slots.filter((s) => s.size === params[0].size)];
    assert.equal(weightAndSlots.length, 3);
    const offsets = new Set(weightAndSlots.map((t) => ((t.ownHandle as unknown) as Resident).at % 4096));
    assert.equal(offsets.size, 3, `offsets mod 4096: ${[...offsets]}`);
    const got = params.map((p) => p.dataSync());
    for (let i = 0; i < got.length; i++) {
      for (let j = 0; j < got[i].length; j++) {
        assert.ok(Math.abs(got[i][j] - want[i][j]) <= 1e-5 + 1e-4 * Math.abs(want[i][j]), `param ${i}[${j}]: ${got[i][j]} vs ${want[i][j]}`);
      }
    }
  });
});

test('Module.dispose and Optimizer.dispose free parameters, gradients and slots at once; a disposed optimizer says so', () => {
  const b = backend();
  on(b, () => {
    const base = b.residentMemory();
    const model = new g.nn.Sequential(new g.nn.Linear(64, 64), new g.nn.ReLU(), new g.nn.Linear(64, 10));
    const opt = new g.optim.Adam(model.parameters());
    const x = g.randn([8, 64]);
    const y = g.tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int32' });
    g.scope(() => {
      opt.zeroGrad();
      g.losses.crossEntropy(model.call(x), y).backward();
      opt.step();
    });
    assert.ok(b.residentMemory().blocks >= base.blocks + 12, 'four parameters and eight slots resident');
    opt.dispose();
    model.dispose();
    assert.equal(b.residentMemory().blocks, 1, 'only the scratch arena is left');
    assert.throws(() => opt.step(), /Adam: step\(\) after dispose\(\)/);
    assert.throws(() => model.call(x), /disposed/);
  });
});

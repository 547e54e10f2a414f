import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as g from '../../src/index.js';
import type { Pool2dParams } from '../../src/backend/kernels.js';
import type { Handle } from '../../src/backend/handle.js';
import { item, readSync } from '../../src/tensor/host.js';
import { strictKernels } from '../../src/backends/strict/kernels.js';
import { StrictBuffer, toHandle } from '../../src/backends/strict/buffer.js';
import type { Kernels } from '../../src/backend/kernels.js';
import type { DataArray } from '../../src/core/dtype.js';

// The strict backend stands in for a GPU backend in tests: these check that it really refuses
// everything a GPU would not allow (host arrays in kernels, foreign or freed handles), that it
// counts every buffer, and that a training loop in scopes holds a flat number of buffers on it.

const f32 = (...v: number[]) => new Float32Array(v);
/** A host array smuggled in where a handle belongs (what unconverted code does). */
const asHandle = (a: Float32Array) => a as unknown as Handle;
const pool: Pool2dParams = { n: 1, c: 1, h: 2, w: 2, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, outH: 1, outW: 1, countIncludePad: false };

test('strict kernels refuse host arrays, naming the kernel and the argument position', () => {
  const be = g.createStrictBackend();
  const a = be.upload(f32(1, 2, 3));
  assert.throws(() => be.kernels.unary('neg', asHandle(f32(1, 2))), /kernel unary, argument 2 got a host Float32Array/);
  assert.throws(() => be.kernels.binary('add', a, [3], asHandle(f32(1, 2, 3)), [3], [3], 'float32'), /kernel binary, argument 4 got a host Float32Array/);
  // Arrays of handles are checked element by element.
  assert.throws(() => be.kernels.concat([a, asHandle(f32(4))], [[3], [1]], 0), /kernel concat, argument 1\[1\] got a host Float32Array/);
  // Any other object where a handle belongs (another backend's handle object).
  assert.throws(() => be.kernels.unary('exp', new Map() as unknown as Handle), /kernel unary, argument 2 got a Map object .*not a strict handle/);
  // The backend methods check too.
  assert.throws(() => be.readSync(asHandle(f32(1))), /readSync got a host Float32Array/);
  assert.throws(() => be.write(asHandle(f32(1)), [2]), /write got a host Float32Array/);
});

test('strict wraps every reference kernel, and refuses a kernel that returns its input buffer', () => {
  const be = g.createStrictBackend();
  const names = (o: object) => Object.entries(o).filter(([, v]) => typeof v === 'function').map(([k]) => k).sort();
  assert.deepEqual(names(be.kernels), names(g.referenceKernels));
  // Outputs must be new buffers: a kernel handing back its input would make two handles share values.
  const owner = {};
  const input = toHandle(new StrictBuffer(owner, 'float32', 1, f32(1)));
  const table = { unary: (_op: string, x: DataArray) => x } as unknown as Kernels<DataArray>;
  const aliasing = strictKernels({ owner, adopt: (d) => toHandle(new StrictBuffer(owner, 'float32', d.length, d)) }, table);
  assert.throws(() => aliasing.unary('neg', input), /kernel unary returned one of its input buffers instead of a new buffer/);
});

test('strict kernels refuse handles of another strict backend and freed handles', () => {
  const be = g.createStrictBackend();
  const other = g.createStrictBackend();
  const a = be.upload(f32(1, 2));
  const foreign = other.upload(f32(3, 4));
  assert.throws(() => be.kernels.binary('mul', a, [2], foreign, [2], [2], 'float32'), /kernel binary, argument 4 got strict buffer #\d+ \(float32\[2\]\), which belongs to another strict backend/);
  assert.throws(() => be.free(foreign), /free got .*another strict backend/);

  const b = be.kernels.unary('exp', a);
  be.free(b);
  assert.throws(() => be.kernels.unary('neg', b), /kernel unary, argument 2 got strict buffer #\d+ \(float32\[2\], freed\) after it was freed \(use after free\)/);
  assert.throws(() => be.kernels.copyInto(b, a), /kernel copyInto, argument 1 .*use after free/);
  assert.throws(() => be.readSync(b), /readSync got .*use after free/);
  assert.throws(() => be.free(b), /double free/);
  // A disposed tensor's buffer is freed on strict, so its old handle is refused.
  g.withBackend('strict', () => {
    const t = g.Tensor.fromArray(f32(1, 2, 3), [3]);
    const h = t.handle;
    t.dispose();
    assert.throws(() => t.backend.kernels.unary('abs', h), /use after free/);
  });
});

test('strict reads and writes copy: host arrays never alias a buffer', () => {
  const be = g.createStrictBackend();
  const src = f32(1, 2, 3);
  const h = be.upload(src);
  src[0] = 100; // after upload: must not reach the buffer
  const seen = be.readSync(h);
  assert.deepEqual([...seen], [1, 2, 3]);
  seen[1] = 200; // writing into readSync's result has no effect on strict
  assert.deepEqual([...be.readSync(h)], [1, 2, 3]);
  const values = [7, 8, 9];
  be.write(h, values);
  values[0] = -1;
  assert.deepEqual([...be.readSync(h)], [7, 8, 9]);
  assert.throws(() => be.write(h, [1, 2]), /write: 2 values into a buffer of 3/);
  assert.equal(be.dtypeOf(h), 'float32');
  assert.equal(be.sizeOf(h), 3);
});

test('strict counts every buffer: uploads, kernel outputs (result objects included), frees', async () => {
  const be = g.createStrictBackend();
  assert.deepEqual(be.memory(), { buffers: 0, bytes: 0 });
  const x = be.upload(f32(1, 5, 3, 2));
  assert.deepEqual(be.memory(), { buffers: 1, bytes: 16 });
  const z = be.alloc('float64', 3);
  assert.deepEqual(be.memory(), { buffers: 2, bytes: 16 + 24 });
  // maxPool2d returns {out, argmax}: both are new handles, both counted.
  const { out, argmax } = be.kernels.maxPool2d(x, pool);
  assert.equal(be.memory().buffers, 4);
  assert.deepEqual([...be.readSync(out)], [5]);
  assert.equal(be.dtypeOf(argmax), 'int32');
  assert.deepEqual([...(await be.read(argmax))], [1]);
  // Batch norm's result object: four outputs. gamma/beta null pass through.
  const bn = be.kernels.batchNormForwardTrain(be.upload(f32(1, 2, 3, 4)), [2, 2], null, null, 1e-5);
  assert.equal(be.memory().buffers, 4 + 1 + 4);
  for (const h of Object.values(bn)) assert.equal(be.sizeOf(h), h === bn.out ? 4 : 2);
  // concat unwraps its list and returns one handle.
  const cat = be.kernels.concat([x, out], [[4], [1]], 0);
  assert.deepEqual([...be.readSync(cat)], [1, 5, 3, 2, 5]);
  const before = be.memory();
  be.free(cat);
  be.free(z);
  assert.deepEqual(be.memory(), { buffers: before.buffers - 2, bytes: before.bytes - 20 - 24 });
  const s = be.stats();
  assert.equal(s.allocations, 10);
  assert.equal(s.frees, 2);
  assert.equal(s.buffers, 8);
  assert.equal(s.peakBuffers, 10);
});

test('on strict, tensors free their buffers on dispose and at the end of a scope', () => {
  g.withBackend('strict', () => {
    const be = g.getBackend();
    assert.equal(be.name, 'strict');
    const start = be.memory!().buffers;
    const t = g.Tensor.fromArray(f32(1, 2, 3, 4), [2, 2]);
    assert.equal(be.memory!().buffers, start + 1);
    const v = t.view([4]); // shares the buffer: no new one, and it stays while v lives
    t.dispose();
    assert.equal(be.memory!().buffers, start + 1);
    v.dispose();
    assert.equal(be.memory!().buffers, start);
    const kept = g.scope(() => {
      const a = g.Tensor.fromArray(f32(1, -2), [2]);
      const b = new g.Tensor(be.kernels.unary('relu', a.handle), [2]);
      const c = new g.Tensor(be.kernels.unary('exp', b.handle), [2]);
      assert.equal(be.memory!().buffers, start + 3);
      return c;
    });
    assert.equal(be.memory!().buffers, start + 1, 'a and b are freed at the end of the scope; c escapes');
    assert.deepEqual([...readSync(kept)], [Math.exp(1), 1].map(Math.fround));
    kept.dispose();
    assert.equal(be.memory!().buffers, start);
  });
});

test('strict is never the default backend; GRADKIT_BACKEND picks the default, and an unknown name is one clear error', () => {
  const strict = g.listBackends().find((b) => b.name === 'strict');
  const reference = g.listBackends().find((b) => b.name === 'reference');
  assert.ok(strict && reference && strict.available);
  assert.ok(strict.priority < reference.priority);

  const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
  const script = `import(${JSON.stringify(entry)}).then((g) => console.log(g.backendName()))`;
  const run = (backend: string | undefined) => {
    const env = { ...process.env };
    delete env.GRADKIT_BACKEND;
    if (backend !== undefined) env.GRADKIT_BACKEND = backend;
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' });
  };
  const plain = run(undefined);
  assert.equal(plain.status, 0, plain.stderr);
  assert.notEqual(plain.stdout.trim(), 'strict');
  const chosen = run('strict');
  assert.equal(chosen.status, 0, chosen.stderr);
  assert.equal(chosen.stdout.trim(), 'strict');
  const unknown = run('tpu');
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /GRADKIT_BACKEND: unknown backend 'tpu'; registered: .*reference.*strict/);
});

test('a small MLP trained in scopes on strict holds a flat number of buffers from step 5 to step 30', () => {
  g.withBackend('strict', () => {
    const be = g.getBackend();
    const rng = new g.Random(7);
    const x = g.randn([16, 4], { rng });
    const y = g.randn([16, 1], { rng });
    const params = [
      g.randn([4, 8], { rng, std: 0.5, requiresGrad: true }),
      g.zeros([8], { requiresGrad: true }),
      g.randn([8, 1], { rng, std: 0.5, requiresGrad: true }),
      g.zeros([1], { requiresGrad: true }),
    ];
    const [w1, b1, w2, b2] = params;
    const lr = 0.05;
    const buffers: number[] = [];
    const lossAt: number[] = [];
    for (let step = 1; step <= 30; step++) {
      const loss = g.scope(() => {
        const out = x.matmul(w1).add(b1).relu().matmul(w2).add(b2);
        const l = out.sub(y).square().mean();
        l.backward();
        g.noGrad(() => {
          for (const p of params) {
            p.assign(p.sub(p.grad!.mul(lr)));
            // Drop the gradient as zeroGrad(setToNone) does: disposed now, not left to the GC.
            p.grad!.dispose();
            p.grad = null;
          }
        });
        return item(l);
      });
      lossAt.push(loss);
      buffers.push(be.memory!().buffers);
    }
    assert.ok(lossAt[29] < lossAt[0], `loss did not fall: ${lossAt[0]} → ${lossAt[29]}`);
    const flat = buffers.slice(4);
    assert.ok(flat.every((b) => b === flat[0]), `live buffers from step 5 to 30: ${flat.join(', ')}`);
  });
});

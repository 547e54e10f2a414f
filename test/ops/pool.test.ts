import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, expectGrad, FLOAT, scalar } from '../helpers.js';
import { testAllBackends } from './backends.js';

const F = { dtype: FLOAT } as const;
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...F });

/**
 * Independent oracle with PyTorch's definitions: windows start at o·stride − pad; max ignores
 * padding; avg divides by the window clipped to the padded image (countIncludePad) or by the
 * number of real pixels in it.
 */
async function directPool(kind: 'max' | 'avg', x: g.Tensor, k: [number, number], s: [number, number], p: [number, number], includePad = true): Promise<number[]> {
  const [n, c, h, w] = x.shape;
  const v = await x.data();
  const oh = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
  const ow = Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1;
  const out: number[] = [];
  for (let plane = 0; plane < n * c; plane++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const y0 = oy * s[0] - p[0];
        const x0 = ox * s[1] - p[1];
        const padded = (Math.min(y0 + k[0], h + p[0]) - y0) * (Math.min(x0 + k[1], w + p[1]) - x0);
        let best = -Infinity;
        let total = 0;
        let real = 0;
        for (let y = y0; y < y0 + k[0]; y++) {
          for (let xx = x0; xx < x0 + k[1]; xx++) {
            if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
            const val = v[plane * h * w + y * w + xx];
            best = Math.max(best, val);
            total += val;
            real++;
          }
        }
        out.push(kind === 'max' ? best : total / (includePad ? padded : real));
      }
    }
  }
  return out;
}

const X44 = () => g.arange(16, undefined, 1, F).reshape([1, 1, 4, 4]);

testAllBackends('maxPool2d and avgPool2d: 4×4 cases computed by hand', async () => {
  assert.deepEqual(await g.maxPool2d(X44(), { kernelSize: 2 }).array(), [[[[5, 7], [13, 15]]]]);
  assert.deepEqual(await g.avgPool2d(X44(), { kernelSize: 2 }).array(), [[[[2.5, 4.5], [10.5, 12.5]]]]);
  assert.deepEqual(await g.maxPool2d(X44(), { kernelSize: 3, stride: 1 }).array(), [[[[10, 11], [14, 15]]]]);
  assert.deepEqual(await g.maxPool2d(X44(), { kernelSize: [1, 4] }).array(), [[[[3], [7], [11], [15]]]]);
  // Padding 1, kernel 2, stride 2 → 3×3; window (0,1) covers the padded row and x[0][1..2] = 1, 2.
  const inc = g.avgPool2d(X44(), { kernelSize: 2, padding: 1 });
  assert.deepEqual(inc.shape, [1, 1, 3, 3]);
  assert.equal((await inc.data())[1], 3 / 4);
  const exc = g.avgPool2d(X44(), { kernelSize: 2, padding: 1, countIncludePad: false });
  assert.equal((await exc.data())[1], 3 / 2);
  assert.equal((await exc.data())[4], (5 + 6 + 9 + 10) / 4);
  // Max pooling ignores padding even when every real value is negative.
  assert.deepEqual((await g.maxPool2d(X44().sub(100), { kernelSize: 2, padding: 1 }).data())[0], -100);
  assert.ok(Number.isNaN(await scalar(g.maxPool2d(g.tensor([[[[1, NaN], [3, 4]]]]), { kernelSize: 2 }))), 'a NaN in the window is the max');
});

const COMBOS: [string, g.Pool2dOptions, number[]][] = [
  ['k2', { kernelSize: 2 }, [2, 3, 4, 6]],
  ['k3 s2', { kernelSize: 3, stride: 2 }, [1, 2, 7, 5]],
  ['k3 s1 p1', { kernelSize: 3, stride: 1, padding: 1 }, [1, 2, 4, 4]],
  ['k[2,3] s[1,2] p[1,1]', { kernelSize: [2, 3], stride: [1, 2], padding: [1, 1] }, [2, 1, 5, 6]],
  ['k2 s1 (overlapping)', { kernelSize: 2, stride: 1 }, [1, 1, 3, 4]],
];

testAllBackends('pools match a direct computation for kernel/stride/padding combinations', async () => {
  for (const [i, [name, opts, shape]] of COMBOS.entries()) {
    const x = any(i, shape);
    const k = typeof opts.kernelSize === 'number' ? [opts.kernelSize, opts.kernelSize] as [number, number] : [...opts.kernelSize] as [number, number];
    const sv = opts.stride ?? opts.kernelSize;
    const s = typeof sv === 'number' ? [sv, sv] as [number, number] : [...sv] as [number, number];
    const pv = opts.padding ?? 0;
    const p = typeof pv === 'number' ? [pv, pv] as [number, number] : [...pv] as [number, number];
    await expectClose(g.maxPool2d(x, opts), await directPool('max', x, k, s, p), { atol: 1e-12, msg: `max ${name}` });
    await expectClose(g.avgPool2d(x, opts), await directPool('avg', x, k, s, p, true), { atol: 1e-12, msg: `avg ${name}` });
    await expectClose(g.avgPool2d(x, { ...opts, countIncludePad: false }), await directPool('avg', x, k, s, p, false), { atol: 1e-12, msg: `avg excl ${name}` });
  }
});

testAllBackends('pool gradients match finite differences (and flow through non-contiguous input)', async () => {
  for (const [i, [name, opts, shape]] of COMBOS.entries()) {
    await expectGrad((x) => g.maxPool2d(x, opts), [any(50 + i, shape)], { seed: i });
    await expectGrad((x) => g.avgPool2d(x, opts), [any(60 + i, shape)], { seed: i });
    await expectGrad((x) => g.avgPool2d(x, { ...opts, countIncludePad: false }), [any(70 + i, shape)], { seed: i });
    void name;
  }
  await expectGrad((x) => g.maxPool2d(g.permute(x, [0, 3, 1, 2]), { kernelSize: 2 }), [any(80, [1, 4, 4, 2])]);
});

testAllBackends('maxPool2d gradient by hand: overlapping windows add up at a shared max', async () => {
  const x = g.tensor([[[[1, 3, 2]]]], { ...F, requiresGrad: true });
  const y = g.maxPool2d(x, { kernelSize: [1, 2], stride: 1 });
  assert.deepEqual(await y.array(), [[[[3, 3]]]]);
  y.sum().backward();
  await expectClose(x.grad!, [0, 2, 0]);
  const z = g.tensor([[[[1, 2], [3, 4]]]], { ...F, requiresGrad: true });
  g.avgPool2d(z, { kernelSize: 2 }).sum().backward();
  await expectClose(z.grad!, [0.25, 0.25, 0.25, 0.25]);
});

testAllBackends('pools on an empty batch', async () => {
  assert.deepEqual(g.maxPool2d(g.zeros([0, 2, 4, 4]), { kernelSize: 2 }).shape, [0, 2, 2, 2]);
  assert.deepEqual(g.avgPool2d(g.zeros([2, 0, 4, 4]), { kernelSize: 2 }).shape, [2, 0, 2, 2]);
});

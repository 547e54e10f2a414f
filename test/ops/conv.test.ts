import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, expectGrad, FLOAT } from '../helpers.js';
import { testAllBackends } from './backends.js';

const f64 = { dtype: FLOAT };
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...f64 });

interface Geometry {
  stride: [number, number];
  /** [top, bottom, left, right] */
  pad: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

/**
 * Independent oracle: materialize the zero-padded image, then for every output pixel sum
 * weight × input over the (dilated) window, channel group by channel group.
 */
async function directConv(x: g.Tensor, w: g.Tensor, geo: Geometry): Promise<{ values: number[]; shape: number[] }> {
  const [n, c, h, wd] = x.shape;
  const [co, cg, kh, kw] = w.shape;
  const xv = await x.data();
  const wv = await w.data();
  const [pt, pb, pl, pr] = geo.pad;
  const ph = h + pt + pb;
  const pw = wd + pl + pr;
  const padded = (b: number, ch: number, y: number, xx: number): number => {
    const iy = y - pt;
    const ix = xx - pl;
    return iy < 0 || iy >= h || ix < 0 || ix >= wd ? 0 : xv[((b * c + ch) * h + iy) * wd + ix];
  };
  const oh = Math.floor((ph - (geo.dilation[0] * (kh - 1) + 1)) / geo.stride[0]) + 1;
  const ow = Math.floor((pw - (geo.dilation[1] * (kw - 1) + 1)) / geo.stride[1]) + 1;
  const outPerGroup = co / geo.groups;
  const values: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < co; o++) {
      const group = Math.floor(o / outPerGroup);
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          let s = 0;
          for (let i = 0; i < cg; i++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const pix = padded(b, group * cg + i, y * geo.stride[0] + ky * geo.dilation[0], xx * geo.stride[1] + kx * geo.dilation[1]);
                s += pix * wv[((o * cg + i) * kh + ky) * kw + kx];
              }
            }
          }
          values.push(s);
        }
      }
    }
  }
  return { values, shape: [n, co, oh, ow] };
}

const X33 = () => g.tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], f64);
const W22 = () => g.tensor([[[[1, 2], [3, 4]]]], f64);

testAllBackends('conv2d: small cases computed by hand (valid, stride+padding, dilation, bias)', async () => {
  // y[i][j] = x[i][j]·1 + x[i][j+1]·2 + x[i+1][j]·3 + x[i+1][j+1]·4
  assert.deepEqual(await g.conv2d(X33(), W22()).array(), [[[[37, 47], [67, 77]]]]);
  // Padding 1, stride 2: corner windows see mostly zeros, e.g. the first sees only x[0][0]·4.
  assert.deepEqual(await g.conv2d(X33(), W22(), null, { stride: 2, padding: 1 }).array(), [[[[4, 18], [36, 77]]]]);
  // Dilation 2: the taps are the four corners: 1·1 + 3·2 + 7·3 + 9·4.
  assert.deepEqual(await g.conv2d(X33(), W22(), null, { dilation: 2 }).array(), [[[[64]]]]);
  // Bias is added per output channel; two output channels.
  const w2 = g.tensor([[[[1, 0], [0, 0]]], [[[0, 0], [0, 1]]]], f64);
  assert.deepEqual(await g.conv2d(X33(), w2, g.tensor([10, -10], f64)).array(), [[[[11, 12], [14, 15]], [[-5, -4], [-2, -1]]]]);
  // 'same' keeps the spatial size; a 3×3 all-ones kernel sums each 3×3 neighbourhood.
  const same = g.conv2d(X33(), g.ones([1, 1, 3, 3], f64), null, { padding: 'same' });
  assert.deepEqual(await same.array(), [[[[12, 21, 16], [27, 45, 33], [24, 39, 28]]]]);
  // Even kernel with 'same': the extra padding goes after (bottom/right), as in PyTorch.
  assert.deepEqual(await g.conv2d(X33(), W22(), null, { padding: 'same' }).array(), [[[[37, 47, 21], [67, 77, 33], [23, 26, 9]]]]);
  // Groups: each output channel sees only its own input channel.
  const x2 = g.concat([X33(), X33().mul(-1)], 1);
  const depthwise = g.conv2d(x2, g.ones([2, 1, 1, 1], f64).mul(g.tensor([2, 3], f64).reshape([2, 1, 1, 1])), null, { groups: 2 });
  assert.deepEqual(await depthwise.array(), [[[[2, 4, 6], [8, 10, 12], [14, 16, 18]], [[-3, -6, -9], [-12, -15, -18], [-21, -24, -27]]]]);
});

const COMBOS: [string, g.Conv2dOptions, number[], number[], Geometry][] = [
  ['plain', {}, [2, 3, 5, 6], [4, 3, 3, 3], { stride: [1, 1], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }],
  ['stride 2, padding 1', { stride: 2, padding: 1 }, [1, 2, 6, 5], [3, 2, 3, 3], { stride: [2, 2], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }],
  ['stride [1,2], padding [0,2], dilation [2,1]', { stride: [1, 2], padding: [0, 2], dilation: [2, 1] }, [1, 2, 7, 5], [2, 2, 2, 3],
    { stride: [1, 2], pad: [0, 0, 2, 2], dilation: [2, 1], groups: 1 }],
  ["'same' with dilation 2", { padding: 'same', dilation: 2 }, [1, 2, 6, 6], [2, 2, 3, 3], { stride: [1, 1], pad: [2, 2, 2, 2], dilation: [2, 2], groups: 1 }],
  ["'same' with an even 2×4 kernel", { padding: 'same' }, [1, 1, 4, 5], [2, 1, 2, 4], { stride: [1, 1], pad: [0, 1, 1, 2], dilation: [1, 1], groups: 1 }],
  ["'valid'", { padding: 'valid', stride: 3 }, [1, 1, 7, 8], [1, 1, 2, 2], { stride: [3, 3], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }],
  ['groups 2', { groups: 2, padding: 1 }, [2, 4, 4, 4], [6, 2, 3, 3], { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 2 }],
  ['depthwise, stride 2', { groups: 3, stride: 2 }, [1, 3, 5, 5], [3, 1, 3, 3], { stride: [2, 2], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 3 }],
  ['1×1 kernel', {}, [2, 3, 2, 3], [2, 3, 1, 1], { stride: [1, 1], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }],
];

testAllBackends('conv2d matches a direct computation for stride/padding/dilation/groups combinations', async () => {
  for (const [i, [name, opts, xs, ws, geo]] of COMBOS.entries()) {
    const x = any(i, xs);
    const w = any(100 + i, ws);
    const ref = await directConv(x, w, geo);
    const y = g.conv2d(x, w, null, opts);
    assert.deepEqual(y.shape, ref.shape, name);
    await expectClose(y, ref.values, { atol: 1e-12, msg: name });
    // float32 agrees within float32 round-off.
    await expectClose(g.conv2d(x.cast('float32'), w.cast('float32'), null, opts), ref.values, { atol: 1e-4, rtol: 1e-4, msg: `${name} float32` });
  }
});

testAllBackends('conv2d input, weight and bias gradients match finite differences for every combination', async () => {
  for (const [i, [name, opts, xs, ws]] of COMBOS.entries()) {
    const check = (x: g.Tensor, w: g.Tensor) => g.conv2d(x, w, null, opts);
    await expectGrad(check, [any(200 + i, xs), any(300 + i, ws)], { seed: i, maxElementsPerInput: 40 });
    void name;
  }
  await expectGrad((x, w, b) => g.conv2d(x, w, b, { padding: 1 }), [any(1, [1, 2, 3, 3]), any(2, [3, 2, 2, 2]), any(3, [3])]);
});

testAllBackends('conv2d on non-contiguous input and weight (NHWC data permuted to NCHW)', async () => {
  const nhwc = any(7, [1, 4, 5, 2]);
  const w = any(8, [3, 3, 2, 2]);
  const y = g.conv2d(g.permute(nhwc, [0, 3, 1, 2]), g.permute(w, [0, 3, 1, 2]), null, { padding: 1 });
  const ref = await directConv(g.permute(nhwc, [0, 3, 1, 2]), g.permute(w, [0, 3, 1, 2]), { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 });
  await expectClose(y, ref.values, { atol: 1e-12 });
  await expectGrad((a, b) => g.conv2d(g.permute(a, [0, 3, 1, 2]), g.permute(b, [0, 3, 1, 2]), null, { stride: 2 }), [any(9, [1, 5, 5, 2]), any(10, [2, 3, 2, 2])]);
});

testAllBackends('conv2d gradients by hand: the weight gradient of a sum is the sum of each tap window', async () => {
  const x = X33().detach();
  const w = g.tensor([[[[1, 2], [3, 4]]]], { ...f64, requiresGrad: true });
  const xi = g.tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], { ...f64, requiresGrad: true });
  g.conv2d(xi, w).sum().backward();
  // dL/dw[ky][kx] = Σ over the 2×2 outputs of x[i+ky][j+kx].
  await expectClose(w.grad!, [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
  // dL/dx[i][j] = Σ of the weights that touch pixel (i, j): corners 1 tap, edges 2, centre 4.
  await expectClose(xi.grad!, [1, 3, 2, 4, 10, 6, 3, 7, 4]);
  void x;
});

testAllBackends('conv2d with an empty batch or empty channels gives empty/zero results and gradients', async () => {
  const y = g.conv2d(g.zeros([0, 2, 4, 4], f64), any(1, [3, 2, 3, 3]), null, { padding: 1 });
  assert.deepEqual(y.shape, [0, 3, 4, 4]);
  const w = g.randn([3, 2, 3, 3], { seed: 2, ...f64, requiresGrad: true });
  g.conv2d(g.zeros([0, 2, 4, 4], f64), w).sum().backward();
  await expectClose(w.grad!, new Array(54).fill(0));
  // Zero input channels: every output is the (empty) sum, i.e. 0, plus the bias.
  assert.deepEqual(await g.conv2d(g.zeros([1, 0, 2, 2]), g.zeros([1, 0, 1, 1]), g.tensor([5])).array(), [[[[5, 5], [5, 5]]]]);
});

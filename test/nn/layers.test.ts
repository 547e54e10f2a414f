import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, expectClose, expectGrad, expectThrowsMsg, FLOAT, scalar } from '../helpers.js';
import { expectModuleGrad } from './grad-util.js';

const { nn } = g;


/** Slow obvious conv2d (NCHW, zero padding, groups, dilation) as the oracle. */
async function refConv(x: g.Tensor, w: g.Tensor, b: g.Tensor | null, s: number, p: [number, number, number, number], d: number, groups: number): Promise<number[]> {
  const [n, c, h, wd] = x.shape;
  const [co, cig, kh, kw] = w.shape;
  const xd = await x.data();
  const wdt = await w.data();
  const bd = b ? await b.data() : undefined;
  const [pt, pb, pl, pr] = p;
  const oh = Math.floor((h + pt + pb - d * (kh - 1) - 1) / s) + 1;
  const ow = Math.floor((wd + pl + pr - d * (kw - 1) - 1) / s) + 1;
  const out: number[] = [];
  const cog = co / groups;
  for (let ni = 0; ni < n; ni++) {
    for (let o = 0; o < co; o++) {
      const grp = Math.floor(o / cog);
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let acc = bd ? bd[o] : 0;
          for (let ci = 0; ci < cig; ci++) {
            for (let u = 0; u < kh; u++) {
              for (let v = 0; v < kw; v++) {
                const yy = i * s - pt + u * d;
                const xx = j * s - pl + v * d;
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                acc += xd[((ni * c + grp * cig + ci) * h + yy) * wd + xx] * wdt[((o * cig + ci) * kh + u) * kw + v];
              }
            }
          }
          out.push(acc);
        }
      }
    }
  }
  void c;
  return out;
}

test('Conv2d: hand-checked 1-channel example', async () => {
  const conv = new nn.Conv2d(1, 1, 2, { dtype: FLOAT });
  conv.weight.assign([1, 0, 0, -1]);
  conv.bias!.assign([0.5]);
  const x = g.tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], { dtype: FLOAT });
  // each output = x[i][j] − x[i+1][j+1] + 0.5 = −4 + 0.5
  await expectClose(conv.call(x), [-3.5, -3.5, -3.5, -3.5]);
  assert.deepEqual(conv.call(x).shape, [1, 1, 2, 2]);
});

test('Conv2d: stride, padding (incl. same), dilation, groups against a slow reference; gradCheck', async () => {
  const rng = new g.Random(1);
  const cases: { cin: number; cout: number; k: number; opts: g.nn.Conv2dOptions; pads: [number, number, number, number] }[] = [
    { cin: 2, cout: 3, k: 3, opts: { stride: 2, padding: 1 }, pads: [1, 1, 1, 1] },
    { cin: 2, cout: 2, k: 2, opts: { padding: 'same' }, pads: [0, 1, 0, 1] },
    { cin: 2, cout: 4, k: 3, opts: { dilation: 2, padding: 'same' }, pads: [2, 2, 2, 2] },
    { cin: 4, cout: 2, k: 3, opts: { groups: 2 }, pads: [0, 0, 0, 0] },
  ];
  for (const { cin, cout, k, opts, pads } of cases) {
    const conv = new nn.Conv2d(cin, cout, k, { ...opts, dtype: FLOAT, rng });
    init(conv.bias!, rng);
    const x = g.randn([2, cin, 5, 5], { dtype: FLOAT, rng });
    const s = typeof opts.stride === 'number' ? opts.stride : 1;
    const d = typeof opts.dilation === 'number' ? opts.dilation : 1;
    await expectClose(conv.call(x), await refConv(x, conv.weight, conv.bias, s, pads, d, opts.groups ?? 1), { atol: 1e-10, msg: JSON.stringify(opts) });
    if (opts.padding === 'same') assert.deepEqual(conv.call(x).shape.slice(2), [5, 5]);
    await expectModuleGrad(conv, [x], { maxElementsPerInput: 20 });
  }
  assertThrowsMsg(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), /divisible by groups \(2\)/);
  assertThrowsMsg(() => new nn.Conv2d(3, 4, 3).call(g.ones([1, 2, 5, 5])), /Conv2d/, /\[N, 3, H, W\]/, /\[1, 2, 5, 5\]/);
  assertThrowsMsg(() => new nn.Conv2d(3, 4, 3, { stride: 2, padding: 'same' }), /'same' needs stride 1/);
  assert.equal(new nn.Conv2d(3, 8, 3, { padding: 1, groups: 1 }).toString(), 'Conv2d(3, 8, kernelSize=[3,3], stride=[1,1], padding=[1,1], bias=true)');
});

function init(t: g.Tensor, rng: g.Random): void {
  nn.init.normal(t, { rng });
}

test('MaxPool2d / AvgPool2d: hand-checked, gradients', async () => {
  const x = g.tensor([[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]], { dtype: FLOAT });
  await expectClose(new nn.MaxPool2d(2).call(x), [6, 8, 14, 16]);
  await expectClose(new nn.AvgPool2d(2).call(x), [3.5, 5.5, 11.5, 13.5]);
  await expectClose(new nn.MaxPool2d(3, { stride: 1 }).call(x), [11, 12, 15, 16]);
  const r = g.randn([2, 2, 4, 4], { dtype: FLOAT, seed: 2 });
  await expectGrad((a) => new nn.MaxPool2d(2).call(a).square().sum(), [r]);
  await expectGrad((a) => new nn.AvgPool2d(2, { stride: 1, padding: 1 }).call(a).square().sum(), [r]);
});

test('AdaptiveAvgPool2d (even and uneven bins) and global average pooling', async () => {
  const x = g.arange(0, 16, 1, { dtype: FLOAT }).reshape([1, 1, 4, 4]);
  await expectClose(new nn.AdaptiveAvgPool2d(2).call(x), [2.5, 4.5, 10.5, 12.5]);
  await expectClose(new nn.AdaptiveAvgPool2d(1).call(x), [7.5]);
  // 4 → 3 bins: [0,2), [1,3), [2,4) along each axis.
  const y = new nn.AdaptiveAvgPool2d([3, 3]).call(x);
  assert.deepEqual(y.shape, [1, 1, 3, 3]);
  const bin = (r0: number, c0: number) => (r0 * 4 + c0 + r0 * 4 + c0 + 1 + (r0 + 1) * 4 + c0 + (r0 + 1) * 4 + c0 + 1) / 4;
  await expectClose(y, [bin(0, 0), bin(0, 1), bin(0, 2), bin(1, 0), bin(1, 1), bin(1, 2), bin(2, 0), bin(2, 1), bin(2, 2)]);
  const gap = new nn.GlobalAvgPool2d().call(g.randn([2, 3, 4, 5], { seed: 3 }));
  assert.deepEqual(gap.shape, [2, 3]);
  assert.deepEqual(new nn.GlobalAvgPool2d({}).call(g.ones([2, 3, 4, 5])).shape, [2, 3]);
  assert.deepEqual(new nn.GlobalAvgPool2d({ flatten: false }).call(g.ones([2, 3, 4, 5])).shape, [2, 3, 1, 1]);
  const r = g.randn([2, 2, 5, 5], { dtype: FLOAT, seed: 4 });
  await expectGrad((a) => nn.adaptiveAvgPool2d(a, [2, 3]).square().sum(), [r]);
  await expectGrad((a) => nn.globalAvgPool2d(a).square().sum(), [r]);
  assertThrowsMsg(() => nn.adaptiveAvgPool2d(g.ones([2, 3]), 2), /4-D/);
});

test('Flatten and Identity', async () => {
  const x = g.randn([2, 3, 4, 5], { seed: 5 });
  assert.deepEqual(new nn.Flatten().call(x).shape, [2, 60]);
  assert.deepEqual(new nn.Flatten(0).call(x).shape, [120]);
  assert.deepEqual(new nn.Flatten(1, 2).call(x).shape, [2, 12, 5]);
  assert.equal(new nn.Identity().call(x), x);
  await expectModuleGrad(new nn.Flatten(), [g.randn([2, 3, 2], { dtype: FLOAT, seed: 6 })]);
  await expectModuleGrad(new nn.Sequential(new nn.Flatten(), new nn.Softmax()), [g.randn([2, 3, 2], { dtype: FLOAT, seed: 7 })]);
  await expectModuleGrad(new nn.LogSoftmax(0), [g.randn([3, 2], { dtype: FLOAT, seed: 8 })]);
});

test('Embedding: lookup of any index shape, gradient to the rows used', async () => {
  const emb = new nn.Embedding(4, 2, { dtype: FLOAT });
  emb.weight.assign([0, 1, 10, 11, 20, 21, 30, 31]);
  const idx = g.tensor([[3, 1], [0, 3]], { dtype: 'int32' });
  const y = emb.call(idx);
  assert.deepEqual(y.shape, [2, 2, 2]);
  await expectClose(y, [30, 31, 10, 11, 0, 1, 30, 31]);
  y.mul(g.tensor([1, 2, 3, 4, 5, 6, 7, 8], { dtype: FLOAT }).reshape([2, 2, 2])).sum().backward();
  await expectClose(emb.weight.grad!, [5, 6, 3, 4, 0, 0, 1 + 7, 2 + 8]);
  await expectModuleGrad(emb, [g.tensor([[1, 1], [2, 0]], { dtype: 'int32' })]);
  assertThrowsMsg(() => emb.call(g.tensor([0.5])), /indices must be int32/);
  await expectThrowsMsg(() => emb.call(g.tensor([4], { dtype: 'int32' })), /out of range/);
  assertThrowsMsg(() => new nn.Embedding(3, 2, { paddingIdx: 3 }), /paddingIdx 3 is out of range/);
});

// The Embedding constructor zeroes the padding row through w.dataSync() (src/nn/basic.ts), which a
// GPU backend refuses: the layer cannot be built there until it zeroes the row with a kernel.
test('Embedding: padding row maps to zeros and gets no gradient', async () => {
  const pad = new nn.Embedding(3, 2, { paddingIdx: 0, dtype: FLOAT });
  await expectClose(pad.weight.slice([0, 0], [1, 2]), [0, 0]);
  pad.weight.assign([5, 5, 1, 2, 3, 4]);
  const out = pad.call(g.tensor([0, 2], { dtype: 'int32' }));
  await expectClose(out, [0, 0, 3, 4]);
  out.sum().backward();
  await expectClose(pad.weight.grad!, [0, 0, 0, 0, 1, 1]);
  await expectModuleGrad(pad, [g.tensor([0, 1, 2, 2], { dtype: 'int32' })]);
});

test('a small CNN trains end to end: loss decreases', async () => {
  const rng = new g.Random(7);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 'same', rng }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(4 * 2 * 2, 2, { rng, init: 'xavier' }),
  );
  const x = g.randn([8, 1, 4, 4], { rng });
  const target = g.randn([8, 2], { rng });
  const lossOf = () => model.call(x).sub(target).square().mean();
  const first = await scalar(lossOf());
  for (let step = 0; step < 20; step++) {
    model.zeroGrad();
    lossOf().backward();
    for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(0.1)));
  }
  const last = await scalar(lossOf());
  assert.ok(last < first * 0.8, `loss ${first} → ${last}`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, FLOAT } from '../helpers.js';
import { param, setGrad, vals } from './helpers.js';

const { SGD, Adam, AdamW, RMSprop, Adagrad } = g.optim;

/** Runs `steps` optimizer steps with the given gradient per step. */
function run(opt: g.optim.Optimizer<any>, p: g.Tensor, grads: number[][]): void {
  for (const gr of grads) {
    setGrad(p, gr);
    opt.step();
  }
}

test('SGD: plain, momentum, Nesterov, dampening and coupled weight decay match hand arithmetic', async () => {
  let p = param([1, 2]);
  run(new SGD([p], { lr: 0.1 }), p, [[0.5, -1]]);
  await expectClose(p, [1 - 0.1 * 0.5, 2 + 0.1 * 1], { atol: 1e-15 });

  // Momentum 0.9, constant gradient 1: buf = 1, 1.9, 2.71 → steps 0.1, 0.19, 0.271.
  p = param([0]);
  run(new SGD([p], { lr: 0.1, momentum: 0.9 }), p, [[1], [1], [1]]);
  await expectClose(p, [-(0.1 + 0.19 + 0.271)], { atol: 1e-12 });

  // Nesterov: update = g + 0.9·buf: 1 + 0.9·1 = 1.9, then 1 + 0.9·1.9 = 2.71.
  p = param([0]);
  run(new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }), p, [[1], [1]]);
  await expectClose(p, [-(0.19 + 0.271)], { atol: 1e-12 });

  // Dampening 0.5: the first step seeds buf = g (no dampening), then buf = 0.9·1 + 0.5·1 = 1.4.
  p = param([0]);
  run(new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 }), p, [[1], [1]]);
  await expectClose(p, [-(0.1 + 0.14)], { atol: 1e-12 });

  // Coupled weight decay: g' = g + λp = 1 + 0.1·2 = 1.2 → p = 2 − 0.1·1.2.
  p = param([2]);
  run(new SGD([p], { lr: 0.1, weightDecay: 0.1 }), p, [[1]]);
  await expectClose(p, [1.88], { atol: 1e-12 });
});

test('Adam: two steps with bias correction match hand arithmetic; AMSGrad keeps the max second moment', async () => {
  const p = param([1]);
  const opt = new Adam([p], { lr: 0.1 });
  setGrad(p, [0.5]);
  opt.step();
  // m = 0.1·0.5 = 0.05, v = 0.001·0.25; m̂ = 0.5, v̂ = 0.25 → step 0.5 / (0.5 + 1e-8).
  const p1 = 1 - 0.1 * (0.5 / (0.5 + 1e-8));
  await expectClose(p, [p1], { atol: 1e-14 });
  setGrad(p, [-1]);
  opt.step();
  const m2 = 0.9 * 0.05 + 0.1 * -1; // −0.055
  const v2 = 0.999 * 0.00025 + 0.001 * 1; // 0.00124975
  const mHat = m2 / (1 - 0.9 ** 2);
  const vHat = v2 / (1 - 0.999 ** 2);
  await expectClose(p, [p1 - 0.1 * (mHat / (Math.sqrt(vHat) + 1e-8))], { atol: 1e-12 });

  // AMSGrad: g = 1 then 0 → v = 0.001 then 0.000999, but the max 0.001 is used at step 2.
  const q = param([0]);
  const r = param([0]);
  run(new Adam([q], { lr: 0.1, amsgrad: true }), q, [[1], [0]]);
  run(new Adam([r], { lr: 0.1 }), r, [[1], [0]]);
  const m = 0.9 * 0.1; // m after step 2
  const step1 = 0.1 * (1 / (1 + 1e-8));
  const bc2 = 1 - 0.999 ** 2;
  await expectClose(q, [-step1 - 0.1 * ((m / 0.19) / (Math.sqrt(0.001 / bc2) + 1e-8))], { atol: 1e-12 });
  await expectClose(r, [-step1 - 0.1 * ((m / 0.19) / (Math.sqrt(0.000999 / bc2) + 1e-8))], { atol: 1e-12 });
});

test('AdamW decays decoupled from the gradient (default λ = 0.01); Adam weightDecay is coupled', async () => {
  const p = param([2]);
  const opt = new AdamW([p], { lr: 0.1 });
  assert.equal(opt.paramGroups[0].weightDecay, 0.01);
  run(opt, p, [[0.5]]);
  // p − lr·(m̂/(sqrt(v̂)+ε) + λp) = 2 − 0.1·(0.5/(0.5+1e-8) + 0.01·2)
  await expectClose(p, [2 - 0.1 * (0.5 / (0.5 + 1e-8) + 0.02)], { atol: 1e-12 });

  // Coupled: g' = 0.5 + 0.1·2 = 0.7, and Adam's first step is ±lr whatever the gradient's size.
  const q = param([2]);
  run(new Adam([q], { lr: 0.1, weightDecay: 0.1 }), q, [[0.5]]);
  await expectClose(q, [2 - 0.1 * (0.7 / (0.7 + 1e-8))], { atol: 1e-12 });
});

test('RMSprop: plain, centered and momentum match hand arithmetic', async () => {
  const p = param([1]);
  run(new RMSprop([p], { lr: 0.01 }), p, [[0.5], [0.5]]);
  const sq1 = 0.01 * 0.25; // 0.0025 → root 0.05 → step 10
  const sq2 = 0.99 * sq1 + 0.01 * 0.25;
  await expectClose(p, [1 - 0.01 * (0.5 / (Math.sqrt(sq1) + 1e-8)) - 0.01 * (0.5 / (Math.sqrt(sq2) + 1e-8))], { atol: 1e-12 });

  const c = param([1]);
  run(new RMSprop([c], { lr: 0.01, centered: true }), c, [[0.5]]);
  const gAvg = 0.01 * 0.5;
  await expectClose(c, [1 - 0.01 * (0.5 / (Math.sqrt(sq1 - gAvg * gAvg) + 1e-8))], { atol: 1e-12 });

  const m = param([1]);
  run(new RMSprop([m], { lr: 0.01, momentum: 0.9 }), m, [[0.5], [0.5]]);
  const b1 = 0.5 / (Math.sqrt(sq1) + 1e-8);
  const b2 = 0.9 * b1 + 0.5 / (Math.sqrt(sq2) + 1e-8);
  await expectClose(m, [1 - 0.01 * b1 - 0.01 * b2], { atol: 1e-12 });
});

test('Adagrad: accumulated squares and lrDecay match hand arithmetic', async () => {
  const p = param([1]);
  run(new Adagrad([p], { lr: 0.1 }), p, [[0.5], [0.5]]);
  // sum = 0.25 → step 0.5/0.5 = 1; sum = 0.5 → step 0.5/sqrt(0.5).
  await expectClose(p, [1 - 0.1 * (0.5 / (0.5 + 1e-10)) - 0.1 * (0.5 / (Math.sqrt(0.5) + 1e-10))], { atol: 1e-12 });
  const q = param([1]);
  run(new Adagrad([q], { lr: 0.1, lrDecay: 0.5 }), q, [[0.5], [0.5]]);
  await expectClose(q, [1 - 0.1 * (0.5 / (0.5 + 1e-10)) - (0.1 / 1.5) * (0.5 / (Math.sqrt(0.5) + 1e-10))], { atol: 1e-12 });
});

/** Minimizes f with autograd from x0 for n steps; returns the final point. */
async function minimize(make: (ps: g.Tensor[]) => g.optim.Optimizer<any>, f: (x: g.Tensor) => g.Tensor, x0: number[], n: number): Promise<number[]> {
  const x = param(x0);
  const opt = make([x]);
  for (let i = 0; i < n; i++) {
    opt.zeroGrad();
    f(x).backward();
    opt.step();
  }
  return vals(x);
}

const target = [3, -2, 0.5];
const curvature = g.tensor([1, 4, 0.5], { dtype: FLOAT });
const quadratic = (x: g.Tensor): g.Tensor => x.sub(g.tensor(target, { dtype: FLOAT })).square().mul(curvature).sum();
// Rosenbrock: (1 − x)² + 100(y − x²)², minimum at (1, 1) in a long curved valley.
const rosenbrock = (v: g.Tensor): g.Tensor => {
  const [x, y] = v.split([1, 1]);
  return g.sub(1, x).square().add(y.sub(x.square()).square().mul(100)).sum();
};

test('every optimizer converges on a quadratic', async () => {
  const makers: [string, (ps: g.Tensor[]) => g.optim.Optimizer<any>][] = [
    ['SGD', (ps) => new SGD(ps, { lr: 0.05 })],
    ['SGD momentum', (ps) => new SGD(ps, { lr: 0.02, momentum: 0.9 })],
    ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.02, momentum: 0.9, nesterov: true })],
    ['Adam', (ps) => new Adam(ps, { lr: 0.05 })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.05, weightDecay: 0 })],
    ['Adam amsgrad', (ps) => new Adam(ps, { lr: 0.05, amsgrad: true })],
    ['RMSprop', (ps) => new RMSprop(ps, { lr: 0.01 })],
    ['RMSprop centered+momentum', (ps) => new RMSprop(ps, { lr: 0.005, centered: true, momentum: 0.5 })],
    ['Adagrad', (ps) => new Adagrad(ps, { lr: 0.5 })],
  ];
  for (const [name, make] of makers) {
    const x = await minimize(make, quadratic, [0, 0, 0], 800);
    await expectClose(x, target, { atol: 1e-2, rtol: 0, msg: name });
  }
});

test('optimizers converge on the Rosenbrock function', async () => {
  const makers: [string, (ps: g.Tensor[]) => g.optim.Optimizer<any>, number][] = [
    ['SGD momentum', (ps) => new SGD(ps, { lr: 1e-3, momentum: 0.9 }), 3000],
    ['Adam', (ps) => new Adam(ps, { lr: 0.02 }), 3000],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.02, weightDecay: 0 }), 3000],
    ['RMSprop', (ps) => new RMSprop(ps, { lr: 1e-3 }), 6000],
    ['RMSprop momentum', (ps) => new RMSprop(ps, { lr: 5e-4, momentum: 0.9 }), 3000],
    ['Adagrad', (ps) => new Adagrad(ps, { lr: 1.5 }), 6000],
  ];
  for (const [name, make, n] of makers) {
    const x = await minimize(make, rosenbrock, [-1.5, 2], n);
    await expectClose(x, [1, 1], { atol: 5e-2, rtol: 0, msg: name });
  }
});

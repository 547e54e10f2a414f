import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertClose, assertThrowsMsg } from '../helpers.js';
import { param } from './helpers.js';

const o = g.optim;
const at = (s: g.optim.Schedule, steps: number[]) => steps.map((k) => s(k));

test('step, multi-step and exponential decay by value', () => {
  assertClose(at(o.stepDecay({ stepSize: 3, gamma: 0.5, baseLr: 0.8 }), [0, 2, 3, 5, 6, 8]), [0.8, 0.8, 0.4, 0.4, 0.2, 0.2], { atol: 1e-15 });
  assertClose(at(o.multiStep({ milestones: [2, 5] }), [0, 1, 2, 4, 5, 100]), [1, 1, 0.1, 0.1, 0.01, 0.01], { atol: 1e-15 });
  assertClose(at(o.exponentialDecay({ gamma: 0.9, baseLr: 2 }), [0, 1, 3]), [2, 1.8, 2 * 0.729], { atol: 1e-15 });
  assertThrowsMsg(() => o.multiStep({ milestones: [5, 2] }), /milestones must be increasing, got \[5, 2\]/);
  assertThrowsMsg(() => o.stepDecay({ stepSize: 0 }), /stepSize must be an integer in \[1, inf\), got 0/);
  assertThrowsMsg(() => o.stepDecay({ stepSize: 2 })(-1), /step must be an integer >= 0, got -1/);
});

test('cosine annealing and warm restarts (T_mult) by value', () => {
  const cos = o.cosineAnnealing({ tMax: 10, etaMin: 0.1 });
  // etaMin + (1 − etaMin)(1 + cos(π t/10))/2
  assertClose(at(cos, [0, 2, 5, 10, 12]), [1, 0.1 + 0.45 * (1 + Math.cos(0.2 * Math.PI)), 0.55, 0.1, 0.1], { atol: 1e-15 });
  // t0 = 2, tMult = 2: cycles [0, 2), [2, 6), [6, 14).
  const sgdr = o.cosineWarmRestarts({ t0: 2, tMult: 2, baseLr: 1 });
  assertClose(at(sgdr, [0, 1, 2, 4, 5, 6, 13]), [1, 0.5, 1, 0.5, (1 + Math.cos((3 * Math.PI) / 4)) / 2, 1, (1 + Math.cos((7 * Math.PI) / 8)) / 2], { atol: 1e-15 });
  const fixed = o.cosineWarmRestarts({ t0: 3 });
  assertClose(at(fixed, [0, 3, 4, 1_000_000]), [1, 1, 0.75, 0.75], { atol: 1e-12 }); // 1e6 = 333333·3 + 1
});

test('linear warmup composes with another schedule; one-cycle by value', () => {
  const wc = o.linearWarmup({ warmupSteps: 4, then: o.cosineAnnealing({ tMax: 10, baseLr: 0.1 }) });
  assertClose(at(wc, [0, 1, 3, 4, 9, 14]), [0, 0.025, 0.075, 0.1, 0.05, 0], { atol: 1e-15 });
  assertClose(at(o.linearWarmup({ warmupSteps: 4, startFactor: 0.5, baseLr: 0.1 }), [0, 2, 7]), [0.05, 0.075, 0.1], { atol: 1e-15 });

  // maxLr 1, 10 steps, 30% rising: start 1/25 = 0.04, end 0.04/1e4; the peak is at step 0.3·10 − 1 = 2.
  const oc = o.oneCycle({ maxLr: 1, totalSteps: 10 });
  const down = (k: number) => 4e-6 + ((1 - 4e-6) / 2) * (1 + Math.cos((Math.PI * (k - 2)) / 7));
  assertClose(at(oc, [0, 1, 2, 5, 9]), [0.04, 0.52, 1, down(5), 4e-6], { atol: 1e-15 });
  const lin = o.oneCycle({ maxLr: 1, totalSteps: 10, annealStrategy: 'linear' });
  assertClose(at(lin, [1, 5]), [0.52, 1 + (4e-6 - 1) * (3 / 7)], { atol: 1e-15 });
  // Three phases: up to step 2, back to the start by step 4, then down to the minimum at 9.
  const three = o.oneCycle({ maxLr: 1, totalSteps: 10, threePhase: true });
  assertClose(at(three, [2, 3, 4, 9]), [1, 0.52, 0.04, 4e-6], { atol: 1e-15 });
  assertThrowsMsg(() => oc(11), /step 11 is past totalSteps 10/);
  assertThrowsMsg(() => o.oneCycle({ maxLr: 1, totalSteps: 10, pctStart: 1 }), /pctStart must be in \(0, 1\)/);
});

test('LrScheduler sets each group from its own initial lr and resumes from a state dict', () => {
  const opt = new o.SGD([{ params: [param([1])] }, { params: [param([1])], lr: 0.01 }], { lr: 0.1 });
  const sched = new o.LrScheduler(opt, (lr) => o.stepDecay({ stepSize: 2, gamma: 0.5, baseLr: lr }));
  const seen: number[][] = [opt.getLr()];
  for (let i = 0; i < 4; i++) {
    opt.step();
    sched.step();
    seen.push(sched.getLr());
  }
  assert.deepEqual(seen, [[0.1, 0.01], [0.1, 0.01], [0.05, 0.005], [0.05, 0.005], [0.025, 0.0025]]);

  const opt2 = new o.SGD([{ params: [param([1])] }, { params: [param([1])], lr: 0.01 }], { lr: 0.1 });
  const sched2 = new o.LrScheduler(opt2, (lr) => o.stepDecay({ stepSize: 2, gamma: 0.5, baseLr: lr }));
  sched2.loadStateDict(sched.stateDict());
  assert.deepEqual(opt2.getLr(), [0.025, 0.0025]);
  sched.step();
  sched2.step();
  assert.deepEqual(opt2.getLr(), opt.getLr());
  assertThrowsMsg(() => new o.LrScheduler(opt, () => () => Number.NaN), /gave lr NaN at step 0/);
});

test('ReduceLrOnPlateau: patience, cooldown, minLr, threshold and mode', () => {
  const opt = new o.SGD([param([1])], { lr: 1 });
  const plateau = new o.ReduceLrOnPlateau(opt, { patience: 2, cooldown: 1, factor: 0.5, minLr: 0.2 });
  const metrics = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 1, 1, 1, 1, 1, 1, 1];
  const lrs = metrics.map((m) => {
    plateau.step(m);
    return opt.getLr()[0];
  });
  assert.deepEqual(lrs, [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2]);

  // 'max' with an absolute threshold: 0.55 is not better than 0.5 + 0.1, 0.7 is.
  const opt2 = new o.SGD([param([1])], { lr: 1 });
  const p2 = new o.ReduceLrOnPlateau(opt2, { mode: 'max', threshold: 0.1, thresholdMode: 'abs', patience: 1 });
  for (const m of [0.5, 0.55, 0.7, 0.75]) p2.step(m);
  assert.equal(p2.best, 0.7);
  assert.deepEqual(opt2.getLr(), [1]);
  p2.step(0.75); // second bad epoch > patience 1
  assert.ok(Math.abs(opt2.getLr()[0] - 0.1) < 1e-15);

  // Resume: a fresh plateau loaded from the state dict behaves as the original.
  const p3 = new o.ReduceLrOnPlateau(opt2, { mode: 'max', threshold: 0.1, thresholdMode: 'abs', patience: 1 });
  p3.loadStateDict(JSON.parse(JSON.stringify(p2.stateDict())));
  assert.deepEqual(p3.stateDict(), p2.stateDict());
  assertThrowsMsg(() => p2.step(Number.NaN), /metric at epoch 5 is NaN/);
  assertThrowsMsg(() => new o.ReduceLrOnPlateau(opt2, { factor: 1 }), /factor must be in \[0, 1\)/);
  assertThrowsMsg(() => new o.ReduceLrOnPlateau(opt2, { minLr: [0, 0] }), /2 entries but the optimizer has 1/);
});

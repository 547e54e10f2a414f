import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allOf, compareArms, compareThreshold, summarize } from '../../src/experiments/lectures/verdict.js';

test('summarize: mean and sample standard deviation', () => {
  const s = summarize([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-12);
  assert.ok(Number.isNaN(summarize([]).mean));
});

test('compareArms: a clear win in the claimed direction is held, the reverse is not held', () => {
  const good = [0.9, 0.91, 0.92];
  const bad = [0.5, 0.52, 0.51];
  assert.equal(compareArms(good, bad, { better: 'higher', minEffect: 0.05 }).verdict, 'held');
  assert.equal(compareArms(bad, good, { better: 'higher', minEffect: 0.05 }).verdict, 'not held');
  // Lower-is-better flips the direction.
  assert.equal(compareArms(bad, good, { better: 'lower' }).verdict, 'held');
});

test('compareArms: a tie with a tight spread is not held; overlapping noisy arms are inconclusive', () => {
  assert.equal(compareArms([0.8, 0.8, 0.8], [0.8, 0.8, 0.8], { better: 'higher', minEffect: 0.01 }).verdict, 'not held');
  const j = compareArms([0.7, 0.9, 0.8], [0.6, 0.95, 0.7], { better: 'higher', minEffect: 0.01 });
  assert.equal(j.verdict, 'inconclusive');
  assert.match(j.why, /2·se/);
});

test('compareArms: an effect smaller than the minimum effect is not a held claim', () => {
  // d = 0.01 with no spread: real but below the claimed size.
  assert.equal(compareArms([0.51, 0.51, 0.51], [0.5, 0.5, 0.5], { better: 'higher', minEffect: 0.05 }).verdict, 'not held');
  assert.equal(compareArms([0.51, 0.51, 0.51], [0.5, 0.5, 0.5], { better: 'higher', minEffect: 0 }).verdict, 'held');
});

test('compareArms: fewer than 3 seeds is always inconclusive', () => {
  const j = compareArms([1, 1], [0, 0], { better: 'higher' });
  assert.equal(j.verdict, 'inconclusive');
  assert.match(j.why, /≥3 seeds/);
});

test('compareArms: an arm that diverged on every seed loses to one that never did; a mix is inconclusive', () => {
  assert.equal(compareArms([0.3, 0.31, 0.29], [NaN, NaN, NaN], { better: 'lower', minEffect: 0.1 }).verdict, 'held');
  assert.equal(compareArms([Infinity, NaN, Infinity], [0.3, 0.31, 0.29], { better: 'lower', minEffect: 0.1 }).verdict, 'not held');
  const j = compareArms([0.3, NaN, 0.29], [0.9, 0.8, 0.7], { better: 'lower' });
  assert.equal(j.verdict, 'inconclusive');
  assert.match(j.why, /diverged in 1\/3 vs 0\/3/);
  assert.equal(compareThreshold([0.1, NaN, 0.1], { below: 0.5 }).verdict, 'inconclusive');
});

test('compareThreshold: the whole mean ± 2·se interval decides', () => {
  assert.equal(compareThreshold([0.001, 0.002, 0.0015], { below: 0.05 }).verdict, 'held');
  assert.equal(compareThreshold([0.2, 0.21, 0.19], { below: 0.05 }).verdict, 'not held');
  assert.equal(compareThreshold([0.0, 0.1, 0.05], { below: 0.05 }).verdict, 'inconclusive');
  assert.equal(compareThreshold([0.9, 0.95, 0.92], { above: 0.5 }).verdict, 'held');
  assert.equal(compareThreshold([0.9, 0.95], { above: 0.5 }).verdict, 'inconclusive');
  assert.throws(() => compareThreshold([1, 2, 3], {}), /exactly one/);
});

test('allOf: held only when every part holds; any failure is not held', () => {
  const held = { verdict: 'held' as const, why: 'a' };
  const no = { verdict: 'not held' as const, why: 'b' };
  const maybe = { verdict: 'inconclusive' as const, why: 'c' };
  assert.equal(allOf([held, held]).verdict, 'held');
  assert.equal(allOf([held, maybe]).verdict, 'inconclusive');
  assert.equal(allOf([maybe, no]).verdict, 'not held');
  assert.equal(allOf([held, no]).why, 'a; b');
});

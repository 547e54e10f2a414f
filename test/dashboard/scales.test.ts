import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisScale } from '../../src/dashboard/page/scales.js';

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

test('parallel-coordinates axis: positive values over two or more decades get a log scale with power-of-ten ticks', () => {
  const s = axisScale([0.1, 0.01, 0.001]);
  assert.equal(s.kind, 'log');
  assert.ok(close(s.norm(0.001), 0) && close(s.norm(0.01), 0.5) && close(s.norm(0.1), 1), 'one decade is half the axis');
  assert.deepEqual(s.ticks.map((t) => t.label), ['1e-3', '1e-2', '1e-1']);
  assert.ok(s.ticks.every((t, i) => close(t.at, i / 2)));
  // A learning rate from 3e-5 to 0.02: ticks only at the powers of ten inside the range.
  const lr = axisScale([3e-5, 2e-4, 0.02]);
  assert.equal(lr.kind, 'log');
  assert.deepEqual(lr.ticks.map((t) => t.label), ['1e-4', '1e-3', '1e-2']);
  assert.ok(close(lr.ticks[1].at, (-3 - Math.log10(3e-5)) / (Math.log10(0.02) - Math.log10(3e-5))));
  assert.ok(close(lr.norm(2e-4), (Math.log10(2e-4) - Math.log10(3e-5)) / (Math.log10(0.02) - Math.log10(3e-5))));
  // Weight decay with large values too.
  assert.deepEqual(axisScale([1, 50, 1000]).ticks.map((t) => t.label), ['1e0', '1e1', '1e2', '1e3']);
});

test('parallel-coordinates axis: narrow, zero/negative or constant values stay linear', () => {
  const w = axisScale([8, 16, 32]);
  assert.equal(w.kind, 'linear', 'a factor of 4 is not worth a log axis');
  assert.ok(close(w.norm(16), 1 / 3));
  assert.deepEqual(w.ticks.map((t) => [t.at, t.label]), [[0, '8'], [1, '32']]);
  assert.equal(axisScale([0, 0.001, 1]).kind, 'linear', 'zero has no logarithm');
  assert.equal(axisScale([-1, 0.01, 10]).kind, 'linear');
  assert.equal(axisScale([0.011, 0.5]).kind, 'linear', 'under two decades');
  const c = axisScale([0.3, 0.3]);
  assert.equal(c.norm(0.3), 0.5);
  assert.deepEqual(c.ticks.map((t) => t.label), ['0.3']);
  assert.equal(axisScale([0.7, Number.NaN, 0.9]).lo, 0.7, 'NaN ignored');
});

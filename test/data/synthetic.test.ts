import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { makeBlobs, makeSine, makeSpirals, makeXor } from '../../src/data/index.js';
import { assertThrowsMsg } from '../helpers.js';

test('spirals: shapes, labels, radii in the unit disc, seeded', () => {
  const { x, y } = makeSpirals({ samplesPerClass: 50, classes: 3, noise: 0.1, seed: 2 });
  assert.deepEqual(x.shape, [150, 2]);
  assert.equal(y.dtype, 'int32');
  const xv = x.dataSync();
  const yv = y.dataSync();
  for (let i = 0; i < 150; i++) {
    assert.equal(yv[i], Math.floor(i / 50));
    const r = Math.hypot(xv[2 * i], xv[2 * i + 1]);
    assert.ok(Math.abs(r - ((i % 50) + 1) / 50) < 1e-6, `radius of point ${i}`);
  }
  assert.deepEqual([...makeSpirals({ seed: 2 }).x.dataSync()], [...makeSpirals({ seed: 2 }).x.dataSync()]);
  assert.notDeepEqual([...makeSpirals({ seed: 2 }).x.dataSync()], [...makeSpirals({ seed: 3 }).x.dataSync()]);
});

test('blobs: each class is centred on its centre with the requested spread', () => {
  const centers = [[0, 0], [10, -10]];
  const { x, y } = makeBlobs({ samplesPerClass: 2000, centers, std: 0.5, seed: 1 });
  const xv = x.dataSync();
  const yv = y.dataSync();
  for (let c = 0; c < 2; c++) {
    let mx = 0, my = 0, vx = 0, n = 0;
    for (let i = 0; i < yv.length; i++) if (yv[i] === c) { mx += xv[2 * i]; my += xv[2 * i + 1]; n++; }
    mx /= n; my /= n;
    for (let i = 0; i < yv.length; i++) if (yv[i] === c) vx += (xv[2 * i] - mx) ** 2;
    assert.ok(Math.abs(mx - centers[c][0]) < 0.05 && Math.abs(my - centers[c][1]) < 0.05, `class ${c} mean ${mx}, ${my}`);
    assert.ok(Math.abs(Math.sqrt(vx / n) - 0.5) < 0.03, `class ${c} std`);
  }
  assertThrowsMsg(() => makeBlobs({ centers: [[0, 0], [1]] }), /centre 1 must be 2 finite numbers/);
});

test('xor labels are the XOR of the coordinate signs', () => {
  const { x, y } = makeXor({ samples: 300, seed: 4 });
  const xv = x.dataSync();
  const yv = y.dataSync();
  let ones = 0;
  for (let i = 0; i < 300; i++) {
    assert.equal(yv[i], (xv[2 * i] > 0) !== (xv[2 * i + 1] > 0) ? 1 : 0);
    ones += yv[i];
  }
  assert.ok(ones > 100 && ones < 200, 'both classes are present in similar numbers');
});

test('sine regression: y = sin(x) exactly without noise, residual std ≈ noise with it', () => {
  const clean = makeSine({ samples: 100, noise: 0, seed: 5 });
  assert.deepEqual(clean.x.shape, [100, 1]);
  const xv = clean.x.dataSync();
  const yv = clean.y.dataSync();
  for (let i = 0; i < 100; i++) {
    assert.ok(xv[i] >= -Math.PI && xv[i] < Math.PI);
    assert.ok(Math.abs(yv[i] - Math.sin(xv[i])) < 1e-6);
  }
  const noisy = makeSine({ samples: 4000, noise: 0.3, seed: 5 });
  const nx = noisy.x.dataSync();
  const ny = noisy.y.dataSync();
  let ss = 0;
  for (let i = 0; i < 4000; i++) ss += (ny[i] - Math.sin(nx[i])) ** 2;
  assert.ok(Math.abs(Math.sqrt(ss / 4000) - 0.3) < 0.02);
  assertThrowsMsg(() => makeSine({ range: [1, 0] }), /low < high/);
  assertThrowsMsg(() => makeSine({ samples: 0 }), /samples must be a positive integer/);
});

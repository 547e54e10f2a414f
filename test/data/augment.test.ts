import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random, tensor, type Tensor } from '../../src/index.js';
import {
  affineImages, affineMatrix, augment, randomApply, colorJitter, compose, cutout, flipImages, gaussianNoise, randomAffine, randomCrop,
  randomFlip, randomRotation, randomScale, randomTranslation, rotateImages, scaleImages, translateImages,
} from '../../src/data/index.js';
import { assertClose, assertThrowsMsg } from '../helpers.js';

// A 1×1×3×3 image with distinct values: row y, column x holds 10·y + x.
const img3 = (): Tensor => tensor([[[[0, 1, 2], [10, 11, 12], [20, 21, 22]]]]);
const plane = (t: Tensor, i = 0, c = 0): number[][] => (t.toArray() as number[][][][])[i][c];

/** Slow, obvious references: transpose and flips of a nested matrix. */
const transposeM = (m: number[][]): number[][] => m[0].map((_, x) => m.map((row) => row[x]));
const flipUD = (m: number[][]): number[][] => [...m].reverse();
const flipLR = (m: number[][]): number[][] => m.map((r) => [...r].reverse());

test('flips of a known image', () => {
  assert.deepEqual(plane(flipImages(img3(), 'horizontal')), [[2, 1, 0], [12, 11, 10], [22, 21, 20]]);
  assert.deepEqual(plane(flipImages(img3(), 'vertical')), [[20, 21, 22], [10, 11, 12], [0, 1, 2]]);
  const two = tensor([[[[1, 2]]], [[[3, 4]]]]);
  assert.deepEqual(flipImages(two, 'horizontal', [false, true]).toArray(), [[[[1, 2]]], [[[4, 3]]]]);
  assertThrowsMsg(() => flipImages(tensor([1, 2]), 'horizontal'), /NCHW image batch of rank 4/, /\[2\]/);
});

test('translation by whole pixels moves values exactly and fills with zeros', () => {
  assert.deepEqual(plane(translateImages(img3(), 1, 0)), [[0, 0, 1], [0, 10, 11], [0, 20, 21]]);
  assert.deepEqual(plane(translateImages(img3(), 0, -1)), [[10, 11, 12], [20, 21, 22], [0, 0, 0]]);
  assert.deepEqual(plane(translateImages(img3(), -1, 1, { fill: -5 })), [[-5, -5, -5], [1, 2, -5], [11, 12, -5]]);
  // Half a pixel interpolates bilinearly between neighbours.
  assertClose(translateImages(img3(), 0.5, 0), [0, 0.5, 1.5, 5, 10.5, 11.5, 10, 20.5, 21.5]);
});

test('rotation by 90° of a square image equals transpose + flip', () => {
  for (const n of [5, 4]) { // odd and even sizes (for 4×4 the centre lies between pixels)
    const x = tensor([[Array.from({ length: n }, (_, y) => Array.from({ length: n }, (_, x) => 1 + y * n + x + ((x * 7 + y * 3) % 5) / 10))]]);
    const vals = plane(x); // the float32 values, so the comparison below is exact
    assert.deepEqual(plane(rotateImages(x, 90)), flipUD(transposeM(vals)), `counter-clockwise 90° for ${n}×${n}`);
    assert.deepEqual(plane(rotateImages(x, -90)), flipLR(transposeM(vals)), `clockwise 90° for ${n}×${n}`);
    assert.deepEqual(plane(rotateImages(x, 180)), flipUD(flipLR(vals)));
    assert.deepEqual(plane(rotateImages(x, 360)), vals);
  }
});

test('scaling about the centre: factor 2 magnifies the middle, factor 1 is the identity', () => {
  const x = tensor([[[[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 8, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]]]);
  assert.deepEqual(plane(scaleImages(x, 1)), plane(x));
  const big = plane(scaleImages(x, 2));
  // Output pixel (2±1) samples source 2±0.5: half of the centre value; corners of that ring a quarter.
  assert.deepEqual(big[2], [0, 4, 8, 4, 0]);
  assert.deepEqual(big[1], [0, 2, 4, 2, 0]);
  // A general affine matrix equals the reference bilinear formula at one point.
  const m = affineMatrix(5, 5, { degrees: 30, scale: 1.2, dx: 0.3, dy: -0.7 });
  const src = Array.from({ length: 25 }, (_, i) => (i * 37) % 11);
  const out = affineImages(tensor(src, { shape: [1, 1, 5, 5] }), m).dataSync();
  const [a, b, tx, c, d, ty] = m;
  const at = (yy: number, xx: number): number => (yy >= 0 && yy < 5 && xx >= 0 && xx < 5 ? src[yy * 5 + xx] : 0);
  for (const [px, py] of [[1, 1], [2, 3], [4, 0]]) {
    const sx = a * px + b * py + tx;
    const sy = c * px + d * py + ty;
    const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
    const want = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    assert.ok(Math.abs(out[py * 5 + px] - want) < 1e-5, `pixel (${px}, ${py})`);
  }
});

test('random augmentations are deterministic under a seed and do not change their input', () => {
  const x = tensor(Array.from({ length: 2 * 3 * 6 * 6 }, (_, i) => (i % 17) / 17), { shape: [2, 3, 6, 6] });
  const before = [...x.dataSync()];
  const pipeline = compose([
    randomFlip({ horizontal: true }),
    randomAffine({ degrees: 15, maxShift: 1, scale: [0.9, 1.1] }),
    randomCrop({ padding: 2 }),
    cutout({ size: 2 }),
    colorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2 }),
    gaussianNoise({ std: 0.05 }),
  ]);
  const a = augment(x, pipeline, { seed: 7 });
  const b = augment(x, pipeline, { seed: 7 });
  const c = augment(x, pipeline, { seed: 8 });
  assert.deepEqual([...a.dataSync()], [...b.dataSync()]);
  assert.notDeepEqual([...a.dataSync()], [...c.dataSync()]);
  assert.deepEqual([...x.dataSync()], before);
  assert.deepEqual(a.shape, x.shape);
  assert.equal(augment(x, pipeline, { seed: 7, training: false }), x, 'evaluation returns the images unchanged');
  assert.match(pipeline.name, /compose\(randomFlip, randomAffine, randomCrop/);
});

test('flips are off by default', () => {
  const x = img3();
  assert.deepEqual(randomFlip().apply(x, new Random(0)).toArray(), x.toArray());
  // With p = 1 every image is flipped.
  assert.deepEqual(plane(randomFlip({ vertical: true, p: 1 }).apply(x, new Random(0))), plane(flipImages(x, 'vertical')));
});

test('random translation with whole pixels only permutes and zero-fills values', () => {
  const x = tensor(Array.from({ length: 4 * 25 }, (_, i) => i + 1), { shape: [4, 1, 5, 5] });
  const out = randomTranslation({ maxShift: 2, wholePixels: true }).apply(x, new Random(3)).dataSync();
  const allowed = new Set([0, ...x.dataSync()]);
  for (const v of out) assert.ok(allowed.has(v), `value ${v} was interpolated`);
  assertThrowsMsg(() => randomRotation({ degrees: -1 }), /degrees must be a finite number >= 0, got -1/);
  assertThrowsMsg(() => randomScale({ min: 2, max: 1 }), /0 < min <= max/);
});

test('random crop with padding is a shifted copy; crop size can be smaller', () => {
  const x = tensor(Array.from({ length: 16 }, (_, i) => i + 1), { shape: [1, 1, 4, 4] });
  const out = plane(randomCrop({ padding: 1 }).apply(x, new Random(1)));
  // Find the shift (dx, dy) in [-1, 1]² that explains the output exactly.
  const src = plane(x);
  let found = false;
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
    const ok = out.every((row, y) => row.every((v, xx) => v === (src[y + dy]?.[xx + dx] ?? 0)));
    found ||= ok;
  }
  assert.ok(found, `crop is not a whole-pixel shift: ${JSON.stringify(out)}`);
  assert.deepEqual(randomCrop({ size: [2, 3] }).apply(x, new Random(1)).shape, [1, 1, 2, 3]);
  assertThrowsMsg(() => randomCrop({ size: [5, 5] }).apply(x, new Random(1)), /crop size \[5, 5\] must be positive and fit in the padded image \[4, 4\]/);
});

test('cutout zeroes a square of the requested size in every channel', () => {
  const x = tensor(new Float32Array(2 * 8 * 8).fill(1), { shape: [1, 2, 8, 8] });
  const out = cutout({ size: 3 }).apply(x, new Random(2)).dataSync();
  const z0 = out.subarray(0, 64).filter((v) => v === 0).length;
  const z1 = out.subarray(64).filter((v) => v === 0).length;
  assert.ok(z0 > 0 && z0 <= 9, `zeros in channel 0: ${z0}`);
  assert.equal(z0, z1);
  for (let k = 0; k < 64; k++) assert.equal(out[k], out[64 + k]);
});

test('colour jitter: brightness scales, contrast keeps the mean, saturation needs RGB', () => {
  const x = tensor([[[[0.2, 0.4], [0.6, 0.8]]]]);
  const rng = new Random(5);
  const expectedFactor = new Random(5).uniform(0.5, 1.5);
  assertClose(colorJitter({ brightness: 0.5 }).apply(x, rng), [0.2, 0.4, 0.6, 0.8].map((v) => v * expectedFactor));
  const c = colorJitter({ contrast: 0.5 }).apply(x, new Random(6)).dataSync();
  assert.ok(Math.abs((c[0] + c[1] + c[2] + c[3]) / 4 - 0.5) < 1e-6);
  const f = new Random(6).uniform(0.5, 1.5);
  assertClose(c, [0.2, 0.4, 0.6, 0.8].map((v) => (v - 0.5) * f + 0.5));
  assertThrowsMsg(() => colorJitter({ saturation: 0.3 }).apply(x, rng), /saturation needs 3-channel \(RGB\) images, got 1/);
  // Saturation 0-factor limit: a grey pixel stays grey.
  const grey = tensor([[[[0.5]], [[0.5]], [[0.5]]]]);
  assertClose(colorJitter({ saturation: 0.9 }).apply(grey, rng), [0.5, 0.5, 0.5]);
});

test('gaussian noise has the requested standard deviation', () => {
  const x = tensor(new Float32Array(1 * 1 * 100 * 100), { shape: [1, 1, 100, 100] });
  const v = gaussianNoise({ std: 0.1 }).apply(x, new Random(3)).dataSync();
  let m = 0, s = 0;
  for (const e of v) m += e;
  m /= v.length;
  for (const e of v) s += (e - m) ** 2;
  assert.ok(Math.abs(m) < 0.005 && Math.abs(Math.sqrt(s / v.length) - 0.1) < 0.005);
  assertThrowsMsg(() => compose([{} as never]), /element 0 is not an augmentation/);
});

test('randomApply augments each image with probability p and leaves the others untouched', () => {
  const n = 400;
  const x = tensor(new Float32Array(n * 4).fill(1), { shape: [n, 1, 2, 2] });
  const plus: { name: string; apply: (t: Tensor) => Tensor } = { name: 'plus', apply: (t) => tensor(t.dataSync().map((v) => v + 1), { shape: [...t.shape] }) };
  const out = randomApply(plus, 0.3).apply(x, new Random(4)).dataSync();
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const img = [...out.subarray(i * 4, i * 4 + 4)];
    assert.ok(img.every((v) => v === img[0]) && (img[0] === 1 || img[0] === 2), `image ${i} is whole: ${img}`);
    if (img[0] === 2) changed++;
  }
  assert.ok(changed > 0.3 * n - 40 && changed < 0.3 * n + 40, `${changed} of ${n} changed`);
  assert.equal(randomApply(plus, 0).apply(x, new Random(4)), x);
  assertThrowsMsg(() => randomApply(randomCrop({ size: [1, 1] }), 1).apply(x, new Random(1)), /needs size-preserving augmentations/);
  assertThrowsMsg(() => randomApply(plus, 1.5), /p must be a probability in \[0, 1\], got 1.5/);
});

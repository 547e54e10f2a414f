/**
 * Seeded synthetic data and initial weights, generated once here and handed to every library
 * as Float32Arrays, so that all of them train the very same network from the very same start
 * (their first losses agree, which the run prints as a check that the models are identical).
 * The generator is local on purpose: peers must not depend on gradkit's RNG.
 */
import { CNN, MLP, RESNET, cnnFeatures } from './spec.js';

/** mulberry32: small, fast, good enough for benchmark inputs. */
export function makeRng(seed: number): { uniform(): number; normal(): number } {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    // Box–Muller; 1 - u keeps log away from 0.
    const u = 1 - uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}

export function randnArray(n: number, rng: ReturnType<typeof makeRng>, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  return out;
}

export interface Param {
  name: string;
  shape: number[];
  data: Float32Array;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** He (Kaiming) normal: std = sqrt(2 / fan_in), the usual choice before ReLU. */
function he(name: string, shape: number[], fanIn: number, rng: ReturnType<typeof makeRng>): Param {
  return { name, shape, data: randnArray(size(shape), rng, Math.sqrt(2 / fanIn)) };
}

function constant(name: string, shape: number[], v: number): Param {
  return { name, shape, data: new Float32Array(size(shape)).fill(v) };
}

/** MLP weights are [in, out] (y = x·W + b). */
export function mlpParams(seed = 1): Param[] {
  const rng = makeRng(seed);
  const ps: Param[] = [];
  for (let i = 0; i + 1 < MLP.sizes.length; i++) {
    const [a, b] = [MLP.sizes[i], MLP.sizes[i + 1]];
    ps.push(he(`w${i + 1}`, [a, b], a, rng), constant(`b${i + 1}`, [b], 0));
  }
  return ps;
}

/** Conv weights are [cOut, cIn, kh, kw] (OIHW); the linear weight rows follow NCHW flatten order. */
export function cnnParams(seed = 2): Param[] {
  const rng = makeRng(seed);
  const { inC, c1, c2, k, classes } = CNN;
  const f = cnnFeatures();
  return [
    he('conv1.w', [c1, inC, k, k], inC * k * k, rng), constant('conv1.b', [c1], 0),
    he('conv2.w', [c2, c1, k, k], c1 * k * k, rng), constant('conv2.b', [c2], 0),
    he('fc.w', [f, classes], f, rng), constant('fc.b', [classes], 0),
  ];
}

export function resnetParams(seed = 3): Param[] {
  const rng = makeRng(seed);
  const { inC, width: c, blocks, classes } = RESNET;
  const bn = (name: string): Param[] => [constant(`${name}.gamma`, [c], 1), constant(`${name}.beta`, [c], 0)];
  const ps: Param[] = [he('stem.w', [c, inC, 3, 3], inC * 9, rng), ...bn('stem.bn')];
  for (let b = 0; b < blocks; b++) {
    ps.push(he(`block${b}.conv1.w`, [c, c, 3, 3], c * 9, rng), ...bn(`block${b}.bn1`));
    ps.push(he(`block${b}.conv2.w`, [c, c, 3, 3], c * 9, rng), ...bn(`block${b}.bn2`));
  }
  ps.push(he('fc.w', [c, classes], c, rng), constant('fc.b', [classes], 0));
  return ps;
}

export interface Dataset {
  /** Samples × features, row-major (images NCHW). */
  x: Float32Array;
  /** Class per sample. */
  y: Int32Array;
  count: number;
  /** Shape of one sample. */
  sampleShape: number[];
}

/**
 * Gaussian inputs labelled by a fixed random linear "teacher" (argmax of x·T), so there is a
 * signal to learn and the training loss visibly falls, unlike with random labels.
 */
export function makeDataset(count: number, sampleShape: number[], classes: number, seed: number): Dataset {
  const rng = makeRng(seed);
  const d = size(sampleShape);
  const x = randnArray(count * d, rng);
  const teacher = randnArray(d * classes, rng);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let best = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j] * teacher[j * classes + c];
      if (s > best) {
        best = s;
        y[i] = c;
      }
    }
  }
  return { x, y, count, sampleShape };
}

/** Batch `i` (cycling through the set) as views: no copy, so batching costs nothing measurable. */
export function batchAt(ds: Dataset, batch: number, i: number): { x: Float32Array; y: Int32Array } {
  const per = Math.floor(ds.count / batch);
  const start = (i % per) * batch;
  const d = size(ds.sampleShape);
  return { x: ds.x.subarray(start * d, (start + batch) * d), y: ds.y.subarray(start, start + batch) };
}

/**
 * Images for the conv nets: class templates plus unit noise. A template is a per-channel offset
 * plus a per-pixel pattern, so both the CNN (which sees positions) and the ResNet (whose global
 * average pool sees mostly channel means) have something to learn; a linear teacher over pixels
 * is nearly invisible after global pooling, and the ResNet's loss would not move.
 */
export function makeImageDataset(count: number, sampleShape: [number, number, number], classes: number, seed: number): Dataset {
  const rng = makeRng(seed);
  const [c, h, w] = sampleShape;
  const hw = h * w;
  const d = c * hw;
  const templates = new Float32Array(classes * d);
  for (let k = 0; k < classes; k++) {
    for (let ch = 0; ch < c; ch++) {
      const offset = rng.normal();
      for (let i = 0; i < hw; i++) templates[k * d + ch * hw + i] = offset + 0.5 * rng.normal();
    }
  }
  const x = new Float32Array(count * d);
  const y = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const k = Math.floor(rng.uniform() * classes);
    y[n] = k;
    for (let j = 0; j < d; j++) x[n * d + j] = templates[k * d + j] + rng.normal();
  }
  return { x, y, count, sampleShape };
}

/** Data pools: the MLP sees a full epoch; conv nets cycle a smaller pool (speed does not depend on the values). */
export const mlpData = (): Dataset => makeDataset(MLP.epochSamples, [MLP.sizes[0]], 10, 11);
export const cnnData = (): Dataset => makeImageDataset(CNN.batch * 16, [CNN.inC, CNN.hw, CNN.hw], CNN.classes, 12);
export const resnetData = (): Dataset => makeImageDataset(RESNET.batch * 16, [RESNET.inC, RESNET.hw, RESNET.hw], RESNET.classes, 13);

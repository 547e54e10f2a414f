/**
 * TensorFlow.js adapter for its 'cpu' and 'wasm' backends. Networks are built from tf ops in
 * NHWC (the layout every tfjs backend supports) with the shared weights converted once, and
 * trained with tf.train.adam using the same hyperparameters. tfjs runs kernels eagerly and
 * synchronously on these backends, so a returned op has finished.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { batchAt, cnnData, cnnParams, makeRng, mlpData, mlpParams, randnArray, resnetData, resnetParams, type Dataset, type Param } from '../data.js';
import { ADAM, CNN, MLP, RESNET, cnnFeatures, sgemmDims, type Workload } from '../spec.js';
import type { Stepper } from '../timing.js';
import { flattenRowsToNhwc, nchwToNhwc, oihwToHwio } from './layout.js';
import type { LibRunner } from './runner.js';

type Vars = Map<string, tf.Variable>;

/** In Node the wasm binaries are read from disk: point tfjs at the package's dist folder (no network). */
function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep;
}

function toVars(ps: Param[], convert: (p: Param) => { shape: number[]; data: Float32Array } = (p) => p): Vars {
  return new Map(ps.map((p) => {
    const c = convert(p);
    return [p.name, tf.variable(tf.tensor(c.data, c.shape, 'float32'), true, p.name)];
  }));
}

/** OIHW conv weights → HWIO; everything else unchanged. */
function convToHwio(p: Param): { shape: number[]; data: Float32Array } {
  if (p.shape.length !== 4) return p;
  const [o, i, kh, kw] = p.shape;
  return { shape: [kh, kw, i, o], data: oihwToHwio(p.data, o, i, kh, kw) };
}

function v(vars: Vars, name: string): tf.Variable {
  const t = vars.get(name);
  if (!t) throw new Error(`tfjs bench model: missing parameter '${name}'`);
  return t;
}

function crossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1))) as tf.Scalar;
}

function batchNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor4D {
  const mean = tf.mean(x, [0, 1, 2], true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), [0, 1, 2], true);
  return tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, eps))), gamma), beta) as tf.Tensor4D;
}

interface Model {
  vars: Vars;
  loss(x: tf.Tensor, y: tf.Tensor2D): tf.Scalar;
  /** Converts a batch of NCHW images (or flat rows) to this model's input tensor. */
  input(x: Float32Array, batch: number): tf.Tensor;
}

function mlp(): Model {
  const vars = toVars(mlpParams());
  return {
    vars,
    input: (x, batch) => tf.tensor2d(x, [batch, MLP.sizes[0]]),
    loss: (x, y) => {
      const h1 = tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, v(vars, 'w1')), v(vars, 'b1')));
      const h2 = tf.relu(tf.add(tf.matMul(h1 as tf.Tensor2D, v(vars, 'w2')), v(vars, 'b2')));
      return crossEntropy(tf.add(tf.matMul(h2 as tf.Tensor2D, v(vars, 'w3')), v(vars, 'b3')) as tf.Tensor2D, y);
    },
  };
}

function cnn(): Model {
  const f = cnnFeatures();
  const side = Math.round(Math.sqrt(f / CNN.c2));
  const vars = toVars(cnnParams(), (p) => (p.name === 'fc.w'
    ? { shape: p.shape, data: flattenRowsToNhwc(p.data, CNN.c2, side, side, CNN.classes) }
    : convToHwio(p)));
  return {
    vars,
    input: (x, batch) => tf.tensor4d(nchwToNhwc(x, batch, CNN.inC, CNN.hw, CNN.hw), [batch, CNN.hw, CNN.hw, CNN.inC]),
    loss: (x, y) => {
      const a = tf.maxPool(tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, v(vars, 'conv1.w') as tf.Tensor4D, 1, 'valid'), v(vars, 'conv1.b'))) as tf.Tensor4D, 2, 2, 'valid');
      const b = tf.maxPool(tf.relu(tf.add(tf.conv2d(a, v(vars, 'conv2.w') as tf.Tensor4D, 1, 'valid'), v(vars, 'conv2.b'))) as tf.Tensor4D, 2, 2, 'valid');
      return crossEntropy(tf.add(tf.matMul(tf.reshape(b, [CNN.batch, f]) as tf.Tensor2D, v(vars, 'fc.w')), v(vars, 'fc.b')) as tf.Tensor2D, y);
    },
  };
}

function resnet(): Model {
  const vars = toVars(resnetParams(), convToHwio);
  const convBn = (x: tf.Tensor4D, conv: string, bn: string): tf.Tensor4D =>
    batchNorm(tf.conv2d(x, v(vars, conv) as tf.Tensor4D, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), v(vars, `${bn}.gamma`), v(vars, `${bn}.beta`), RESNET.eps);
  return {
    vars,
    input: (x, batch) => tf.tensor4d(nchwToNhwc(x, batch, RESNET.inC, RESNET.hw, RESNET.hw), [batch, RESNET.hw, RESNET.hw, RESNET.inC]),
    loss: (x, y) => {
      let h = tf.relu(convBn(x as tf.Tensor4D, 'stem.w', 'stem.bn'));
      for (let b = 0; b < RESNET.blocks; b++) {
        const r = convBn(tf.relu(convBn(h, `block${b}.conv1.w`, `block${b}.bn1`)), `block${b}.conv2.w`, `block${b}.bn2`);
        h = tf.relu(tf.add(r, h)) as tf.Tensor4D;
      }
      const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
      return crossEntropy(tf.add(tf.matMul(pooled, v(vars, 'fc.w')), v(vars, 'fc.b')) as tf.Tensor2D, y);
    },
  };
}

function trainer(model: Model, ds: Dataset, batch: number): Stepper {
  const data: { x: tf.Tensor; y: tf.Tensor2D }[] = [];
  for (let i = 0; i < Math.floor(ds.count / batch); i++) {
    const b = batchAt(ds, batch, i);
    data.push({ x: model.input(b.x, batch), y: tf.oneHot(tf.tensor1d(b.y, 'int32'), 10).toFloat() as tf.Tensor2D });
  }
  const opt = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  const varList = [...model.vars.values()];
  let i = 0;
  return {
    workPerStep: batch,
    step: () => {
      const b = data[i++ % data.length];
      const cost = opt.minimize(() => model.loss(b.x, b.y), true, varList);
      if (cost === null) throw new Error('tfjs minimize returned no loss');
      const l = cost.dataSync()[0];
      cost.dispose();
      return l;
    },
  };
}

export async function tfjsRunner(backend: 'cpu' | 'wasm'): Promise<LibRunner> {
  if (backend === 'wasm') setWasmPaths(wasmDir());
  const ok = await tf.setBackend(backend);
  if (!ok || tf.getBackend() !== backend) throw new Error(`tfjs backend '${backend}' failed to initialise`);
  await tf.ready();
  const threads = backend === 'wasm' ? getThreadsCount() : 1;
  return {
    library: `tfjs-${backend}`,
    threads,
    describe: `@tensorflow/tfjs ${tf.version.tfjs}, backend ${backend}${backend === 'wasm' ? ` (${threads} thread${threads === 1 ? '' : 's'})` : ''}`,
    release: () => tf.disposeVariables(),
    async stepper(w: Workload): Promise<Stepper> {
      switch (w) {
        case 'mlp-train': return trainer(mlp(), mlpData(), MLP.batch);
        case 'cnn-train': return trainer(cnn(), cnnData(), CNN.batch);
        case 'resnet-train': return trainer(resnet(), resnetData(), RESNET.batch);
        default: {
          const [m, k, n] = sgemmDims(w);
          const rng = makeRng(7);
          const a = tf.tensor2d(randnArray(m * k, rng), [m, k]);
          const b = tf.tensor2d(randnArray(k * n, rng), [k, n]);
          return { workPerStep: 2 * m * k * n, step: () => { tf.matMul(a, b).dispose(); } };
        }
      }
    },
  };
}

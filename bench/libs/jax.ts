/**
 * jax-js adapter (wasm device). Each training step is one jitted value-and-grad of the loss
 * plus a jitted Adam update per parameter. jax-js arrays are reference-counted: every function
 * consumes its arguments, so arrays used again are passed as `.ref` (see its README).
 * In Node there is no global Worker, so jax-js's wasm backend runs on one thread here.
 */
import { blockUntilReady, init, jit, lax, nn, numpy as np, valueAndGrad } from '@jax-js/jax';
import { batchAt, cnnData, cnnParams, makeRng, mlpData, mlpParams, randnArray, resnetData, resnetParams, type Dataset, type Param } from '../data.js';
import { ADAM, CNN, MLP, RESNET, cnnFeatures, sgemmDims, type Workload } from '../spec.js';
import type { Stepper } from '../timing.js';
import type { LibRunner } from './runner.js';
import { packageVersion } from './version.js';

type Params = Record<string, np.Array>;

function toArrays(ps: Param[]): Params {
  return Object.fromEntries(ps.map((p) => [p.name, np.array(p.data).reshape(p.shape)]));
}

/** A tree of new references (jit/grad consume what they are given). */
function refs(p: Params): Params {
  return Object.fromEntries(Object.entries(p).map(([k, a]) => [k, a.ref]));
}

function crossEntropy(logits: np.Array, oneHot: np.Array): np.Array {
  return nn.logSoftmax(logits, -1).mul(oneHot).sum(1).mean().neg();
}

function maxPool2(x: np.Array): np.Array {
  return lax.reduceWindow(x, (z: np.Array) => np.max(z), [2, 2], [2, 2]);
}

function batchNorm(x: np.Array, gamma: np.Array, beta: np.Array, eps: number): np.Array {
  const c = x.shape[1];
  const mean = x.ref.mean([0, 2, 3], { keepdims: true });
  const centered = x.sub(mean);
  const variance = np.square(centered.ref).mean([0, 2, 3], { keepdims: true });
  return centered.div(np.sqrt(variance.add(eps))).mul(gamma.reshape([1, c, 1, 1])).add(beta.reshape([1, c, 1, 1]));
}

type LossFn = (p: Params, x: np.Array, y: np.Array) => np.Array;

const mlpLoss: LossFn = (p, x, y) => {
  const h1 = nn.relu(np.matmul(x, p['w1']).add(p['b1']));
  const h2 = nn.relu(np.matmul(h1, p['w2']).add(p['b2']));
  return crossEntropy(np.matmul(h2, p['w3']).add(p['b3']), y);
};

const cnnLoss: LossFn = (p, x, y) => {
  const a = maxPool2(nn.relu(lax.conv(x, p['conv1.w'], [1, 1], 'VALID').add(p['conv1.b'].reshape([1, CNN.c1, 1, 1]))));
  const b = maxPool2(nn.relu(lax.conv(a, p['conv2.w'], [1, 1], 'VALID').add(p['conv2.b'].reshape([1, CNN.c2, 1, 1]))));
  return crossEntropy(np.matmul(b.reshape([CNN.batch, cnnFeatures()]), p['fc.w']).add(p['fc.b']), y);
};

const resnetLoss: LossFn = (p, x, y) => {
  const convBn = (h: np.Array, conv: string, bn: string): np.Array =>
    batchNorm(lax.conv(h, p[conv], [1, 1], [[1, 1], [1, 1]]), p[`${bn}.gamma`], p[`${bn}.beta`], RESNET.eps);
  let h = nn.relu(convBn(x, 'stem.w', 'stem.bn'));
  for (let b = 0; b < RESNET.blocks; b++) {
    const r = convBn(nn.relu(convBn(h.ref, `block${b}.conv1.w`, `block${b}.bn1`)), `block${b}.conv2.w`, `block${b}.bn2`);
    h = nn.relu(r.add(h));
  }
  return crossEntropy(np.matmul(h.mean([2, 3]), p['fc.w']).add(p['fc.b']), y);
};

/** Adam with bias correction; c1 = 1 − β1ᵗ and c2 = 1 − β2ᵗ come in as 0-d arrays so jit traces once. */
const adamUpdate = jit((p: np.Array, g: np.Array, m: np.Array, v: np.Array, c1: np.Array, c2: np.Array) => {
  const m2 = m.mul(ADAM.beta1).add(g.ref.mul(1 - ADAM.beta1));
  const v2 = v.mul(ADAM.beta2).add(g.ref.mul(g).mul(1 - ADAM.beta2));
  const step = m2.ref.div(c1).mul(ADAM.lr).div(np.sqrt(v2.ref.div(c2)).add(ADAM.eps));
  return [p.sub(step), m2, v2];
});

function trainer(lossFn: LossFn, ps: Param[], ds: Dataset, batch: number): Stepper {
  let params = toArrays(ps);
  const m: Params = Object.fromEntries(ps.map((p) => [p.name, np.zeros(p.shape)]));
  const v: Params = Object.fromEntries(ps.map((p) => [p.name, np.zeros(p.shape)]));
  const data: { x: np.Array; y: np.Array }[] = [];
  for (let i = 0; i < Math.floor(ds.count / batch); i++) {
    const b = batchAt(ds, batch, i);
    const oh = new Float32Array(batch * 10);
    b.y.forEach((c, j) => { oh[j * 10 + c] = 1; });
    data.push({ x: np.array(b.x.slice()).reshape([batch, ...ds.sampleShape]), y: np.array(oh).reshape([batch, 10]) });
  }
  const vg = jit(valueAndGrad(lossFn));
  let t = 0;
  let i = 0;
  return {
    workPerStep: batch,
    step: async () => {
      const b = data[i++ % data.length];
      const [loss, grads] = vg(refs(params), b.x.ref, b.y.ref) as unknown as [np.Array, Params];
      t++;
      const next: Params = {};
      const c1 = np.array(new Float32Array([1 - ADAM.beta1 ** t])).reshape([]);
      const c2 = np.array(new Float32Array([1 - ADAM.beta2 ** t])).reshape([]);
      for (const name of Object.keys(params)) {
        const [p2, m2, v2] = adamUpdate(params[name], grads[name], m[name], v[name], c1.ref, c2.ref) as np.Array[];
        next[name] = p2;
        m[name] = m2;
        v[name] = v2;
      }
      params = next;
      c1.dispose();
      c2.dispose();
      // Reading the loss waits for the step; parameters are waited on too so no work is left pending.
      await blockUntilReady(params);
      return (await loss.data())[0];
    },
  };
}

export async function jaxRunner(): Promise<LibRunner> {
  const devices = await init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js could not start its wasm device (got ${devices.join(', ')})`);
  const version = packageVersion('@jax-js/jax');
  // jax-js starts wasm worker threads only when a global Worker exists (browsers); Node has none.
  const threads = typeof (globalThis as { Worker?: unknown }).Worker === 'undefined' ? 1 : (globalThis.navigator?.hardwareConcurrency ?? 1);
  return {
    library: 'jax-js',
    threads,
    describe: `@jax-js/jax ${version}, wasm device (${threads} thread${threads === 1 ? '' : 's'})`,
    async stepper(w: Workload): Promise<Stepper> {
      switch (w) {
        case 'mlp-train': return trainer(mlpLoss, mlpParams(), mlpData(), MLP.batch);
        case 'cnn-train': return trainer(cnnLoss, cnnParams(), cnnData(), CNN.batch);
        case 'resnet-train': return trainer(resnetLoss, resnetParams(), resnetData(), RESNET.batch);
        default: {
          const [mm, k, n] = sgemmDims(w);
          const rng = makeRng(7);
          const a = np.array(randnArray(mm * k, rng)).reshape([mm, k]);
          const b = np.array(randnArray(k * n, rng)).reshape([k, n]);
          const f = jit((x: np.Array, y: np.Array) => np.matmul(x, y));
          return {
            workPerStep: 2 * mm * k * n,
            step: async () => {
              const c = await blockUntilReady(f(a.ref, b.ref));
              c.dispose();
            },
          };
        }
      }
    },
  };
}

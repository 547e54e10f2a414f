import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { nn, permute, tensor, train } from '../../src/index.js';
import { importKerasWeights, importKerasFrom, type KerasModelJson } from '../../src/io/index.js';
import { assertClose, assertThrowsMsg } from '../helpers.js';

// Shapes of the small model used throughout: 6×6×2 input, 3 filters of 3×3 → 4×4×3 → 4 outputs.
const H = 6, W = 6, CIN = 2, F = 3, OUT = 4;

interface Artifacts { json: KerasModelJson; data: ArrayBuffer; tfModel: tf.Sequential }

/** A tfjs conv2d → batchNormalization → flatten → dense model with random weights (incl. BN stats), saved in memory. */
async function kerasArtifacts(opts: { epsilon?: number } = {}): Promise<Artifacts> {
  await tf.setBackend('cpu');
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [H, W, CIN], filters: F, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.batchNormalization(opts.epsilon === undefined ? {} : { epsilon: opts.epsilon }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: OUT }));
  let seed = 11;
  const names = m.weights.map((v) => v.name);
  m.setWeights(m.getWeights().map((w, i) => {
    const r = tf.randomNormal(w.shape, 0, 0.5, 'float32', seed++);
    // BN moving variance must be positive; make it clearly not 1 so a dropped variance shows.
    return names[i].includes('moving_variance') ? tf.add(tf.abs(r), 0.3) : r;
  }));
  let out: Artifacts | undefined;
  await m.save(tf.io.withSaveHandler(async (a) => {
    out = { json: { modelTopology: a.modelTopology, weightSpecs: a.weightSpecs } as KerasModelJson, data: a.weightData as ArrayBuffer, tfModel: m };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  assert.ok(out !== undefined);
  return out;
}

function gradkitModel(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(CIN, F, 3), new nn.ReLU(), new nn.BatchNorm2d(F), new nn.Flatten(), new nn.Linear((H - 2) * (W - 2) * F, OUT),
  );
}

function randomInput(): Float32Array {
  const x = new Float32Array(2 * H * W * CIN);
  let s = 7;
  for (let i = 0; i < x.length; i++) { s = (s * 1103515245 + 12345) % 2147483648; x[i] = s / 2147483648 * 2 - 1; }
  return x;
}

test('keras import: conv → BN → flatten → dense predicts like the tfjs model (NHWC ↔ NCHW)', async () => {
  const { json, data, tfModel } = await kerasArtifacts();
  const model = gradkitModel();
  const res = importKerasWeights(model, json, data);
  model.eval();
  assert.deepEqual(res.mapped.map(([, p]) => p), ['0', '2', '4']);
  assert.equal(res.permutedForFlatten.length, 1);
  // Keras' default epsilon 1e-3 is carried over.
  assert.equal((model.at(2) as nn.BatchNorm2d).eps, 1e-3);
  const xs = randomInput();
  const expected = (tfModel.predict(tf.tensor4d(xs, [2, H, W, CIN])) as tf.Tensor).dataSync();
  const x = permute(tensor(xs, { shape: [2, H, W, CIN] }), [0, 3, 1, 2]);
  const y = model.call(x);
  assert.deepEqual(y.shape, [2, OUT]);
  assertClose(y, Array.from(expected), { atol: 1e-4, rtol: 1e-4 });
});

test('keras import: the flatten permutation matters (without it predictions differ)', async () => {
  const { json, data, tfModel } = await kerasArtifacts({ epsilon: 0.01 });
  // Same layers but the Dense reads from a Keras model with no Flatten recorded: import through a
  // topology where Flatten is absent makes the importer skip the permutation.
  const topo = structuredClone(json.modelTopology) as { config: { layers: Array<{ class_name: string }> } };
  topo.config.layers = topo.config.layers.filter((l) => l.class_name !== 'Flatten');
  const model = gradkitModel();
  importKerasWeights(model, { ...json, modelTopology: topo }, data);
  model.eval();
  assert.equal((model.at(2) as nn.BatchNorm2d).eps, 0.01);
  const xs = randomInput();
  const expected = Array.from((tfModel.predict(tf.tensor4d(xs, [2, H, W, CIN])) as tf.Tensor).dataSync());
  const got = model.call(permute(tensor(xs, { shape: [2, H, W, CIN] }), [0, 3, 1, 2])).dataSync();
  const maxDiff = Math.max(...expected.map((e, i) => Math.abs(e - got[i])));
  assert.ok(maxDiff > 1e-2, `unpermuted import should differ, max diff ${maxDiff}`);
});

test('keras import: explicit nameMap imports a subset; conv weight is HWIO → OIHW', async () => {
  const { json, data, tfModel } = await kerasArtifacts();
  const convName = tfModel.layers[0].name;
  const model = gradkitModel();
  const before = model.at(4) as nn.Linear;
  const linBefore = Array.from(before.weight.dataSync());
  const res = importKerasWeights(model, json, data, { nameMap: { [convName]: '0' } });
  assert.deepEqual(res.mapped, [[convName, '0']]);
  assert.equal(res.skipped.length, 2);
  assert.deepEqual(Array.from(before.weight.dataSync()), linBefore, 'unmapped layers untouched');
  const k = tfModel.layers[0].getWeights()[0].arraySync() as number[][][][]; // [kh][kw][in][out]
  const w = (model.at(0) as nn.Conv2d).weight.dataSync(); // [out][in][kh][kw]
  for (const [o, i, y, x] of [[0, 0, 0, 0], [2, 1, 1, 2], [1, 0, 2, 1]]) {
    assert.ok(Math.abs(w[((o * CIN + i) * 3 + y) * 3 + x] - k[y][x][i][o]) < 1e-7);
  }
});

test('keras import: clear errors (missing weight, shape mismatch, unsupported layer, short shards, counts)', async () => {
  const { json, data } = await kerasArtifacts();
  const specs = json.weightSpecs ?? [];
  // Shard bytes shorter than the manifest.
  assertThrowsMsg(() => importKerasWeights(gradkitModel(), json, data.slice(0, data.byteLength - 8)), /importKeras/, /bytes/, /manifest/);
  // Missing weight: drop the dense bias from the manifest (and its bytes, the last 4·OUT).
  const noBias = { ...json, weightSpecs: specs.filter((s) => !(s.name.includes('dense') && s.name.endsWith('bias'))) };
  assertThrowsMsg(() => importKerasWeights(gradkitModel(), noBias, data.slice(0, data.byteLength - 4 * OUT)), /missing weight/, /bias/);
  // Shape mismatch names both shapes.
  const wrong = new nn.Sequential(new nn.Conv2d(CIN, F, 3), new nn.BatchNorm2d(F), new nn.Flatten(), new nn.Linear(10, OUT));
  assertThrowsMsg(() => importKerasWeights(wrong, json, data), /shape mismatch/, /\[48, ?4\]/, /\[4, ?10\]/);
  // Unsupported layer type.
  const topo = structuredClone(json.modelTopology) as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
  topo.config.layers.splice(1, 0, { class_name: 'LSTM', config: { name: 'lstm_1' } });
  assertThrowsMsg(() => importKerasWeights(gradkitModel(), { ...json, modelTopology: topo }, data), /unsupported Keras layer type 'LSTM'/);
  // Layer counts differ and no nameMap.
  const small = new nn.Sequential(new nn.Conv2d(CIN, F, 3));
  assertThrowsMsg(() => importKerasWeights(small, json, data), /3 weighted layers/, /1 Linear\/Conv2d\/BatchNorm/);
  // Kind mismatch by order.
  const swapped = new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm2d(F), new nn.Linear(48, OUT));
  assertThrowsMsg(() => importKerasWeights(swapped, json, data), /Conv2D layer/, /expected a Conv2d/);
  // Nothing was assigned by a failed import (all or nothing).
  const m = gradkitModel();
  const w0 = Array.from((m.at(0) as nn.Conv2d).weight.dataSync());
  assert.throws(() => importKerasWeights(m, noBias, data.slice(0, data.byteLength - 4 * OUT)));
  assert.deepEqual(Array.from((m.at(0) as nn.Conv2d).weight.dataSync()), w0);
});

test('keras import from storage: model.json + two shards, paths relative to the json', async () => {
  const { json, data, tfModel } = await kerasArtifacts();
  const cut = 64;
  const storage = train.memoryStorage();
  const manifest = [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: json.weightSpecs ?? [] }];
  storage.writeAtomic('m/model.json', JSON.stringify({ modelTopology: json.modelTopology, weightsManifest: manifest }));
  storage.writeAtomic('m/group1-shard1of2.bin', new Uint8Array(data.slice(0, cut)));
  storage.writeAtomic('m/group1-shard2of2.bin', new Uint8Array(data.slice(cut)));
  const model = gradkitModel();
  await importKerasFrom(storage, 'm/model.json', model);
  model.eval();
  const xs = randomInput();
  const expected = (tfModel.predict(tf.tensor4d(xs, [2, H, W, CIN])) as tf.Tensor).dataSync();
  assertClose(model.call(permute(tensor(xs, { shape: [2, H, W, CIN] }), [0, 3, 1, 2])), Array.from(expected), { atol: 1e-4, rtol: 1e-4 });
  storage.files.delete('m/group1-shard2of2.bin');
  await assert.rejects(importKerasFrom(storage, 'm/model.json', gradkitModel()), /shard2of2\.bin' named in m\/model\.json does not exist/);
});

test('keras import: converter layout (model_config, scoped names with :0), Dense → BN1d → Dense without bias', async () => {
  await tf.setBackend('cpu');
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [5], units: 6, activation: 'relu' }));
  m.add(tf.layers.batchNormalization({ epsilon: 0.005, momentum: 0.9 }));
  m.add(tf.layers.dense({ units: 3, useBias: false }));
  const names = m.weights.map((v) => v.name);
  let seed = 3;
  m.setWeights(m.getWeights().map((w, i) => {
    const r = tf.randomNormal(w.shape, 0, 0.7, 'float32', seed++);
    return names[i].includes('moving_variance') ? tf.add(tf.abs(r), 0.2) : r;
  }));
  let topo: unknown, specs: KerasModelJson['weightSpecs'], data: ArrayBuffer | undefined;
  await m.save(tf.io.withSaveHandler(async (a) => {
    topo = a.modelTopology; specs = a.weightSpecs; data = a.weightData as ArrayBuffer;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  // What tensorflowjs_converter writes for a Keras model: the topology under model_config and
  // weights named with the model scope and a ':0' suffix.
  const json: KerasModelJson = {
    modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: topo },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: (specs ?? []).map((s) => ({ ...s, name: `sequential/${s.name}:0` })) }],
  };
  const model = new nn.Sequential(new nn.Linear(5, 6), new nn.ReLU(), new nn.BatchNorm1d(6), new nn.Linear(6, 3, { bias: false }));
  importKerasWeights(model, json, data!);
  model.eval();
  const bn = model.at(2) as nn.BatchNorm1d;
  assert.equal(bn.eps, 0.005);
  assert.ok(Math.abs((bn.momentum ?? 0) - 0.1) < 1e-12, `momentum ${bn.momentum}`);
  const xs = Float32Array.from({ length: 4 * 5 }, (_, i) => Math.sin(i * 1.7));
  const expected = (m.predict(tf.tensor2d(xs, [4, 5])) as tf.Tensor).dataSync();
  assertClose(model.call(tensor(xs, { shape: [4, 5] })), Array.from(expected), { atol: 1e-4, rtol: 1e-4 });
  // A gradkit Linear with a bias where Keras has none is reported, not silently left at its init.
  const withBias = new nn.Sequential(new nn.Linear(5, 6), new nn.ReLU(), new nn.BatchNorm1d(6), new nn.Linear(6, 3));
  assertThrowsMsg(() => importKerasWeights(withBias, json, data!), /use_bias false/, /bias: false/);
});

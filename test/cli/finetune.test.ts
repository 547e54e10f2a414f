import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { trainCommand, type CommandEnv } from '../../src/cli/commands.js';
import { finetuneCommand, resolveFinetuneExperiment } from '../../src/cli/finetune.js';
import { nn, train, io, zoo } from '../../src/index.js';
import { DIGIT_SIZE } from '../../src/data/index.js';
import { decodeCheckpoint } from '../../src/train/index.js';
import { assertThrowsMsg } from '../helpers.js';

/** A couple of hundred digits, one small conv layer, 1 epoch. */
const LAYERS = [
  { type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1, bias: false }, { type: 'maxPool2d', kernelSize: 4 }, { type: 'batchNorm2d' }, { type: 'relu' },
  { type: 'flatten' }, { type: 'linear', outFeatures: 10 },
];
const DATA = { dataset: 'digits', trainSize: 200, testSize: 60, batchSize: 50, validationFraction: 0.2, evalBatchSize: 100 };
const SOURCE = { name: 'src', seed: 1, epochs: 1, data: DATA, preprocessing: [{ type: 'standardize', per: 'channel' }], model: { layers: LAYERS }, optimizer: { type: 'adam', lr: 0.01 } };

function memEnv(): CommandEnv & { storage: ReturnType<typeof train.memoryStorage>; out: string[] } {
  const out: string[] = [];
  return { storage: train.memoryStorage(), sink: { write: (s: string) => void out.push(s) }, out };
}

const json = (o: unknown): string => JSON.stringify(o);

test('finetune a run folder: frozen layers bit-identical, new head, run folder written', async () => {
  const env = memEnv();
  env.storage.writeAtomic('src.json', json(SOURCE));
  await trainCommand({ experiment: 'src.json', out: 'src-run' }, env);
  const before = decodeCheckpoint(env.storage.read('src-run/best.ckpt') as Uint8Array).model;
  env.storage.writeAtomic('ft.json', json({
    name: 'ft', seed: 2, epochs: 1, data: { ...DATA, trainSize: 160 }, optimizer: { type: 'adamw', lr: 0.05 },
    transfer: { freeze: { upTo: 3 }, replaceHead: { numClasses: 10 }, lrDecayPerLayer: 0.5 },
  }));
  const summary = await finetuneCommand({ source: 'src-run', experiment: 'ft.json', out: 'ft-run' }, env);
  assert.equal(summary.epochs, 1);
  for (const f of ['config.json', 'finetune.json', 'preprocessing.json', 'metrics.jsonl', 'last.ckpt', 'summary.json', 'curves.svg', 'curves.png']) {
    assert.ok(env.storage.exists(`ft-run/${f}`), `ft-run/${f} missing`);
  }
  assert.deepEqual(summary.frozenParameters, ['0.weight', '2.weight', '2.bias']);
  const after = decodeCheckpoint(env.storage.read('ft-run/last.ckpt') as Uint8Array).model;
  // Frozen conv and BatchNorm (weights and running statistics: frozen BN is held in eval).
  for (const k of ['0.weight', '2.weight', '2.bias', '2.runningMean', '2.runningVar']) {
    assert.deepEqual(Array.from(after.get(k)!.dataSync()), Array.from(before.get(k)!.dataSync()), `${k} changed`);
  }
  // The new head on the 4·7·7 features: a fresh layer, not the source's.
  assert.deepEqual(after.get('5.weight')!.shape, [10, 4 * (DIGIT_SIZE / 4) ** 2]);
  assert.notDeepEqual(Array.from(after.get('5.weight')!.dataSync()), Array.from(before.get('5.weight')!.dataSync()));
  const info = JSON.parse(new TextDecoder().decode(env.storage.read('ft-run/finetune.json') as Uint8Array));
  assert.equal(info.transfer.replaceHead.numClasses, 10);
  assert.match(info.source, /src-run\/best\.ckpt/);
  // config.json is a plain experiment describing the fine-tuned model: gradkit eval works on the folder.
  assert.equal(await main(['eval', 'ft-run'], env), 0, env.out.join(''));
  // The source's fitted preprocessing is reused.
  assert.deepEqual(env.storage.read('ft-run/preprocessing.json'), env.storage.read('src-run/preprocessing.json'));
});

test('finetune a model file through the CLI: head replaced, frozen layer untouched', async () => {
  const env = memEnv();
  zoo.registerArchitecture('finetune-test-net', () => new nn.Sequential(new nn.Flatten(), new nn.Linear(DIGIT_SIZE * DIGIT_SIZE, 8), new nn.ReLU(), new nn.Linear(8, 5)));
  const arch = { builder: 'finetune-test-net', options: {} };
  const model = zoo.build(arch) as nn.Sequential;
  env.storage.writeAtomic('net.safetensors', io.saveModel(model, { architecture: arch }));
  env.storage.writeAtomic('ft.json', json({
    seed: 4, epochs: 1, data: DATA, preprocessing: [{ type: 'standardize', per: 'channel' }], optimizer: { type: 'sgd', lr: 0.1 },
    transfer: { freeze: { upTo: 2 }, replaceHead: { numClasses: 10 } },
  }));
  const code = await main(['finetune', 'net.safetensors', 'ft.json', '--out', 'run2'], env);
  assert.equal(code, 0, env.out.join(''));
  const after = decodeCheckpoint(env.storage.read('run2/last.ckpt') as Uint8Array).model;
  assert.deepEqual(Array.from(after.get('1.weight')!.dataSync()), Array.from((model.at(1) as nn.Linear).weight.dataSync()));
  assert.deepEqual(after.get('3.weight')!.shape, [10, 8]);
  assert.ok(env.storage.exists('run2/summary.json'));
});

test('finetune: clear errors for the transfer section, the source and the arguments', async () => {
  const base = { data: DATA };
  assertThrowsMsg(() => resolveFinetuneExperiment({ ...base, transfer: { freeze: {} } }), /transfer\.freeze/, /upTo/);
  assertThrowsMsg(() => resolveFinetuneExperiment({ ...base, transfer: { replaceHead: { numClasses: 0 } } }), /transfer\.replaceHead\.numClasses/);
  assertThrowsMsg(() => resolveFinetuneExperiment({ ...base, transfer: { lrDecayPerLayer: 2 } }), /transfer\.lrDecayPerLayer/);
  assertThrowsMsg(() => resolveFinetuneExperiment({ ...base, transfer: { frezze: { upTo: 1 } } }), /frezze/);
  const env = memEnv();
  env.storage.writeAtomic('ft.json', json({ ...base, transfer: { replaceHead: { numClasses: 3 } } }));
  await assert.rejects(finetuneCommand({ source: 'nowhere', experiment: 'ft.json' }, env), /nowhere is neither a run folder/);
  zoo.registerArchitecture('finetune-test-net2', () => new nn.Sequential(new nn.Flatten(), new nn.Linear(DIGIT_SIZE * DIGIT_SIZE, 5)));
  env.storage.writeAtomic('net.safetensors', io.saveModel(zoo.build({ builder: 'finetune-test-net2', options: {} }), { architecture: { builder: 'finetune-test-net2', options: {} } }));
  await assert.rejects(finetuneCommand({ source: 'net.safetensors', experiment: 'ft.json', out: 'r' }, env), /numClasses is 3 but the data has 10 classes/);
  assert.equal(env.storage.exists('r'), false, 'no run folder for a rejected experiment');
  const errEnv = memEnv();
  assert.equal(await main(['finetune', 'only-one-arg'], errEnv), 2);
});

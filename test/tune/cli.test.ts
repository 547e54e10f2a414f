import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main.js';
import { experimentRunner, resolveTune, tuneCommand, type TuneSetup } from '../../src/cli/tune.js';
import { nodeStorage } from '../../src/platform/fs-node.js';
import { memoryStorage } from '../../src/train/storage.js';
import type { TrialRunner } from '../../src/tune/index.js';

/** 3 Gaussian blobs in 2-D, a small MLP, plain SGD at a deliberately bad default rate. */
const BLOBS = {
  name: 'blobs',
  seed: 1,
  data: { dataset: 'blobs', samplesPerClass: 40, batchSize: 16, validationFraction: 0.25 },
  model: { layers: [{ type: 'linear', outFeatures: 16 }, { type: 'relu' }, { type: 'linear', outFeatures: 3 }] },
  optimizer: { type: 'sgd', lr: 1e-5, momentum: 0.9 },
  earlyStopping: false,
};

const SPACE = { experiment: BLOBS, method: 'random', trials: 6, epochs: 2, seed: 4, space: { 'optimizer.lr': { logUniform: [1e-3, 1] } } };

function memEnv(files: Record<string, unknown>): { storage: ReturnType<typeof memoryStorage>; sink: { write: (s: string) => void }; out: string[] } {
  const storage = memoryStorage();
  for (const [p, v] of Object.entries(files)) storage.writeAtomic(p, JSON.stringify(v));
  const out: string[] = [];
  return { storage, sink: { write: (s: string) => void out.push(s) }, out };
}

test('tune on a small problem: the best of 6 random learning rates beats the bad default rate', async () => {
  const e = memEnv({ 'space.json': SPACE });
  const r = await tuneCommand({ space: 'space.json', out: 'run' }, e);
  assert.equal(r.ranked.length, 6);
  const setup = await resolveTune(SPACE, e.storage, '.');
  const base = await experimentRunner(setup).run({ id: 'default', params: {} }, 2);
  const best = r.ranked[0];
  assert.ok(best.score! >= 0.8, `best valAccuracy ${best.score}`);
  assert.ok(best.score! > base.metrics.valAccuracy + 0.1, `best ${best.score} vs default ${base.metrics.valAccuracy}`);
  const text = e.out.join('');
  assert.match(text, /rank\s+trial\s+optimizer\.lr\s+epochs\s+valAccuracy/);
  assert.match(text, new RegExp(`\\n1\\s+${best.id}\\s`));
  const lines = new TextDecoder().decode(e.storage.files.get('run/trials.jsonl')!).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 6);
  for (const l of lines) assert.ok(typeof l.params['optimizer.lr'] === 'number' && typeof l.metrics.valLoss === 'number');
});

test('gradkit tune resumes after a kill without re-running finished trials', async () => {
  const e = memEnv({ 's.json': { ...SPACE, trials: 4, epochs: 1 } });
  const ran: string[] = [];
  const counting = (killAfter: number) => (s: TuneSetup): TrialRunner => {
    const inner = experimentRunner(s);
    return {
      run: async (t, epochs, h) => {
        if (ran.length >= killAfter) throw new Error('killed');
        ran.push(t.id);
        return inner.run(t, epochs, h);
      },
    };
  };
  await assert.rejects(tuneCommand({ space: 's.json', out: 'run' }, e, counting(2)), /killed/);
  assert.deepEqual(ran, ['r0-t0', 'r0-t1']);
  ran.length = 0;
  const r = await tuneCommand({ space: 's.json', out: 'run' }, e, counting(Infinity));
  assert.deepEqual(ran, ['r0-t2', 'r0-t3']);
  assert.equal(r.ranked.length, 4);
  assert.match(e.out.join(''), /2 trial\(s\) run, 2 read back/);
  // The folder belongs to its search: a changed space file is refused rather than mixed in.
  e.storage.writeAtomic('s.json', JSON.stringify({ ...SPACE, trials: 5, epochs: 1 }));
  await assert.rejects(tuneCommand({ space: 's.json', out: 'run' }, e), /different search/);
});

test('space file errors name the problem', async () => {
  const s = memoryStorage();
  await assert.rejects(resolveTune({ ...SPACE, space: { 'optimizer.rate': { uniform: [0, 1] } } }, s, '.'), /has no 'optimizer\.rate'/);
  await assert.rejects(resolveTune({ ...SPACE, method: 'bayes' }, s, '.'), /method must be one of random, grid, coarseToFine, halving/);
  await assert.rejects(resolveTune({ ...SPACE, trails: 3 }, s, '.'), /unknown key 'trails'/);
  await assert.rejects(resolveTune({ ...SPACE, experiment: { ...BLOBS, data: { ...BLOBS.data, validationFraction: 0 } } }, s, '.'), /needs a validation split/);
  await assert.rejects(resolveTune({ ...SPACE, experiment: 'missing.json' }, s, '.'), /cannot read missing\.json/);
});

test('gradkit tune and gradkit gradcheck through main(): exit codes, files on disk, a rerun runs nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-tune-'));
  fs.writeFileSync(path.join(dir, 'blobs.json'), JSON.stringify(BLOBS));
  fs.writeFileSync(path.join(dir, 'space.json'), JSON.stringify({ ...SPACE, experiment: 'blobs.json', method: 'grid', gridPoints: 2, epochs: 1 }));
  const out: string[] = [];
  const env = { storage: nodeStorage(), sink: { write: (s: string) => void out.push(s) } };
  const run = path.join(dir, 'run');
  assert.equal(await main(['tune', path.join(dir, 'space.json'), '--out', run], env), 0);
  assert.ok(fs.existsSync(path.join(run, 'summary.json')) && fs.existsSync(path.join(run, 'space.json')));
  assert.equal(fs.readFileSync(path.join(run, 'trials.jsonl'), 'utf8').trim().split('\n').length, 2);
  out.length = 0;
  assert.equal(await main(['tune', path.join(dir, 'space.json'), '--resume', run], env), 0);
  assert.match(out.join(''), /0 trial\(s\) run, 2 read back/);
  assert.equal(await main(['tune'], env), 2);
  out.length = 0;
  assert.equal(await main(['gradcheck', path.join(dir, 'blobs.json'), '--samples', '12'], env), 0);
  const text = out.join('');
  assert.match(text, /^ok: 12 entries checked/m);
  const rel = Number(/worst relative error (\S+) at (\d+)\.(weight|bias)\[\d+\]/.exec(text)?.[1]);
  assert.ok(rel < 1e-5, text);
});

test('gradkit tune --workers 2: trials in worker threads give the same results as in this thread (halving continues trials)', async () => {
  const space = { ...SPACE, method: 'halving', trials: 4, epochs: 2, eta: 2, space: { 'optimizer.lr': { logUniform: [1e-3, 1] }, 'data.batchSize': { choice: [8, 16] } } };
  const a = memEnv({ 's.json': space });
  const seq = await tuneCommand({ space: 's.json', out: 'run' }, a);
  const b = memEnv({ 's.json': space });
  const par = await tuneCommand({ space: 's.json', out: 'run', workers: 2 }, b);
  assert.match(b.out.join(''), /2 worker threads/);
  assert.equal(par.ran, 6, '4 trials at 1 epoch, 2 continued to 2');
  assert.deepEqual(par.ranked.map((r) => [r.id, r.epochs, r.params]), seq.ranked.map((r) => [r.id, r.epochs, r.params]));
  for (let i = 0; i < seq.ranked.length; i++) {
    for (const k of ['valLoss', 'loss']) assert.ok(Math.abs(par.ranked[i].metrics[k] - seq.ranked[i].metrics[k]) < 1e-5, `${seq.ranked[i].id} ${k}`);
  }
});

/** The done-when at small size: 400 digits, a small MLP, SGD at a poor default rate. */
const DIGITS = {
  name: 'digits-small',
  seed: 2,
  data: { dataset: 'digits', trainSize: 400, testSize: 100, validationFraction: 0.25, batchSize: 32 },
  model: { layers: [{ type: 'flatten' }, { type: 'linear', outFeatures: 32 }, { type: 'relu' }, { type: 'linear', outFeatures: 10 }] },
  optimizer: { type: 'sgd', lr: 1e-4, momentum: 0.9 },
  earlyStopping: false,
};

test('tune on the digits (small): the best random configuration beats the default one', async () => {
  const space = { experiment: DIGITS, method: 'random', trials: 4, epochs: 2, seed: 5, space: { 'optimizer.lr': { logUniform: [1e-2, 0.3] } } };
  const e = memEnv({ 'space.json': space });
  const r = await tuneCommand({ space: 'space.json', out: 'run' }, e);
  const setup = await resolveTune(space, e.storage, '.');
  const base = await experimentRunner(setup).run({ id: 'default', params: {} }, 2);
  const best = r.ranked[0];
  assert.ok(best.score! > base.metrics.valAccuracy + 0.1, `best ${best.score} vs default ${base.metrics.valAccuracy}`);
});

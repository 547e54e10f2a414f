import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeStorage, type FsLike } from '../../src/platform/fs-node.js';
import { Checkpoint, decodeCheckpoint, type Callback } from '../../src/train/index.js';
import { makeTrainer, setup } from './fixtures.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-atomic-'));
}

/** node:fs, except writeSync writes half of the first chunk and then fails (a full disk, a kill). */
function failingFs(): FsLike {
  return {
    ...fs,
    writeSync: ((fd: number, buf: Uint8Array, off: number, len: number) => {
      fs.writeSync(fd, buf, off, Math.floor(len / 2));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as unknown as FsLike['writeSync'],
  };
}

test('atomic write: replaces the file whole, via a temp file in the same folder', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'a.bin');
  const renames: string[][] = [];
  const storage = nodeStorage({ ...fs, renameSync: (a: fs.PathLike, b: fs.PathLike) => { renames.push([String(a), String(b)]); fs.renameSync(a, b); } });
  storage.writeAtomic(file, new Uint8Array([1, 2, 3]));
  storage.writeAtomic(file, 'hello');
  assert.equal(fs.readFileSync(file, 'utf8'), 'hello');
  assert.equal(renames.length, 2);
  assert.equal(path.dirname(renames[0][0]), dir);
  assert.notEqual(renames[0][0], file);
  assert.deepEqual(fs.readdirSync(dir), ['a.bin'], 'no temp files left');
});

test('atomic write: a failure mid-write leaves the previous file intact and no temp file', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'last.ckpt');
  nodeStorage().writeAtomic(file, new Uint8Array(1000).fill(7));
  assert.throws(() => nodeStorage(failingFs()).writeAtomic(file, new Uint8Array(5000).fill(9)), /ENOSPC/);
  assert.deepEqual(fs.readFileSync(file), Buffer.from(new Uint8Array(1000).fill(7)));
  assert.deepEqual(fs.readdirSync(dir), ['last.ckpt']);
});

test('a checkpoint write that fails mid-way keeps the previous checkpoint loadable', async () => {
  const dir = tmpDir();
  const s = setup();
  const good = nodeStorage();
  await makeTrainer(s, [new Checkpoint({ storage: good, dir })]).fit({ epochs: 1 });
  const before = fs.readFileSync(path.join(dir, 'last.ckpt'));
  assert.equal(decodeCheckpoint(new Uint8Array(before)).counters.epoch, 1);
  // Epoch 2 tries to write through a failing disk: training stops with the error...
  const broken = new Checkpoint({ storage: nodeStorage(failingFs()), dir });
  const t = makeTrainer(s, [broken]);
  await t.loadCheckpoint(good, path.join(dir, 'last.ckpt'));
  await assert.rejects(t.fit({ epochs: 2 }), /ENOSPC/);
  // ...and the epoch-1 checkpoint is still there, whole.
  assert.deepEqual(fs.readFileSync(path.join(dir, 'last.ckpt')), before);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['best.ckpt', 'last.ckpt']);
});

test('Checkpoint keeps best (by the monitored metric) and last', async () => {
  const dir = tmpDir();
  const s = setup();
  // Script the monitored metric: best at epoch 1.
  const script: Callback = { name: 'script', order: 50, afterEpoch: (t) => void (t.logs.valLoss = [3, 1, 2][t.epoch]) };
  const ck = new Checkpoint({ storage: nodeStorage(), dir });
  await makeTrainer(s, [script, ck]).fit({ epochs: 3 });
  const best = decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(dir, 'best.ckpt'))));
  const last = decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(dir, 'last.ckpt'))));
  assert.equal(best.counters.epoch, 2, 'best saved after epoch index 1');
  assert.equal(last.counters.epoch, 3);
  assert.equal(ck.bestEpoch, 1);
  assert.equal(ck.writes, 3 + 2);
});

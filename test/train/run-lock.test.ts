/**
 * The run-folder lock: one writer at a time; a live holder refuses others with a line naming
 * its pid; a dead holder's lock is taken over with a message; the lock goes away on release and
 * when the process exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LOCK_NAME, lockRunFolder } from '../../src/platform/run-lock-node.js';
import { FileSystemError, FolderInUseError } from '../../src/core/fs-error.js';
import { deadPid } from '../fs-conditions.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-lock-'));
}

test('a held lock refuses a second writer, naming the holder; release frees it', () => {
  const dir = tmpDir();
  const lock = lockRunFolder(dir, 'gradkit train');
  assert.equal(lock.message, null);
  const info = JSON.parse(fs.readFileSync(path.join(dir, LOCK_NAME), 'utf8'));
  assert.equal(info.pid, process.pid);
  assert.equal(info.host, os.hostname());
  assert.throws(() => lockRunFolder(dir, 'gradkit train --resume'), (e: unknown) => {
    assert.ok(e instanceof FolderInUseError);
    assert.match(e.message, new RegExp(`^${dir} is in use by process ${process.pid} \\(gradkit train, started \\d{4}-\\d\\d-\\d\\dT[^)]*\\); wait for it to finish or stop it, then try again$`));
    return true;
  });
  lock.release();
  lock.release(); // twice is harmless
  assert.equal(fs.existsSync(path.join(dir, LOCK_NAME)), false);
  lockRunFolder(dir, 'again').release();
});

test('the lock of a dead process is taken over, with a message', () => {
  const dir = tmpDir();
  const pid = deadPid();
  fs.writeFileSync(path.join(dir, LOCK_NAME), JSON.stringify({ pid, host: os.hostname(), started: '2026-01-01T00:00:00.000Z', command: 'gradkit train', token: 'old' }));
  const lock = lockRunFolder(dir, 'gradkit train --resume');
  assert.match(lock.message ?? '', new RegExp(`taking over the lock of process ${pid} \\(gradkit train, started 2026-01-01T00:00:00.000Z\\), which is no longer running`));
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, LOCK_NAME), 'utf8')).pid, process.pid);
  assert.deepEqual(fs.readdirSync(dir), [LOCK_NAME], 'no stale leftovers');
  lock.release();
});

test('a lock held on another host is not taken over (its process cannot be checked)', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, LOCK_NAME), JSON.stringify({ pid: 1, host: 'elsewhere', started: 'x', command: 'gradkit tune', token: 't' }));
  assert.throws(() => lockRunFolder(dir, 'gradkit train'), /is in use by process 1 on host elsewhere .*if that process is gone, delete/);
});

test('a release of someone else\'s lock leaves it alone', () => {
  const dir = tmpDir();
  const lock = lockRunFolder(dir, 'a');
  fs.writeFileSync(path.join(dir, LOCK_NAME), JSON.stringify({ pid: process.pid, host: os.hostname(), started: 'x', command: 'b', token: 'other' }));
  lock.release();
  assert.equal(fs.existsSync(path.join(dir, LOCK_NAME)), true);
});

test('the lock is removed when its process exits without releasing it', () => {
  const dir = tmpDir();
  const script = `const { lockRunFolder } = await import(${JSON.stringify(path.join(ROOT, 'src/platform/run-lock-node.ts'))});
    lockRunFolder(${JSON.stringify(dir)}, 'child'); console.log(require('node:fs').existsSync(${JSON.stringify(path.join(dir, LOCK_NAME))}));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script.replace("require('node:fs')", '(await import("node:fs"))')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'true', 'held while running');
  assert.equal(fs.existsSync(path.join(dir, LOCK_NAME)), false, 'gone after exit');
});

test('a folder that cannot hold a lock gives a file-system error', () => {
  const dir = path.join(tmpDir(), 'missing');
  assert.throws(() => lockRunFolder(dir, 'x'), (e: unknown) => e instanceof FileSystemError && /^cannot lock .*missing\/\.gradkit\.lock: the folder .*missing does not exist/.test(e.message));
});

test('gradkit tune and finetune refuse a folder another process holds', async () => {
  const { main } = await import('../../src/cli/main.js');
  const { nodeStorage } = await import('../../src/platform/fs-node.js');
  const dir = tmpDir();
  const space = path.join(dir, 'space.json');
  const experiment = {
    name: 'blobs', seed: 1, data: { dataset: 'blobs', samplesPerClass: 20, batchSize: 16, validationFraction: 0.25 },
    model: { layers: [{ type: 'linear', outFeatures: 3 }] }, optimizer: { type: 'sgd', lr: 0.1 }, earlyStopping: false, epochs: 1,
  };
  fs.writeFileSync(space, JSON.stringify({ experiment, method: 'random', trials: 1, epochs: 1, seed: 4, space: { 'optimizer.lr': { logUniform: [1e-3, 1] } } }));
  fs.writeFileSync(path.join(dir, 'exp.json'), JSON.stringify(experiment));
  const held = path.join(dir, 'held');
  fs.mkdirSync(held);
  // A live process (this one, as far as the lock can tell) holds the folder.
  const lock = lockRunFolder(held, 'gradkit train');
  const errors: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const env = { storage: nodeStorage(), sink: { write: () => {} } };
    assert.equal(await main(['tune', space, '--out', held], env), 1);
    assert.equal(await main(['train', path.join(dir, 'exp.json'), '--out', path.join(dir, 'src')], env), 0);
    assert.equal(await main(['finetune', path.join(dir, 'src'), path.join(dir, 'exp.json'), '--out', held], env), 1);
  } finally {
    process.stderr.write = orig;
    lock.release();
  }
  const lines = errors.join('').trim().split('\n');
  assert.equal(lines.length, 2, errors.join(''));
  for (const l of lines) assert.match(l, new RegExp(`^gradkit: ${held} is in use by process ${process.pid} \\(gradkit train, started [^)]+\\); wait for it to finish or stop it, then try again$`));
  assert.deepEqual(fs.readdirSync(held), [], 'nothing written into the held folder');
});

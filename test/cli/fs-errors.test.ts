/**
 * `gradkit` commands on failing file systems: exit code 1 and one line on stderr naming the
 * user's path, the cause and what to do, never a stack trace or a temp file's name.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { nodeStorage } from '../../src/platform/fs-node.js';
import { decodeCheckpoint } from '../../src/train/index.js';
import { mountTmpfs, remountReadOnly, unmountAll } from '../fs-conditions.js';
import { TINY } from './tiny-experiment.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
after(unmountAll);

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-clifs-'));
}

function experiment(dir: string, extra: object = {}): string {
  const file = path.join(dir, 'tiny.json');
  fs.writeFileSync(file, JSON.stringify({ ...TINY, ...extra }));
  return file;
}

/** Runs the CLI in-process; returns its exit code and what it wrote to stderr. */
async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args, { storage: nodeStorage(), sink: { write: () => {} } });
    return { code, stderr: errors.join('') };
  } finally {
    process.stderr.write = orig;
  }
}

function oneLine(stderr: string): string {
  assert.equal(stderr.split('\n').filter((l) => l !== '').length, 1, `one line, got: ${stderr}`);
  assert.doesNotMatch(stderr, /\.tmp-\d+-\d+|\n\s+at /);
  return stderr.trim();
}

// The size of a disk that holds a finished epoch-1 run folder plus half a checkpoint more, so
// that epoch 2's checkpoint write (a whole new temp file beside the old one) cannot fit. Measured
// from a real 1-epoch run rather than fixed, because what a run folder holds grows over time.
async function diskFullInEpoch2(exp: string): Promise<string> {
  const probe = path.join(tmp(), 'run');
  assert.equal((await run(['train', exp, '--out', probe, '--epochs', '1'])).code, 0);
  const page = (n: number): number => Math.ceil(n / 4096) * 4096;
  const used = fs.readdirSync(probe).reduce((sum, f) => sum + page(fs.statSync(path.join(probe, f)).size), 0);
  const ckpt = page(fs.statSync(path.join(probe, 'last.ckpt')).size);
  return `${Math.ceil((used + ckpt / 2) / 1024)}k`;
}

test('train on a disk that fills up in epoch 2: one line, the epoch-1 checkpoint intact', async (t) => {
  const exp = experiment(tmp(), { epochs: 2 });
  const m = mountTmpfs(await diskFullInEpoch2(exp));
  if ('skip' in m) return void t.skip(m.skip);
  const out = path.join(m.dir, 'run');
  const r = await run(['train', exp, '--out', out]);
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), new RegExp(`^gradkit: cannot write ${out}/(best|last)\\.ckpt: no space left on device \\(ENOSPC\\); the previous checkpoint is intact; free some space and try again$`));
  assert.equal(decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(out, 'last.ckpt')))).counters.epoch, 1);
  assert.deepEqual(fs.readdirSync(out).filter((n) => n.startsWith('.')), [], 'no temp file, no lock left');
});

test('train --out on a read-only disk', async (t) => {
  const m = mountTmpfs('64k');
  if ('skip' in m) return void t.skip(m.skip);
  const why = remountReadOnly(m.dir);
  if (why !== null) return void t.skip(why);
  const r = await run(['train', experiment(tmp()), '--out', path.join(m.dir, 'runs/a')]);
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), /^gradkit: cannot create the folder .*runs\/a: the file system is read-only \(EROFS\); choose a folder on a writable disk$/);
});

test('train --out below a file, with a 300-character folder name; eval of a folder where config.json is a folder', async () => {
  const dir = tmp();
  const file = experiment(dir);
  fs.writeFileSync(path.join(dir, 'runs'), '');
  let r = await run(['train', file, '--out', path.join(dir, 'runs/a')]);
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), new RegExp(`^gradkit: cannot create the folder ${dir}/runs/a: ${dir}/runs is a file, not a folder \\(ENOTDIR\\)`));
  r = await run(['train', file, '--out', path.join(dir, 'x'.repeat(300))]);
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), /too long for the file system \(ENAMETOOLONG\); choose a shorter name$/);
  const bad = path.join(dir, 'bad-run');
  fs.mkdirSync(path.join(bad, 'config.json'), { recursive: true });
  r = await run(['eval', bad]);
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), /^gradkit: gradkit eval: cannot read .*bad-run\/config\.json: it is a folder, not a file \(EISDIR\)/);
});

test('bin/gradkit.js prints the one line and no stack trace', () => {
  const dir = tmp();
  const file = experiment(dir);
  fs.writeFileSync(path.join(dir, 'out'), '');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/gradkit.js'), 'train', file, '--out', 'out/run'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'gradkit: cannot create the folder out/run: out is a file, not a folder (ENOTDIR); move it away or choose another path\n');
});

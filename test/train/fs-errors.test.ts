/**
 * File-system failures of the Node storage, each made real where this machine allows (a tiny
 * tmpfs, a read-only mount, an unprivileged child process, a file where a folder should be): one
 * line naming the user's path (never the temp file), the cause and what to do; the previous file
 * intact; no temp file left behind.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeStorage } from '../../src/platform/fs-node.js';
import { FileSystemError } from '../../src/core/fs-error.js';
import { removeStaleTemps } from '../../src/platform/temp-files-node.js';
import { deadPid, isRoot, mountTmpfs, remountReadOnly, unmountAll } from '../fs-conditions.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
after(unmountAll);

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-fserr-'));
}

/** The error a storage call throws, checked to be a one-line FileSystemError without temp names. */
function fsError(fn: () => unknown): FileSystemError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof FileSystemError, `expected a FileSystemError, got ${(e as Error).stack}`);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    assert.doesNotMatch(e.message, /\.tmp-\d+-\d+/, 'never the temp file');
    return e;
  }
  assert.fail('expected the call to throw');
}

function noTemps(dir: string): void {
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('.tmp-')), [], 'no temp file left');
}

test('ENOSPC on a full tmpfs: names last.ckpt, says the previous checkpoint is intact', (t) => {
  const m = mountTmpfs('64k');
  if ('skip' in m) return void t.skip(m.skip);
  const file = path.join(m.dir, 'last.ckpt');
  const storage = nodeStorage();
  storage.writeAtomic(file, new Uint8Array(8000).fill(3));
  const e = fsError(() => storage.writeAtomic(file, new Uint8Array(200_000).fill(9)));
  assert.equal(e.code, 'ENOSPC');
  assert.match(e.message, new RegExp(`^cannot write ${file.replace(/[.]/g, '\\.')}: no space left on device \\(ENOSPC\\); the previous checkpoint is intact; free some space`));
  assert.deepEqual(fs.readFileSync(file), Buffer.from(new Uint8Array(8000).fill(3)), 'previous checkpoint intact');
  noTemps(m.dir);
  // A file that did not exist before: the message says nothing was written.
  assert.match(fsError(() => storage.writeAtomic(path.join(m.dir, 'best.ckpt'), new Uint8Array(200_000))).message, /no space left on device \(ENOSPC\); nothing was written/);
  assert.match(fsError(() => storage.append(path.join(m.dir, 'metrics.jsonl'), 'x'.repeat(200_000))).message, /^cannot append to .*metrics\.jsonl: no space left on device/);
});

test('EROFS on a read-only mount', (t) => {
  const m = mountTmpfs('64k');
  if ('skip' in m) return void t.skip(m.skip);
  const file = path.join(m.dir, 'summary.json');
  nodeStorage().writeAtomic(file, '{}');
  const why = remountReadOnly(m.dir);
  if (why !== null) return void t.skip(why);
  const e = fsError(() => nodeStorage().writeAtomic(file, '{"a":1}'));
  assert.match(e.message, /^cannot write .*summary\.json: the file system is read-only \(EROFS\); the previous summary\.json is intact; choose a folder on a writable disk$/);
  assert.equal(fs.readFileSync(file, 'utf8'), '{}');
  assert.match(fsError(() => nodeStorage().mkdir(path.join(m.dir, 'runs/a'))).message, /^cannot create the folder .*runs\/a: the file system is read-only/);
});

test('EACCES: a folder the process may not write to', (t) => {
  const dir = tmpDir();
  fs.chmodSync(dir, 0o755);
  const file = path.join(dir, 'last.ckpt');
  fs.writeFileSync(file, 'old');
  if (isRoot) {
    // Root ignores permissions: write as the unprivileged user 65534 (nobody) in a child process.
    const script = `const { nodeStorage } = await import(${JSON.stringify(path.join(ROOT, 'src/platform/fs-node.ts'))});
      try { nodeStorage().writeAtomic(${JSON.stringify(file)}, 'new'); console.log('no error'); } catch (e) { console.log(e.name + '|' + e.message); }`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, TSX_DISABLE_CACHE: '1' } });
    if (r.status !== 0 || r.error) return void t.skip(`cannot run a child as uid 65534: ${r.error?.message ?? r.stderr.trim().split('\n')[0]}`);
    assert.match(r.stdout.trim(), /^FileSystemError\|cannot write .*last\.ckpt: permission denied \(EACCES\); the previous checkpoint is intact; check the permissions of /);
  } else {
    fs.chmodSync(dir, 0o555);
    const e = fsError(() => nodeStorage().writeAtomic(file, 'new'));
    assert.match(e.message, /^cannot write .*last\.ckpt: permission denied \(EACCES\); the previous checkpoint is intact/);
    fs.chmodSync(dir, 0o755);
  }
  assert.equal(fs.readFileSync(file, 'utf8'), 'old');
  noTemps(dir);
});

test('ENOTDIR: a file where the run folder should be names that file', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'runs'), 'not a folder');
  const target = path.join(dir, 'runs', 'a', 'last.ckpt');
  const e = fsError(() => nodeStorage().writeAtomic(target, 'x'));
  assert.equal(e.code, 'ENOTDIR');
  assert.match(e.message, new RegExp(`^cannot write ${target}: ${path.join(dir, 'runs')} is a file, not a folder \\(ENOTDIR\\); move it away`));
  assert.match(fsError(() => nodeStorage().mkdir(path.join(dir, 'runs', 'a'))).message, /is a file, not a folder/);
  assert.match(fsError(() => nodeStorage().mkdir(path.join(dir, 'runs'))).message, /^cannot create the folder .*runs: it is a file, not a folder \(EEXIST\)/);
});

test('EISDIR: a folder where the checkpoint should be; the message never names the temp file', () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'last.ckpt'));
  const e = fsError(() => nodeStorage().writeAtomic(path.join(dir, 'last.ckpt'), new Uint8Array(10)));
  assert.match(e.message, /^cannot write .*last\.ckpt: it is a folder, not a file \(EISDIR\)/);
  noTemps(dir);
  assert.match(fsError(() => nodeStorage().read(path.join(dir, 'last.ckpt'))).message, /^cannot read .*last\.ckpt: it is a folder, not a file/);
});

test('ENAMETOOLONG and a missing output folder', () => {
  const dir = tmpDir();
  assert.match(fsError(() => nodeStorage().writeAtomic(path.join(dir, `${'n'.repeat(300)}.json`), '{}')).message, /the path or a name in it is too long for the file system \(ENAMETOOLONG\); choose a shorter name$/);
  const gone = path.join(dir, 'deleted-run');
  const e = fsError(() => nodeStorage().writeAtomic(path.join(gone, 'last.ckpt'), 'x'));
  assert.match(e.message, new RegExp(`^cannot write ${gone}/last\\.ckpt: the folder ${gone} does not exist \\(ENOENT\\); nothing was written; create it`));
  assert.match(fsError(() => nodeStorage().read(path.join(dir, 'nope.json'))).message, /^cannot read .*nope\.json: no such file or folder \(ENOENT\)$/);
});

test('temp files of dead writers are removed; a live writer\'s temp file is kept', () => {
  const dir = tmpDir();
  const dead = deadPid();
  const stale = `.last.ckpt.tmp-${dead}-0`;
  const live = `.last.ckpt.tmp-${process.pid}-7`;
  for (const n of [stale, live, 'last.ckpt', '.notes.tmp']) fs.writeFileSync(path.join(dir, n), 'x');
  assert.deepEqual(removeStaleTemps(dir), [stale]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.last.ckpt.tmp-' + process.pid + '-7', '.notes.tmp', 'last.ckpt'].sort());
  assert.deepEqual(nodeStorage().removeStaleTemps!(path.join(dir, 'missing')), []);
});

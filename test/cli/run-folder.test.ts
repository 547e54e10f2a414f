/**
 * Run folders: a run killed before its first checkpoint can be resumed (from the start); the
 * experiment name cannot lead outside runs/ or past a file system's name limit; two runs
 * started in the same second get two folders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { nodeStorage } from '../../src/platform/fs-node.js';
import { createUniqueRunDir, slugRunName } from '../../src/cli/run-name.js';
import { TINY } from './tiny-experiment.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function tmp(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-runfolder-')));
}

async function run(args: string[], now?: () => number): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const errors: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args, { storage: nodeStorage(), sink: { write: (s: string) => void out.push(s) }, now });
    return { code, out: out.join(''), err: errors.join('') };
  } finally {
    process.stderr.write = orig;
  }
}

test('a run killed (SIGKILL) before its first checkpoint is resumed from the start', async () => {
  const dir = tmp();
  const file = path.join(dir, 'big.json');
  // Enough data that the first epoch outlasts the poll below by far (seconds).
  fs.writeFileSync(file, JSON.stringify({ ...TINY, epochs: 2, data: { ...TINY.data, trainSize: 3000 } }));
  const runDir = path.join(dir, 'run');
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/gradkit.js'), 'train', file, '--out', runDir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const start = Date.now();
  while (!fs.existsSync(path.join(runDir, 'preprocessing.json'))) {
    assert.ok(Date.now() - start < 120_000 && child.exitCode === null, 'the run never wrote its folder');
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  await exited;
  assert.equal(fs.existsSync(path.join(runDir, 'last.ckpt')), false, 'killed before the first checkpoint');
  // What a kill in the middle of a checkpoint write leaves: the dead writer's temp file.
  const orphan = `.last.ckpt.tmp-${child.pid}-0`;
  fs.writeFileSync(path.join(runDir, orphan), new Uint8Array(4096));
  // Retraining into the same folder is refused, pointing at --resume...
  const again = await run(['train', file, '--out', runDir]);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists and is not empty; choose another --out, or continue it with --resume/);
  // ...and --resume now works: it starts from the start, with a message, and takes over the dead lock.
  const r = await run(['train', '--resume', runDir, '--epochs', '1']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /has no checkpoint yet \(the run stopped before its first one\); training it again from the start/);
  assert.match(r.out, new RegExp(`taking over the lock of process ${child.pid} `));
  assert.match(r.out, new RegExp(`removed 1 temp file\\(s\\) left by an interrupted write: \\.last\\.ckpt\\.tmp-${child.pid}-0\n`));
  const lines = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch);
  assert.deepEqual(lines, [0]);
  assert.ok(fs.existsSync(path.join(runDir, 'last.ckpt')));
  assert.deepEqual(fs.readdirSync(runDir).filter((n) => n.startsWith('.')), [], 'no lock or temp file left');
});

test('names with separators, .. or 300 characters stay one folder inside runs/', async () => {
  const dir = tmp();
  process.chdir(dir);
  fs.writeFileSync('evil.json', JSON.stringify({ ...TINY, name: 'a/../../../x' }));
  let r = await run(['train', 'evil.json']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /the name "a\/\.\.\/\.\.\/\.\.\/x" is not a safe folder name; the run folder uses 'a-x'/);
  const made = fs.readdirSync(path.join(dir, 'runs'));
  assert.equal(made.length, 1);
  assert.match(made[0], /^a-x-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d$/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['evil.json', 'runs'], 'nothing written outside runs/');
  fs.writeFileSync('long.json', JSON.stringify({ ...TINY, name: 'é'.repeat(300) }));
  r = await run(['train', 'long.json']);
  assert.equal(r.code, 0, r.err);
  const long = fs.readdirSync(path.join(dir, 'runs')).find((n) => n.startsWith('é'))!;
  assert.ok(Buffer.byteLength(long) <= 80 + 20, `${Buffer.byteLength(long)} bytes`);
  assert.equal(slugRunName('..'), 'run');
  assert.equal(slugRunName('my run: v2'), 'my-run-v2');
  assert.equal(slugRunName('.hidden'), 'hidden');
  assert.equal(slugRunName('C:\\x\\..\\y'), 'C-x-y');
});

test('two runs started in the same second get different folders', async () => {
  const dir = tmp();
  process.chdir(dir);
  fs.writeFileSync('t.json', JSON.stringify(TINY));
  const now = (): number => Date.UTC(2026, 0, 2, 3, 4, 5);
  assert.equal((await run(['train', 't.json'], now)).code, 0);
  const second = await run(['train', 't.json'], now);
  assert.equal(second.code, 0, second.err);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'runs')).sort(), ['tiny-2026-01-02T03-04-05', 'tiny-2026-01-02T03-04-05-2']);
  // The names are claimed with an exclusive mkdir: concurrent claims never share a folder.
  const claimed = await Promise.all(Array.from({ length: 6 }, () => createUniqueRunDir(nodeStorage(), path.join(dir, 'many'), 'r')));
  assert.equal(new Set(claimed).size, 6);
});

/**
 * The PyTorch peer's parts that need no torch: the probe and its one-line skip message, the
 * child's environment, the inputs handed to it, the gradkit ÷ PyTorch line, the flags, the bench
 * skipping the peer end to end when the python does not exist, and (where some python3 exists)
 * torch_bench.py's fatal message when torch cannot be imported.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../../bench/args.js';
import { parseLine } from '../../bench/protocol.js';
import { budgetFor } from '../../bench/budget.js';
import { makeRng, mlpData, mlpParams, randnArray } from '../../bench/data.js';
import { TORCH_SCRIPT, envNote, probeTorch, torchArgs, torchEnv, writeTorchInputs } from '../../bench/libs/torch.js';
import { computeRatios, fmtRatio, formatPeerRatios, formatRatios, type BenchResult } from '../../bench/report.js';
import { unitOf } from '../../bench/spec.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const posix = process.platform !== 'win32';

const r = (workload: BenchResult['workload'], library: string, value: number | null, note?: string): BenchResult =>
  ({ workload, library, threads: 2, value, unit: unitOf(workload), ...(note ? { note } : {}) });

/** A stand-in "python" (a shell script) that prints `out`/`err` and exits with `code`. */
function fakePython(dir: string, name: string, out: string, err: string, code: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho '${out}'\necho '${err}' >&2\nexit ${code}\n`);
  chmodSync(file, 0o755);
  return file;
}

test('probeTorch: a missing python gives one line that names it and says the peer is skipped', () => {
  const p = probeTorch('/nonexistent/gradkit/python3', process.env);
  assert.equal(p.ok, false);
  if (p.ok) return;
  assert.ok(!p.message.includes('\n'), 'one line');
  assert.match(p.message, /^pytorch: skipped, \/nonexistent\/gradkit\/python3 not found \(install python3-torch/);
});

test('probeTorch: a python without torch is skipped with its error; one with torch gives its version', { skip: !posix && 'needs /bin/sh' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gradkit-torch-probe-'));
  try {
    const without = fakePython(dir, 'py-without', '', 'ModuleNotFoundError: No module named torch', 1);
    const p = probeTorch(without, process.env);
    assert.equal(p.ok, false);
    if (!p.ok) {
      assert.ok(!p.message.includes('\n'));
      assert.match(p.message, /torch is not importable by .*py-without \(ModuleNotFoundError: No module named torch\)/);
    }
    const withTorch = fakePython(dir, 'py-with', '1.13.0', '', 0);
    assert.deepEqual(probeTorch(withTorch, process.env), { ok: true, python: withTorch, version: '1.13.0' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('torchEnv: the child loses OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, the parent keeps them, threads pinned', () => {
  const base = { PATH: '/usr/bin', OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '512', OMP_NUM_THREADS: '7' };
  const t = torchEnv(base, 2);
  assert.equal(t.env.OPENBLAS_CORETYPE, undefined);
  assert.equal(t.env.OPENBLAS_L2_SIZE, undefined);
  assert.equal(t.env.PATH, '/usr/bin');
  assert.equal(t.env.OMP_NUM_THREADS, '2');
  assert.equal(t.env.OPENBLAS_NUM_THREADS, '2');
  assert.equal(t.env.OMP_WAIT_POLICY, 'PASSIVE', 'no spin-waiting on a shared machine by default');
  assert.equal(torchEnv({ OMP_WAIT_POLICY: 'ACTIVE' }, 2).env.OMP_WAIT_POLICY, 'ACTIVE', 'a policy the user set is kept');
  assert.equal(base.OPENBLAS_CORETYPE, 'Haswell', 'the parent environment is not touched');
  assert.deepEqual(t.unset, [{ name: 'OPENBLAS_CORETYPE', value: 'Haswell' }, { name: 'OPENBLAS_L2_SIZE', value: '512' }]);
  assert.match(envNote(t), /OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset \(this environment had OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=512\)/);
  assert.match(envNote(torchEnv({}, 1)), /unset \(not set here anyway\)/);
});

test('writeTorchInputs: the same arrays the Node libraries get, byte for byte, and the budgets of budget.ts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gradkit-torch-inputs-'));
  try {
    const m = writeTorchInputs(dir, ['sgemm-256', 'mlp-train'], true);
    const onDisk = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as typeof m;
    assert.deepEqual(onDisk, JSON.parse(JSON.stringify(m)));
    assert.deepEqual(Object.keys(onDisk.workloads), ['sgemm-256', 'mlp-train']);
    const read = (w: 'sgemm-256' | 'mlp-train', name: string): Buffer => {
      const e = onDisk.workloads[w]!.arrays.find((a) => a.name === name)!;
      return readFileSync(path.join(dir, e.file));
    };
    const bytes = (a: Float32Array | Int32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const rng = makeRng(7);
    assert.ok(read('sgemm-256', 'a').equals(bytes(randnArray(256 * 256, rng))), 'SGEMM operand A: seed 7, as gradkit and tfjs');
    assert.ok(read('sgemm-256', 'b').equals(bytes(randnArray(256 * 256, rng))));
    const mlp = onDisk.workloads['mlp-train']!;
    const ps = mlpParams();
    assert.deepEqual(mlp.params, ps.map((p) => p.name));
    assert.ok(read('mlp-train', 'w1').equals(bytes(ps[0].data)));
    const ds = mlpData();
    assert.ok(read('mlp-train', 'x').equals(bytes(ds.x)));
    assert.ok(read('mlp-train', 'y').equals(bytes(ds.y)));
    assert.deepEqual(mlp.arrays.find((a) => a.name === 'x')!.shape, [8192, 784]);
    assert.equal(mlp.arrays.find((a) => a.name === 'y')!.dtype, 'int32');
    assert.deepEqual(mlp.budget, budgetFor('mlp-train', true));
    assert.equal(mlp.batch, 128);
    assert.deepEqual(torchArgs(dir, ['mlp-train'], 2), [TORCH_SCRIPT, '--inputs', dir, '--workloads', 'mlp-train', '--threads', '2']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fmtRatio and the gradkit ÷ PyTorch line: 3 digits, small ratios readable, failed cells with their reason', () => {
  assert.equal(fmtRatio(0.0042), '0.0042');
  assert.equal(fmtRatio(0.134), '0.13');
  assert.equal(fmtRatio(1.049), '1.05');
  assert.equal(fmtRatio(62.66), '62.7');
  assert.equal(fmtRatio(760.2), '760');
  const rows = computeRatios([
    r('sgemm-1024', 'gradkit-wasm', 40), r('sgemm-1024', 'pytorch', 300), r('sgemm-1024', 'tfjs-wasm', 20),
    r('mlp-train', 'gradkit-wasm', 18000), r('mlp-train', 'pytorch', 24000),
    r('resnet-train', 'gradkit-wasm', 300), r('resnet-train', 'pytorch', null, 'cannot run: RuntimeError: boom'),
  ]);
  assert.equal(formatPeerRatios(rows, 'pytorch', 'gradkit ÷ PyTorch'),
    'gradkit ÷ PyTorch: sgemm-1024 0.13×, mlp-train 0.75×, resnet-train n/a (cannot run: RuntimeError: boom)');
  assert.match(formatRatios(rows), /vs pytorch/);
  assert.equal(formatPeerRatios(computeRatios([r('mlp-train', 'gradkit-wasm', 1), r('mlp-train', 'jax-js', 1)]), 'pytorch', 'x'), null, 'no PyTorch cells: no line');
});

test('parseArgs: pytorch is a peer and --python takes a path', () => {
  assert.deepEqual(parseArgs(['--libs', 'gradkit-wasm,pytorch']).libs, ['gradkit-wasm', 'pytorch']);
  assert.equal(parseArgs([]).python, null);
  assert.equal(parseArgs(['--python', '/usr/bin/python3']).python, '/usr/bin/python3');
  assert.equal(parseArgs(['--python=/opt/py']).python, '/opt/py');
  assert.throws(() => parseArgs(['--python']), /--python needs a path/);
});

test('npm run bench skips PyTorch in one line when the python does not exist', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--libs', 'pytorch', '--only', 'sgemm-256', '--no-memory', '--python', '/nonexistent/python3'], {
    cwd: root, encoding: 'utf8', timeout: 120000,
  });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.split('\n').filter((l) => l.includes('pytorch: skipped'));
  assert.equal(lines.length, 1, run.stdout);
  assert.match(lines[0], /\/nonexistent\/python3 not found/);
  assert.doesNotMatch(run.stdout, /gradkit ÷ PyTorch/);
});

const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0);

test('torch_bench.py speaks the bench protocol: a torch that fails to import is one fatal message', { skip: !python && 'no python3 here' }, () => {
  // A module named torch that raises shadows any installed one, so this runs the same with or without PyTorch.
  const dir = mkdtempSync(path.join(tmpdir(), 'gradkit-torch-shadow-'));
  try {
    writeFileSync(path.join(dir, 'torch.py'), "raise ImportError('shadowed for the test')\n");
    const run = spawnSync(python!, [TORCH_SCRIPT, '--inputs', dir, '--workloads', 'mlp-train', '--threads', '1'], {
      encoding: 'utf8', env: { ...process.env, PYTHONPATH: dir }, timeout: 60000,
    });
    assert.equal(run.status, 1, run.stderr);
    const messages = run.stdout.split('\n').map(parseLine).filter((m) => m !== null);
    assert.deepEqual(messages, [{ type: 'fatal', message: 'could not start: cannot import torch (ImportError: shadowed for the test)' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

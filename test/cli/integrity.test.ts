/**
 * The command line on corrupted files (issue 11, item 1): `gradkit eval`, `export-onnx` and
 * `finetune` exit non-zero with one line naming the file and the tensor, instead of computing
 * with wrong weights; a legacy run folder still evaluates, with one warning line. One real
 * process proves the exit code and stderr; the rest run main() in-process (seconds, not tens).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { memoryStorage } from '../../src/train/index.js';
import { LEGACY, ROOT, currentCheckpoint, currentModelFile, flip, layout } from '../io/integrity-helpers.js';

function gradkit(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(ROOT, 'bin/gradkit.js'), ...args], { cwd, encoding: 'utf8' });
}

/** A temp folder with run/ (today's format, last.ckpt corrupted), net.safetensors (corrupted) and ft.json. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-integrity-'));
  fs.mkdirSync(path.join(dir, 'run'));
  for (const f of ['config.json', 'preprocessing.json']) fs.copyFileSync(path.join(LEGACY, 'run', f), path.join(dir, 'run', f));
  const ckpt = currentCheckpoint();
  fs.writeFileSync(path.join(dir, 'run/last.ckpt'), flip(ckpt, layout(ckpt).tensors.get('model/0.weight')!.begin + 1));
  const model = currentModelFile();
  fs.writeFileSync(path.join(dir, 'net.safetensors'), flip(model, layout(model).tensors.get('5.weight')!.end - 2, 0x40));
  fs.writeFileSync(path.join(dir, 'ft.json'), JSON.stringify({
    seed: 1, epochs: 1, data: { dataset: 'digits', trainSize: 60, testSize: 20, batchSize: 20, validationFraction: 0.25 },
    optimizer: { type: 'sgd', lr: 0.1 }, transfer: { replaceHead: { numClasses: 10 } },
  }));
  return dir;
}

function assertOneLineFailure(r: { status: number | null; stderr: string }, ...patterns: RegExp[]): void {
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  for (const p of patterns) assert.match(lines[0], p);
}

/** Runs main() in this process on a memory file system; returns the exit code and what went to stderr and console.warn. */
async function mainCaptured(storage: ReturnType<typeof memoryStorage>, ...args: string[]): Promise<{ status: number; stderr: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write;
  const warn = console.warn;
  process.stderr.write = ((s: string) => chunks.push(String(s)) > 0) as typeof process.stderr.write;
  console.warn = (...a: unknown[]) => void chunks.push(`${a.join(' ')}\n`);
  try {
    const status = await main(args, { storage, sink: { write: () => {} } });
    return { status, stderr: chunks.join('') };
  } finally {
    process.stderr.write = write;
    console.warn = warn;
  }
}

function memWorkspace(): ReturnType<typeof memoryStorage> {
  const dir = workspace();
  const storage = memoryStorage();
  for (const f of ['run/config.json', 'run/preprocessing.json', 'run/last.ckpt', 'net.safetensors', 'ft.json']) storage.writeAtomic(f, new Uint8Array(fs.readFileSync(path.join(dir, f))));
  fs.rmSync(dir, { recursive: true });
  return storage;
}

const CKPT_RE = [/run\/last\.ckpt/, /tensor 'model\/0\.weight' fails its CRC-32C check/];
const MODEL_RE = [/net\.safetensors/, /tensor '5\.weight' fails its CRC-32C check/];

test('the gradkit process: eval of a corrupted run exits 1 with one line on stderr', () => {
  const dir = workspace();
  assertOneLineFailure(gradkit(dir, 'eval', 'run'), ...CKPT_RE);
  fs.rmSync(dir, { recursive: true });
});

test('eval of a legacy run folder (version 1 checkpoint) succeeds with one warning line', async () => {
  const storage = memoryStorage();
  for (const f of ['config.json', 'preprocessing.json', 'last.ckpt']) storage.writeAtomic(`legacy/${f}`, new Uint8Array(fs.readFileSync(path.join(LEGACY, 'run', f))));
  const r = await mainCaptured(storage, 'eval', 'legacy');
  assert.equal(r.status, 0, r.stderr);
  const warn = r.stderr.trim().split('\n');
  assert.equal(warn.length, 1, r.stderr);
  assert.match(warn[0], /legacy\/last\.ckpt/);
  assert.match(warn[0], /integrity/);
});

test('export-onnx and finetune refuse a corrupted run folder or model file: exit 1, one line, no output written', async () => {
  const storage = memWorkspace();
  assertOneLineFailure(await mainCaptured(storage, 'export-onnx', 'run', 'run.onnx'), ...CKPT_RE);
  assertOneLineFailure(await mainCaptured(storage, 'export-onnx', 'net.safetensors', 'net.onnx', '--input-shape', '1,1,28,28'), ...MODEL_RE);
  assertOneLineFailure(await mainCaptured(storage, 'finetune', 'net.safetensors', 'ft.json', '--out', 'ft'), ...MODEL_RE);
  assertOneLineFailure(await mainCaptured(storage, 'finetune', 'run', 'ft.json', '--out', 'ft2'), ...CKPT_RE);
  for (const f of ['run.onnx', 'net.onnx', 'ft', 'ft2']) assert.equal(storage.exists(f), false, `${f} was written from corrupted weights`);
});

/**
 * One writer per run folder, with real concurrent `gradkit` processes: while a run trains, a
 * `train --resume` of its folder is refused naming the running process; SIGTERM stops the run
 * between batches (exit 143, lock released, checkpoint intact), and a resume then continues
 * without duplicating metrics.jsonl lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { nodeStorage } from '../../src/platform/fs-node.js';
import { decodeCheckpoint } from '../../src/train/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const EXPERIMENT = {
  name: 'long', seed: 3, epochs: 1000, // far longer than the test lets it run
  data: { dataset: 'digits', trainSize: 600, testSize: 80, batchSize: 40, validationFraction: 0.25, evalBatchSize: 100 },
  model: { layers: [{ type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1 }, { type: 'maxPool2d', kernelSize: 4 }, { type: 'relu' }, { type: 'flatten' }, { type: 'linear', outFeatures: 10 }] },
  optimizer: { type: 'adamw', lr: 0.01 },
  earlyStopping: false,
};

function gradkit(args: string[], cwd: string): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/gradkit.js'), ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, done };
}

async function until(what: string, ok: () => boolean, child: ChildProcess): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    assert.ok(child.exitCode === null, `the first run exited before ${what}`);
    assert.ok(Date.now() - start < 120_000, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a second writer is refused; SIGTERM stops the first cleanly; resume duplicates no line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-onewriter-'));
  fs.writeFileSync(path.join(dir, 'long.json'), JSON.stringify(EXPERIMENT));
  const first = gradkit(['train', 'long.json', '--out', 'run'], dir);
  const run = path.join(dir, 'run');
  await until('its first checkpoint', () => fs.existsSync(path.join(run, 'last.ckpt')), first.child);
  const second = await gradkit(['train', '--resume', 'run'], dir).done;
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`^gradkit: run is in use by process ${first.child.pid} \\(gradkit train, started [^)]+\\); wait for it to finish or stop it, then try again\\n$`));
  first.child.kill('SIGTERM');
  const r = await first.done;
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.stderr, /SIGTERM received; stopping after the current batch/);
  assert.match(r.stderr, /gradkit: interrupted by SIGTERM in epoch \d+ at step \d+; run keeps its last checkpoint; continue with gradkit train --resume run\n$/);
  assert.equal(fs.existsSync(path.join(run, '.gradkit.lock')), false, 'lock released');
  const summary = JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8'));
  assert.match(summary.error, /interrupted by SIGTERM/);
  const ckptEpochs = decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(run, 'last.ckpt')))).counters.epoch;
  assert.ok(ckptEpochs >= 1 && ckptEpochs < 1000);
  // Resume for two more epochs: every epoch appears exactly once in the log.
  const code = await main(['train', '--resume', run, '--epochs', String(ckptEpochs + 2)], { storage: nodeStorage(), sink: { write: () => {} } });
  assert.equal(code, 0);
  const epochs = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch);
  assert.deepEqual(epochs, Array.from({ length: ckptEpochs + 2 }, (_, i) => i));
});

/**
 * The PyTorch peer, seen from Node: whether a python with torch is there, the inputs it reads
 * (the same seeded weights and data every library gets, written once to a temp folder), and the
 * command and environment of its process (bench/torch/torch_bench.py measures there). Nothing
 * here imports torch or needs it installed, so the tests run without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { budgetFor } from '../budget.js';
import { writeJsonAtomic } from '../report.js';
import { cnnData, cnnParams, makeRng, mlpData, mlpParams, randnArray, resnetData, resnetParams, type Dataset, type Param } from '../data.js';
import { ADAM, CNN, MLP, RESNET, sgemmDims, unitOf, type Workload } from '../spec.js';

export const TORCH_SCRIPT = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'torch', 'torch_bench.py');

/**
 * Variables this machine's environment sets for older OpenBLAS builds on some CPUs; a current
 * OpenBLAS runs ~1.5× slower with them (issue 13), so the PyTorch process runs without them.
 */
export const TORCH_UNSET_ENV = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/** Pythons tried in order when --python is not given: PATH's python3 may be a pyenv one without torch. */
export const DEFAULT_PYTHONS = ['python3', '/usr/bin/python3'] as const;

export interface TorchEnv {
  env: NodeJS.ProcessEnv;
  /** The variables removed, with the values they had (for the report). */
  unset: { name: string; value: string }[];
}

/**
 * The PyTorch process's environment: a copy of `base` without TORCH_UNSET_ENV, and with OpenMP's
 * and OpenBLAS's thread counts pinned to `threads` (gradkit's), so both pools match torch's.
 * OMP_WAIT_POLICY becomes PASSIVE unless `base` sets it: on a shared, loaded machine libgomp's
 * spinning workers starve the threads they wait for, and PyTorch's training steps ran 10–50×
 * slower with the default policy (MLP 356–3,187 samples/s against 18,212–28,078 PASSIVE, in
 * alternating runs at load 8.5 on 2 cores), which would measure the spin-wait, not PyTorch.
 * gradkit's pool already backs off under contention. `base` itself is left alone.
 */
export function torchEnv(base: NodeJS.ProcessEnv, threads: number): TorchEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  const unset: TorchEnv['unset'] = [];
  for (const name of TORCH_UNSET_ENV) {
    if (env[name] !== undefined) unset.push({ name, value: env[name]! });
    delete env[name];
  }
  env.OMP_NUM_THREADS = String(threads);
  env.OPENBLAS_NUM_THREADS = String(threads);
  env.OMP_WAIT_POLICY ??= 'PASSIVE';
  return { env, unset };
}

/** The report's sentence about the environment (said whether or not this machine set them). */
export function envNote(t: TorchEnv): string {
  const was = t.unset.length > 0 ? ` (this environment had ${t.unset.map((u) => `${u.name}=${u.value}`).join(', ')})` : ' (not set here anyway)';
  return `the PyTorch process runs with ${TORCH_UNSET_ENV.join(' and ')} unset${was}, OMP_NUM_THREADS=${t.env.OMP_NUM_THREADS}, OPENBLAS_NUM_THREADS=${t.env.OPENBLAS_NUM_THREADS} and OMP_WAIT_POLICY=${t.env.OMP_WAIT_POLICY}`;
}

export type TorchProbe = { ok: true; python: string; version: string } | { ok: false; message: string };

/** Why one python cannot run the peer, in a few words. */
function whyNot(python: string, r: ReturnType<typeof spawnSync>): string | null {
  const err = r.error as NodeJS.ErrnoException | undefined;
  if (err?.code === 'ENOENT') return `${python} not found`;
  if (err) return `${python} did not run (${err.code ?? err.message})`;
  if (r.status === 0) return null;
  const last = String(r.stderr ?? '').trim().split('\n').filter((l) => l.trim()).pop();
  return `torch is not importable by ${python}${last ? ` (${last.trim()})` : r.signal ? ` (killed by ${r.signal})` : ''}`;
}

/**
 * Finds a python that imports torch: `python` when given, else DEFAULT_PYTHONS in order. On
 * failure the message is the one line the bench prints before skipping the peer.
 */
export function probeTorch(python: string | null, env: NodeJS.ProcessEnv, timeoutMs = 90000): TorchProbe {
  const candidates = python !== null ? [python] : [...DEFAULT_PYTHONS];
  const reasons: string[] = [];
  for (const p of candidates) {
    const r = spawnSync(p, ['-c', 'import torch; print(torch.__version__)'], { env, encoding: 'utf8', timeout: timeoutMs });
    const why = whyNot(p, r);
    if (why === null) return { ok: true, python: p, version: String(r.stdout).trim() };
    reasons.push(why);
  }
  return {
    ok: false,
    message: `pytorch: skipped, ${reasons.join('; ')} (install python3-torch and libopenblas0-pthread, or pass --python PATH)`,
  };
}

interface ArrayEntry { name: string; shape: number[]; dtype: 'float32' | 'int32'; file: string }

/** What torch_bench.py reads for one workload: its kind, arrays, batch, unit and time budget. */
interface WorkloadEntry {
  kind: 'sgemm' | 'mlp' | 'cnn' | 'resnet';
  unit: string;
  budget: ReturnType<typeof budgetFor>;
  arrays: ArrayEntry[];
  /** Training: parameter names in the order the optimizer gets them. */
  params?: string[];
  batch?: number;
}

export interface TorchManifest {
  spec: { mlp: typeof MLP; cnn: typeof CNN; resnet: typeof RESNET; adam: typeof ADAM };
  workloads: Partial<Record<Workload, WorkloadEntry>>;
}

/** Writes an array's bytes (little-endian, as x86 and ARM Node produce them) through a temp name. */
function writeArray(dir: string, name: string, data: Float32Array | Int32Array, shape: number[]): ArrayEntry {
  const file = `${name.replace(/[^a-zA-Z0-9_.-]/g, '_')}.bin`;
  const tmp = path.join(dir, `${file}.tmp`);
  writeFileSync(tmp, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  renameSync(tmp, path.join(dir, file));
  return { name, shape, dtype: data instanceof Int32Array ? 'int32' : 'float32', file };
}

function training(dir: string, w: Workload, kind: 'mlp' | 'cnn' | 'resnet', params: Param[], ds: Dataset, batch: number, quick: boolean): WorkloadEntry {
  const sub = path.join(dir, w);
  mkdirSync(sub, { recursive: true });
  const arrays = [
    ...params.map((p) => writeArray(sub, p.name, p.data, p.shape)),
    writeArray(sub, 'x', ds.x, [ds.count, ...ds.sampleShape]),
    writeArray(sub, 'y', ds.y, [ds.count]),
  ].map((a) => ({ ...a, file: `${w}/${a.file}` }));
  return { kind, unit: unitOf(w), budget: budgetFor(w, quick), arrays, params: params.map((p) => p.name), batch };
}

/**
 * Writes the inputs of `workloads` to `dir` (which must exist) and its manifest.json last, so a
 * manifest present means complete inputs. The arrays come from data.ts with the seeds every
 * Node library uses, so PyTorch trains the same networks from the same start on the same data.
 */
export function writeTorchInputs(dir: string, workloads: readonly Workload[], quick: boolean): TorchManifest {
  const manifest: TorchManifest = { spec: { mlp: MLP, cnn: CNN, resnet: RESNET, adam: ADAM }, workloads: {} };
  for (const w of workloads) {
    if (w === 'mlp-train') manifest.workloads[w] = training(dir, w, 'mlp', mlpParams(), mlpData(), MLP.batch, quick);
    else if (w === 'cnn-train') manifest.workloads[w] = training(dir, w, 'cnn', cnnParams(), cnnData(), CNN.batch, quick);
    else if (w === 'resnet-train') manifest.workloads[w] = training(dir, w, 'resnet', resnetParams(), resnetData(), RESNET.batch, quick);
    else {
      // The same operands as the gradkit and tfjs SGEMMs (seed 7).
      const [m, k, n] = sgemmDims(w);
      const rng = makeRng(7);
      const sub = path.join(dir, w);
      mkdirSync(sub, { recursive: true });
      const arrays = [writeArray(sub, 'a', randnArray(m * k, rng), [m, k]), writeArray(sub, 'b', randnArray(k * n, rng), [k, n])]
        .map((a) => ({ ...a, file: `${w}/${a.file}` }));
      manifest.workloads[w] = { kind: 'sgemm', unit: unitOf(w), budget: budgetFor(w, quick), arrays };
    }
  }
  writeJsonAtomic(path.join(dir, 'manifest.json'), manifest);
  return manifest;
}

/** The argv of the PyTorch process for the workloads still to run. */
export function torchArgs(inputs: string, workloads: readonly Workload[], threads: number): string[] {
  return [TORCH_SCRIPT, '--inputs', inputs, '--workloads', workloads.join(','), '--threads', String(threads)];
}

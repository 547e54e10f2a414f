/**
 * Finding where NaN/Inf came from: the first parameter (weights or gradients) holding one, and,
 * when every weight is finite but the loss is not, the first layer whose output went non-finite
 * (found by replaying the failing batch once with forward hooks). Used by NanGuard and by the
 * Checkpoint callback, which refuses to write non-finite weights.
 */
import { noGrad } from '../../autograd/engine.js';
import { getGlobalRng } from '../../core/rng.js';
import type { AnyModule } from '../../nn/module.js';
import { Tensor } from '../../tensor/tensor.js';
import { readNow, readSync } from '../../tensor/host.js';
import { andThen, isPromise, type Awaitable } from '../../core/awaitable.js';
import { GradkitError } from '../../core/errors.js';

/** Index of the first NaN/±Inf in `a`, or -1. The common all-finite case is one branch-free pass. */
export function firstNonFinite(a: ArrayLike<number>): number {
  // x·0 is 0 for finite x and NaN for NaN/±Inf, so one sum tells whether any element is bad.
  // Four independent sums instead of one: measured 2.5-3x faster (no chain of dependent adds).
  let z0 = 0;
  let z1 = 0;
  let z2 = 0;
  let z3 = 0;
  const n = a.length - (a.length % 4);
  let i = 0;
  for (; i < n; i += 4) {
    z0 += a[i] * 0;
    z1 += a[i + 1] * 0;
    z2 += a[i + 2] * 0;
    z3 += a[i + 3] * 0;
  }
  for (; i < a.length; i++) z0 += a[i] * 0;
  if (z0 + z1 + z2 + z3 === 0) return -1;
  for (let j = 0; j < a.length; j++) if (!Number.isFinite(a[j])) return j;
  return -1;
}

export interface BadParameter {
  name: string;
  shape: readonly number[];
  index: number;
  value: number;
}

/**
 * How many NaN/±Inf values each tensor holds: one kernel call over all of them and one read of
 * the small int32 result (not a download and scan of every tensor). All on one backend. The
 * counts now on a CPU backend, a promise of them on a GPU one (the kernel runs at once either way).
 */
export function nonFiniteCountsSoon(ts: readonly Tensor[]): Awaitable<Int32Array> {
  if (ts.length === 0) return new Int32Array(0);
  const flags = new Tensor(ts[0].backend.kernels.nonFiniteCount(ts.map((t) => t.handle)), [ts.length]);
  return andThen(readNow(flags), (v) => {
    const counts = Int32Array.from(v);
    flags.dispose();
    return counts;
  });
}

/** nonFiniteCountsSoon where the values must be had now (the replay): a backend that reads asynchronously is refused. */
function nonFiniteCountsNow(ts: readonly Tensor[]): Int32Array {
  const counts = nonFiniteCountsSoon(ts);
  if (isPromise(counts)) {
    counts.catch(() => undefined);
    throw new GradkitError('locateNonFinite', 'the replay reads synchronously; this backend reads asynchronously only');
  }
  return counts;
}

/** Where in `values` (known to hold NaN/±Inf) the first bad element is: the slow path, only on failure. */
function locateIn(name: string, values: ArrayLike<number>, shape: readonly number[]): BadParameter {
  const index = firstNonFinite(values);
  return { name, shape, index, value: values[index] };
}

/**
 * The first entry whose count is non-zero, located to its first bad element; null when all are
 * finite. The bad tensor is read asynchronously where the backend needs it.
 */
export function firstBadSoon(entries: readonly [string, Tensor, readonly number[]][], counts: ArrayLike<number>, offset = 0): Awaitable<BadParameter | null> {
  for (let k = 0; k < entries.length; k++) {
    const [name, t, shape] = entries[k];
    if (counts[offset + k] > 0) return andThen(readNow(t), (values) => locateIn(name, values, shape));
  }
  return null;
}

/** The first parameter (registration order: nearest the input) whose weights or gradients hold NaN/Inf. */
export function firstBadParameterSoon(model: AnyModule, what: 'weights' | 'gradients'): Awaitable<BadParameter | null> {
  const entries = checkedTensors(model, what);
  return andThen(nonFiniteCountsSoon(entries.map((e) => e[1])), (counts) => firstBadSoon(entries, counts));
}

/** The checked tensor of each parameter (its weights, or its gradient when it has one). */
export function checkedTensors(model: AnyModule, what: 'weights' | 'gradients'): [string, Tensor, readonly number[]][] {
  const out: [string, Tensor, readonly number[]][] = [];
  for (const [name, p] of model.namedParameters()) {
    const t = what === 'weights' ? p : p.grad;
    if (t !== null) out.push([name, t, p.shape]);
  }
  return out;
}

/** "parameter '0.weight' [5, 4] (element 3 is NaN)" */
export function describeParameter(b: BadParameter): string {
  return `parameter '${b.name}' [${b.shape.join(', ')}] (element ${b.index} is ${b.value})`;
}

function tensorsOf(x: unknown): Tensor[] {
  if (x instanceof Tensor) return [x];
  if (Array.isArray(x)) return x.flatMap(tensorsOf);
  return [];
}

/** The first non-finite value among the tensors of `x` (the replay runs on backends that read synchronously only). */
function badTensor(x: unknown): { value: number; shape: readonly number[] } | null {
  const ts = tensorsOf(x);
  const counts = nonFiniteCountsNow(ts);
  for (let k = 0; k < ts.length; k++) {
    if (counts[k] > 0) {
      const b = locateIn('', readSync(ts[k]), ts[k].shape);
      return { value: b.value, shape: b.shape };
    }
  }
  return null;
}

export interface ReplayInput {
  model: AnyModule;
  forward: (model: AnyModule, inputs: Tensor[]) => Tensor;
  loss: (output: Tensor, target: Tensor) => Tensor;
  inputs: Tensor[];
  target: Tensor;
  /** The mode the failing batch ran in (dropout and BatchNorm behave differently). */
  training: boolean;
  /** The global generator's state just before the failing forward pass, to redraw the same dropout masks. */
  rngState: number[] | null;
}

/**
 * Replays one batch without gradients and says where values first went non-finite: an input,
 * the first layer (in call order, so the innermost module) whose output holds NaN/Inf, or the
 * loss function itself. Everything the replay touches (BatchNorm statistics, the generator, the
 * training flag) is put back, so a caller that catches the error can go on from the same state.
 */
export function locateNonFinite(r: ReplayInput): string {
  const m = r.model;
  for (const [i, x] of r.inputs.entries()) {
    const bad = badTensor(x);
    if (bad) return `input ${i} of the batch already holds ${bad.value}; check the data`;
  }
  const wasTraining = m.training;
  const saved = m.stateDict();
  const rng = getGlobalRng();
  const rngSaved = rng.getState();
  let first: { name: string; type: string; value: number; shape: readonly number[] } | null = null;
  const removers: (() => void)[] = [];
  for (const [name, mod] of m.namedModules()) {
    removers.push(mod.registerForwardHook((module, _inputs, output) => {
      if (first !== null) return;
      const bad = badTensor(output);
      if (bad) first = { name: name === '' ? '(the model itself)' : name, type: module.constructor.name, ...bad };
    }));
  }
  let lossValue = NaN;
  try {
    if (r.rngState) rng.setState(r.rngState);
    m.train(r.training);
    noGrad(() => {
      const out = r.forward(m, r.inputs);
      lossValue = r.loss(out, r.target).item();
    });
  } catch (e) {
    return `replaying the batch to find the layer failed (${(e as Error).message})`;
  } finally {
    for (const remove of removers) remove();
    m.loadStateDict(saved);
    rng.setState(rngSaved);
    m.train(wasTraining);
  }
  const f = first as { name: string; type: string; value: number; shape: readonly number[] } | null;
  if (f !== null) return `the first layer whose output went non-finite is '${f.name}' (${f.type}), output [${f.shape.join(', ')}] holds ${f.value}`;
  if (!Number.isFinite(lossValue)) return `every layer's output is finite; the loss function itself returned ${lossValue} (check the targets)`;
  return 'a replay of the batch stayed finite (the failure depends on randomness the replay did not reproduce)';
}

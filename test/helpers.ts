import assert from 'node:assert/strict';
import { backendName, getBackend, gradCheck, Random, setBackend, Tensor, valueAndGrad, withBackend, type GradCheckOptions } from '../src/index.js';

/**
 * The float dtype the parity suites compute in: float64 on backends that have it (every CPU
 * backend: PyTorch parity to float64 rounding, finite differences), float32 on a backend without
 * it (webgpu, `npm run test:webgpu`). Fixed when the suite loads (the preload picks the backend
 * first), so a test's constants and inputs agree on one dtype.
 */
export const FLOAT: 'float64' | 'float32' = getBackend().float64 === false ? 'float32' : 'float64';

/**
 * What float32 arithmetic can promise where a test asks float64's tolerance: applied only when
 * the suite runs in float32 (FLOAT) and the value compared is float32. Different summation orders
 * on a GPU differ by a few ulps per term, so ~1e-4 relative is what agreement means there.
 */
export const FLOAT32_TOLERANCE = { atol: 1e-5, rtol: 1e-4 };

/** The tolerance to use for `actual`: the test's own, raised to float32's floor in a float32 run. */
function toleranceFor(actual: Tensor | ArrayLike<number>, opts: { atol?: number; rtol?: number }): { atol: number; rtol: number } {
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-5;
  const float32 = actual instanceof Tensor ? actual.dtype === 'float32' : actual instanceof Float32Array;
  if (FLOAT !== 'float32' || !float32) return { atol, rtol };
  return { atol: Math.max(atol, FLOAT32_TOLERANCE.atol), rtol: Math.max(rtol, FLOAT32_TOLERANCE.rtol) };
}

/** Asserts every value of `actual` is within atol + rtol·|expected| of `expected`. */
export function assertClose(actual: Tensor | ArrayLike<number>, expected: ArrayLike<number> | number[], opts: { atol?: number; rtol?: number; msg?: string } = {}): void {
  const a = actual instanceof Tensor ? actual.dataSync() : actual;
  const e = expected;
  const { atol, rtol } = toleranceFor(actual, opts);
  assert.equal(a.length, e.length, `${opts.msg ?? ''} length ${a.length} vs expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = Number.isNaN(e[i]) ? Number.isNaN(a[i]) : Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]) || a[i] === e[i];
    assert.ok(ok, `${opts.msg ?? ''} element ${i}: got ${a[i]}, expected ${e[i]}`);
  }
}

/** Flattens nested number arrays. */
export function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x as number];
}

/** Runs gradCheck and fails with its summary (which names the worst element). */
export function assertGrad(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradCheckOptions = {}): void {
  const r = gradCheck(f, inputs, opts);
  assert.ok(r.ok, r.summary);
  assert.ok(r.checked > 0, 'gradCheck checked nothing');
}

/** Asserts fn throws a GradkitError whose message matches every pattern. */
export function assertThrowsMsg(fn: () => unknown, ...patterns: RegExp[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, 'expected an error to be thrown');
  assert.equal((err as Error).name, 'GradkitError', `expected a GradkitError, got ${(err as Error).name}: ${(err as Error).message}`);
  for (const p of patterns) assert.match((err as Error).message, p);
}

/**
 * assertClose for any backend: reads the tensor with `await t.data()` (a GPU backend cannot
 * read synchronously). Always `await expectClose(...)`: test/architecture/awaited-expectations
 * fails the build on a call that is not awaited (its failure would be lost).
 */
export async function expectClose(actual: Tensor | ArrayLike<number>, expected: ArrayLike<number> | number[], opts: { atol?: number; rtol?: number; msg?: string } = {}): Promise<void> {
  if (!(actual instanceof Tensor)) return assertClose(actual, expected, opts);
  const values = await actual.data();
  const { atol, rtol } = toleranceFor(actual, opts);
  assertClose(values, expected, { ...opts, atol, rtol });
}

/** The values of a tensor as a plain number array, on any backend. */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** The single value of a one-element tensor, on any backend. */
export async function scalar(t: Tensor): Promise<number> {
  assert.equal(t.size, 1, `scalar() needs a one-element tensor, got shape [${t.shape.join(', ')}]`);
  return (await t.data())[0];
}

/** Options of expectGrad: gradCheck's, plus the float32 comparison's tolerance on a backend without float64. */
export type ExpectGradOptions = GradCheckOptions & { deviceAtol?: number; deviceRtol?: number };

/**
 * The gradient check for any backend. Where the backend reads synchronously and has float64 (the
 * CPU backends) it is assertGrad: autograd against finite differences in float64. Elsewhere (webgpu,
 * float32) finite differences would lose half the digits, so the backend's gradients are compared
 * with the reference backend's, computed from the same float32 inputs through the same projection
 * of the output: the reference's rules are the ones the float64 runs check against finite
 * differences, so agreement here means the device's forward and backward kernels are right.
 * `f` must build everything it uses from its inputs (or from constants it creates), so that it can
 * run again on the reference backend.
 */
export async function expectGrad(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: ExpectGradOptions = {}): Promise<void> {
  const backend = getBackend();
  if (backend.syncReads !== false && backend.float64 !== false) {
    assertGrad(f, inputs, opts);
    return;
  }
  const floatIdx = inputs.map((t, i) => (t.dtype === 'float32' || t.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
  assert.ok(floatIdx.length > 0, 'expectGrad: no float input to check');
  const hostInputs = await Promise.all(inputs.map(async (t) => ({ values: (await t.data()).slice(), shape: t.shape })));
  const gradsOn = (xs: Tensor[]): Tensor[] => {
    let projection: Tensor | null = null;
    const objective = (...args: Tensor[]): Tensor => {
      const y = f(...args);
      if (projection === null) {
        const rng = new Random(opts.seed ?? 1234);
        const w = new Float32Array(y.size);
        for (let i = 0; i < w.length; i++) w[i] = rng.uniform(0.5, 1.5) * (rng.next() < 0.5 ? -1 : 1);
        projection = Tensor.fromArray(w, y.shape);
      }
      return y.mul(projection).sum();
    };
    return valueAndGrad(objective, floatIdx)(...xs).grads;
  };
  const device = await Promise.all(gradsOn(inputs.map((t) => t.detach())).map((t) => t.data()));
  const reference = withBackend('reference', () => gradsOn(hostInputs.map((h) => Tensor.fromArray(h.values, h.shape))).map((t) => t.dataSync()));
  floatIdx.forEach((inputIdx, gi) => {
    const ref = reference[gi];
    let scale = 1;
    for (const v of ref) scale = Math.max(scale, Math.abs(v));
    const atol = opts.deviceAtol ?? FLOAT32_TOLERANCE.atol * scale;
    const rtol = opts.deviceRtol ?? FLOAT32_TOLERANCE.rtol;
    assertClose(device[gi], ref, { atol, rtol, msg: `gradient of input ${inputIdx} on ${backend.name} vs reference:` });
  });
}

/**
 * assertThrowsMsg for errors a GPU backend raises at the next read (out-of-range labels and
 * indices are checked on the device): calls fn, reads what it returns, and expects a GradkitError
 * matching every pattern, whether it came at once or at the read.
 */
export async function expectThrowsMsg(fn: () => unknown, ...patterns: RegExp[]): Promise<void> {
  let err: unknown;
  try {
    const out = await fn();
    if (out instanceof Tensor) await out.data();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, 'expected an error to be thrown');
  assert.equal((err as Error).name, 'GradkitError', `expected a GradkitError, got ${(err as Error).name}: ${(err as Error).message}`);
  for (const p of patterns) assert.match((err as Error).message, p);
}

/**
 * A tolerance that depends on the run's float: the test's float64 one on CPU backends, a
 * float32 one (stated at the call, with why) on webgpu. Never loosens the float64 run.
 */
export function byFloat(float64: number, float32: number): number {
  return FLOAT === 'float64' ? float64 : float32;
}

/**
 * `test(name, NEEDS_FLOAT64, fn)` for a test whose subject is float64 itself (dtype promotion,
 * float64 storage): skipped, saying why, on a backend without float64.
 */
export const NEEDS_FLOAT64: { skip: string | false } = { skip: FLOAT === 'float32' ? 'needs float64, which this backend does not have' : false };

/**
 * Runs async `fn` with backend `name` selected until it settles (withBackend restores at once,
 * before an awaited body has run); tests in a file run one at a time, so nothing else sees it.
 */
export async function onBackend(name: string, fn: () => void | Promise<void>): Promise<void> {
  const prev = backendName();
  setBackend(name);
  try {
    await fn();
  } finally {
    setBackend(prev);
  }
}

import type { DType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { getBackend } from '../backend/registry.js';
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import type { PrimitiveSpecs } from '../ops/rules.js';

/**
 * Every op autograd records (PyTorch's derivatives.yaml, jax-js's jvpRules keys). Each names one
 * gradient rule in its family's table (src/ops/*.ts, beside the forward); `PrimitiveSpecs`
 * (src/ops/rules.ts) says what each rule saves and its attributes, and a name here without a
 * family entry, or a family entry without a rule, does not compile.
 */
export const PRIMITIVES = [
  // elementwise
  'neg', 'abs', 'sqrt', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'square',
  'reciprocal', 'softplus', 'erf', 'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'where', 'clamp', 'cast',
  // reduce
  'sum', 'max', 'min',
  // shape
  'reshape', 'permute', 'expand', 'slice', 'concat', 'pad',
  // indexing
  'indexSelect', 'gather',
  // matmul
  'matmul', 'linear',
  // conv
  'conv2d', 'maxPool2d', 'avgPool2d',
  // softmax
  'softmax', 'logSoftmax',
  // fused
  'batchNorm', 'softmaxCrossEntropy', 'biasAct',
] as const;

/** The name of a recorded op; see PRIMITIVES. */
export type Primitive = (typeof PRIMITIVES)[number];

/**
 * What one primitive's rule gets besides the incoming gradient: `saved`, the tensors the forward
 * handed to record() for it (tfjs's inputsToSave/outputsToSave; dropped once backward used
 * them), and `attrs`, plain non-tensor data (shapes, axes, kernel parameters).
 */
export interface RuleSpec {
  saved: readonly Tensor[];
  attrs: unknown;
}

/** A RuleSpec from its saved tensors' tuple and its attributes (none by default). */
export type Spec<Saved extends readonly Tensor[], Attrs = null> = { saved: Saved; attrs: Attrs };

/**
 * The gradient rule of primitive P: from the gradient of the output, the saved tensors and the
 * attributes, the gradient of each recorded input (null where none flows). `needs[i]` says
 * whether input i requires a gradient now, so a rule may skip work (PyTorch's needs_input_grad).
 * Rules run with recording off.
 */
export type Rule<P extends Primitive> = (
  g: Tensor,
  saved: PrimitiveSpecs[P]['saved'],
  attrs: PrimitiveSpecs[P]['attrs'],
  needs: readonly boolean[],
) => (Tensor | null)[];

/** One family's part of the rule table: a rule for every primitive of the family, no more, no less. */
export type RuleTable<Family extends Primitive> = { [P in Family]: Rule<P> };

/** Untyped view of a rule, as the engine calls it (the table is typed where it is written). */
type AnyRule = (g: Tensor, saved: readonly Tensor[], attrs: unknown, needs: readonly boolean[]) => (Tensor | null)[];

const rules = new Map<Primitive, AnyRule>();

/**
 * Installs one family's rules (each op module does this for its own table when it loads, so a
 * primitive is always recorded after its rule is known).
 */
export function registerRules<Family extends Primitive>(table: RuleTable<Family>): void {
  for (const op of Object.keys(table) as Family[]) rules.set(op, table[op] as AnyRule);
}

/** The primitives that have a rule installed (every op module loaded: all of PRIMITIVES). */
export function registeredPrimitives(): Primitive[] {
  return [...rules.keys()];
}

/**
 * One recorded op: its primitive, the inputs it read (the graph's edges), the tensors its rule
 * saved and its attributes. Backward looks the rule up in the table by `op`.
 */
export interface GradNode {
  op: Primitive;
  inputs: Tensor[];
  /** Emptied once backward used them (unless retainGraph), so they can be freed. */
  saved: readonly Tensor[];
  attrs: unknown;
  /** Set once a backward pass freed the saved tensors. */
  released?: boolean;
}

/** Options of `backward()`. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default false: free saved tensors). */
  retainGraph?: boolean;
}

let gradEnabled = true;

/** Whether ops currently record the graph for backward (false inside noGrad). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn without recording anything for autograd (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Re-enables recording inside a noGrad block. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/**
 * Records primitive `op` producing `out` from `inputs` when recording is on and some input needs
 * a gradient; otherwise records nothing, so inference keeps no graph (and no saved tensors) in
 * memory. `saved` are exactly the tensors op's rule reads; `attrs` its non-tensor data.
 */
export function record<P extends Primitive>(
  op: P,
  out: Tensor,
  inputs: Tensor[],
  saved: PrimitiveSpecs[P]['saved'],
  attrs: PrimitiveSpecs[P]['attrs'],
): Tensor {
  if (!gradEnabled) return out;
  let needs = false;
  for (const t of inputs) if (t.requiresGrad) needs = true;
  if (!needs) return out;
  out.node = { op, inputs, saved, attrs };
  out.markRequiresGrad();
  return out;
}

/** Reverse topological order of the graph feeding `root` (iterative: deep graphs such as RNNs must not overflow the stack). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

/** g as a tensor of `dtype` (the same tensor when it already is). */
function castGrad(g: Tensor, dtype: DType): Tensor {
  return g.dtype === dtype ? g : new Tensor(g.backend.kernels.cast(g.handle, dtype), g.shape);
}

/** a + b for two gradients of one shape (a new tensor; the inputs are left as they are). */
function addGrads(a: Tensor, b: Tensor): Tensor {
  return new Tensor(getBackend().kernels.binary('add', a.handle, a.shape, b.handle, b.shape, a.shape, a.dtype), a.shape);
}

function accumulate(into: Map<Tensor, Tensor>, t: Tensor, g: Tensor): void {
  const prev = into.get(t);
  into.set(t, prev === undefined ? g : addGrads(prev, g));
}

/**
 * The backward pass. `sink` receives the gradient of each leaf that requires grad; by default
 * it accumulates into `.grad` (what Tensor.backward does). grad()/valueAndGrad() pass their own.
 */
export function runBackward(
  root: Tensor,
  seed: Tensor | undefined,
  opts: BackwardOptions = {},
  sink: (leaf: Tensor, grad: Tensor) => void = accumulateIntoGrad,
): void {
  if (!root.requiresGrad) {
    throw new GradkitError('backward', 'this tensor does not require grad: no input of the computation had requiresGrad=true (or it ran inside noGrad)');
  }
  let seedGrad: Tensor;
  if (seed === undefined) {
    if (root.size !== 1) {
      throw new GradkitError('backward', `a gradient can only be implied for a one-element output; this output has shape ${fmtShape(root.shape)}, so pass a seed gradient of that shape`);
    }
    seedGrad = Tensor.fromArray(root.dtype === 'float64' ? new Float64Array([1]) : new Float32Array([1]), root.shape);
  } else {
    if (!shapesEqual(seed.shape, root.shape)) {
      throw new GradkitError('backward', `seed gradient has shape ${fmtShape(seed.shape)} but the output has shape ${fmtShape(root.shape)}`);
    }
    seedGrad = castGrad(seed, root.dtype);
  }
  const order = topoOrder(root);
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, seedGrad);
  for (const t of order) {
    const g = grads.get(t);
    if (g === undefined) continue;
    grads.delete(t); // free as we go: a gradient is only kept while something still needs it
    const node = t.node;
    if (node === null) {
      sink(t, g);
      continue;
    }
    if (node.released) {
      throw new GradkitError('backward', `tried to run backward through the graph of '${node.op}' a second time; its saved tensors were freed (pass { retainGraph: true } to the first backward)`);
    }
    if (t.retainsGrad) sink(t, g);
    const rule = rules.get(node.op);
    if (rule === undefined) throw new GradkitError('backward', `internal: no gradient rule is installed for '${node.op}'`);
    const needs = node.inputs.map((t) => t.requiresGrad);
    const inputGrads = noGrad(() => rule(g, node.saved, node.attrs, needs));
    for (let i = 0; i < node.inputs.length; i++) {
      const input = node.inputs[i];
      const gi = inputGrads[i];
      if (!input.requiresGrad || gi === null || gi === undefined) continue;
      if (!shapesEqual(gi.shape, input.shape)) {
        throw new GradkitError('backward', `internal: gradient rule of '${node.op}' returned shape ${fmtShape(gi.shape)} for input ${i} of shape ${fmtShape(input.shape)}`);
      }
      accumulate(grads, input, castGrad(gi, input.dtype));
    }
    if (!opts.retainGraph) {
      node.released = true;
      node.inputs = [];
      node.saved = [];
    }
  }
}


/**
 * The default sink: accumulates into `.grad`. Gradients outlive the step that made them
 * (optimizers and callbacks read them after backward), so they are kept out of scopes; a second
 * backward adds in place, as PyTorch does, so a held `.grad` sees the sum.
 */
function accumulateIntoGrad(leaf: Tensor, g: Tensor): void {
  if (leaf.grad === null || leaf.grad.isDisposed) {
    // Own the buffer: rules pass gradients through unchanged (add, reshape), so the same buffer
    // may also be another leaf's gradient, and optimizers write .grad in place (clipping).
    leaf.grad = keep(new Tensor(g.backend.kernels.cast(g.handle, leaf.dtype), leaf.shape));
  } else {
    const sum = addGrads(leaf.grad, g);
    leaf.grad.backend.kernels.copyInto(leaf.grad.handle, sum.handle);
    sum.dispose();
  }
}

/** What a function made by `valueAndGrad` returns: f's value and one gradient per differentiated argument. */
export interface ValueAndGrads {
  value: Tensor;
  grads: Tensor[];
}

/**
 * Transforms f into a function returning its value and the gradient with respect to each
 * argument (all of them, or those listed in `argnums`). Does not touch any tensor's `.grad`.
 */
export function valueAndGrad(
  f: (...args: Tensor[]) => Tensor,
  argnums?: readonly number[],
): (...args: Tensor[]) => ValueAndGrads {
  return (...args: Tensor[]) => {
    args.forEach((a, i) => {
      if (!(a instanceof Tensor)) throw new GradkitError('valueAndGrad', `argument ${i} must be a Tensor, got ${a === null ? 'null' : typeof a}`);
    });
    const which = argnums ?? args.map((_, i) => i);
    for (const i of which) {
      if (!Number.isInteger(i) || i < 0 || i >= args.length) {
        throw new GradkitError('valueAndGrad', `argnums entry ${i} does not name one of the ${args.length} arguments (expected 0..${args.length - 1})`);
      }
    }
    const leaves = args.map((a, i) => {
      if (!which.includes(i)) return a.detach();
      const leaf = a.detach();
      leaf.requiresGrad = true;
      return leaf;
    });
    const value = enableGrad(() => f(...leaves));
    if (!(value instanceof Tensor)) throw new GradkitError('valueAndGrad', 'the function must return a Tensor');
    const found = new Map<Tensor, Tensor>();
    if (value.requiresGrad) {
      runBackward(value, undefined, {}, (leaf, g) => {
        const prev = found.get(leaf);
        found.set(leaf, prev === undefined ? g : addGrads(prev, g));
      });
    } else if (value.size !== 1) {
      throw new GradkitError('valueAndGrad', `the function must return a one-element tensor; got shape ${fmtShape(value.shape)}`);
    }
    const grads = which.map((i) => {
      const leaf = leaves[i];
      const g = found.get(leaf);
      return new Tensor(g !== undefined ? g.backend.kernels.cast(g.handle, leaf.dtype) : getBackend().alloc(leaf.dtype, leaf.size), leaf.shape);
    });
    return { value: value.detach(), grads };
  };
}

/** Transforms f into a function returning the gradients of f's (scalar) output w.r.t. its arguments. */
export function grad(f: (...args: Tensor[]) => Tensor, argnums?: readonly number[]): (...args: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f, argnums);
  return (...args: Tensor[]) => vg(...args).grads;
}

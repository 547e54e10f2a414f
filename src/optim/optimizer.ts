import { GradkitError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { shapesEqual } from '../core/shape.js';
import { noGrad } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { canReadSync } from '../tensor/host.js';
import { applyUpdates, gradsToUpdates, type GradientTransform, type StateTree } from './transform.js';
import { checkStateStructure, cloneState, disposeState, restoreState } from './state.js';
import { checkNumber } from './validate.js';

/** Options every optimizer has; a parameter group may override any of them. */
export interface BaseOptions {
  /** Learning rate. 0 leaves the group's parameters untouched (state still advances). */
  lr: number;
  /** Weight decay λ (coupled L2 or decoupled, depending on the optimizer). */
  weightDecay: number;
  /** Also decay parameters tagged 'noDecay' (biases, norm scales); default false. */
  includeNoDecay: boolean;
}

/**
 * Fills an options object from defaults, rejecting unknown keys (a typo such as `learningRate`
 * must not be silently ignored) and treating `undefined` as "use the default".
 */
export function mergeOptions<O extends object>(op: string, defaults: O, opts: Partial<O> | undefined): O {
  const out = { ...defaults };
  if (opts === undefined || opts === null) return out;
  if (typeof opts !== 'object') throw new GradkitError(op, `options must be an object, got ${typeof opts}`);
  for (const [k, v] of Object.entries(opts)) {
    if (!(k in defaults)) throw new GradkitError(op, `unknown option '${k}'; known options: ${Object.keys(defaults).join(', ')}`);
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** A parameter group as passed in: its tensors plus any options that differ from the defaults. */
export type ParamGroupInput<O> = { params: Iterable<Tensor> } & Partial<O>;
/** What optimizers accept: tensors/Parameters (e.g. `model.parameters()`) or parameter groups. */
export type ParamsInput<O> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;
/** A live group: its options are plain mutable fields (`group.lr = 0.01` is how schedules act). */
export type ParamGroup<O> = O & { params: Tensor[]; initialLr: number };

/** What stateDict() returns: JSON-serializable values plus typed arrays. */
export interface OptimizerStateDict {
  optimizer: string;
  stepCount: number;
  groups: { options: Record<string, unknown>; initialLr: number; shapes: number[][] }[];
  state: StateTree[];
}

/**
 * An optimizer is one gradient transform (a chain) per parameter group. step() turns the
 * gradients into updates through the chain and adds them to the weights in place; parameters
 * without a gradient or with requiresGrad=false sit the step out.
 *
 * Use the named subclasses (SGD, Adam, ...) or build your own recipe:
 *   new Optimizer(params, { lr: 0.1, weightDecay: 0, includeNoDecay: false },
 *     (g) => chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(() => g.lr)))
 */
export class Optimizer<O extends BaseOptions = BaseOptions> {
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Number of step() calls so far. */
  stepCount = 0;
  private transforms: GradientTransform<any>[] = [];
  private states: StateTree[] = [];
  // Reused update buffers, one per parameter: a step allocates nothing after the first.
  private scratch: (Float32Array | Float64Array | undefined)[][] = [];

  constructor(
    params: ParamsInput<O>,
    readonly defaults: O,
    private readonly build: (group: ParamGroup<O>) => GradientTransform<any>,
    readonly name = 'Optimizer',
  ) {
    const items = [...(params as Iterable<unknown>)];
    if (items.length === 0) throw new GradkitError(name, 'got an empty parameter list');
    if (items.every((x) => x instanceof Tensor)) {
      this.addParamGroup({ params: items as Tensor[] } as unknown as ParamGroupInput<O>);
    } else {
      items.forEach((g, i) => {
        if (g instanceof Tensor || g === null || typeof g !== 'object' || !('params' in g)) {
          throw new GradkitError(name, `item ${i} of the parameter list is neither a tensor nor a group { params, ... }; do not mix the two forms`);
        }
        this.addParamGroup(g as ParamGroupInput<O>);
      });
    }
  }

  /** Adds a group (e.g. newly unfrozen layers); options it omits come from the defaults. */
  addParamGroup(input: ParamGroupInput<O>): void {
    this.checkLive('addParamGroup');
    const gi = this.paramGroups.length;
    const params = [...input.params];
    if (params.length === 0) throw new GradkitError(this.name, `parameter group ${gi} has no parameters`);
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new GradkitError(this.name, `group ${gi}, parameter ${i} is not a Tensor (got ${typeof p})`);
      if (!isFloat(p.dtype)) throw new GradkitError(this.name, `group ${gi}, parameter ${i}${p.name ? ` (${p.name})` : ''} is ${p.dtype}; only float tensors can be optimized`);
      if (!p.isLeaf) throw new GradkitError(this.name, `group ${gi}, parameter ${i}${p.name ? ` (${p.name})` : ''} is not a leaf tensor; optimize the leaves (detach it or create it with requiresGrad)`);
      if (seen.has(p)) throw new GradkitError(this.name, `group ${gi}, parameter ${i}${p.name ? ` (${p.name})` : ''} appears more than once; each parameter may belong to one group only`);
      seen.add(p);
    });
    for (const key of Object.keys(input)) {
      if (key !== 'params' && !(key in this.defaults)) {
        throw new GradkitError(this.name, `unknown option '${key}' in parameter group ${gi}; known options: ${Object.keys(this.defaults).join(', ')}`);
      }
    }
    const { params: _ignored, ...overrides } = input;
    const group = { ...mergeOptions(this.name, this.defaults, overrides as unknown as Partial<O>), params } as ParamGroup<O>;
    group.initialLr = group.lr;
    const transform = this.buildFor(group, gi);
    this.paramGroups.push(group);
    this.transforms.push(transform);
    this.states.push(transform.init(params));
    this.scratch.push([]);
  }

  private buildFor(group: ParamGroup<O>, gi: number): GradientTransform<any> {
    if (typeof group.lr !== 'number' || !Number.isFinite(group.lr) || group.lr < 0) {
      throw new GradkitError(this.name, `lr must be a finite number >= 0, got ${String(group.lr)} (group ${gi})`);
    }
    try {
      return this.build(group);
    } catch (e) {
      if (e instanceof GradkitError) throw new GradkitError(this.name, `${e.message} (group ${gi})`);
      throw e;
    }
  }

  /** One optimization step from the current `.grad`s. Runs without recording autograd. */
  step(): void {
    this.checkLive('step');
    noGrad(() => {
      this.paramGroups.forEach((group, gi) => {
        const lr = group.lr;
        if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
          throw new GradkitError(this.name, `lr of group ${gi} must be a finite number >= 0, got ${String(lr)}`);
        }
        group.params.forEach((p, i) => {
          if (p.grad !== null && !shapesEqual(p.grad.shape, p.shape)) {
            throw new GradkitError(this.name, `gradient of group ${gi}, parameter ${i}${p.name ? ` (${p.name})` : ''} has shape ${fmtShape(p.grad.shape)} but the parameter has ${fmtShape(p.shape)}`);
          }
        });
        // lr 0 must leave weights bit-for-bit unchanged (adding −0·u could flip −0 to +0 or add NaN).
        const transform = this.transforms[gi];
        // SGD, Adam and AdamW bring a one-pass step (withFusedStep): same results, one pass per parameter.
        if (transform.fusedStep?.(group.params, this.states[gi], lr !== 0)) return;
        const device = group.params.find((p) => !canReadSync(p));
        if (device !== undefined) {
          // The composed path runs its transforms on host arrays, which a GPU cannot hand over synchronously.
          throw new GradkitError(this.name, `group ${gi} is on the ${device.backend.name} backend, where only the named optimizers' device steps run (SGD, Adam, AdamW, RMSprop, Adagrad without a custom step kernel); this ${this.transforms[gi].name} step runs its transforms on the host, which needs a CPU backend`);
        }
        const updates = gradsToUpdates(group.params, this.scratch[gi]);
        transform.update(updates, this.states[gi], group.params);
        if (lr !== 0) applyUpdates(group.params, updates);
      });
    });
    this.stepCount++;
  }

  /** Clears every parameter's gradient (sets `.grad = null`, as PyTorch's set_to_none). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** The current learning rate of each group. */
  getLr(): number[] {
    return this.paramGroups.map((g) => g.lr);
  }

  /** Sets the learning rate of one group, or of all groups when `groupIndex` is omitted. */
  setLr(lr: number, groupIndex?: number): void {
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new GradkitError(this.name, `setLr: lr must be a finite number >= 0, got ${String(lr)}`);
    if (groupIndex !== undefined && (groupIndex < 0 || groupIndex >= this.paramGroups.length || !Number.isInteger(groupIndex))) {
      throw new GradkitError(this.name, `setLr: group index ${groupIndex} out of range; there are ${this.paramGroups.length} groups`);
    }
    this.paramGroups.forEach((g, i) => {
      if (groupIndex === undefined || i === groupIndex) g.lr = lr;
    });
  }

  /** Everything needed to resume exactly: options per group and a deep copy of the state. */
  stateDict(): OptimizerStateDict {
    this.checkLive('stateDict');
    return {
      optimizer: this.name,
      stepCount: this.stepCount,
      groups: this.paramGroups.map((g) => {
        const { params, initialLr, ...options } = g;
        return { options: JSON.parse(JSON.stringify(options)) as Record<string, unknown>, initialLr, shapes: params.map((p) => [...p.shape]) };
      }),
      state: this.states.map((s) => cloneState(s)),
    };
  }

  /**
   * Restores a stateDict() into an optimizer built over the same parameters (same group sizes
   * and shapes). Everything is checked before anything changes, so a mismatch leaves this
   * optimizer as it was.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    this.checkLive('loadStateDict');
    const op = `${this.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object' || !Array.isArray(sd.groups) || !Array.isArray(sd.state)) {
      throw new GradkitError(op, 'expected an object from stateDict() with groups and state');
    }
    if (sd.optimizer !== this.name) throw new GradkitError(op, `the state dict was saved by ${String(sd.optimizer)}, not ${this.name}`);
    if (sd.groups.length !== this.paramGroups.length || sd.state.length !== this.paramGroups.length) {
      throw new GradkitError(op, `the state dict has ${sd.groups.length} parameter groups but this optimizer has ${this.paramGroups.length}`);
    }
    checkNumber(op, 'stepCount', sd.stepCount, { min: 0, integer: true });
    // Fresh states (their slot tensors kept) to fill with the saved values; freed again if a
    // later group fails its check, so a rejected state dict leaves nothing behind.
    const fresh: StateTree[] = [];
    let staged: { next: ParamGroup<O>; state: StateTree }[];
    try {
      staged = this.paramGroups.map((group, gi) => {
        const saved = sd.groups[gi];
        if (saved === null || typeof saved !== 'object') throw new GradkitError(op, `group ${gi} of the state dict is not an object`);
        const shapes = group.params.map((p) => [...p.shape]);
        if (!Array.isArray(saved.shapes) || saved.shapes.length !== shapes.length) {
          throw new GradkitError(op, `group ${gi} was saved with ${saved.shapes?.length} parameters but has ${shapes.length}`);
        }
        shapes.forEach((s, i) => {
          if (!shapesEqual(s, saved.shapes[i])) {
            throw new GradkitError(op, `group ${gi}, parameter ${i}${group.params[i].name ? ` (${group.params[i].name})` : ''} was saved with shape ${fmtShape(saved.shapes[i])} but has shape ${fmtShape(s)}`);
          }
        });
        const { params: _p, initialLr: _l, ...current } = group;
        const options = mergeOptions(op, current as unknown as O, saved.options as Partial<O>);
        const initialLr = checkNumber(op, `initialLr of group ${gi}`, saved.initialLr, { min: 0 });
        const next = { ...options, params: group.params, initialLr } as ParamGroup<O>;
        const transform = this.buildFor(next, gi);
        const template = transform.init(group.params);
        fresh.push(template);
        checkStateStructure(op, template, sd.state[gi], `state of group ${gi}`);
        return { next, state: template };
      });
    } catch (e) {
      for (const f of fresh) disposeState(f);
      throw e;
    }
    staged.forEach(({ next, state }, gi) => {
      // Mutate the existing group objects so references held by schedulers stay valid, and
      // rebuild the chain from them (it reads group.lr live).
      Object.assign(this.paramGroups[gi], next);
      this.transforms[gi] = this.build(this.paramGroups[gi]);
      disposeState(this.states[gi]);
      this.states[gi] = restoreState(state, sd.state[gi]);
    });
    this.stepCount = sd.stepCount;
  }

  /**
   * Frees the optimizer's state (moments, momentum buffers...) now rather than when the garbage
   * collector finds it; see Module.dispose. The optimizer cannot step afterwards.
   */
  dispose(): void {
    for (const s of this.states) disposeState(s);
    this.disposed = true;
  }
  private disposed = false;

  private checkLive(op: string): void {
    if (this.disposed) throw new GradkitError(this.name, `${op}() after dispose(): the optimizer state was freed; make a new optimizer`);
  }
}

import { GradkitError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { shapesEqual } from '../core/shape.js';
import { noGrad } from '../autograd/engine.js';
import { add, mul } from '../ops/elementwise.js';
import { castTo, wideFloat } from '../ops/util.js';
import { readSync } from '../tensor/host.js';
import { keep, scope } from '../tensor/lifetime.js';
import { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkNumber } from './validate.js';

/** Options of the parameter EMA: the decay and whether it ramps up over the first updates. */
export interface EMAOptions {
  /** Weight of the old average per update (default 0.999). */
  decay?: number;
  /**
   * Ramp the decay up as min(decay, (1 + n) / (10 + n)) after n updates (TensorFlow's
   * num_updates rule), so early averages are not dominated by the initial weights. Default false.
   */
  warmup?: boolean;
}

/** The saved state of an EMA (decay, update count and the averaged weights), for checkpoints. */
export interface EMAStateDict {
  decay: number;
  warmup: boolean;
  numUpdates: number;
  shadow: (Float32Array | Float64Array)[];
}

/**
 * Exponential moving average (Polyak averaging) of weights, for evaluation:
 *
 *   const ema = new EMA(model.parameters(), { decay: 0.999 });
 *   // after each optimizer.step(): ema.update();
 *   ema.withAverages(() => evaluate(model));   // or swapIn() … swapOut()
 *
 * The average starts at the current weights: shadow ← decay·shadow + (1 − decay)·p.
 */
export class EMA {
  readonly params: Tensor[];
  readonly decay: number;
  readonly warmup: boolean;
  numUpdates = 0;
  // Device copies of the weights, kept: they live across steps (the Trainer scopes each step).
  private shadow: Tensor[];
  private backup: Tensor[] | null = null;

  constructor(params: Iterable<Tensor>, opts: EMAOptions = {}) {
    this.params = [...params];
    if (this.params.length === 0) throw new GradkitError('EMA', 'got an empty parameter list');
    this.params.forEach((p, i) => {
      if (!isFloat(p.dtype)) throw new GradkitError('EMA', `parameter ${i}${p.name ? ` (${p.name})` : ''} is ${p.dtype}; only float tensors can be averaged`);
    });
    this.decay = checkNumber('EMA', 'decay', opts.decay ?? 0.999, { min: 0, max: 1 });
    this.warmup = checkBoolean('EMA', 'warmup', opts.warmup ?? false);
    this.shadow = this.params.map(copyOf);
  }

  /** The decay the next update() will use. */
  currentDecay(): number {
    return this.warmup ? Math.min(this.decay, (1 + this.numUpdates) / (10 + this.numUpdates)) : this.decay;
  }

  /** Folds the current weights into the average. */
  update(): void {
    if (this.backup !== null) throw new GradkitError('EMA.update', 'the averages are swapped in; call swapOut() before updating');
    const d = this.currentDecay();
    // d·s + (1 − d)·w in float64 on the device, rounded once into the shadow's dtype: what the
    // host loop over a float32 array computed.
    noGrad(() => scope(() => {
      this.params.forEach((p, k) => {
        const s = this.shadow[k];
        const wide = wideFloat(s); // float64 unless the backend has none (then float32-accurate)
        s.assign(add(mul(castTo(s, wide), d), mul(castTo(p, wide), 1 - d)));
      });
    }));
    this.numUpdates++;
  }

  /** Puts the averaged weights into the parameters, keeping the live ones aside. */
  swapIn(): void {
    if (this.backup !== null) throw new GradkitError('EMA.swapIn', 'the averages are already swapped in');
    this.backup = this.params.map(copyOf);
    this.params.forEach((p, k) => p.assign(this.shadow[k]));
  }

  /** Restores the live weights saved by swapIn(). */
  swapOut(): void {
    if (this.backup === null) throw new GradkitError('EMA.swapOut', 'nothing to swap out: call swapIn() first');
    const backup = this.backup;
    this.params.forEach((p, k) => {
      p.assign(backup[k]);
      backup[k].dispose();
    });
    this.backup = null;
  }

  /** Runs fn with the averaged weights in place, restoring the live ones even if fn throws. */
  withAverages<T>(fn: () => T): T {
    this.swapIn();
    try {
      return fn();
    } finally {
      this.swapOut();
    }
  }

  /** Writes the averages into other tensors of the same shapes (e.g. a separate evaluation model). */
  copyTo(targets: Iterable<Tensor>): void {
    const ts = [...targets];
    if (ts.length !== this.params.length) throw new GradkitError('EMA.copyTo', `expected ${this.params.length} tensors, got ${ts.length}`);
    ts.forEach((t, k) => {
      if (!shapesEqual(t.shape, this.params[k].shape)) {
        throw new GradkitError('EMA.copyTo', `tensor ${k} has shape ${fmtShape(t.shape)} but the averaged parameter has ${fmtShape(this.params[k].shape)}`);
      }
      t.assign(this.shadow[k]);
    });
  }

  /** The averaged values (host copies), on any backend (a GPU included). */
  async averagesAsync(): Promise<(Float32Array | Float64Array)[]> {
    return (await Promise.all(this.shadow.map((t) => t.data()))) as (Float32Array | Float64Array)[];
  }

  /** The averaged values (host copies); reads synchronously (CPU backends; see averagesAsync). */
  averages(): (Float32Array | Float64Array)[] {
    return this.shadow.map((s) => readSync(s).slice() as Float32Array | Float64Array);
  }

  stateDict(): EMAStateDict {
    return { decay: this.decay, warmup: this.warmup, numUpdates: this.numUpdates, shadow: this.averages() };
  }

  /** Restores averages saved by stateDict(); sizes and dtypes must match these parameters. */
  loadStateDict(sd: EMAStateDict): void {
    if (sd === null || typeof sd !== 'object' || !Array.isArray(sd.shadow)) throw new GradkitError('EMA.loadStateDict', 'expected an object from stateDict() with a shadow list');
    if (sd.shadow.length !== this.params.length) {
      throw new GradkitError('EMA.loadStateDict', `the state dict averages ${sd.shadow.length} tensors but this EMA has ${this.params.length}`);
    }
    sd.shadow.forEach((s, k) => {
      const want = this.shadow[k].dtype === 'float64' ? Float64Array : Float32Array;
      if (s?.constructor !== want || s.length !== this.shadow[k].size) {
        throw new GradkitError('EMA.loadStateDict', `average ${k} holds ${s?.length} values of ${s?.constructor?.name} but parameter ${k} has ${this.shadow[k].size} (${this.params[k].dtype})`);
      }
    });
    checkNumber('EMA.loadStateDict', 'numUpdates', sd.numUpdates, { min: 0, integer: true });
    if (sd.decay !== this.decay || sd.warmup !== this.warmup) {
      throw new GradkitError('EMA.loadStateDict', `saved with decay ${sd.decay}, warmup ${sd.warmup} but this EMA has decay ${this.decay}, warmup ${this.warmup}`);
    }
    this.shadow.forEach((s, k) => s.assign(sd.shadow[k]));
    this.numUpdates = sd.numUpdates;
  }
}

/** A kept device copy of a tensor's values (the shadow and the swapped-out weights outlive any scope). */
function copyOf(t: Tensor): Tensor {
  return keep(new Tensor(t.backend.kernels.cast(t.handle, t.dtype), t.shape));
}

/**
 * nn.fuse: the explicit fusion pass (PyTorch's `fuse_modules`). In every Sequential of a model,
 * a Linear or Conv2d with a bias directly followed by a ReLU becomes one layer with
 * `activation: 'relu'` (bias-add and relu in one kernel, one pass over the activation instead
 * of two in each direction), and a Conv2d → ReLU → MaxPool2d triple also takes the pooling in
 * (`maxPool`), so the bias-add and relu run on the pooled tensor. Same values; the gradients
 * differ only where rounding makes two pooling-window entries equal (both valid subgradients).
 */
import { Identity } from './basic.js';
import { ReLU } from './activation.js';
import { Sequential } from './containers.js';
import { Conv2d, MaxPool2d } from './conv.js';
import { Linear } from './linear.js';
import type { AnyModule } from './module.js';

/**
 * What stands where a module was fused into an earlier layer: it returns its input, has no
 * parameters, and keeps the Sequential's indices (and so every state-dict key) unchanged.
 */
export class FusedAway extends Identity {
  /** `into`: the index of the layer that now does this module's work; `was`: its class. */
  constructor(readonly into: number, readonly was: string) { super(); }
  override extraRepr(): string { return `${this.was}, fused into ${this.into}`; }
}

/** Exactly this class (a subclass may change forward) and no hooks that must see the call. */
function isPlain(m: AnyModule | undefined, cls: { prototype: object }): boolean {
  return m !== undefined && Object.getPrototypeOf(m) === cls.prototype && !m.hasHooks();
}

function placeholder(into: number, was: AnyModule): FusedAway {
  const p = new FusedAway(into, was.constructor.name);
  return p.train(was.training);
}

/**
 * Fuses, in place, every Linear/Conv2d → ReLU pair (and Conv2d → ReLU → MaxPool2d triple) that
 * sits next to each other in a Sequential anywhere in `model`. The layer keeps its parameters
 * (the same Parameter objects: an optimizer made before still updates them) and the fused-away
 * modules become FusedAway placeholders, so names and state-dict keys stay the same and
 * checkpoints load either way. Only plain modules fuse: a subclass, a layer without bias or one
 * already fused, and any module with a hook stay as they are. A hook added to the layer
 * afterwards sees the activated output (as PyTorch's fused LinearReLU). Returns the model and
 * the number of layers fused.
 *
 * ```ts
 * const model = nn.fuse(new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10))).model;
 * // model.at(0).activation === 'relu'; model.at(1) is a FusedAway placeholder
 * ```
 */
export function fuse<M extends AnyModule>(model: M): { model: M; fused: number } {
  let fused = 0;
  for (const seq of [...model.modules()]) {
    if (!(seq instanceof Sequential)) continue;
    for (let i = 0; i + 1 < seq.length; i++) {
      const layer = seq.at(i);
      if (!(isPlain(layer, Linear) || isPlain(layer, Conv2d)) || !isPlain(seq.at(i + 1), ReLU)) continue;
      const l = layer as Linear | Conv2d;
      if (l.bias === null || l.activation !== 'none' || (l instanceof Conv2d && l.maxPool !== null)) continue;
      l.activation = 'relu';
      seq.set(i + 1, placeholder(i, seq.at(i + 1)));
      const pool = i + 2 < seq.length ? seq.at(i + 2) : undefined;
      if (l instanceof Conv2d && isPlain(pool, MaxPool2d)) {
        const p = pool as MaxPool2d;
        l.maxPool = { kernelSize: p.kernelSize, ...p.opts };
        seq.set(i + 2, placeholder(i, p));
      }
      fused++;
    }
  }
  return { model, fused };
}

/**
 * Re-using a trained network's body: swap its head for a new task (replaceHead) or cut it at
 * a named layer to get a feature extractor (cutAt). Both share the original modules (no
 * copies), so frozen layers stay frozen and the weights are the trained ones.
 */
import { GradkitError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Sequential, ModuleList, ModuleDict } from '../nn/containers.js';
import { Module, type AnyModule } from '../nn/module.js';

function childOf(op: string, parent: AnyModule, name: string, path: string): AnyModule {
  for (const [n, m] of parent.namedChildren()) if (n === name) return m;
  const have = [...parent.namedChildren()].map(([n]) => n);
  throw new GradkitError(op, `'${path}' does not exist: ${parent.constructor.name} has no child '${name}' (children: ${have.join(', ') || 'none'})`);
}

/** The module at a dotted path ('' is the model itself). */
export function getModule(model: AnyModule, path: string, op = 'getModule'): AnyModule {
  if (path === '') return model;
  let m = model;
  for (const part of path.split('.')) m = childOf(op, m, part, path);
  return m;
}

/** Puts `module` at `name` in `parent`, keeping a Sequential's list in step with its registration. */
function setChild(op: string, parent: AnyModule, name: string, module: AnyModule): void {
  if (parent instanceof Sequential) {
    parent.set(Number(name), module);
  } else if (parent instanceof ModuleList || parent instanceof ModuleDict) {
    if (parent instanceof ModuleDict) parent.set(name, module);
    else throw new GradkitError(op, `cannot replace an entry of a ModuleList in place; wrap the layers in a Sequential`);
  } else {
    parent.registerModule(name, module);
  }
}

/** Options of `replaceHead`: which layer is the head to replace. */
export interface ReplaceHeadOptions {
  /** Dotted name of the layer to replace (default: the model's last child, e.g. ResNet's 'fc' or a Sequential's last index). */
  name?: string;
}

/**
 * Replaces the model's head (its last child, or the layer named in opts.name) by `newHead`, in
 * place, and returns the old head. The new head is in the model's current mode.
 *
 * ```ts
 * const resnet = nn.resnet({ inChannels: 3, numClasses: 1000 });
 * transfer.replaceHead(resnet, new nn.Linear(64, 5));            // 5 new classes
 * transfer.replaceHead(vgg, new nn.Linear(256, 2), { name: 'classifier.3' });
 * ```
 */
export function replaceHead(model: AnyModule, newHead: AnyModule, opts: ReplaceHeadOptions = {}): AnyModule {
  const op = 'replaceHead';
  if (!(model instanceof Module)) throw new GradkitError(op, 'model must be an nn.Module');
  if (!(newHead instanceof Module)) throw new GradkitError(op, `newHead must be an nn.Module, got ${newHead === null ? 'null' : typeof newHead}`);
  let path = opts.name;
  if (path === undefined) {
    const children = [...model.namedChildren()];
    if (children.length === 0) throw new GradkitError(op, `${model.constructor.name} has no children; nothing to replace`);
    path = children[children.length - 1][0];
  }
  if (path === '') throw new GradkitError(op, "name must name a layer inside the model, not '' (the model itself)");
  const parts = path.split('.');
  const last = parts.pop()!;
  const parent = getModule(model, parts.join('.'), op);
  const old = childOf(op, parent, last, path);
  setChild(op, parent, last, newHead);
  newHead.train(model.training);
  return old;
}

/**
 * Runs a model only until a named layer has produced its output, and returns that output.
 * Used when the model's forward is not a plain chain (a ResNet, a custom module): a forward hook
 * on the layer captures the output and stops the rest of the forward pass.
 */
export class FeatureExtractor extends Module {
  readonly model: AnyModule;
  readonly layerName: string;
  private readonly _layer: AnyModule;

  constructor(model: AnyModule, layerName: string) {
    super();
    this.model = model;
    this.layerName = layerName;
    this._layer = getModule(model, layerName, 'FeatureExtractor');
  }

  override forward(...inputs: unknown[]): Tensor {
    const stop = new Stop();
    const remove = this._layer.registerForwardHook((_m, _in, out) => {
      stop.output = out as Tensor;
      throw stop;
    });
    try {
      this.model.call(...(inputs as [Tensor]));
    } catch (e) {
      if (e === stop) return stop.output!;
      throw e;
    } finally {
      remove();
    }
    throw new GradkitError('FeatureExtractor', `the model's forward never called layer '${this.layerName}'; it cannot be used as a cut point`);
  }

  override extraRepr(): string {
    return `at='${this.layerName}'`;
  }
}

/** Carries the captured output out of the model's forward (not an error). */
class Stop {
  output: Tensor | null = null;
}

/**
 * A feature extractor: `model` cut just after the layer `name` (its output is the features).
 * For a Sequential (and Sequentials nested in it) the result is a new Sequential sharing the
 * first layers, so its parameter names match the original's; otherwise a FeatureExtractor that
 * runs the model and stops after the named layer.
 *
 * ```ts
 * const body = transfer.cutAt(cnn, '5');           // Sequential: layers 0..5
 * const feats = transfer.cutAt(resnet, 'pool');    // ResNet: pooled features [N, C]
 * ```
 */
export function cutAt(model: AnyModule, name: string): AnyModule {
  const op = 'cutAt';
  if (!(model instanceof Module)) throw new GradkitError(op, 'model must be an nn.Module');
  if (typeof name !== 'string' || name === '') throw new GradkitError(op, `name must name a layer inside the model, got ${JSON.stringify(name)}`);
  getModule(model, name, op); // validates the path, with the list of children on a typo
  if (model instanceof Sequential) return cutSequential(model, name.split('.'));
  const extractor = new FeatureExtractor(model, name);
  extractor.train(model.training);
  return extractor;
}

/** Keeps children 0..k of a Sequential, recursing into the k-th when the path goes deeper and it is a Sequential too. */
function cutSequential(seq: Sequential, path: string[]): AnyModule {
  const k = Number(path[0]);
  const kept = new Sequential();
  for (let i = 0; i < k; i++) kept.append(seq.at(i));
  const target = seq.at(k);
  if (path.length === 1) kept.append(target);
  else if (target instanceof Sequential) kept.append(cutSequential(target, path.slice(1)));
  else kept.append(new FeatureExtractor(target, path.slice(1).join('.')));
  kept.training = seq.training;
  return kept;
}

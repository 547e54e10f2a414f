/**
 * Architectures as data: `{ builder: 'vgg', options: { inChannels: 1, ... } }` is a JSON
 * description that `build` turns back into a model. A model file stores it in its metadata,
 * so loading a file needs no code that knows the model. Builders other than the zoo's (a
 * custom module, the CLI's layer lists) can be added with registerArchitecture.
 */
import { GradkitError } from '../core/errors.js';
import type { AnyModule } from '../nn/module.js';
import { resnet } from '../nn/residual.js';
import { InceptionBlock, type InceptionOptions } from './inception.js';
import { mlp } from './mlp.js';
import { resnet18, resnet34 } from './resnets.js';
import { vgg } from './vgg.js';

/** A JSON description of a model: the registered builder's name and its options, enough to rebuild it. */
export interface Architecture {
  /** A registered builder name: 'vgg', 'mlp', 'resnet', 'resnet18', 'resnet34', 'inceptionBlock', or your own. */
  builder: string;
  /** JSON options passed to the builder (no functions, no Random: they do not survive JSON). */
  options: Record<string, unknown>;
}

type Builder = (options: Record<string, unknown>) => AnyModule;

const builders = new Map<string, Builder>([
  ['vgg', (o) => vgg(o as never)],
  ['mlp', (o) => mlp(o as never)],
  ['resnet', (o) => resnet(o as never)],
  ['resnet18', (o) => resnet18(o as never)],
  ['resnet34', (o) => resnet34(o as never)],
  ['inceptionBlock', (o) => {
    const { inChannels, ...rest } = o;
    return new InceptionBlock(inChannels as number, rest as unknown as InceptionOptions);
  }],
]);

/** Adds (or replaces) a builder so `build` and model files can use it. */
export function registerArchitecture(name: string, builder: Builder): void {
  if (typeof name !== 'string' || name === '') throw new GradkitError('registerArchitecture', `name must be a non-empty string, got ${JSON.stringify(name)}`);
  if (typeof builder !== 'function') throw new GradkitError('registerArchitecture', `builder for '${name}' must be a function (options) => module`);
  builders.set(name, builder);
}

/** Names `build` accepts. */
export function architectures(): string[] {
  return [...builders.keys()];
}

/**
 * Builds a model from its JSON description.
 *
 * ```ts
 * const arch = { builder: 'mlp', options: { sizes: [4, 16, 3] } };
 * const model = zoo.build(arch);
 * const bytes = io.saveModel(model, { architecture: arch });
 * ```
 */
export function build(architecture: Architecture): AnyModule {
  const op = 'zoo.build';
  if (architecture === null || typeof architecture !== 'object' || Array.isArray(architecture)) {
    throw new GradkitError(op, `expected { builder, options }, got ${architecture === null ? 'null' : Array.isArray(architecture) ? 'an array' : typeof architecture}`);
  }
  const { builder, options } = architecture;
  const make = typeof builder === 'string' ? builders.get(builder) : undefined;
  if (make === undefined) throw new GradkitError(op, `unknown builder ${JSON.stringify(builder)}; known: ${architectures().join(', ')} (add one with registerArchitecture)`);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new GradkitError(op, `'${builder}' options must be an object, got ${options === null ? 'null' : typeof options}`);
  return make(options);
}

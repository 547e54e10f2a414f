/**
 * Converters from gradkit modules to ONNX nodes, keyed by module class. The built-in ones are
 * registered by converters/index.ts; users add their own with `registerOnnxConverter`.
 */
import { GradkitError } from '../../core/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { AnyModule } from '../../nn/module.js';
import type { OnnxAttrValue } from './graph.js';

/** A value in the graph being built: its name and its shape at the export batch size. */
export interface OnnxValue {
  name: string;
  shape: readonly number[];
}

/** What a converter can do while it translates one module call. */
export interface OnnxConverterContext {
  /** Dotted path of the module being converted ('' for the root). */
  readonly path: string;
  /** This call's output shape, recorded by running the model once on the export input shape. */
  readonly outputShape: readonly number[];
  readonly opsetVersion: number;
  /** Whether axis 0 of the graph input is symbolic: Reshape targets must then copy it (0), never hard-code it. */
  readonly dynamicBatch: boolean;
  /** Converts a child module (its field name extends the path) applied to `input`. */
  convert(child: AnyModule, input: OnnxValue, name: string): OnnxValue;
  /** Adds a node with one output; returns the output's value name. */
  node(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttrValue>): string;
  /**
   * A module tensor (parameter or buffer) as a float32 initializer named `<path>.<field>`; the
   * same tensor always maps to the same initializer (tied weights stay tied).
   */
  weight(tensor: Tensor, field: string): string;
  /** An initializer computed by the converter (a transposed or reshaped weight, ones for an absent γ). */
  initializer(field: string, dims: readonly number[], values: ArrayLike<number>): string;
  /** A float scalar constant. */
  scalar(value: number): string;
  /** A 1-D int64 constant. */
  int64s(values: readonly number[]): string;
  /** Throws a GradkitError naming this module's path and class. */
  fail(message: string): never;
}

/**
 * Translates one call of a module: adds the nodes computing its eval-mode forward from `input`
 * and returns the name of the value holding the result.
 */
export type OnnxConverter<M extends AnyModule = AnyModule> = (module: M, input: OnnxValue, ctx: OnnxConverterContext) => string;

type ModuleClass<M extends AnyModule> = abstract new (...args: never[]) => M;

const converters = new Map<unknown, OnnxConverter>();

/**
 * Registers (or replaces) the converter for a module class. It applies to that class and to
 * subclasses that do not override forward().
 *
 * ```ts
 * registerOnnxConverter(Scale, (m, x, ctx) => ctx.node('Mul', [x.name, ctx.scalar(m.factor)]));
 * ```
 */
export function registerOnnxConverter<M extends AnyModule>(cls: ModuleClass<M>, converter: OnnxConverter<M>): void {
  if (typeof cls !== 'function') throw new GradkitError('registerOnnxConverter', `expected a module class, got ${cls === null ? 'null' : typeof cls}`);
  if (typeof converter !== 'function') throw new GradkitError('registerOnnxConverter', `the converter for ${cls.name} must be a function (module, input, ctx) => output name`);
  converters.set(cls, converter as OnnxConverter);
}

/**
 * The converter for a module: its class's own, else the nearest ancestor's as long as the
 * module runs that ancestor's forward (a subclass with its own forward computes something else).
 */
export function findOnnxConverter(module: AnyModule): OnnxConverter | undefined {
  const forward = module.forward;
  for (let proto = Object.getPrototypeOf(module) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const cls = (proto as { constructor: unknown }).constructor;
    const c = converters.get(cls);
    if (c !== undefined) {
      const own = cls === module.constructor;
      if (own || (proto as { forward?: unknown }).forward === forward) return c;
      return undefined;
    }
  }
  return undefined;
}

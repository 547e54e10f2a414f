/**
 * Accumulates an ONNX graph: nodes in topological order (the order they are added), float and
 * int64 initializers, and unique value names. Converters add to it through the export context.
 */
import { GradkitError } from '../../core/errors.js';
import { OnnxAttributeType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './schema.js';
import { floatTensor, int64Tensor } from './tensor.js';

/** A typed attribute value; build one with `onnxAttr`. */
export type OnnxAttrValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string };

/**
 * Attribute constructors. ONNX attributes are typed (alpha = 1 must be a FLOAT, group = 1 an
 * INT), so a plain number would be ambiguous.
 */
export const onnxAttr = {
  float: (value: number): OnnxAttrValue => ({ kind: 'float', value }),
  int: (value: number): OnnxAttrValue => ({ kind: 'int', value }),
  ints: (value: readonly number[]): OnnxAttrValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttrValue => ({ kind: 'floats', value }),
  string: (value: string): OnnxAttrValue => ({ kind: 'string', value }),
};

function toAttribute(name: string, a: OnnxAttrValue): OnnxAttribute {
  const intOf = (v: number): number => {
    if (!Number.isSafeInteger(v)) throw new GradkitError('exportOnnx', `attribute '${name}' must be a whole number, got ${v}`);
    return v;
  };
  switch (a.kind) {
    case 'float': return { name, type: OnnxAttributeType.FLOAT, f: a.value };
    case 'int': return { name, type: OnnxAttributeType.INT, i: intOf(a.value) };
    case 'ints': return { name, type: OnnxAttributeType.INTS, ints: a.value.map(intOf) };
    case 'floats': return { name, type: OnnxAttributeType.FLOATS, floats: [...a.value] };
    case 'string': return { name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(a.value) };
  }
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();

  /** Reserves `base` (or base_1, base_2, … when taken) as a value name. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output named after `base`; returns the output's name. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttrValue>, base: string): string {
    const output = this.uniqueName(base);
    this.nodes.push({
      name: output,
      opType,
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return output;
  }

  /** Adds a float32 initializer under a unique name derived from `base`. */
  floatInitializer(base: string, dims: readonly number[], values: ArrayLike<number>): string {
    const name = this.uniqueName(base);
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  /** A float scalar constant, shared by every node that uses the same value. */
  scalar(value: number): string {
    const key = `f:${Object.is(value, -0) ? '-0' : String(value)}`;
    let name = this.constants.get(key);
    if (name === undefined) {
      name = this.floatInitializer(`const_${value}`, [], [value]);
      this.constants.set(key, name);
    }
    return name;
  }

  /** A 1-D int64 constant (Reshape targets, axes), shared by value. */
  int64s(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.constants.get(key);
    if (name === undefined) {
      name = this.uniqueName(`const_i64_${values.join('_')}`);
      this.initializers.push(int64Tensor(name, values));
      this.constants.set(key, name);
    }
    return name;
  }

  /**
   * Gives the value `from` the name `to` (the graph output's name) in every node, so the last
   * node writes the output directly instead of through an extra Identity.
   */
  rename(from: string, to: string): void {
    for (const n of this.nodes) {
      n.input = n.input.map((s) => (s === from ? to : s));
      n.output = n.output.map((s) => (s === from ? to : s));
      if (n.name === from) n.name = to;
    }
  }

  /** Whether a node (not the graph input or an initializer) produces `name`. */
  isNodeOutput(name: string): boolean {
    return this.nodes.some((n) => n.output.includes(name));
  }
}

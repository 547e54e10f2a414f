/**
 * The subset of the ONNX protobuf schema the exporter writes, described with protobufjs's
 * reflection JSON (no .proto text, no code generation). Field numbers follow the ONNX IR spec;
 * the field names are camelCase because that is what protobufjs objects use (names do not go on
 * the wire, only the numbers do). Only what an inference graph of dense float tensors needs is
 * described; a decoder skips the fields left out, so reading a richer file still works.
 */
import protobuf from 'protobufjs/light.js';

/** TensorProto.DataType values gradkit writes or reads. */
export const OnnxDataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

/** AttributeProto.AttributeType values gradkit writes. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

const descriptor: protobuf.INamespace = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int32Data: { rule: 'repeated', type: 'int32', id: 5 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            doubleData: { rule: 'repeated', type: 'double', id: 10 },
            docString: { type: 'string', id: 12 },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        TypeProto: {
          fields: {
            tensorType: { type: 'TypeProtoTensor', id: 1 },
            denotation: { type: 'string', id: 6 },
          },
        },
        // TypeProto.Tensor in the spec; a flat name keeps the descriptor simple (names are not on the wire).
        TypeProtoTensor: {
          fields: {
            elemType: { type: 'int32', id: 1 },
            shape: { type: 'TensorShapeProto', id: 2 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'TensorShapeDimension', id: 1 } },
        },
        // TensorShapeProto.Dimension: dimValue and dimParam form the spec's oneof `value`.
        TensorShapeDimension: {
          oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
          fields: {
            dimValue: { type: 'int64', id: 1 },
            dimParam: { type: 'string', id: 2 },
            denotation: { type: 'string', id: 3 },
          },
        },
      },
    },
  },
};

let root: protobuf.Root | null = null;

/** The resolved ONNX message types (built once, on first use). */
export function onnxTypes(): { ModelProto: protobuf.Type; TensorProto: protobuf.Type } {
  if (root === null) {
    root = protobuf.Root.fromJSON(descriptor);
    root.resolveAll();
  }
  return { ModelProto: root.lookupType('onnx.ModelProto'), TensorProto: root.lookupType('onnx.TensorProto') };
}

// ---- the plain-object shapes of the messages the exporter builds ---------------------------------

/** An ONNX TensorProto: a named constant (a weight) with its dims, element type and data. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  int64Data?: number[];
}

/** An ONNX AttributeProto: one named attribute of a node, holding a float, int, string, tensor or list. */
export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
}

/** An ONNX NodeProto: one operator call with its input and output names and attributes. */
export interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
  domain?: string;
}

export interface OnnxDimension {
  dimValue?: number;
  dimParam?: string;
}

/** An ONNX ValueInfoProto: a graph input's or output's name, element type and shape. */
export interface OnnxValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: OnnxDimension[] } } };
}

/** An ONNX GraphProto: the nodes, the weights as initializers, and the graph's inputs and outputs. */
export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

/** An ONNX ModelProto: format version, producer, the graph and the operator sets it imports. */
export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: OnnxGraph;
  opsetImport: { domain: string; version: number }[];
}

/** Serializes a model to ONNX protobuf bytes. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const { ModelProto } = onnxTypes();
  // Under Node protobufjs returns a Buffer, possibly a slice of a shared pool: copy it into a
  // plain Uint8Array of its own, the same type in every environment.
  return new Uint8Array(ModelProto.encode(ModelProto.fromObject(model)).finish());
}

/**
 * Decodes ONNX bytes back to plain objects (int64 fields as numbers, bytes as Uint8Array), for
 * inspection and tests. Unknown fields are skipped.
 */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  const { ModelProto } = onnxTypes();
  const msg = ModelProto.decode(bytes);
  return ModelProto.toObject(msg, { longs: Number, arrays: true }) as unknown as OnnxModel;
}

/**
 * `gradkit/onnx`: ONNX export (browser-safe: no Node imports; protobufjs encodes the bytes). A
 * separate entry so that protobufjs is not part of a bundle of the main `gradkit` entry.
 *
 * ```ts
 * import { exportOnnx } from 'gradkit/onnx';
 * const bytes = exportOnnx(model, { inputShape: [1, 1, 28, 28] });
 * ```
 */
export {
  exportOnnx, buildOnnxModel, describeModule, registerOnnxConverter, findOnnxConverter, onnxAttr, decodeOnnxModel,
  encodeOnnxModel, OnnxDataType, readFloatTensor, ONNX_OPSETS,
  type ExportOnnxOptions, type OnnxConverter, type OnnxConverterContext, type OnnxValue, type OnnxAttrValue, type OnnxModel,
  type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxAttribute, type OnnxValueInfo,
} from './io/onnx/index.js';

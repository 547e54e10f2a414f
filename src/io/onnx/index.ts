/** ONNX export (browser-safe: no Node imports; protobufjs encodes the bytes). */
export { exportOnnx, buildOnnxModel, describeModule, ONNX_OPSETS, type ExportOnnxOptions } from './export.js';
export { registerOnnxConverter, findOnnxConverter, type OnnxConverter, type OnnxConverterContext, type OnnxValue } from './registry.js';
export { onnxAttr, type OnnxAttrValue } from './graph.js';
export { decodeOnnxModel, encodeOnnxModel, OnnxDataType, type OnnxModel, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxAttribute, type OnnxValueInfo } from './schema.js';
export { readFloatTensor } from './tensor.js';

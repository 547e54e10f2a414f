/** Model files: the safetensors codec and gradkit model files built on it. Browser-safe (no Node imports). */
export { saveSafetensors, loadSafetensors, type SafetensorsContents, type SafetensorsMetadata, type SaveSafetensorsOptions, type LoadSafetensorsOptions } from './safetensors.js';
export {
  saveModel, loadModelWeights, readModelFile, saveModelFile, loadModelFile, MODEL_FORMAT,
  type SaveModelOptions, type ModelFile, type Json, type ReadModelOptions,
} from './model-file.js';
export { loadModel, loadModelFrom, type LoadedModel } from './load-model.js';
export {
  importKerasWeights, importKerasFrom, concatShards,
  type KerasModelJson, type KerasManifestGroup, type KerasWeightSpec, type KerasImportOptions, type KerasImportResult,
} from './keras.js';
// ONNX export lives in the 'gradkit/onnx' entry (src/onnx.ts) so protobufjs stays out of core bundles.

/**
 * TensorProto encoding: float data as float32 raw_data and int64 data (shapes, axes) as int64
 * raw_data, both little endian as the ONNX spec requires. A DataView writes the bytes so the
 * result does not depend on the host's byte order.
 */
import { GradkitError, fmtShape } from '../../core/errors.js';
import { OnnxDataType, type OnnxTensor } from './schema.js';

/** A float32 initializer. float64 values are rounded to float32 (ONNX Runtime's CPU kernels are float32). */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): OnnxTensor {
  const size = dims.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw new GradkitError('exportOnnx', `initializer '${name}' has shape ${fmtShape(dims)} (${size} values) but ${values.length} values were given`);
  }
  const bytes = new Uint8Array(size * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < size; i++) view.setFloat32(i * 4, values[i], true);
  return { name, dims: [...dims], dataType: OnnxDataType.FLOAT, rawData: bytes };
}

/** A 1-D int64 initializer (Reshape targets, axes). */
export function int64Tensor(name: string, values: readonly number[]): OnnxTensor {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    if (!Number.isSafeInteger(v)) throw new GradkitError('exportOnnx', `int64 initializer '${name}' needs whole numbers, got ${v}`);
    view.setBigInt64(i * 8, BigInt(v), true);
  });
  return { name, dims: [values.length], dataType: OnnxDataType.INT64, rawData: bytes };
}

/** Reads a float32 TensorProto's values back (raw_data or float_data), for tests and inspection. */
export function readFloatTensor(t: { name?: string; dataType?: number; rawData?: Uint8Array; floatData?: number[] }): Float32Array {
  if (t.dataType !== OnnxDataType.FLOAT) throw new GradkitError('readFloatTensor', `tensor '${t.name ?? ''}' has data type ${String(t.dataType)}, not FLOAT (1)`);
  if (t.rawData !== undefined && t.rawData.length > 0) {
    if (t.rawData.length % 4 !== 0) throw new GradkitError('readFloatTensor', `tensor '${t.name ?? ''}' has ${t.rawData.length} raw bytes, not a multiple of 4`);
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    const out = new Float32Array(t.rawData.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  return Float32Array.from(t.floatData ?? []);
}

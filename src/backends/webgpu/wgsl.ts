/**
 * WGSL building blocks shared by the kernels. Every buffer is 32-bit words (see GpuTensor);
 * `prm` is the dispatch's u32 parameter block (always the last binding).
 */
import type { DType } from '../../core/dtype.js';

/** The WGSL scalar a dtype computes in: bool is 0/1 in an i32. */
export function wgslType(dtype: DType): 'f32' | 'i32' {
  return dtype === 'float32' ? 'f32' : 'i32';
}

/** Thread index for 1-D grids folded into x and y (see GpuContext.grid). */
export const INDEX = /* wgsl */ `
fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 64u; }
`;

export const NAN = /* wgsl */ `
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// Through a var: WGSL rejects NaN and ±∞ as constant expressions.
fn nan_() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
fn pinf_() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }
fn ninf_() -> f32 { var b = 0xff800000u; return bitcast<f32>(b); }
`;

/**
 * Binding declarations: `decl(i, name, type, rw)` → one storage binding. Read-only bindings
 * may alias each other; outputs are always fresh buffers.
 */
export function decl(binding: number, name: string, type: string, write = false): string {
  return `@group(0) @binding(${binding}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${type}>;`;
}

export function prmDecl(binding: number): string {
  return `@group(0) @binding(${binding}) var<storage, read> prm: array<u32>;`;
}

/**
 * Offset of output element `i` in operand `j` for strided kernels. Layout of prm:
 * [total, rank, shape[rank], then per operand: offset, strides[rank]] — strides and offsets
 * are i32 bit patterns (negative steps walk backwards).
 */
export const STRIDED = /* wgsl */ `
fn stridedOffset(i: u32, j: u32) -> u32 {
  let r = prm[1];
  let base = 2u + r + j * (r + 1u);
  var rem = i;
  var off = bitcast<i32>(prm[base]);
  for (var d = i32(r) - 1; d >= 0; d--) {
    let dim = prm[2u + u32(d)];
    let c = rem % dim;
    rem = rem / dim;
    off += i32(c) * bitcast<i32>(prm[base + 1u + u32(d)]);
  }
  return u32(off);
}
`;

/** The params of a strided kernel: total, rank, shape, then (offset, strides) per operand. */
export function stridedParams(shape: readonly number[], operands: readonly { offset: number; strides: readonly number[] }[]): number[] {
  const total = shape.reduce((a, b) => a * b, 1);
  const p = [total, shape.length, ...shape];
  for (const o of operands) p.push(o.offset | 0, ...o.strides.map((s) => s | 0));
  // Negative i32 values become their u32 bit patterns when stored into a Uint32Array.
  return p.map((v) => v >>> 0);
}

export function f32Bits(v: number): number {
  return new Uint32Array(new Float32Array([v]).buffer)[0];
}

export function i32Bits(v: number): number {
  return v >>> 0;
}

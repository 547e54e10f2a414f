/**
 * WebAssembly relaxed SIMD (here: fused multiply-add, which lets the GEMM use a 6×8 register tile
 * instead of 5×8; measured ~20% faster SGEMM on this project's 2-core test machine) is a
 * finished part of the WebAssembly standard that V8 enables by default from 11.4 (Node ≥ 22,
 * Chrome ≥ 114). Node 20 ships it behind --experimental-wasm-relaxed-simd. Programs that own
 * their process (the gradkit CLI, the benchmark) turn it on here; a library must not change its
 * host's V8 flags, so the backend itself only uses what the runtime already allows.
 */
import v8 from 'node:v8';
import { pickBinary } from '../backends/wasm/detect.js';

export type RelaxedSimdState = 'default' | 'enabled' | 'unavailable';

/**
 * Makes relaxed SIMD available to wasm compiled from now on (call it before the wasm backend is
 * first used). Returns 'default' when the runtime had it already, 'enabled' when the flag turned
 * it on, 'unavailable' when this runtime has no relaxed SIMD at all.
 */
export function enableRelaxedSimd(): RelaxedSimdState {
  if (pickBinary('relaxed-simd')) return 'default';
  try {
    v8.setFlagsFromString(RELAXED_SIMD_FLAG);
  } catch {
    return 'unavailable';
  }
  return pickBinary('relaxed-simd') ? 'enabled' : 'unavailable';
}

/**
 * The node command-line flag that gives a child process (same node binary) relaxed SIMD, or null
 * when it needs none or none helps. Finds out by turning the flag on in this process (V8 ignores
 * flags it does not know, so only a working flag makes the relaxed binary validate).
 */
export function relaxedSimdFlagForChildren(): string | null {
  return enableRelaxedSimd() === 'enabled' ? RELAXED_SIMD_FLAG : null;
}

const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

import { RELAXED_WASM_BASE64, SIMD_WASM_BASE64 } from './generated/kernels.js';

export type Flavour = 'relaxed-simd' | 'simd';

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  // atob exists in browsers and in Node ≥ 16, so no Buffer (a Node API) is needed.
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Whether this runtime can create a shared WebAssembly.Memory (threads proposal, SharedArrayBuffer). */
export function hasSharedMemory(): boolean {
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * The best kernel binary this runtime accepts. Validating the real binaries (rather than a probe)
 * tests exactly the features they use: relaxed SIMD (Node 20 has it only behind
 * --experimental-wasm-relaxed-simd), then plain SIMD. Null when neither validates or shared
 * memory is missing, and the reference backend is used instead.
 * `force` restricts the choice (tests, or users who want bit-stable results across machines).
 */
export function pickBinary(force?: Flavour): { flavour: Flavour; bytes: Uint8Array<ArrayBuffer> } | null {
  if (typeof WebAssembly !== 'object' || !hasSharedMemory()) return null;
  const candidates: [Flavour, string][] = [['relaxed-simd', RELAXED_WASM_BASE64], ['simd', SIMD_WASM_BASE64]];
  for (const [flavour, b64] of candidates) {
    if (force && force !== flavour) continue;
    const bytes = decodeBase64(b64);
    if (WebAssembly.validate(bytes)) return { flavour, bytes };
  }
  return null;
}

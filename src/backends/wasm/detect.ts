import { RELAXED_WASM_BASE64, SIMD_WASM_BASE64 } from './generated/kernels.js';
import { unshareMemoryImport } from './unshare.js';

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
 * Whether the kernels should use a shared memory (and so threads): `shared` when given, else
 * false when GRADKIT_WASM_SHARED_MEMORY=0 (tests the browser's non-isolated path on Node), else
 * whether this runtime has shared memory at all.
 */
export function wantSharedMemory(shared?: boolean): boolean {
  if (shared !== undefined) return shared && hasSharedMemory();
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.GRADKIT_WASM_SHARED_MEMORY;
  if (env === '0' || env === 'false') return false;
  return hasSharedMemory();
}

/**
 * The best kernel binary this runtime accepts. Validating the real binaries (rather than a probe)
 * tests exactly the features they use: relaxed SIMD (Node 20 has it only behind
 * --experimental-wasm-relaxed-simd), then plain SIMD. Without `shared` the binary's memory import
 * is patched to a plain memory (see unshare.ts), for runtimes without SharedArrayBuffer. Null
 * when neither validates, and the reference backend is used instead.
 * `force` restricts the choice (tests, or users who want bit-stable results across machines).
 */
export function pickBinary(force?: Flavour, shared = true): { flavour: Flavour; bytes: Uint8Array<ArrayBuffer> } | null {
  if (typeof WebAssembly !== 'object') return null;
  if (shared && !hasSharedMemory()) return null;
  const candidates: [Flavour, string][] = [['relaxed-simd', RELAXED_WASM_BASE64], ['simd', SIMD_WASM_BASE64]];
  for (const [flavour, b64] of candidates) {
    if (force && force !== flavour) continue;
    const raw = decodeBase64(b64);
    const bytes = shared ? raw : unshareMemoryImport(raw);
    if (WebAssembly.validate(bytes)) return { flavour, bytes };
  }
  return null;
}

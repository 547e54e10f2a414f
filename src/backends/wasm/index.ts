/**
 * The WebAssembly SIMD backend ("wasm"), registered at priority 10 so it is the default wherever
 * WebAssembly SIMD and shared memory exist (reference otherwise).
 *
 * How it fits together:
 * - assembly/*.ts (AssemblyScript) holds the kernels: a packed, register-blocked SGEMM and
 *   im2col/col2im convolutions. scripts/build-wasm.mjs compiles it twice (plain SIMD, and relaxed
 *   SIMD with FMA) into base64 strings in generated/kernels.ts; detect.ts picks the best binary
 *   this runtime validates.
 * - runtime.ts owns one shared WebAssembly.Memory, managed by heap.ts (first fit, coalescing,
 *   64-byte aligned). A buffer is either a plain typed array (GC-owned: uploads, reference and JS
 *   kernels' outputs) or a Resident block of that memory, owned by its tensor and returned to the
 *   heap by backend.free (dispose, scopes, the GC safety net; needsFree names them). The wasm
 *   fast kernels read resident inputs in place (plain ones are copied into the per-call scratch
 *   arena, whose chunks also come from the heap) and write their outputs into new resident
 *   blocks: no copies between chained fast kernels. resident.ts wraps the kernel table: every
 *   other kernel gets a view of a resident input made at the call, and its output stays plain.
 * - At the memory cap (MAX_PAGES = 2 GiB, or options.memoryLimit) a fast kernel whose output gets
 *   no block writes it to scratch and copies it out into a plain array (the old path), and a call
 *   whose scratch does not fit runs the reference kernel (ScratchFull): slower, still correct,
 *   never a crash. The memory never shrinks.
 * - threadpool.ts runs a kernel on the caller plus workers (src/platform adapters) that share
 *   that memory; kernels stay synchronous: the caller does its share, then waits in Atomics.wait.
 * - elementwise/reduce/pool2d/shape.ts are float32 fast paths in plain JS (memory-bound ops where
 *   a copy into wasm would cost what it saves); wasmelementwise.ts sends the few memory-bound ops
 *   that pay for the copies (relu, its gradient, max pooling and its gradient, bias-style add/mul of large
 *   tensors) through wasm. Everything else, and every non-float32 dtype, is the reference kernel.
 */
import { GradkitError } from '../../core/errors.js';
import type { Backend } from '../../backend/backend.js';
import { getBackend, registerBackend } from '../../backend/registry.js';
import { referenceKernels } from '../reference/index.js';
import { makeConv } from './conv.js';
import type { Flavour } from './detect.js';
import { where } from './elementwise.js';
import { makeMatmul } from './matmul.js';
import { avgPool2d, avgPool2dBackward } from './pool2d.js';
import { makeWasmElementwise } from './wasmelementwise.js';
import { makeAdamUpdate, makeRmspropUpdate } from './optim.js';
import { makeBatchNorm } from './normalization.js';
import { reduce } from './reduce.js';
import { broadcastTo, transpose } from './shape.js';
import { logSoftmax, softmax } from './softmax.js';
import { WasmRuntime } from './runtime.js';
import { residentBuffers, residentKernels } from './resident.js';
import { MAX_SLICES } from './worker-source.js';

/** The WebAssembly backend: a Backend plus its binary flavour, thread control and GEMM measurement. */
export interface WasmBackend extends Backend {
  readonly flavour: Flavour;
  /** Threads kernels may use (the calling thread included). */
  readonly threads: number;
  /**
   * Whether its memory is shared (threads possible). False where SharedArrayBuffer is missing
   * (a page that is not cross-origin isolated) or GRADKIT_WASM_SHARED_MEMORY=0: one thread.
   */
  readonly sharedMemory: boolean;
  /** Resolves once its worker threads have started (see ready()). */
  whenReady(): Promise<void>;
  setNumThreads(n: number): void;
  /**
   * Measures the GEMM's ceiling on this machine now, in GFLOP/s: its micro-kernel on
   * L1-resident panels (no packing, no cache misses), on `threads` threads at once (default:
   * all); about 0.2 s. Speeds of shared or throttled machines move; benchmarks report kernel
   * speed as a share of this.
   */
  simdPeak(threads?: number): number;
  /** Counters: kernel jobs run in wasm, and those split across threads. */
  stats(): { jobs: number; parallelJobs: number; backoffs: number };
  /**
   * Resident memory: live heap blocks (tensor blocks and scratch chunks) and their bytes, and
   * the size of the wasm memory (it never shrinks).
   */
  residentMemory(): { blocks: number; bytes: number; memoryBytes: number };
}

/** Options for creating the WebAssembly backend: binary flavour, thread count and memory sharing. */
export interface WasmBackendOptions {
  /** Restrict to one binary ('simd' or 'relaxed-simd'); default: the best the runtime validates. */
  flavour?: Flavour;
  /** Thread count, caller included; default GRADKIT_NUM_THREADS or the number of cores. */
  threads?: number;
  /**
   * Run single-threaded for a while when workers are evidently not getting CPU time (a busy
   * shared machine); see joinmonitor.ts. Default true; tests that must see every job split
   * across threads turn it off.
   */
  adaptive?: boolean;
  /**
   * Use a shared memory (needed for threads). Default: true where the runtime has
   * SharedArrayBuffer, unless GRADKIT_WASM_SHARED_MEMORY=0. False runs one thread on a plain
   * memory, the path of browser pages that are not cross-origin isolated.
   */
  sharedMemory?: boolean;
  /**
   * The most bytes its wasm memory may grow to (default and ceiling 2 GiB): past it, fast-kernel
   * outputs come back as plain arrays and calls that find no scratch run the reference kernel.
   * For tests of that fallback.
   */
  memoryLimit?: number;
}

/**
 * The WebAssembly SIMD backend: the reference kernel table with the training hot spots replaced.
 * Returns null when the runtime lacks WebAssembly SIMD.
 */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend | null {
  if (options.threads !== undefined) checkThreads('createWasmBackend', options.threads);
  if (options.flavour !== undefined && options.flavour !== 'simd' && options.flavour !== 'relaxed-simd') {
    throw new GradkitError('createWasmBackend', `flavour must be 'simd' or 'relaxed-simd', got '${String(options.flavour)}'`);
  }
  const rt = WasmRuntime.create(options.flavour, options.threads, options.adaptive ?? true, options.sharedMemory, options.memoryLimit);
  if (!rt) return null;
  const kernels = {
    ...referenceKernels,
    matmul: makeMatmul(rt),
    ...makeConv(rt),
    ...makeWasmElementwise(rt),
    // SGD's step is one multiply-add per element: the reference loop, no copies, is as fast.
    adamUpdate: makeAdamUpdate(rt),
    rmspropUpdate: makeRmspropUpdate(rt),
    ...makeBatchNorm(rt),
    where,
    reduce,
    transpose,
    broadcastTo,
    softmax,
    logSoftmax,
    avgPool2d,
    avgPool2dBackward,
  };
  return {
    name: 'wasm',
    kernels: residentKernels(rt, kernels, RESIDENT_AWARE, referenceKernels as unknown as Record<string, unknown>),
    ...residentBuffers(rt),
    residentMemory: () => ({ blocks: rt.heap.liveBlocks, bytes: rt.heap.liveBytes, memoryBytes: rt.memory.buffer.byteLength }),
    flavour: rt.flavour,
    get threads() {
      return rt.threads;
    },
    sharedMemory: rt.shared,
    whenReady: () => rt.whenReady(),
    setNumThreads(n: number) {
      checkThreads('setNumThreads', n);
      rt.setThreads(n);
    },
    simdPeak(threads?: number) {
      if (threads !== undefined) checkThreads('simdPeak', threads);
      return rt.simdPeak(Math.min(threads ?? rt.threads, rt.threads));
    },
    stats: () => ({ jobs: rt.jobs, parallelJobs: rt.parallelJobs, backoffs: rt.backoffs }),
    dispose: () => rt.dispose(),
    describe: () =>
      `wasm (${rt.flavour === 'relaxed-simd' ? 'simd, relaxed-simd fma' : 'simd'}, ` +
      `${rt.exports.microRows()}x8 micro-kernel, ${rt.threads} thread${rt.threads === 1 ? '' : 's'})`,
  };
}

/** The wasm fast kernels that take resident blocks by address and return resident outputs. */
const RESIDENT_AWARE: ReadonlySet<string> = new Set([
  'matmul', 'conv2d', 'conv2dBackwardInput', 'conv2dBackwardFilter', 'unary', 'binary', 'reluBackward', 'maxPool2d',
  'maxPool2dBackward', 'biasAct', 'biasActBackward', 'adamUpdate', 'rmspropUpdate', 'batchNormForwardTrain', 'batchNormBackward',
]);

/** The pool splits a job into at most MAX_SLICES slices (one per thread), so more threads cannot run. */
function checkThreads(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SLICES) throw new GradkitError(op, `thread count must be an integer in 1..${MAX_SLICES} (the thread pool's limit), got ${n}`);
}

/**
 * Sets the wasm backend's thread count (caller included). Applies to the registered 'wasm'
 * backend whether or not it is the current one; throws if it cannot run here.
 */
export function setNumThreads(n: number): void {
  const b = wasmInstance();
  if (!b) throw new GradkitError('setNumThreads', 'the wasm backend is not available in this runtime');
  b.setNumThreads(n);
}

/** The wasm backend's thread count, or 1 when it is not available. */
export function getNumThreads(): number {
  return wasmInstance()?.threads ?? 1;
}

let instance: WasmBackend | null | undefined;
function wasmInstance(): WasmBackend | null {
  if (instance === undefined) {
    instance = createWasmBackend();
    const later = instance === null ? WasmRuntime.asyncReady() : null;
    if (later) {
      // Compiled in the background (browser main thread): register again so the registry, which
      // cached "unavailable", re-creates it and makes it the default unless the user chose one.
      void later.then((ok) => {
        if (!ok) return;
        instance = undefined;
        registerBackend('wasm', wasmInstance, 10);
      });
    }
  }
  return instance;
}

/**
 * Resolves true when the wasm backend is available and its worker threads have started (at once
 * on Node; after a background compile on a browser's main thread, where synchronous compilation
 * of the kernels is not allowed; after the pool's workers check in inside a Web Worker, where
 * they start only while the thread yields to its event loop).
 */
export async function wasmReady(): Promise<boolean> {
  let b = wasmInstance();
  if (!b) {
    const later = WasmRuntime.asyncReady();
    if (!later || !(await later)) return false;
    b = wasmInstance();
    if (!b) return false;
  }
  await b.whenReady();
  return true;
}

/** What `ready()` found: the default backend's name and the threads its kernels may use. */
export interface ReadyInfo {
  backend: string;
  threads: number;
}

/**
 * Resolves once the default backend can run at full speed: the wasm kernels compiled and their
 * worker threads started. Await it before training in a browser (above all in a Web Worker, where
 * the first kernel would otherwise run before the threads exist).
 *
 * ```ts
 * const { backend, threads } = await ready(); // e.g. { backend: 'wasm', threads: 8 }
 * ```
 */
export async function ready(): Promise<ReadyInfo> {
  await wasmReady();
  const b = getBackend();
  return { backend: b.name, threads: isWasmBackend(b) ? b.threads : 1 };
}

/** True when `b` is a wasm backend (so callers can reach setNumThreads / flavour). */
export function isWasmBackend(b: Backend = getBackend()): b is WasmBackend {
  return b.name === 'wasm' && 'setNumThreads' in b;
}

registerBackend('wasm', wasmInstance, 10);

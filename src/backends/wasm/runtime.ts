import { GradkitError } from '../../core/errors.js';
import { getPlatform, platformReady } from '../../platform/index.js';
import { pickBinary, wantSharedMemory, type Flavour } from './detect.js';
import { warnMemoryFull, warnSingleThreaded } from './notice.js';
import { ThreadPool } from './threadpool.js';
import { MAX_SLICES } from './worker-source.js';
import { JOB_CONV_BWD_FILTER, JOB_CONV_BWD_INPUT, JOB_CONV_FWD, JOB_GEMM, JOB_PEAK, JOB_WORDS } from './jobs.js';
import type { DataArray } from '../../core/dtype.js';
import { Heap, align64 } from './heap.js';
import { inScope } from '../../backend/ownership.js';

export { align64 };

/** Bytes below 64 KiB belong to the JS side: pool control blocks and job descriptors live there. */
const CTRL_BASE = 1024;
const JOB_BASE = 8192;
/** Scratch arena for operands starts above the module's (tiny) static data at 64 KiB. */
const ARENA_BASE = 128 * 1024;
const PAGE = 65536;
/** The wasm32 ceiling this module asks for: 2 GiB (32,768 pages of 64 KiB). */
export const MAX_PAGES = 32768;
/** Cache line bytes, and the element count from which persist() staggers a block (see there). */
const LINE = 64;
const STAGGER_MIN = 1024;
/** The first scratch chunk's size; a call that needed more gets one chunk of its total next time. */
const FIRST_CHUNK = 1 << 20;

/**
 * A tensor buffer resident in wasm memory (a block from the runtime's heap), the handle the wasm
 * fast kernels return instead of copying their result out. `at` is a byte address, `length` an
 * element count. Owned by one tensor storage: backend.free returns it to the heap.
 */
export class Resident {
  freed = false;
  constructor(
    readonly at: number,
    readonly length: number,
    readonly dtype: 'float32' | 'int32',
    /** The heap block's address, when the data starts past it (persist staggers long-lived buffers). */
    readonly block: number = at,
  ) {}
}

/** A wasm-backend buffer: a plain typed array (reference/JS kernels, uploads) or a resident block. */
export type Buf = DataArray | Resident;

/** Thrown when the scratch arena cannot get memory (the cap): the kernel reruns on its reference path. */
export class ScratchFull extends RangeError {}

interface KernelExports {
  run(job: number, tid: number, nt: number): void;
  gemmWorkspaceBytes(): number;
  microRows(): number;
  peakFlopsPerTrip(): number;
  peakBytes(): number;
}

/**
 * One instantiated kernel module: shared memory, a bump-allocated scratch arena reused by every
 * kernel call (reset at the start of each call, grown when a call needs more), and the thread pool.
 * Tensor buffers stay ordinary GC-owned typed arrays; only operands in flight visit wasm memory.
 */
export class WasmRuntime {
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  readonly flavour: Flavour;
  readonly gemmWsBytes: number;
  private readonly module: WebAssembly.Module;
  private pool: ThreadPool;
  private poolCount = 0;
  /** Resident tensor blocks and scratch chunks come from here (so they never overlap). */
  readonly heap: Heap;
  /** The scratch arena: chunks of the heap, bump-allocated within the current one. */
  private chunks: { at: number; size: number }[] = [];
  private top = 0;
  private chunkEnd = 0;
  private nextChunk = FIRST_CHUNK;
  private scratchBytes = 0;
  private f32 = new Float32Array(0);
  private i32 = new Int32Array(0);

  /**
   * Compiles and instantiates synchronously (the kernel table is synchronous). Chrome refuses
   * synchronous compilation of modules over 4 KB on a page's main thread (a RangeError); then
   * this returns null, compiles in the background, and `asyncReady` resolves once a later
   * create() can succeed — the backend module re-registers itself at that point.
   */
  static create(force?: Flavour, threads?: number, adaptive = true, sharedOption?: boolean, limitBytes?: number): WasmRuntime | null {
    const shared = wantSharedMemory(sharedOption);
    const bin = pickBinary(force, shared);
    if (!bin) return null;
    if (prepared && prepared.flavour === bin.flavour && prepared.shared === shared) {
      const p = prepared;
      prepared = null;
      return new WasmRuntime(p.flavour, p.module, p.memory, p.instance, threads, adaptive, shared, limitBytes);
    }
    try {
      const module = new WebAssembly.Module(bin.bytes);
      const memory = newMemory(shared);
      const instance = new WebAssembly.Instance(module, importsFor(memory));
      return new WasmRuntime(bin.flavour, module, memory, instance, threads, adaptive, shared, limitBytes);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      pending ??= prepareAsync(bin.flavour, bin.bytes, shared);
      return null;
    }
  }

  /** Resolves true once a background compilation (see create) has finished successfully. */
  static asyncReady(): Promise<boolean> | null {
    return pending;
  }

  private constructor(
    flavour: Flavour, module: WebAssembly.Module, memory: WebAssembly.Memory, instance: WebAssembly.Instance,
    threads: number | undefined, private readonly adaptive: boolean,
    /** False when the memory is a plain one (no SharedArrayBuffer): then one thread only. */
    readonly shared: boolean,
    limitBytes = MAX_PAGES * PAGE,
  ) {
    this.heap = new Heap(memory, ARENA_BASE, Math.min(limitBytes, MAX_PAGES * PAGE));
    this.flavour = flavour;
    this.module = module;
    this.memory = memory;
    this.exports = instance.exports as unknown as KernelExports;
    this.gemmWsBytes = this.exports.gemmWorkspaceBytes();
    this.refreshViews();
    this.warmUp();
    const requested = threads;
    this.pool = this.newPool(requested ?? defaultThreads());
    if (requested !== 1) warnSingleThreaded(shared, getPlatform());
    // On hosts whose thread adapter loads asynchronously, start the real pool once it is there.
    const first = getPlatform();
    void platformReady.then((p) => {
      if (p !== first && this.pool.size === 1 && !this.disposed) this.setThreads(requested ?? defaultThreads());
    });
  }

  /**
   * Runs each kernel a few times on tiny inputs (~2 ms). V8 starts wasm in its baseline compiler
   * (Liftoff, ~3× slower here) and tiers hot functions up in the background; measured on Node 20,
   * without this the first few hundred milliseconds of real GEMMs ran at baseline speed, with it
   * they run optimized. The compiled code is shared with the workers (same WebAssembly.Module).
   */
  private warmUp(): void {
    const exports = this.exports;
    const job = JOB_BASE >> 2;
    const run = (words: number[]) => {
      this.i32.fill(0, job, job + JOB_WORDS);
      this.i32.set(words, job);
      exports.run(JOB_BASE, 0, 1);
    };
    this.reset();
    const a = this.alloc(64 * 64 * 4);
    const b = this.alloc(64 * 64 * 4);
    const c = this.alloc(64 * 64 * 4);
    const ws = this.alloc(this.gemmWsBytes + 64 * 64 * 4);
    this.refreshViews();
    this.f32.fill(0.5, a >> 2, (a >> 2) + 3 * 64 * 64);
    // conv geometry: n 1, cIn 4, 6×6, cOut 8, 3×3, stride 1, pad 1, dilation 1, groups 1 → 6×6.
    const geo = [1, 4, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 6, 6];
    for (let i = 0; i < 20; i++) {
      run([JOB_GEMM, 1, 64, 64, 64, a, 64, 1, 0, b, 64, 1, 0, c, 64, 0, 0, ws, 0]);
      run([JOB_GEMM, 1, 64, 64, 64, a, 1, 64, 0, b, 1, 64, 0, c, 64, 0, 0, ws, 0]);
      run([JOB_CONV_FWD, ...geo, a, b, c, 0, ws, 0]);
      run([JOB_CONV_BWD_INPUT, ...geo, a, b, c, 0, ws, 0]);
      run([JOB_CONV_BWD_FILTER, ...geo, a, b, c, 0, ws, 0]);
    }
    this.reset();
  }

  private disposed = false;
  /** Kernel jobs run in wasm so far, and how many of them used several threads. */
  jobs = 0;
  private retiredParallel = 0;
  get parallelJobs(): number {
    return this.retiredParallel + this.pool.parallelJobs;
  }
  private retiredWorker = 0;
  /** Jobs in which a worker thread actually ran a slice (the rest of the offered ones ran on the caller). */
  get workerJobs(): number {
    return this.retiredWorker + this.pool.workerJobs;
  }

  private newPool(n: number): ThreadPool {
    // Workers need the memory shared with them; a plain memory stays on this thread.
    if (!this.shared) n = 1;
    // Each pool gets a fresh control block, so workers of a stopped pool can never see its jobs.
    const ctrl = CTRL_BASE + 64 * (this.poolCount++ % 64);
    return new ThreadPool(getPlatform(), this.module, this.memory, ctrl, n, (j, t, nt) => this.exports.run(j, t, nt), this.adaptive);
  }

  get threads(): number {
    return this.pool.size;
  }

  /** Times the pool set threads aside because workers were not getting CPU (see JoinMonitor). */
  get backoffs(): number {
    return this.pool.monitor.backoffs;
  }

  setThreads(n: number): void {
    this.retiredParallel += this.pool.parallelJobs;
    this.retiredWorker += this.pool.workerJobs;
    this.pool.stop();
    this.pool = this.newPool(n);
  }

  /**
   * Resolves once the pool's workers have started (or were given up on): in a browser a worker's
   * own workers start only while it yields to its event loop, so callers await this before the
   * first kernel instead of blocking in it.
   */
  async whenReady(): Promise<void> {
    await platformReady;
    // platformReady's own handler (constructor) may have replaced the pool: wait for the current one.
    await Promise.resolve();
    await this.pool.whenReady();
  }

  dispose(): void {
    this.disposed = true;
    this.pool.stop();
  }

  private refreshViews(): void {
    if (this.f32.buffer !== this.memory.buffer || this.f32.byteLength !== this.memory.buffer.byteLength) {
      const buf = this.memory.buffer;
      this.f32 = new Float32Array(buf);
      this.i32 = new Int32Array(buf);
    }
  }

  /**
   * Starts a kernel call: forget every previous scratch allocation. A call that spilled into
   * several chunks leaves one chunk of their total for the next (the arena's high-water mark).
   */
  reset(): void {
    if (this.chunks.length > 1) {
      let total = 0;
      for (const c of this.chunks) {
        total += c.size;
        this.heap.free(c.at);
      }
      this.chunks = [];
      this.scratchBytes = 0;
      this.nextChunk = total;
      this.top = this.chunkEnd = 0;
    } else if (this.chunks.length === 1) {
      this.top = this.chunks[0].at;
    }
  }

  /**
   * Whether a kernel call needing about `bytes` of scratch (operands + workspace) fits in wasm
   * memory next to the resident blocks; callers fall back to the reference kernel when it does
   * not (slow but correct). Fragmentation can still refuse a chunk: then alloc throws ScratchFull
   * and the kernel table's wrapper reruns the call on the reference kernel.
   */
  canHold(bytes: number): boolean {
    const fits = ARENA_BASE + bytes + 64 * 16 + (this.heap.liveBytes - this.scratchBytes) <= this.heap.limitBytes;
    if (!fits) this.full();
    return fits;
  }

  /** The memory refused a buffer (the cap): the first time, a warning (see notice.ts). */
  private warnedFull = false;
  private full(): void {
    if (this.warnedFull) return;
    this.warnedFull = true;
    warnMemoryFull(this.heap.limitBytes);
  }

  /** Reserves `bytes` of scratch (64-byte aligned), growing memory if needed; returns its address. */
  alloc(bytes: number): number {
    const size = align64(bytes);
    if (this.top + size <= this.chunkEnd && this.chunks.length > 0) {
      const at = this.top;
      this.top += size;
      return at;
    }
    const chunk = Math.max(size, this.nextChunk);
    const at = this.heap.alloc(chunk);
    if (at < 0) {
      this.full();
      throw new ScratchFull(`gradkit wasm: no room for ${chunk} bytes of scratch under the ${this.heap.limitBytes}-byte memory limit`);
    }
    this.chunks.push({ at, size: chunk });
    this.scratchBytes += chunk;
    this.nextChunk = FIRST_CHUNK;
    this.top = at + size;
    this.chunkEnd = at + chunk;
    return at;
  }

  /**
   * Where a kernel writes an output of `len` float32 values: a fresh resident block (inside a
   * scope), or, outside one or when the heap is at its limit, scratch (then finish() copies it out into a plain array). Call it after
   * the call's other scratch allocations, so that a ScratchFull cannot strand a resident block.
   */
  output(len: number): number {
    // Outside a scope the tensor may never be disposed, and a small handle object gives the GC
    // no reason to run: the output is a plain array there (see src/backend/ownership.ts).
    if (inScope()) {
      const at = this.heap.alloc(4 * len);
      if (at >= 0) {
        this.outputs.add(at);
        return at;
      }
      this.full();
    }
    return this.alloc(4 * len);
  }
  /** Resident blocks handed out by output() and not yet wrapped by finish(). */
  private readonly outputs = new Set<number>();

  /** The handle for an output placed by output(): the resident block, or a plain copy of scratch. */
  finish(at: number, len: number, dtype: 'float32' | 'int32' = 'float32'): Buf {
    if (this.outputs.delete(at)) return new Resident(at, len, dtype);
    return dtype === 'float32' ? this.take(at, len) : this.takeInt32(at, len);
  }

  /** Returns a resident block to the heap; a second free of the same handle throws. */
  freeResident(r: Resident): void {
    if (r.freed) throw new Error('gradkit wasm: a resident buffer was freed twice');
    r.freed = true;
    this.heap.free(r.block);
  }

  /**
   * A resident copy of a long-lived float32 buffer (parameters, optimizer slots), so that the
   * fast kernels take it by address instead of copying it in, and the optimizer steps it in
   * place, every step; null when it is resident already, is not float32, or finds no room (then
   * it stays a plain array: slower, still correct).
   *
   * Large blocks start 1–15 cache lines past their block. A step streams the parameter, its
   * gradient and its slots side by side, and blocks allocated one after another with sizes that
   * are multiples of 4 KiB would all sit at the same address modulo 4096, where a load that
   * matches a pending store's low 12 bits waits for it (4K aliasing: measured 2–3× slower on the
   * benchmark MLP's Adam loop; src/optim/slots.ts staggers plain slot arrays for the same reason).
   */
  persist(b: Buf): Resident | null {
    if (b instanceof Resident || !(b instanceof Float32Array)) return null;
    const shift = b.length >= STAGGER_MIN ? LINE * (1 + (this.staggers++ % 15)) : 0;
    const block = this.heap.alloc(4 * b.length + shift);
    if (block < 0) {
      this.full();
      return null;
    }
    const at = block + shift;
    this.refreshViews();
    this.f32.set(b, at >> 2);
    return new Resident(at, b.length, 'float32', block);
  }
  private staggers = 0;

  /** A fresh typed-array view of a resident block (fresh: memory.grow replaces the buffer). */
  residentView(r: Resident): Float32Array | Int32Array {
    return r.dtype === 'float32' ? new Float32Array(this.memory.buffer, r.at, r.length) : new Int32Array(this.memory.buffer, r.at, r.length);
  }

  /** The array behind a buffer: itself, or a view of its resident block. */
  array(b: Buf): DataArray {
    return b instanceof Resident ? this.residentView(b) : b;
  }

  /** The array behind a buffer that may be absent (optional kernel arguments). */
  arrayOrNull(b: Buf | null): DataArray | null {
    return b === null ? null : this.array(b);
  }

  /**
   * The address of a float32 or int32 buffer (argmax) in wasm memory: its block if resident,
   * else a scratch copy.
   */
  ptr(b: Buf): number {
    return b instanceof Resident ? b.at : this.put(b as Float32Array | Int32Array);
  }

  /**
   * Gives back an output placed by output() that will not be finished (a later allocation of
   * the same call failed): a resident block returns to the heap; scratch needs nothing.
   */
  dropOutput(at: number): void {
    if (this.outputs.delete(at)) this.heap.free(at);
  }

  /** Copies a float32 or int32 array into fresh scratch and returns its address. */
  put(data: Float32Array | Int32Array): number {
    const at = this.alloc(data.length * 4);
    this.refreshViews();
    (data instanceof Int32Array ? this.i32 : this.f32).set(data, at >> 2);
    return at;
  }

  /**
   * A new GC-owned copy of `len` floats at `at`. slice() allocates a plain (non-shared)
   * ArrayBuffer and copies in one step, ~20% quicker than new Float32Array + set (no zero fill).
   */
  take(at: number, len: number): Float32Array {
    this.refreshViews();
    return this.f32.slice(at >> 2, (at >> 2) + len);
  }

  /** A new GC-owned copy of `len` int32 values at `at`. */
  takeInt32(at: number, len: number): Int32Array {
    this.refreshViews();
    return this.i32.slice(at >> 2, (at >> 2) + len);
  }

  /** A temporary view (valid until the next alloc) for summing partial results in JS. */
  view(at: number, len: number): Float32Array {
    this.refreshViews();
    return this.f32.subarray(at >> 2, (at >> 2) + len);
  }

  /**
   * The GEMM's ceiling in GFLOP/s on `nt` threads at once: its micro-kernel on L1-resident
   * panels (assembly/gemm.ts microPeak), the best of `repeats` runs of about `ms` milliseconds
   * each. What a benchmark compares kernel speed with on a machine whose speed moves.
   */
  simdPeak(nt: number, ms = 30, repeats = 5): number {
    const perTrip = this.exports.peakFlopsPerTrip();
    this.reset();
    const out = this.alloc(this.exports.peakBytes() * Math.max(1, nt));
    const once = (trips: number) => {
      const t0 = performance.now();
      this.runJob([JOB_PEAK, trips, out], nt);
      return performance.now() - t0;
    };
    // Calibrate the trip count on one thread's worth of work (slices run side by side).
    let trips = 1 << 16;
    for (let t = once(trips); t < ms / 4 && trips < 2 ** 30; t = once(trips)) trips *= 2;
    trips = Math.max(1, Math.round((trips * ms) / Math.max(once(trips), 1e-3)));
    let best = Infinity;
    for (let r = 0; r < repeats; r++) best = Math.min(best, once(trips));
    return (nt * trips * perTrip) / (best * 1e6);
  }

  /** A temporary float64 view (valid until the next alloc) of `len` doubles at `at` (8-aligned). */
  viewF64(at: number, len: number): Float64Array {
    return new Float64Array(this.memory.buffer, at, len);
  }

  /**
   * Writes a job block and runs it on up to `nt` threads. `f64` scalars (at most 8) go at byte
   * 64 of the block, after at most 16 integer words.
   */
  runJob(words: readonly number[], nt: number, f64?: readonly number[]): void {
    this.jobs++;
    this.refreshViews();
    this.i32.fill(0, JOB_BASE >> 2, (JOB_BASE >> 2) + JOB_WORDS);
    this.i32.set(words, JOB_BASE >> 2);
    if (f64) {
      if (words.length > 16 || f64.length > 8) throw new RangeError('gradkit wasm: a job with f64 scalars has at most 16 words and 8 scalars');
      new Float64Array(this.memory.buffer, JOB_BASE + 64, f64.length).set(f64);
    }
    this.pool.dispatch(JOB_BASE, nt);
  }
}

function newMemory(shared: boolean): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared });
}

function importsFor(memory: WebAssembly.Memory): WebAssembly.Imports {
  return { env: { memory, abort: () => { throw new Error('gradkit wasm abort'); } } };
}

interface Prepared {
  flavour: Flavour;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  instance: WebAssembly.Instance;
  shared: boolean;
}
/** A module compiled and instantiated in the background, waiting for the next create(). */
let prepared: Prepared | null = null;
let pending: Promise<boolean> | null = null;

async function prepareAsync(flavour: Flavour, bytes: Uint8Array<ArrayBuffer>, shared: boolean): Promise<boolean> {
  try {
    const module = await WebAssembly.compile(bytes);
    const memory = newMemory(shared);
    const instance = await WebAssembly.instantiate(module, importsFor(memory));
    prepared = { flavour, module, memory, instance, shared };
    return true;
  } catch {
    return false;
  }
}

/**
 * Default thread count: GRADKIT_NUM_THREADS when set (benchmarks, CI), else the core count
 * (capped at the pool's MAX_SLICES). A bad variable is an error here, not a crash at the first
 * parallel job.
 */
function defaultThreads(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.GRADKIT_NUM_THREADS;
  if (env === undefined || env.trim() === '') return Math.min(getPlatform().cores(), MAX_SLICES);
  const n = Number(env.trim());
  if (!Number.isInteger(n) || n < 1 || n > MAX_SLICES) {
    throw new GradkitError('wasm backend', `GRADKIT_NUM_THREADS=${env} is not a thread count in 1..${MAX_SLICES} (the thread pool's limit); set it in that range or unset it`);
  }
  return n;
}

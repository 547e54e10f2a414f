/// <reference types="@webgpu/types" />
/**
 * The buffer half of the WebGPU backend: handles, a size-bucketed buffer pool, uploads, async
 * reads, and `dispatch`, which runs one compute shader (pipelines cached by their WGSL source)
 * and, in debug mode, turns WebGPU's silent validation errors into errors naming the kernel.
 */
import { GradkitError } from '../../core/errors.js';
import { formatBytes, type DataArray, type DType } from '../../core/dtype.js';
import type { Handle } from '../../backend/handle.js';
import type { MemoryInfo } from '../../backend/backend.js';

/**
 * One tensor buffer on the GPU. Every dtype is stored as 32-bit words: float32 as f32, int32 as
 * i32, and bool as one u32 (0/1) per element. WGSL has no 8-bit storage type and its only sub-word
 * writes are atomics, so packing four bools per word would make every kernel that writes a mask
 * do read-modify-write atomics; masks are small next to activations, so 4 bytes each is cheap,
 * and it lets the data-movement kernels (transpose, slice, concat, pad, where) ignore dtypes.
 */
export class GpuTensor {
  freed = false;
  constructor(
    readonly buffer: GPUBuffer,
    readonly dtype: DType,
    readonly size: number,
    /** Bytes of the pooled buffer (its bucket), ≥ 4·size. */
    readonly capacity: number,
  ) {}
}

export const asHandle = (t: GpuTensor): Handle => t as unknown as Handle;

export function asGpu(h: Handle, op = 'webgpu'): GpuTensor {
  const t = h as unknown as GpuTensor;
  if (!(t instanceof GpuTensor)) {
    throw new GradkitError(op, 'this buffer does not belong to the webgpu backend (a tensor from another backend?)');
  }
  if (t.freed) throw new GradkitError(op, `this ${t.dtype} buffer of ${t.size} elements was freed`);
  return t;
}

export function checkDtype(op: string, dtype: DType): void {
  if (dtype === 'float64') {
    throw new GradkitError(op, 'dtype float64 is not supported on webgpu (WGSL has no f64); use float32 or another backend');
  }
}

/** Bucket for a request: powers of two up to 1 MiB, then 8 buckets per octave (≤ 12.5% waste). */
export function bucketBytes(bytes: number): number {
  const b = Math.max(16, bytes);
  const p = 2 ** Math.ceil(Math.log2(b));
  if (p <= 1 << 20) return p;
  const step = p / 16;
  return Math.ceil(b / step) * step;
}

/** Words of `data` as the GPU stores them (bool → u32 0/1). */
function toWords(dtype: DType, data: ArrayLike<number>): Float32Array | Int32Array | Uint32Array {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'int32':
      return data instanceof Int32Array ? data : Int32Array.from(data, (v) => Math.trunc(v));
    case 'bool':
      return Uint32Array.from(data, (v) => (v !== 0 ? 1 : 0));
    default:
      throw new GradkitError('webgpu', `dtype ${dtype} is not supported on webgpu`);
  }
}

const WG = 64;

/** One line from a multi-line WebGPU message. */
const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();

export class GpuContext {
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private liveBuffers = 0;
  private liveBytes = 0;
  private pooledBytes = 0;
  /** Errors captured since the last check, surfaced by the next `read` or `checkErrors`. */
  private readonly errors: Error[] = [];
  /** Error scopes not yet popped (debug mode); each removes itself when it settles. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    readonly device: GPUDevice,
    /** Wrap every dispatch in an error scope (tests, debugging): errors name kernel and shapes. */
    readonly debug: boolean,
  ) {
    // Outside debug mode errors still surface (without the kernel's name) instead of vanishing.
    device.addEventListener?.('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.errors.push(new GradkitError('webgpu', oneLine(e.message)));
    });
    // A lost device (driver reset, destroy()) fails every later read with the reason.
    void device.lost?.then((info) => {
      if (info.reason !== 'destroyed') this.errors.push(new GradkitError('webgpu', `the GPU device was lost: ${oneLine(info.message)}`));
    });
  }

  // ---- buffers ----

  private take(bytes: number): { buffer: GPUBuffer; capacity: number } {
    let capacity = bucketBytes(bytes);
    // Near the device's limit the bucket's slack may not fit: take the exact size instead.
    if (capacity > this.device.limits.maxBufferSize) capacity = Math.ceil(Math.max(bytes, 16) / 16) * 16;
    const list = this.pool.get(capacity);
    const reused = list?.pop();
    if (reused) {
      this.pooledBytes -= capacity;
      return { buffer: reused, capacity };
    }
    const buffer = this.device.createBuffer({
      size: capacity,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    return { buffer, capacity };
  }

  private give(buffer: GPUBuffer, capacity: number): void {
    let list = this.pool.get(capacity);
    if (!list) this.pool.set(capacity, (list = []));
    list.push(buffer);
    this.pooledBytes += capacity;
  }

  /**
   * An uninitialised tensor buffer (kernel outputs write every element). Reusing a pooled
   * buffer right away is safe: queue.writeBuffer and submits run in queue order, so work already
   * submitted that reads the old contents runs before anything written next.
   */
  empty(dtype: DType, size: number): GpuTensor {
    checkDtype('webgpu', dtype);
    // Past the binding limit a kernel could not bind the buffer: say so here, not as a
    // validation error deep in some later dispatch.
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (size * 4 > limit) {
      throw new GradkitError('webgpu', `a ${dtype} tensor of ${size} elements needs ${formatBytes(size * 4)}; this GPU binds at most ${formatBytes(limit)} per buffer`);
    }
    const { buffer, capacity } = this.take(size * 4);
    this.liveBuffers++;
    this.liveBytes += capacity;
    return new GpuTensor(buffer, dtype, size, capacity);
  }

  zeros(dtype: DType, size: number): GpuTensor {
    const t = this.empty(dtype, size);
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(t.buffer, 0, t.capacity);
    this.device.queue.submit([enc.finish()]);
    return t;
  }

  upload(dtype: DType, data: ArrayLike<number>): GpuTensor {
    checkDtype('upload', dtype);
    const t = this.empty(dtype, data.length);
    this.write(t, data);
    return t;
  }

  write(t: GpuTensor, data: ArrayLike<number>): void {
    if (data.length !== t.size) throw new GradkitError('write', `${data.length} values into a buffer of ${t.size}`);
    if (t.size === 0) return;
    const words = toWords(t.dtype, data);
    this.device.queue.writeBuffer(t.buffer, 0, words.buffer, words.byteOffset, t.size * 4);
  }

  free(t: GpuTensor): void {
    if (t.freed) return;
    t.freed = true;
    this.liveBuffers--;
    this.liveBytes -= t.capacity;
    this.give(t.buffer, t.capacity);
  }

  memory(): MemoryInfo & { pooledBytes: number } {
    return { buffers: this.liveBuffers, bytes: this.liveBytes, pooledBytes: this.pooledBytes };
  }

  /** Destroys the pooled (free) buffers, returning their memory to the driver. */
  trim(): void {
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    this.pooledBytes = 0;
  }

  async read(t: GpuTensor): Promise<DataArray> {
    const n = t.size;
    const words = new ArrayBuffer(n * 4);
    if (n > 0) {
      const staging = this.device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(t.buffer, 0, staging, 0, n * 4);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      new Uint8Array(words).set(new Uint8Array(staging.getMappedRange()));
      staging.unmap();
      staging.destroy();
    }
    await this.checkErrors();
    switch (t.dtype) {
      case 'float32':
        return new Float32Array(words);
      case 'int32':
        return new Int32Array(words);
      default:
        return Uint8Array.from(new Uint32Array(words));
    }
  }

  /** Throws the first WebGPU error captured since the last check (then forgets them all). */
  async checkErrors(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.errors.length > 0) {
      const first = this.errors[0];
      this.errors.length = 0;
      throw first;
    }
  }

  // ---- kernels ----

  private pipeline(code: string): GPUComputePipeline {
    let p = this.pipelines.get(code);
    if (!p) {
      const module = this.device.createShaderModule({ code });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.pipelines.set(code, p);
    }
    return p;
  }

  /**
   * Runs one compute shader: `bindings` are bound to @binding(0..) in order, then the u32 params
   * (as a read-only storage buffer, pooled like any buffer) at the next binding, and
   * `groups` workgroups are dispatched. `what` (kernel and shapes) names the dispatch in errors.
   */
  dispatch(what: () => string, code: string, bindings: readonly GPUBuffer[], params: ArrayLike<number>, groups: [number, number, number]): void {
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    const prm = Uint32Array.from(params);
    const p = this.take(Math.max(prm.byteLength, 4));
    this.device.queue.writeBuffer(p.buffer, 0, prm.buffer, 0, prm.byteLength);
    if (this.debug) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.device.pushErrorScope('internal');
    }
    const pipeline = this.pipeline(code);
    const entries: GPUBindGroupEntry[] = [...bindings, p.buffer].map((buffer, binding) => ({ binding, resource: { buffer } }));
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    // Safe to reuse at once: later writes to it are queued after this submit.
    this.give(p.buffer, p.capacity);
    if (this.debug) {
      const scopes = [this.device.popErrorScope(), this.device.popErrorScope(), this.device.popErrorScope()];
      const done: Promise<void> = Promise.all(scopes).then((errs) => {
        this.pending.delete(done);
        const e = errs.find((x) => x !== null);
        if (e) this.errors.push(new GradkitError(`webgpu kernel ${what()}`, oneLine(e.message)));
      }, (e: Error) => {
        // popErrorScope rejects only when the device is gone: report that once, like an error.
        this.pending.delete(done);
        this.errors.push(new GradkitError(`webgpu kernel ${what()}`, oneLine(String(e?.message ?? e))));
      });
      this.pending.add(done);
    }
  }

  /** Workgroups for one thread per element (64 per group), folded into y past 65535. */
  grid(n: number, perGroup = WG): [number, number, number] {
    const groups = Math.ceil(n / perGroup);
    if (groups <= 65535) return [groups, 1, 1];
    return [65535, Math.ceil(groups / 65535), 1];
  }

  /** Workgroups for one group per row. */
  rowGrid(rows: number): [number, number, number] {
    return this.grid(rows, 1);
  }
}

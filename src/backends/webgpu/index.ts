/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend: tensor buffers live in GPU memory, kernels are WGSL compute shaders, and
 * reads are asynchronous (`await t.data()`). Acquiring a device is asynchronous while backend
 * factories are not, so `initWebGPU()` acquires first and then registers the backend:
 *
 *   const info = await initWebGPU();      // null reason when no adapter is available
 *   setBackend('webgpu');
 */
import { GradkitError } from '../../core/errors.js';
import { dtypeOfArray, type DataArray, type DType } from '../../core/dtype.js';
import type { Backend, MemoryInfo } from '../../backend/backend.js';
import type { Handle } from '../../backend/handle.js';
import { registerBackend } from '../../backend/registry.js';
import { acquireDevice, describeAdapter, type AcquireOptions, type AdapterReport } from './device.js';
import { asGpu, asHandle, checkDtype, GpuContext } from './context.js';
import { createKernels, type KernelOptions } from './kernels.js';

export { acquireDevice, describeAdapter, type AcquireOptions, type AdapterReport } from './device.js';
export { bucketBytes } from './context.js';
export type { KernelOptions } from './kernels.js';

/** Options of `initWebGPU`: the adapter choice plus debugging and registration. */
export interface WebGPUOptions extends AcquireOptions, KernelOptions {
  /**
   * Wrap every dispatch in error scopes so that WebGPU validation errors (which never throw)
   * surface at the next read as errors naming the kernel and its shapes. Costs a promise per
   * dispatch; default: on when GRADKIT_WEBGPU_DEBUG=1.
   */
  debug?: boolean;
  /** Register the backend with the registry (default true). */
  register?: boolean;
}

/** The webgpu Backend plus what only it has. */
export interface WebGPUBackend extends Backend {
  readonly adapter: AdapterReport;
  readonly device: GPUDevice;
  /** Live buffers and bytes, plus bytes held free in the pool. */
  memory(): MemoryInfo & { pooledBytes: number };
  /** Waits for submitted work and throws the first WebGPU error captured since the last check. */
  sync(): Promise<void>;
  /** Returns pooled (free) buffers to the driver. */
  trim(): void;
}

/** Above wasm (10) for a real GPU; below reference (0) for a software adapter, so never the automatic choice. */
export const WEBGPU_PRIORITY = { hardware: 20, software: -10 } as const;

/** A backend over an acquired device (tests use it directly; `initWebGPU` also registers it). */
export function createWebGPUBackend(device: GPUDevice, report: AdapterReport, debug = false, kernelOptions: KernelOptions = {}): WebGPUBackend {
  const ctx = new GpuContext(device, debug);
  const kernels = createKernels(ctx, kernelOptions);
  return {
    name: 'webgpu',
    kernels,
    adapter: report,
    device,
    alloc: (dtype: DType, size: number): Handle => {
      checkDtype('alloc', dtype);
      return asHandle(ctx.zeros(dtype, size));
    },
    upload: (data: DataArray): Handle => asHandle(ctx.upload(dtypeOfArray(data), data)),
    write(handle: Handle, data: ArrayLike<number>) {
      ctx.write(asGpu(handle, 'write'), data);
    },
    read: (handle: Handle) => ctx.read(asGpu(handle, 'read')),
    syncReads: false,
    float64: false,
    readSync(): DataArray {
      throw new GradkitError('readSync', 'webgpu tensors live on the GPU and cannot be read synchronously; use `await t.data()` instead of dataSync()/item()');
    },
    dtypeOf: (handle: Handle) => asGpu(handle, 'dtypeOf').dtype,
    sizeOf: (handle: Handle) => asGpu(handle, 'sizeOf').size,
    free(handle: Handle) {
      ctx.free(asGpu(handle, 'free'));
    },
    memory: () => ctx.memory(),
    async sync() {
      await device.queue.onSubmittedWorkDone(); // the GPU has finished everything submitted so far
      await ctx.checkErrors();
    },
    trim: () => ctx.trim(),
    dispose() {
      ctx.trim();
    },
    describe: () => `webgpu on ${report.label}`,
  };
}

function envDebug(): boolean {
  return typeof process !== 'undefined' && process.env?.GRADKIT_WEBGPU_DEBUG === '1';
}

/**
 * Acquires a device and registers the 'webgpu' backend. Resolves to the backend, or to
 * `{ error }` naming why no device could be had (no adapter, package not installed).
 */
export function initWebGPU(options: WebGPUOptions = {}): Promise<WebGPUBackend | { error: string }> {
  // One device per set of options: the CLI, a preload and user code may all ask.
  const key = JSON.stringify(options);
  let p = inits.get(key);
  if (!p) inits.set(key, (p = init(options)));
  return p;
}

const inits = new Map<string, Promise<WebGPUBackend | { error: string }>>();

async function init(options: WebGPUOptions): Promise<WebGPUBackend | { error: string }> {
  const got = await acquireDevice(options);
  if ('error' in got) return got;
  const backend = createWebGPUBackend(got.device, got.report, options.debug ?? envDebug(), { convColumnBytes: options.convColumnBytes });
  if (options.register ?? true) {
    registerBackend('webgpu', () => backend, got.report.software ? WEBGPU_PRIORITY.software : WEBGPU_PRIORITY.hardware);
  }
  return backend;
}

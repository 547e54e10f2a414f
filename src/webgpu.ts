/// <reference types="@webgpu/types" preserve="true" />
/**
 * `gradkit/webgpu`: the WebGPU backend. Tensor buffers live on the GPU and reads are
 * asynchronous. In Node it runs on the optional `webgpu` package (Dawn); in a browser on
 * `navigator.gpu`. A software adapter (llvmpipe, SwiftShader) is never chosen automatically.
 * Its types use WebGPU's (GPUDevice …): TypeScript projects that import this entry install the
 * optional peer `@webgpu/types` (the main `gradkit` entry never needs it).
 *
 * ```ts
 * import { setBackend } from 'gradkit';
 * import { initWebGPU } from 'gradkit/webgpu';
 * const gpu = await initWebGPU();
 * if ('error' in gpu) console.log(gpu.error); else setBackend('webgpu');
 * ```
 */
export {
  initWebGPU, createWebGPUBackend, acquireDevice, describeAdapter, WEBGPU_PRIORITY,
  type WebGPUOptions, type WebGPUBackend, type AcquireOptions, type AdapterReport,
} from './backends/webgpu/index.js';

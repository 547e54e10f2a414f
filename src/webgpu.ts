/**
 * `gradkit/webgpu`: the WebGPU backend (issue 14, in progress). Tensor buffers live on the GPU
 * and reads are asynchronous. In Node it runs on the optional `webgpu` package (Dawn); in a
 * browser on `navigator.gpu`. A software adapter (llvmpipe, SwiftShader) is never chosen
 * automatically.
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

import { ready } from '../backends/wasm/index.js';
import { setBackend } from '../backend/registry.js';
import type { BackendChoice, MessagePortLike, StartMessage, WorkerMessage, WorkerReadyInfo } from './protocol.js';

/** Options of exposeTraining. */
export interface ExposeTrainingOptions {
  /** Where the start message comes from and the reports go (default: the worker's global scope). */
  scope?: MessagePortLike;
  /**
   * `initWebGPU` from 'gradkit/webgpu', so the page may ask for the webgpu backend. Passed in
   * rather than imported here so that a worker that trains on wasm only bundles no WebGPU code.
   */
  webgpu?: AcquireWebGPU;
}

/**
 * What exposeTraining needs of `initWebGPU`, written out structurally: the main entry's types then
 * never mention WebGPU's (GPUDevice …), so a project without @webgpu/types type-checks it.
 */
export type AcquireWebGPU = () => Promise<{ adapter: { label: string; software: boolean } } | { error: string }>;

/**
 * Makes the backend the page asked for ready. wasm is always made ready (kernels compiled, worker
 * threads started): it is the fallback, and a train function may fit or save on it. webgpu needs
 * an adapter: 'webgpu' takes any (a software one such as SwiftShader too), 'auto' only a hardware
 * one; without one the worker stays on wasm and `noWebGPU` says why in one line.
 */
async function prepareBackend(requested: BackendChoice, webgpu: ExposeTrainingOptions['webgpu']): Promise<WorkerReadyInfo> {
  const base = { ...(await ready()), requested };
  if (requested === 'wasm') return base;
  if (!webgpu) return { ...base, noWebGPU: "this worker was built without the webgpu backend (pass { webgpu: initWebGPU } from 'gradkit/webgpu' to exposeTraining)" };
  let got: Awaited<ReturnType<AcquireWebGPU>>;
  try {
    got = await webgpu();
  } catch (err) {
    return { ...base, noWebGPU: `acquiring a WebGPU device failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  if ('error' in got) return { ...base, noWebGPU: got.error };
  const adapter = { label: got.adapter.label, software: got.adapter.software };
  if (adapter.software && requested === 'auto') {
    return { ...base, noWebGPU: `only a software WebGPU adapter here (${adapter.label}), slower than wasm: ask for 'webgpu' to use it anyway` };
  }
  setBackend('webgpu');
  return { backend: 'webgpu', threads: base.threads, requested, adapter };
}

/**
 * Inside a Web Worker: waits for a start message from trainInWorker, makes the backend it asks
 * for ready (default wasm: kernels compiled, worker threads started — before the first kernel, so
 * nothing stalls; webgpu when `options.webgpu` is given and an adapter exists), then runs `train`
 * and sends its progress reports and result back to the page. Errors become one 'error' message
 * with their text, so the page's promise rejects instead of hanging. On webgpu, `train` must read
 * tensors asynchronously (`await t.data()`).
 *
 * ```ts
 * // worker.ts, bundled as a module worker
 * exposeTraining(async (opts: { epochs: number }, report) => {
 *   for (let e = 0; e < opts.epochs; e++) report({ epoch: e, loss: await trainOneEpoch() });
 *   return { done: true };
 * }, { webgpu: initWebGPU }); // initWebGPU from 'gradkit/webgpu'; leave it out for wasm only
 * ```
 */
export function exposeTraining<O, P, R>(
  train: (options: O, report: (progress: P) => void, info: WorkerReadyInfo) => Promise<R> | R,
  scopeOrOptions: MessagePortLike | ExposeTrainingOptions = {},
): void {
  const options: ExposeTrainingOptions = 'postMessage' in scopeOrOptions ? { scope: scopeOrOptions } : scopeOrOptions;
  const scope = options.scope ?? (globalThis as unknown as MessagePortLike);
  const send = (m: WorkerMessage<P, R>) => scope.postMessage(m);
  const onMessage = (e: { data: unknown }) => {
    const m = e.data as StartMessage<O> | null;
    if (m?.type !== 'gradkit:start') return;
    scope.removeEventListener('message', onMessage);
    void (async () => {
      try {
        const info = await prepareBackend(m.backend ?? 'wasm', options.webgpu);
        send({ type: 'gradkit:ready', info });
        const result = await train(m.options, (progress) => send({ type: 'gradkit:progress', progress }), info);
        send({ type: 'gradkit:done', result });
      } catch (err) {
        send({ type: 'gradkit:error', message: err instanceof Error ? err.message : String(err) });
      }
    })();
  };
  scope.addEventListener('message', onMessage);
}

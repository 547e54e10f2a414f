import { isWorkerMessage, type BackendChoice, type WorkerReadyInfo } from './protocol.js';

/** Callbacks for a page that trains in a Web Worker: told when the worker is ready and on each progress report. */
export interface TrainInWorkerHandlers<P> {
  /**
   * The worker's backend is ready: which one, how many wasm threads it got, the WebGPU adapter
   * when on webgpu, and in `noWebGPU` (one line) why not when webgpu was asked for or allowed.
   */
  onReady?(info: WorkerReadyInfo): void;
  /** One progress report (whatever the worker's train function passed to `report`). */
  onProgress?(progress: P): void;
}

/** How to run the job (besides the train function's own options). */
export interface TrainInWorkerOptions {
  /**
   * The backend the worker trains on (default 'wasm'). 'webgpu' and 'auto' need a worker whose
   * exposeTraining was given `initWebGPU`; see BackendChoice for the fallbacks.
   */
  backend?: BackendChoice;
}

/** A training run started in a Web Worker: a promise of its result and a way to stop it. */
export interface TrainingJob<R> {
  /** The train function's return value; rejects with the worker's error message. */
  result: Promise<R>;
  /** Stops the worker at once (the result rejects with "cancelled"). */
  cancel(): void;
}

/** The parts of a DOM Worker used here (typed structurally: the core compiles without the DOM lib). */
interface WorkerLike {
  postMessage(data: unknown): void;
  terminate(): void;
  addEventListener(type: 'message' | 'error', fn: (e: { data?: unknown; message?: string }) => void): void;
}

/**
 * On the page: starts training in `worker` (a script that calls exposeTraining) with `options`,
 * streams its progress to the handlers and resolves with its result. The page's main thread
 * stays free to draw; the worker is where threads are possible (a page's main thread may not
 * block) and where training cannot freeze the page. The worker is terminated when it finishes.
 *
 * ```ts
 * const job = trainInWorker(new Worker('worker.js', { type: 'module' }), { epochs: 5 }, {
 *   onReady: (info) => console.log(info.backend, info.adapter?.label ?? '', info.noWebGPU ?? ''),
 *   onProgress: (p) => plot(p.loss),
 * }, { backend: 'auto' });
 * const result = await job.result;
 * ```
 */
export function trainInWorker<O, P, R>(worker: WorkerLike, options: O, handlers: TrainInWorkerHandlers<P> = {}, job: TrainInWorkerOptions = {}): TrainingJob<R> {
  let settle: { resolve(r: R): void; reject(e: Error): void } | undefined;
  const result = new Promise<R>((resolve, reject) => (settle = { resolve, reject }));
  const finish = (err: Error | null, value?: R) => {
    worker.terminate();
    if (!settle) return;
    const s = settle;
    settle = undefined;
    if (err) s.reject(err);
    else s.resolve(value as R);
  };
  worker.addEventListener('message', (e) => {
    const m = e.data;
    if (!isWorkerMessage(m)) return;
    if (m.type === 'gradkit:ready') handlers.onReady?.(m.info);
    else if (m.type === 'gradkit:progress') handlers.onProgress?.(m.progress as P);
    else if (m.type === 'gradkit:done') finish(null, m.result as R);
    else finish(new Error(`gradkit worker: ${m.message}`));
  });
  worker.addEventListener('error', (e) => finish(new Error(`gradkit worker failed to run: ${e.message ?? 'script error'}`)));
  worker.postMessage({ type: 'gradkit:start', options, backend: job.backend ?? 'wasm' });
  return { result, cancel: () => finish(new Error('gradkit worker: cancelled')) };
}

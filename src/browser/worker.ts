import { ready, type ReadyInfo } from '../backends/wasm/index.js';
import type { MessagePortLike, StartMessage, WorkerMessage } from './protocol.js';

/**
 * Inside a Web Worker: waits for a start message from trainInWorker, makes the backend ready
 * (kernels compiled, worker threads started — before the first kernel, so nothing stalls), then
 * runs `train` and sends its progress reports and result back to the page. Errors become one
 * 'error' message with their text, so the page's promise rejects instead of hanging.
 *
 * ```ts
 * // worker.ts, bundled as a module worker
 * exposeTraining(async (opts: { epochs: number }, report) => {
 *   for (let e = 0; e < opts.epochs; e++) report({ epoch: e, loss: trainOneEpoch() });
 *   return { done: true };
 * });
 * ```
 */
export function exposeTraining<O, P, R>(
  train: (options: O, report: (progress: P) => void, info: ReadyInfo) => Promise<R> | R,
  scope: MessagePortLike = globalThis as unknown as MessagePortLike,
): void {
  const send = (m: WorkerMessage<P, R>) => scope.postMessage(m);
  const onMessage = (e: { data: unknown }) => {
    const m = e.data as StartMessage<O> | null;
    if (m?.type !== 'gradkit:start') return;
    scope.removeEventListener('message', onMessage);
    void (async () => {
      try {
        const info = await ready();
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

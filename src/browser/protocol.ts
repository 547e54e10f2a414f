import type { ReadyInfo } from '../backends/wasm/index.js';

/** Page → worker: start training with these (structured-cloneable) options. */
export interface StartMessage<O> {
  type: 'gradkit:start';
  options: O;
}

/** Worker → page messages, in order: ready, any number of progress, then done or error. */
export type WorkerMessage<P, R> =
  | { type: 'gradkit:ready'; info: ReadyInfo }
  | { type: 'gradkit:progress'; progress: P }
  | { type: 'gradkit:done'; result: R }
  | { type: 'gradkit:error'; message: string };

/** What a worker script and a page need of each other (a DedicatedWorker scope or a Worker). */
export interface MessagePortLike {
  postMessage(data: unknown): void;
  addEventListener(type: 'message', fn: (e: { data: unknown }) => void): void;
  removeEventListener(type: 'message', fn: (e: { data: unknown }) => void): void;
}

export function isWorkerMessage(d: unknown): d is WorkerMessage<unknown, unknown> {
  return typeof d === 'object' && d !== null && typeof (d as { type?: unknown }).type === 'string' && (d as { type: string }).type.startsWith('gradkit:');
}

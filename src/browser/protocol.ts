import type { ReadyInfo } from '../backends/wasm/index.js';

/**
 * Which backend a training worker should use: 'wasm'; 'webgpu' (falls back to wasm, saying why,
 * where there is no adapter; a software adapter such as SwiftShader counts); or 'auto': webgpu
 * on a hardware adapter, else wasm (never a software adapter: wasm is faster than those).
 */
export type BackendChoice = 'auto' | 'wasm' | 'webgpu';

/** The worker's ready report: the backend it got, its wasm threads, and for webgpu the adapter. */
export interface WorkerReadyInfo extends ReadyInfo {
  /** What the page asked for. */
  requested: BackendChoice;
  /** The WebGPU adapter trained on (backend 'webgpu' only). */
  adapter?: { label: string; software: boolean };
  /** Why the worker is not on webgpu although it was asked for or allowed ('webgpu' or 'auto'): one line. */
  noWebGPU?: string;
}

/** Page → worker: start training with these (structured-cloneable) options on this backend (default 'wasm'). */
export interface StartMessage<O> {
  type: 'gradkit:start';
  options: O;
  backend?: BackendChoice;
}

/** Worker → page messages, in order: ready, any number of progress, then done or error. */
export type WorkerMessage<P, R> =
  | { type: 'gradkit:ready'; info: WorkerReadyInfo }
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

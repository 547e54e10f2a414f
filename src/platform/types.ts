/**
 * What the wasm backend needs from its host to run threads: how many cores there are, how to
 * start a worker from a self-contained script, and whether the calling thread may block in
 * Atomics.wait (true on Node's main thread and inside workers; false on a browser's main thread).
 */
export interface ThreadPlatform {
  readonly name: string;
  cores(): number;
  canBlock(): boolean;
  /**
   * Starts a worker running `source` (plain JS defining `function main(data)`), which receives
   * `data` (structured-cloned: WebAssembly.Module and shared Memory survive the trip).
   * Returns null when this host cannot start workers.
   */
  startWorker(source: string, data: unknown): PlatformWorker | null;
  /**
   * True where a started worker runs only once the starting thread yields to its event loop
   * (browsers), so the pool must never block waiting for it.
   */
  readonly workersNeedEventLoop?: boolean;
}

export interface PlatformWorker {
  terminate(): void;
}

/** The host with no threads at all: everything runs on the calling thread. */
export const singleThreaded: ThreadPlatform = {
  name: 'single-threaded',
  cores: () => 1,
  canBlock: () => false,
  startWorker: () => null,
};

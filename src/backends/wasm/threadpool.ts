import type { PlatformWorker, ThreadPlatform } from '../../platform/index.js';
import { JoinMonitor } from './joinmonitor.js';
import { CTRL, CTRL_WORDS, WORKER_SOURCE } from './worker-source.js';

/**
 * Spin iterations before blocking in Atomics.wait. Workers spin a little after a job (~tens of µs):
 * the next kernel of a training step usually follows within that, and a futex wake costs about as
 * much. The caller spins less: its workers finish at about the same time it does, and on a loaded
 * machine a spinning caller would steal the core its worker needs.
 */
const WORKER_SPIN = 8000;
const CALLER_SPIN = 2000;
/** How long the first job waits for workers to start before giving up on threads. */
const START_TIMEOUT_MS = 10000;

export type RunFn = (job: number, tid: number, nt: number) => void;

/**
 * A pool of `size - 1` workers plus the calling thread, all sharing one WebAssembly.Memory.
 * dispatch() is synchronous: the caller publishes the job, does share 0 itself, then waits.
 */
export class ThreadPool {
  private readonly workers: PlatformWorker[] = [];
  private readonly ctrl: Int32Array;
  private ready = false;
  /** Threads actually usable (1 when workers could not start). */
  size: number;
  /** Jobs that ran on more than one thread (tests use it to prove the threaded path ran). */
  parallelJobs = 0;
  readonly monitor: JoinMonitor;

  constructor(
    private readonly platform: ThreadPlatform,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    ctrlOffset: number,
    requested: number,
    private readonly run: RunFn,
    adaptive = true,
  ) {
    this.monitor = new JoinMonitor(adaptive);
    this.ctrl = new Int32Array(memory.buffer, ctrlOffset, CTRL_WORDS);
    this.ctrl.fill(0);
    this.size = platform.canBlock() ? Math.max(1, requested) : 1;
    for (let tid = 1; tid < this.size; tid++) {
      const w = platform.startWorker(WORKER_SOURCE, { module, memory, ctrl: ctrlOffset, tid, spin: WORKER_SPIN });
      if (!w) {
        this.stop();
        this.size = 1;
        return;
      }
      this.workers.push(w);
    }
    this.ready = this.size === 1;
  }

  /** Blocks until every worker has checked in; false (and single-threaded from then on) on timeout. */
  private waitReady(): boolean {
    const want = this.workers.length;
    const deadline = Date.now() + START_TIMEOUT_MS;
    let n: number;
    while ((n = Atomics.load(this.ctrl, CTRL.READY)) < want) {
      const left = deadline - Date.now();
      if (left <= 0) {
        console.warn(`gradkit: only ${n} of ${want} wasm workers started; running single-threaded`);
        this.stop();
        this.size = 1;
        return false;
      }
      Atomics.wait(this.ctrl, CTRL.READY, n, left);
    }
    this.ready = true;
    return true;
  }

  /** Runs the nt slices of job (on nt threads when the pool can), returning when all are done. */
  dispatch(job: number, nt: number): void {
    if (nt <= 1) {
      this.run(job, 0, 1);
      return;
    }
    if (nt > this.size || (!this.ready && !this.waitReady()) || this.monitor.runSolo()) {
      // The caller has already laid out the job for nt slices (e.g. one partial sum per slice, added
      // afterwards), so run every slice here, in order: the same result, bit for bit, as threads.
      for (let t = 0; t < nt; t++) this.run(job, t, nt);
      return;
    }
    this.parallelJobs++;
    const c = this.ctrl;
    Atomics.store(c, CTRL.FAILED, 0);
    Atomics.store(c, CTRL.PENDING, this.workers.length);
    Atomics.store(c, CTRL.NT, nt);
    Atomics.store(c, CTRL.JOB, job);
    Atomics.add(c, CTRL.GEN, 1);
    Atomics.notify(c, CTRL.GEN);
    const t0 = performance.now();
    let t1 = t0;
    try {
      this.run(job, 0, nt);
    } finally {
      t1 = performance.now();
      let p = Atomics.load(c, CTRL.PENDING);
      for (let s = 0; p !== 0 && s < CALLER_SPIN; s++) p = Atomics.load(c, CTRL.PENDING);
      while (p !== 0) {
        Atomics.wait(c, CTRL.PENDING, p);
        p = Atomics.load(c, CTRL.PENDING);
      }
    }
    this.monitor.record(t1 - t0, performance.now() - t1);
    const failed = Atomics.load(c, CTRL.FAILED);
    if (failed !== 0) throw new Error(`gradkit wasm: kernel job failed on worker thread ${failed}`);
  }

  /** Tells workers to exit and terminates them; the pool then runs everything on the caller. */
  stop(): void {
    if (this.workers.length > 0) {
      Atomics.store(this.ctrl, CTRL.STOP, 1);
      Atomics.add(this.ctrl, CTRL.GEN, 1);
      Atomics.notify(this.ctrl, CTRL.GEN);
      for (const w of this.workers) w.terminate();
      this.workers.length = 0;
    }
    this.size = 1;
  }
}

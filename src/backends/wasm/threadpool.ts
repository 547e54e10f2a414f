import type { PlatformWorker, ThreadPlatform } from '../../platform/index.js';
import { JoinMonitor } from './joinmonitor.js';
import { CTRL, CTRL_WORDS, MAX_SLICES, WORKER_SOURCE } from './worker-source.js';

/**
 * How long (ms) workers spin after a job before blocking in Atomics.wait: the next kernel of a
 * training step usually follows within that, and a futex wake costs about as much. Measured in
 * time, not iterations, so it means the same on fast and slow cores. The caller spins less: its
 * workers finish at about the same time it does, and on a loaded machine a spinning caller would
 * steal the core its worker needs.
 */
const WORKER_SPIN_MS = 0.1;
/** Spin iterations of the caller before it blocks at the join. */
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
  /** Jobs offered to the workers (tests use it to prove the threaded path ran). */
  parallelJobs = 0;
  /** Of those, jobs in which a worker ran at least one slice. */
  workerJobs = 0;
  readonly monitor: JoinMonitor;
  private readonly startedAt = Date.now();
  private warnedLate = false;

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
      const w = platform.startWorker(WORKER_SOURCE, { module, memory, ctrl: ctrlOffset, tid, spinMs: WORKER_SPIN_MS });
      if (!w) {
        this.stop();
        this.size = 1;
        return;
      }
      this.workers.push(w);
    }
    this.ready = this.size === 1;
  }

  /**
   * Blocks until every worker has checked in; false (and single-threaded from then on) on timeout.
   * Where workers start only while the caller yields to its event loop (a browser: a Worker's own
   * workers), blocking would always time out, so there it only looks: false means "this job runs
   * on the caller", and a later job checks again.
   */
  private waitReady(): boolean {
    const want = this.workers.length;
    if (this.platform.workersNeedEventLoop === true) {
      if (Atomics.load(this.ctrl, CTRL.READY) >= want) return (this.ready = true);
      if (!this.warnedLate && Date.now() - this.startedAt > START_TIMEOUT_MS) {
        this.warnedLate = true;
        console.warn(`gradkit: wasm workers have not started after ${START_TIMEOUT_MS / 1000} s because this thread has not yielded to its event loop; running single-threaded until they do (call \`await ready()\` before training)`);
      }
      return false;
    }
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

  /**
   * Resolves once every worker has checked in, waiting without blocking (so workers that need the
   * caller's event loop can start); after START_TIMEOUT_MS it gives up on threads as waitReady does.
   */
  async whenReady(): Promise<void> {
    const want = this.workers.length;
    const wait = (Atomics as { waitAsync?: (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: unknown } }).waitAsync;
    while (!this.ready && this.workers.length > 0) {
      const n = Atomics.load(this.ctrl, CTRL.READY);
      if (n >= want) {
        this.ready = true;
        return;
      }
      const left = this.startedAt + START_TIMEOUT_MS - Date.now();
      if (left <= 0) {
        console.warn(`gradkit: only ${n} of ${want} wasm workers started; running single-threaded`);
        this.stop();
        return;
      }
      // Wake on the workers' notify, or after at most 20 ms anyway: a pool stopped meanwhile never
      // notifies, and Node does not keep the process alive for a pending waitAsync (the timer does).
      const slice = Math.min(left, 20);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, slice);
        const r = typeof wait === 'function' ? wait(this.ctrl, CTRL.READY, n, slice) : null;
        if (r?.async) void (r.value as Promise<unknown>).then(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /**
   * Runs the nt slices of job, returning when all are done. Slices are claimed, not assigned:
   * the caller and every awake worker take the next unclaimed slice until none is left, so a
   * worker the OS has not scheduled yet simply misses the job instead of holding up the join;
   * the caller waits only for slices a worker has actually begun. A slice's index (not the
   * thread's) selects its share of the work and its workspace, so results never depend on who
   * ran what.
   */
  dispatch(job: number, nt: number): void {
    if (nt <= 1) {
      this.run(job, 0, 1);
      return;
    }
    if (nt > MAX_SLICES) throw new RangeError(`gradkit wasm: a job has at most ${MAX_SLICES} slices, got ${nt}`);
    if (nt > this.size || (!this.ready && !this.waitReady()) || this.monitor.runSolo()) {
      // The caller has already laid out the job for nt slices (e.g. one partial sum per slice, added
      // afterwards), so run every slice here, in order: the same result, bit for bit, as threads.
      for (let t = 0; t < nt; t++) this.run(job, t, nt);
      return;
    }
    this.parallelJobs++;
    const c = this.ctrl;
    const gen = (Atomics.load(c, CTRL.GEN) + 1) | 0;
    const tag = (gen & 0xffffff) << 8;
    Atomics.store(c, CTRL.FAILED, 0);
    Atomics.store(c, CTRL.DONE, 0);
    Atomics.store(c, CTRL.NT, nt);
    Atomics.store(c, CTRL.JOB, job);
    Atomics.store(c, CTRL.CLAIM, tag);
    Atomics.store(c, CTRL.GEN, gen);
    Atomics.notify(c, CTRL.GEN);
    const t0 = performance.now();
    let error: unknown = null;
    let mine = 0;
    for (;;) {
      const v = Atomics.load(c, CTRL.CLAIM);
      if ((v & 0xff) >= nt) break;
      if (Atomics.compareExchange(c, CTRL.CLAIM, v, v + 1) !== v) continue;
      mine++;
      try {
        this.run(job, v & 0xff, nt);
      } catch (e) {
        error ??= e;
        Atomics.compareExchange(c, CTRL.FAILED, 0, (v & 0xff) + 1);
      }
    }
    const t1 = performance.now();
    // Count the caller's slices as done, then wait for the workers' (already running) slices.
    let d = Atomics.add(c, CTRL.DONE, mine) + mine;
    for (let s = 0; d < nt && s < CALLER_SPIN; s++) d = Atomics.load(c, CTRL.DONE);
    while (d < nt) {
      Atomics.wait(c, CTRL.DONE, d);
      d = Atomics.load(c, CTRL.DONE);
    }
    if (mine < nt) this.workerJobs++;
    this.monitor.record(t1 - t0, performance.now() - t1);
    const failed = Atomics.load(c, CTRL.FAILED);
    if (failed !== 0) {
      const why = error instanceof Error ? `: ${error.message}` : '';
      throw new Error(`gradkit wasm: kernel job failed on slice ${failed - 1} of ${nt}${why}`);
    }
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

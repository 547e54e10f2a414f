/**
 * Layout of one pool's control block (i32 words in shared memory) and the worker script.
 *
 * A job is cut into NT slices. GEN is bumped once per job; CLAIM holds the job's generation (low
 * 24 bits, shifted up 8) and the number of slices handed out so far (low 8 bits), so a slice is
 * claimed with one compare-exchange that also proves the claimer is looking at the current job;
 * DONE counts finished slices; NT and JOB describe the job. FAILED is 1 + the slice that trapped.
 */
export const CTRL = { GEN: 0, CLAIM: 1, NT: 2, JOB: 3, STOP: 4, READY: 5, FAILED: 6, DONE: 7 } as const;
export const CTRL_WORDS = 16;
/** Slices per job are counted in the low 8 bits of CLAIM. */
export const MAX_SLICES = 255;

/**
 * The worker: instantiate the shared module, then serve jobs forever. On a new generation it
 * claims slices until none are left — the caller claims them too, so a worker that wakes late
 * finds the job already done and goes back to sleep; no one ever waits for a worker that has not
 * started. After each job it spins briefly (back-to-back kernels in a training step arrive within
 * microseconds), then blocks in Atomics.wait so an idle pool burns no CPU. Plain JS with no
 * imports, so it runs unchanged under Node's eval workers and browser Blob workers.
 */
export const WORKER_SOURCE = `
function main(d) {
  const inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory, abort() { throw new Error('gradkit wasm abort'); } } });
  const run = inst.exports.run;
  const ctrl = new Int32Array(d.memory.buffer, d.ctrl, ${CTRL_WORDS});
  let seen = Atomics.load(ctrl, ${CTRL.GEN});
  Atomics.add(ctrl, ${CTRL.READY}, 1);
  Atomics.notify(ctrl, ${CTRL.READY});
  for (;;) {
    let g = Atomics.load(ctrl, ${CTRL.GEN});
    if (g === seen && d.spinMs > 0) {
      const until = performance.now() + d.spinMs;
      for (let s = 1; g === seen; s++) {
        g = Atomics.load(ctrl, ${CTRL.GEN});
        if ((s & 1023) === 0 && performance.now() > until) break;
      }
    }
    if (g === seen) {
      Atomics.wait(ctrl, ${CTRL.GEN}, seen);
      continue;
    }
    seen = g;
    if (Atomics.load(ctrl, ${CTRL.STOP}) !== 0) break;
    const nt = Atomics.load(ctrl, ${CTRL.NT});
    const job = Atomics.load(ctrl, ${CTRL.JOB});
    const tag = (g & 0xffffff) << 8;
    for (;;) {
      const c = Atomics.load(ctrl, ${CTRL.CLAIM});
      if ((c & ~0xff) !== tag || (c & 0xff) >= nt) break;
      if (Atomics.compareExchange(ctrl, ${CTRL.CLAIM}, c, c + 1) !== c) continue;
      const slice = c & 0xff;
      try {
        run(job, slice, nt);
      } catch (e) {
        // Reported to the caller through FAILED (it throws); the worker keeps serving.
        Atomics.store(ctrl, ${CTRL.FAILED}, slice + 1);
      } finally {
        if (Atomics.add(ctrl, ${CTRL.DONE}, 1) + 1 === nt) Atomics.notify(ctrl, ${CTRL.DONE});
      }
    }
  }
}
`;

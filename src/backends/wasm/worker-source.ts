/**
 * Layout of one pool's control block (i32 words in shared memory) and the worker script.
 * GEN is bumped once per job; PENDING counts workers still busy with it; NT and JOB describe it.
 */
export const CTRL = { GEN: 0, PENDING: 1, NT: 2, JOB: 3, STOP: 4, READY: 5, FAILED: 6 } as const;
export const CTRL_WORDS = 16;

/**
 * The worker: instantiate the shared module, then serve jobs forever. After each job it spins
 * briefly (back-to-back kernels in a training step arrive within microseconds), then blocks in
 * Atomics.wait so an idle pool burns no CPU. Plain JS with no imports, so it runs unchanged under
 * Node's eval workers and browser Blob workers.
 */
export const WORKER_SOURCE = `
function main(d) {
  const inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory, abort() { throw new Error('gradkit wasm abort'); } } });
  const run = inst.exports.run;
  const ctrl = new Int32Array(d.memory.buffer, d.ctrl, ${CTRL_WORDS});
  const tid = d.tid;
  let seen = Atomics.load(ctrl, ${CTRL.GEN});
  Atomics.add(ctrl, ${CTRL.READY}, 1);
  Atomics.notify(ctrl, ${CTRL.READY});
  for (;;) {
    let g = Atomics.load(ctrl, ${CTRL.GEN});
    for (let s = 0; g === seen && s < d.spin; s++) g = Atomics.load(ctrl, ${CTRL.GEN});
    if (g === seen) {
      Atomics.wait(ctrl, ${CTRL.GEN}, seen);
      continue;
    }
    seen = g;
    if (Atomics.load(ctrl, ${CTRL.STOP}) !== 0) break;
    const nt = Atomics.load(ctrl, ${CTRL.NT});
    try {
      if (tid < nt) run(Atomics.load(ctrl, ${CTRL.JOB}), tid, nt);
    } catch (e) {
      // Reported to the caller through FAILED (it throws); the worker keeps serving.
      Atomics.store(ctrl, ${CTRL.FAILED}, tid);
    } finally {
      if (Atomics.sub(ctrl, ${CTRL.PENDING}, 1) === 1) Atomics.notify(ctrl, ${CTRL.PENDING});
    }
  }
}
`;

/**
 * One library's measurements, in its own process so that a crash, a hung step or a leak in one
 * library cannot take the others down (the orchestrator restarts it for the remaining
 * workloads). Usage: child.ts --list | --probe-webgpu | --lib NAME --workloads a,b [--quick]
 */
import { budgetFor } from './budget.js';
import { peakRssMB, send } from './protocol.js';
import { WORKLOADS, unitOf, type Workload } from './spec.js';
import { measure } from './timing.js';
import type { LibRunner } from './libs/runner.js';
import type { Stepper } from './timing.js';

/**
 * Runs a few extra steps with every gradkit kernel timed (after, and apart from, the
 * measurement): the backend's kernels and the optimizer's update kernels, in one table.
 */
async function profileSteps(w: Workload, stepper: Stepper, budgetMs: number): Promise<string> {
  const g = await import('../src/index.js');
  const { formatProfile, profileKernels } = await import('./profile.js');
  const { optimizerTime } = await import('./gradkit-models.js');
  const prof = profileKernels(g.getBackend().kernels);
  const optProf = profileKernels(g.optim.optimKernels, prof.stats, 'optim.');
  const opt0 = optimizerTime.ms;
  const t0 = performance.now();
  let steps = 0;
  try {
    while (steps < 20 && (steps === 0 || performance.now() - t0 < budgetMs)) {
      await stepper.step();
      steps++;
    }
  } finally {
    optProf.restore();
    prof.restore();
  }
  const total = performance.now() - t0;
  const opt = (optimizerTime.ms - opt0) / steps;
  return `  ${w}: ${steps} profiled step${steps === 1 ? '' : 's'}, ${(total / steps).toFixed(1)} ms/step (timers add a little); ` +
    `the optimizer step takes ${opt.toFixed(2)} ms/step in all (optim.Adam's update kernels are the optim.* rows)\n${formatProfile(prof.stats.values(), total, steps)}`;
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

async function listBackends(): Promise<void> {
  const g = await import('../src/index.js');
  const backends = g.listBackends().map((b) => {
    if (!b.available) return { ...b };
    try {
      return { ...b, describe: g.withBackend(b.name, () => g.getBackend().describe?.() ?? b.name) };
    } catch (e) {
      return { ...b, available: false, error: errMessage(e) };
    }
  });
  send({ type: 'backends', backends });
}

/** Whether a WebGPU adapter exists here (its own process: see probeWebGPU). */
async function probeWebGPUBackend(): Promise<void> {
  const { probeWebGPU } = await import('./libs/webgpu.js');
  const { WEBGPU_PRIORITY } = await import('../src/backends/webgpu/index.js');
  const p = await probeWebGPU();
  send({
    type: 'backends',
    backends: [p.available
      ? { name: 'webgpu', priority: p.software ? WEBGPU_PRIORITY.software : WEBGPU_PRIORITY.hardware, available: true, describe: p.describe, software: p.software }
      : { name: 'webgpu', priority: WEBGPU_PRIORITY.hardware, available: false, error: p.error }],
  });
}

async function makeRunner(lib: string): Promise<LibRunner> {
  // Before the gradkit-<backend> rule: webgpu needs its device acquired (asynchronously) first.
  if (lib === 'gradkit-webgpu') return (await import('./libs/webgpu.js')).webgpuRunner();
  if (lib.startsWith('gradkit-')) return (await import('./libs/gradkit.js')).gradkitRunner(lib.slice('gradkit-'.length));
  if (lib.startsWith('rawops-')) return (await import('./libs/gradkit.js')).gradkitRunner(lib.slice('rawops-'.length), 'rawops');
  if (lib === 'tfjs-cpu' || lib === 'tfjs-wasm') return (await import('./libs/tfjs.js')).tfjsRunner(lib === 'tfjs-cpu' ? 'cpu' : 'wasm');
  if (lib === 'jax-js') return (await import('./libs/jax.js')).jaxRunner();
  throw new Error(`no adapter for library '${lib}'`);
}

/**
 * What the machine lets the GEMM reach right now: its micro-kernel on L1-resident panels, on one
 * thread and on all of them, measured in this process just before the SGEMMs (a shared machine's
 * speed moves from minute to minute, so a ceiling from another time would mislead).
 */
async function sendCeiling(library: string): Promise<void> {
  const g = await import('../src/index.js');
  const b = g.getBackend();
  if (!g.isWasmBackend(b)) return;
  send({ type: 'ceiling', library, oneThread: b.simdPeak(1), allThreads: b.simdPeak(), threads: b.threads });
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--list')) return listBackends();
  if (argv.includes('--probe-webgpu')) return probeWebGPUBackend();
  const lib = argv[argv.indexOf('--lib') + 1];
  const workloads = (argv[argv.indexOf('--workloads') + 1] ?? '').split(',').filter((w): w is Workload => (WORKLOADS as readonly string[]).includes(w));
  const quick = argv.includes('--quick');
  // Profiles are for the training steps of fast backends: an SGEMM is one kernel, and the
  // reference backend is the oracle, not a target (its steps take seconds).
  // Nor webgpu: its kernels only enqueue work, so timing them would time the dispatch.
  const profile = argv.includes('--profile') && (lib.startsWith('gradkit-') || lib.startsWith('rawops-')) && !lib.endsWith('-reference') && lib !== 'gradkit-webgpu';
  let runner: LibRunner;
  try {
    runner = await makeRunner(lib);
  } catch (e) {
    send({ type: 'fatal', message: `could not start: ${errMessage(e)}` });
    return;
  }
  send({ type: 'info', library: runner.library, threads: runner.threads, describe: runner.describe, ...(runner.software !== undefined ? { software: runner.software } : {}) });
  if (lib === 'gradkit-wasm' && workloads.some((w) => w.startsWith('sgemm'))) await sendCeiling(runner.library);
  for (const w of workloads) {
    send({ type: 'start', workload: w });
    const base = { workload: w, library: runner.library, threads: runner.threads, unit: unitOf(w), ...(runner.software !== undefined ? { software: runner.software } : {}) };
    try {
      const stepper = await runner.stepper(w);
      const m = await measure(stepper, budgetFor(w, quick, runner.software !== undefined), w.startsWith('sgemm') ? 1e-9 : 1);
      send({ type: 'result', result: { ...base, value: m.value, ...(m.caveat ? { note: m.caveat } : {}) }, losses: m.losses, peakRssMB: peakRssMB() });
      if (profile && w.endsWith('-train')) send({ type: 'profile', workload: w, text: await profileSteps(w, stepper, quick ? 1000 : 4000) });
    } catch (e) {
      send({ type: 'result', result: { ...base, value: null, note: `cannot run: ${errMessage(e)}` }, peakRssMB: peakRssMB() });
    }
    try {
      runner.release?.();
    } catch { /* a library that failed mid-step may not release cleanly; the next workload builds afresh */ }
  }
  send({ type: 'done', peakRssMB: peakRssMB() });
}

main(process.argv.slice(2)).then(
  // Exit explicitly: worker pools or wasm threads a library left running must not keep us alive.
  () => process.exit(0),
  (e) => {
    send({ type: 'fatal', message: errMessage(e) });
    process.exit(1);
  },
);

/**
 * gradkit on its webgpu backend (issue 14): the same models and workloads as libs/gradkit.ts,
 * with steps that end on the device. Reads are asynchronous there, so a training step resolves
 * with `await loss.data()` (queued after every kernel of the step, the optimizer's included)
 * and an SGEMM step with the queue's `onSubmittedWorkDone()` plus the backend's error check:
 * the timing loop awaits each step, so it measures finished work, not submitted work.
 *
 * A software adapter (Mesa llvmpipe, SwiftShader: WebGPU on the CPU) runs the workloads too,
 * which checks the backend end to end, but its speed means nothing: the runner says so in its
 * description, every result carries the adapter's label (`software`), the report marks each of
 * its cells and leaves them out of the ratios, and budget.ts gives it only a few steps.
 */
import * as g from '../../src/index.js';
import { initWebGPU, type AdapterReport, type WebGPUBackend } from '../../src/backends/webgpu/index.js';
import { cnnData, makeRng, mlpData, randnArray, resnetData, type Dataset } from '../data.js';
import { cnnModel, makeAdam, mlpModel, resnetModel, trainStepAsync, type GradkitModel } from '../gradkit-models.js';
import { CNN, MLP, RESNET, WEBGPU_LIB, sgemmDims, type Workload } from '../spec.js';
import type { Stepper } from '../timing.js';
import { trainer } from './gradkit.js';
import type { LibRunner } from './runner.js';

export { WEBGPU_LIB };

/** The adapter's name without describeAdapter's ' [software]' suffix (the caller says it in words). */
export function adapterName(a: Pick<AdapterReport, 'label'>): string {
  return a.label.replace(/\s*\[software\]$/, '');
}

/**
 * How the bench names the webgpu library: 'webgpu on <adapter>' on a GPU, and
 * 'webgpu (software: <adapter>; not a GPU speed)' on a software adapter.
 */
export function webgpuDescribe(a: Pick<AdapterReport, 'label' | 'software'>): string {
  return a.software ? `webgpu (software: ${adapterName(a)}; not a GPU speed)` : `webgpu on ${adapterName(a)}`;
}

/** Waits until the device has run everything submitted so far, then throws any WebGPU error it captured. */
export async function settle(b: WebGPUBackend): Promise<void> {
  // sync() only surfaces captured errors; the queue is what says the work is done.
  await b.device.queue.onSubmittedWorkDone();
  await b.sync();
}

function asyncTrainer(model: GradkitModel, ds: Dataset, batch: number): Stepper {
  const opt = makeAdam(model);
  return trainer((x, y) => trainStepAsync(model, opt, x, y), ds, batch);
}

/**
 * Acquires a WebGPU device (throws, naming why, when there is none) and returns the runner.
 * `init` is for tests: the result of an `initWebGPU()` call already made.
 */
export async function webgpuRunner(init?: Awaited<ReturnType<typeof initWebGPU>>): Promise<LibRunner & { backend: WebGPUBackend }> {
  const got = init ?? (await initWebGPU());
  if ('error' in got) throw new Error(`no WebGPU adapter: ${got.error}`);
  g.setBackend('webgpu');
  const backend = got;
  return {
    backend,
    library: WEBGPU_LIB,
    threads: 1,
    describe: webgpuDescribe(backend.adapter),
    ...(backend.adapter.software ? { software: adapterName(backend.adapter) } : {}),
    async stepper(w: Workload): Promise<Stepper> {
      g.setBackend('webgpu');
      g.manualSeed(0);
      switch (w) {
        case 'mlp-train': return asyncTrainer(mlpModel(), mlpData(), MLP.batch);
        case 'cnn-train': return asyncTrainer(cnnModel(), cnnData(), CNN.batch);
        case 'resnet-train': return asyncTrainer(resnetModel(), resnetData(), RESNET.batch);
        default: {
          const [m, k, n] = sgemmDims(w);
          const rng = makeRng(7);
          const a = g.tensor(randnArray(m * k, rng), { shape: [m, k] });
          const bm = g.tensor(randnArray(k * n, rng), { shape: [k, n] });
          return {
            workPerStep: 2 * m * k * n,
            // Reading the product back would time a 4 MB copy too; waiting for the queue times the
            // product alone. Freed after, so the pool hands its buffer to the next step.
            step: async () => {
              const c = a.matmul(bm);
              await settle(backend);
              c.dispose();
            },
          };
        }
      }
    },
    // Pooled buffers of the previous workload go back to the driver before the next is built.
    release: () => backend.trim(),
  };
}

/**
 * The probe the orchestrator runs (in a child process of its own, so that a driver crash cannot
 * take the CPU backends' listing with it): whether an adapter exists, which, and is it software.
 */
export async function probeWebGPU(timeoutMs = 60000): Promise<{ available: true; label: string; software: boolean; describe: string } | { available: false; error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ error: string }>((resolve) => {
    timer = setTimeout(() => resolve({ error: `no adapter within ${(timeoutMs / 1000).toFixed(0)} s` }), timeoutMs);
  });
  try {
    const got = await Promise.race([initWebGPU(), timeout]);
    if ('error' in got) return { available: false, error: got.error };
    return { available: true, label: adapterName(got.adapter), software: got.adapter.software, describe: webgpuDescribe(got.adapter) };
  } catch (e) {
    return { available: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

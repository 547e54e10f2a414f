/**
 * trainInWorker (page side) and exposeTraining (worker side) talking over a real MessageChannel,
 * as a page and its Web Worker do: ready info, progress in order, the result, and errors that
 * reject instead of hanging.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { exposeTraining, trainInWorker } from '../../src/index.js';
import type { MessagePortLike } from '../../src/browser/protocol.js';

type Listener = (e: { data?: unknown; message?: string }) => void;

/** A page-side Worker stand-in and the worker-side scope, joined by a MessageChannel. */
function pair() {
  const { port1, port2 } = new MessageChannel();
  const errorListeners: Listener[] = [];
  let terminated = false;
  const worker = {
    postMessage: (d: unknown) => port1.postMessage(d),
    addEventListener: (type: 'message' | 'error', fn: Listener) => {
      if (type === 'error') errorListeners.push(fn);
      else port1.addEventListener('message', fn as (e: Event) => void);
    },
    terminate: () => {
      terminated = true;
      port1.close();
    },
    fail: (message: string) => errorListeners.forEach((f) => f({ message })),
    get terminated() {
      return terminated;
    },
  };
  return { worker, scope: port2 as unknown as MessagePortLike };
}

test('trainInWorker: ready info, every progress report in order, then the result; the worker is terminated', async () => {
  const { worker, scope } = pair();
  exposeTraining<{ steps: number }, { step: number }, { total: number }>((opts, report, info) => {
    assert.equal(info.backend, 'wasm');
    for (let step = 0; step < opts.steps; step++) report({ step });
    return { total: opts.steps };
  }, scope);
  const seen: number[] = [];
  let ready: unknown;
  const job = trainInWorker<{ steps: number }, { step: number }, { total: number }>(worker, { steps: 5 }, {
    onReady: (i) => (ready = i),
    onProgress: (p) => seen.push(p.step),
  });
  assert.deepEqual(await job.result, { total: 5 });
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.equal((ready as { backend: string }).backend, 'wasm');
  assert.equal(worker.terminated, true);
  (scope as unknown as { close(): void }).close();
});

test('trainInWorker: an error thrown while training rejects the result with its message', async () => {
  const { worker, scope } = pair();
  exposeTraining(() => {
    throw new Error('shape mismatch in layer 2');
  }, scope);
  await assert.rejects(trainInWorker(worker, {}).result, /^Error: gradkit worker: shape mismatch in layer 2$/);
  (scope as unknown as { close(): void }).close();
});

test('trainInWorker: a worker script that fails to load rejects; cancel rejects too', async () => {
  const { worker } = pair();
  const job = trainInWorker(worker, {});
  worker.fail('Uncaught SyntaxError: Unexpected token');
  await assert.rejects(job.result, /gradkit worker failed to run: Uncaught SyntaxError/);
  const other = pair();
  const job2 = trainInWorker(other.worker, {});
  job2.cancel();
  await assert.rejects(job2.result, /cancelled/);
  assert.equal(other.worker.terminated, true);
});

/**
 * The demo page: trains the digits CNN in a worker (trainInWorker) and draws the live loss and
 * accuracy curves; a second, long-lived worker (predictor.ts) holds the model that classifies the
 * drawings — the CNN just trained, or the zoo's pretrained digits-cnn after the button.
 */
// page.js directly: the page itself runs no kernels, so it needs none of the library.
import { trainInWorker } from '../../src/browser/page.js';
import { DEFAULT_OPTIONS, type DemoOptions, type DemoProgress, type DemoResult } from './options.js';
import type { PredictorReply, PredictorRequest } from './predict-protocol.js';
import type { DemoState } from './state.js';
import { plot } from './plot.js';
import { toDigit } from './predict.js';

const $ = (id: string) => document.getElementById(id)!;
const isolated = globalThis.crossOriginIsolated === true;
$('isolated').textContent = isolated ? 'yes (threads available)' : 'no';
$('hint').hidden = isolated;

/**
 * The run, from the page's address: `?backend=auto|wasm|webgpu` (default auto: webgpu on a
 * hardware GPU, else wasm) and any DemoOptions number (`?epochs=1&trainSize=320` for a short run).
 */
const params = new URLSearchParams(location.search);
const BACKENDS = ['auto', 'wasm', 'webgpu'] as const;
const asked = params.get('backend') ?? 'auto';
if (!(BACKENDS as readonly string[]).includes(asked)) throw new Error(`?backend= must be auto, wasm or webgpu, not ${asked}`);
const requested = asked as (typeof BACKENDS)[number];
const options: DemoOptions = { ...DEFAULT_OPTIONS };
for (const key of ['epochs', 'batchSize', 'lr', 'weightDecay', 'testSize', 'trainSize', 'evalEvery', 'seed'] as const) {
  const v = params.get(key);
  if (v !== null) options[key] = Number(v);
}

const demo: DemoState = { state: 'running', isolated, totalSteps: 0, losses: [], batchAccuracy: [], testAccuracy: [], model: null };
(globalThis as { gradkitDemo?: DemoState }).gradkitDemo = demo;

/** Mean of the last `k` values up to each index: the per-batch numbers are noisy. */
function smooth(v: number[], k = 8): [number, number][] {
  let sum = 0;
  return v.map((x, i) => {
    sum += x - (i >= k ? v[i - k]! : 0);
    return [i + 1, sum / Math.min(i + 1, k)];
  });
}

function drawCurves(): void {
  const xMax = Math.max(demo.totalSteps, demo.losses.length);
  const top = Math.max(2.5, ...demo.losses.slice(0, 5));
  plot($('curve') as HTMLCanvasElement, [
    { label: 'training loss (per batch)', color: '#90caf9', points: demo.losses.map((l, i) => [i + 1, l]) },
    { label: 'training loss (mean of 8)', color: '#1565c0', points: smooth(demo.losses) },
  ], { title: 'loss', yMax: top, xMax });
  plot($('accuracy-curve') as HTMLCanvasElement, [
    { label: 'training batches (mean of 8)', color: '#a5d6a7', points: smooth(demo.batchAccuracy) },
    { label: 'held-out digits', color: '#2e7d32', points: demo.testAccuracy, dots: true },
  ], { title: 'accuracy', yMax: 1, xMax, yFormat: (y) => `${Math.round(100 * y)}%`, legendAtBottom: true });
}

// The predictor: requests go out in order; replies come back in order (one at a time there).
const predictor = new Worker(new URL('./predictor.js', import.meta.url), { type: 'module' });
let nextId = 0;
predictor.addEventListener('message', (e: MessageEvent<PredictorReply>) => {
  const m = e.data;
  if (m.type === 'loaded') {
    demo.model = { ...m.info, state: 'ready' };
    $('model').textContent = m.info.label + (m.info.testAccuracy === undefined ? '' : ` (test accuracy ${(100 * m.info.testAccuracy).toFixed(2)} %)`);
    showPrediction();
  } else if (m.type === 'probs') {
    const probs = Array.from(m.probs);
    const digit = probs.indexOf(Math.max(...probs));
    demo.prediction = { digit, probs, model: demo.model?.label ?? '?' };
    $('prediction').textContent = `${digit}`;
    $('probs').innerHTML = probs
      .map((p, d) => `<tr><td>${d}</td><td><div style="background:#1565c0;height:10px;width:${Math.round(p * 150)}px"></div></td><td>${(100 * p).toFixed(1)} %</td></tr>`)
      .join('');
  } else {
    if (demo.model) Object.assign(demo.model, { state: 'error', error: m.message });
    $('model').textContent = m.message;
    console.error(m.message);
  }
});
function load(request: PredictorRequest, label: string): void {
  demo.model = { label, state: 'loading' };
  delete demo.prediction;
  $('model').textContent = `loading ${label}…`;
  predictor.postMessage(request);
}

let job: { cancel(): void } | null = null;
/** Set by the zoo button: a training run that ends afterwards must not replace the zoo model. */
let zooPicked = false;
function run(): void {
  job?.cancel();
  zooPicked = false;
  Object.assign(demo, { state: 'running', totalSteps: 0, losses: [], batchAccuracy: [], testAccuracy: [] });
  delete demo.result;
  delete demo.error;
  let frame = 0;
  const training = trainInWorker<DemoOptions, DemoProgress, DemoResult>(
    new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }),
    options,
    {
      onReady(info) {
        Object.assign(demo, { backend: info.backend, threads: info.threads, requested: info.requested, adapter: info.adapter, noWebGPU: info.noWebGPU });
        $('backend').textContent = info.adapter ? `webgpu on ${info.adapter.label}` : info.backend;
        $('threads').textContent = info.backend === 'webgpu' ? `${info.threads} (wasm, for the set-up; training runs on the GPU)` : String(info.threads);
        // One line: why not WebGPU, as a warning when it was asked for, as a note for auto.
        const note = $('gpu-note');
        note.hidden = info.noWebGPU === undefined;
        note.className = info.requested === 'webgpu' ? 'warn' : 'note';
        note.textContent = info.noWebGPU === undefined ? ''
          : info.requested === 'webgpu' ? `WebGPU was asked for but cannot be used here (${info.noWebGPU}): training on wasm instead.`
          : `Not on WebGPU: ${info.noWebGPU}.`;
      },
      onProgress(p) {
        demo.totalSteps = p.totalSteps;
        demo.losses.push(p.loss);
        demo.batchAccuracy.push(p.batchAccuracy);
        if (p.testAccuracy !== undefined) {
          demo.testAccuracy.push([p.step + 1, p.testAccuracy]);
          $('accuracy').textContent = `${(100 * p.testAccuracy).toFixed(1)} % (step ${p.step + 1})`;
        }
        $('loss').textContent = `${p.step + 1} of ${p.totalSteps} / ${p.loss.toFixed(3)}`;
        // Redraw at most once per frame however fast steps arrive.
        if (!frame) frame = requestAnimationFrame(() => { frame = 0; drawCurves(); });
      },
    },
    { backend: requested },
  );
  job = training;
  training.result.then(
    ({ model, ...r }) => {
      demo.result = r;
      demo.state = 'done';
      drawCurves();
      $('speed').textContent = `${r.samplesPerSec.toFixed(0)} (${r.trainSize} training digits)`;
      $('accuracy').textContent = `${(100 * r.testAccuracy).toFixed(1)} % on ${options.testSize} held-out digits`;
      if (!zooPicked) load({ type: 'load-bytes', bytes: model, label: 'the CNN trained on this page' }, 'the CNN trained on this page');
    },
    (e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      if (message.endsWith('cancelled')) return;
      demo.state = 'error';
      demo.error = message;
      $('loss').textContent = message;
      console.error(message);
    },
  );
}

const pad = $('pad') as HTMLCanvasElement;
const padCtx = pad.getContext('2d')!;
function clearPad(): void {
  padCtx.fillStyle = '#000';
  padCtx.fillRect(0, 0, pad.width, pad.height);
  delete demo.prediction;
  $('prediction').textContent = '–';
  $('probs').innerHTML = '';
}
function showPrediction(): void {
  const pixels = toDigit(pad);
  if (demo.model?.state !== 'ready' || !pixels) return;
  predictor.postMessage({ type: 'predict', id: nextId++, pixels } satisfies PredictorRequest);
}
let drawing = false;
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  padCtx.beginPath();
  padCtx.moveTo(e.offsetX, e.offsetY);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  padCtx.strokeStyle = '#fff';
  padCtx.lineWidth = 14;
  padCtx.lineCap = padCtx.lineJoin = 'round';
  padCtx.lineTo(e.offsetX, e.offsetY);
  padCtx.stroke();
});
addEventListener('pointerup', () => {
  if (!drawing) return;
  drawing = false;
  showPrediction();
});
$('clear').addEventListener('click', clearPad);
$('zoo').addEventListener('click', () => {
  zooPicked = true;
  load({ type: 'load-zoo' }, 'zoo digits-cnn (pretrained)');
});
clearPad();
drawCurves();

$('start').addEventListener('click', run);
run();

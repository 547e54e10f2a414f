/** The demo page: starts training in a worker and draws the loss curve as steps arrive. */
// page.js directly: the page itself runs no kernels, so it needs none of the library.
import { trainInWorker } from '../../src/browser/page.js';
import { DEFAULT_OPTIONS, type DemoProgress, type DemoResult } from './options.js';
import { predict, toDigit } from './predict.js';

/** What the browser tests read back (and a curious user can inspect in the console). */
interface DemoState {
  state: 'running' | 'done' | 'error';
  isolated: boolean;
  backend?: string;
  threads?: number;
  losses: number[];
  result?: DemoResult;
  error?: string;
  /** The last drawing's prediction. */
  prediction?: { digit: number; probs: number[] };
}

const $ = (id: string) => document.getElementById(id)!;
const canvas = $('curve') as HTMLCanvasElement;
const isolated = globalThis.crossOriginIsolated === true;
$('isolated').textContent = isolated ? 'yes (threads available)' : 'no';
$('hint').hidden = isolated;

function draw(losses: number[]): void {
  const ctx = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  if (losses.length < 2) return;
  const top = Math.max(...losses.slice(0, 5), 2.5);
  const pad = 30;
  ctx.strokeStyle = '#bbb';
  ctx.fillStyle = '#666';
  ctx.font = '12px sans-serif';
  ctx.beginPath();
  ctx.moveTo(pad, 5);
  ctx.lineTo(pad, h - pad);
  ctx.lineTo(w - 5, h - pad);
  ctx.stroke();
  ctx.fillText(top.toFixed(1), 2, 14);
  ctx.fillText('0', 14, h - pad);
  ctx.fillText(`step ${losses.length}`, w - 70, h - 10);
  ctx.fillText('training loss', pad + 8, 16);
  ctx.strokeStyle = '#1565c0';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  losses.forEach((l, i) => {
    const x = pad + (i / (losses.length - 1)) * (w - pad - 10);
    const y = h - pad - (Math.min(l, top) / top) * (h - pad - 10);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

function run(): void {
  const demo: DemoState = { state: 'running', isolated, losses: [] };
  (globalThis as { gradkitDemo?: DemoState }).gradkitDemo = demo;
  let frame = 0;
  const job = trainInWorker<typeof DEFAULT_OPTIONS, DemoProgress, DemoResult>(
    new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }),
    DEFAULT_OPTIONS,
    {
      onReady(info) {
        demo.backend = info.backend;
        demo.threads = info.threads;
        $('backend').textContent = info.backend;
        $('threads').textContent = String(info.threads);
      },
      onProgress(p) {
        demo.losses.push(p.loss);
        $('loss').textContent = `${p.step + 1} / ${p.loss.toFixed(3)}`;
        // Redraw at most once per frame however fast steps arrive.
        if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(demo.losses); });
      },
    },
  );
  job.result.then(
    (r) => {
      demo.result = r;
      demo.state = 'done';
      draw(demo.losses);
      $('speed').textContent = r.samplesPerSec.toFixed(0);
      $('accuracy').textContent = `${(100 * r.testAccuracy).toFixed(1)} %`;
    },
    (e: unknown) => {
      demo.state = 'error';
      demo.error = e instanceof Error ? e.message : String(e);
      $('loss').textContent = demo.error;
      console.error(demo.error);
    },
  );
}

const pad = $('pad') as HTMLCanvasElement;
const padCtx = pad.getContext('2d')!;
function clearPad(): void {
  padCtx.fillStyle = '#000';
  padCtx.fillRect(0, 0, pad.width, pad.height);
  $('prediction').textContent = '–';
  $('probs').innerHTML = '';
}
function showPrediction(): void {
  const demo = (globalThis as { gradkitDemo?: DemoState }).gradkitDemo;
  const pixels = toDigit(pad);
  if (!demo?.result || !pixels) return;
  const probs = Array.from(predict(demo.result.weights, pixels));
  const digit = probs.indexOf(Math.max(...probs));
  demo.prediction = { digit, probs };
  $('prediction').textContent = `${digit}`;
  $('probs').innerHTML = probs
    .map((p, d) => `<tr><td>${d}</td><td><div style="background:#1565c0;height:10px;width:${Math.round(p * 150)}px"></div></td><td>${(100 * p).toFixed(1)} %</td></tr>`)
    .join('');
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
clearPad();

$('start').addEventListener('click', run);
run();

/**
 * The dashboard page (bundled with uPlot by scripts/build-dashboard.mjs). It reads the JSON API
 * of src/dashboard/server.ts and follows its server-sent events; everything is drawn by uPlot
 * except tables (runs, confusion matrix, tune trials).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { axisScale, type AxisScale } from './scales.js';

type Row = Record<string, unknown>;
interface RunInfo {
  name: string; kind: 'run' | 'study'; status: string; best: { monitor: string; value: number; epoch: number } | null;
  testAccuracy: number | null; seconds: number | null; epochs: number; tags: string[]; hasRecord: boolean; hasAnalysis: boolean; modified: number;
}
interface Hist { edges: number[]; counts: number[] }
interface RecordLine { kind: string; step: number; activations: { name: string; histogram: Hist }[]; gradients: { name: string; histogram: Hist }[]; updateRatio: Record<string, number> }

const COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#f0e442', '#000000'];
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const state = {
  runs: [] as RunInfo[],
  metrics: new Map<string, Row[]>(),
  selected: new Set<string>(),
  focus: null as string | null,
  charts: new Map<string, uPlot>(),
  /** The parallel-coordinates axes of the focused study (name, linear or log, ticks). */
  parallelAxes: [] as ({ name: string } & Omit<AxisScale, 'norm'>)[],
};
// Tests read the charts' data through this handle.
(window as unknown as { gradkitDashboard: typeof state }).gradkitDashboard = state;

async function api<T>(p: string): Promise<T | null> {
  const r = await fetch(p);
  return r.ok ? ((await r.json()) as T) : null;
}

const colorOf = (name: string): string => COLORS[Math.max(0, state.runs.findIndex((r) => r.name === name)) % COLORS.length];
const fmt = (v: number | null | undefined, d = 4): string => (v === null || v === undefined || !Number.isFinite(v) ? '' : Number(v.toPrecision(d)).toString());
const duration = (s: number | null): string => (s === null ? '' : s < 90 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);

function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- run list -------------------------------------------------------------------------------

function renderRuns(): void {
  const body = $('runs').querySelector('tbody')!;
  body.replaceChildren();
  for (const r of state.runs) {
    const tr = el('tr', { 'data-run': r.name });
    if (r.name === state.focus) tr.className = 'focus';
    const box = el('input', { type: 'checkbox' }) as HTMLInputElement;
    box.checked = state.selected.has(r.name);
    box.disabled = r.kind !== 'run';
    box.addEventListener('change', () => {
      if (box.checked) state.selected.add(r.name);
      else state.selected.delete(r.name);
      void loadSelected().then(renderCurves);
    });
    const td0 = el('td');
    td0.append(box);
    const name = el('td', { class: 'name' });
    const sw = el('span', { class: 'swatch' });
    sw.style.background = colorOf(r.name);
    name.append(sw, r.name);
    name.addEventListener('click', () => void focus(r.name));
    tr.append(td0, name, el('td', {}, r.status), el('td', {}, r.best ? `${r.best.monitor} ${fmt(r.best.value)} (epoch ${r.best.epoch + 1})` : ''),
      el('td', {}, r.testAccuracy === null ? '' : `${(r.testAccuracy * 100).toFixed(2)}%`), el('td', {}, duration(r.seconds)), el('td', {}, r.kind === 'study' ? `${r.epochs} trials` : String(r.epochs)), el('td', {}, r.tags.join(', ')));
    body.append(tr);
  }
}

// ---- curves ---------------------------------------------------------------------------------

async function loadSelected(): Promise<void> {
  for (const name of state.selected) {
    if (!state.metrics.has(name)) state.metrics.set(name, (await api<Row[]>(`/api/runs/${encodeURIComponent(name)}/metrics`)) ?? []);
  }
}

/** TensorBoard-style smoothing: an exponential moving average, debiased at the start. */
export function smooth(ys: (number | null)[], w: number): (number | null)[] {
  let last = 0;
  let n = 0;
  return ys.map((y) => {
    if (y === null || !Number.isFinite(y)) return null;
    last = last * w + (1 - w) * y;
    n++;
    return last / (1 - w ** n);
  });
}

function chart(id: string, title: string, xLabel: string, xs: number[], series: { label: string; color: string; dash?: boolean; values: (number | null)[] }[], logY = false): void {
  const host = $(id);
  state.charts.get(id)?.destroy();
  host.replaceChildren();
  if (xs.length === 0 || series.length === 0) {
    state.charts.delete(id);
    host.append(el('p', {}, `${title}: no data yet`));
    return;
  }
  const opts: uPlot.Options = {
    title, width: 440, height: 240,
    scales: { x: { time: false }, y: logY ? { distr: 3 } : {} },
    axes: [{ label: xLabel }, {}],
    series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, dash: s.dash ? [6, 4] : undefined, spanGaps: true, points: { show: xs.length < 40 } }))],
  };
  state.charts.set(id, new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, host));
}

/** Aligns per-run (x, y) pairs on the union of the x values. */
function align(perRun: { label: string; color: string; dash?: boolean; points: [number, number][] }[]): { xs: number[]; series: { label: string; color: string; dash?: boolean; values: (number | null)[] }[] } {
  const xs = [...new Set(perRun.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const series = perRun.filter((s) => s.points.length > 0).map((s) => {
    const values: (number | null)[] = new Array(xs.length).fill(null);
    for (const [x, y] of s.points) values[index.get(x)!] = y;
    return { label: s.label, color: s.color, dash: s.dash, values };
  });
  return { xs, series };
}

function epochPoints(rows: Row[], key: string): [number, number][] {
  return rows.filter((r) => (r.kind ?? 'epoch') === 'epoch' && typeof r[key] === 'number').map((r) => [(r.epoch as number) + 1, r[key] as number]);
}

function renderCurves(): void {
  const runs = [...state.selected].filter((n) => state.metrics.has(n));
  const w = Number(($('smoothing') as HTMLInputElement).value);
  $('smoothing-value').textContent = String(w);
  const panel = (id: string, title: string, keys: string[]): void => {
    const { xs, series } = align(runs.flatMap((n) => keys.map((k) => ({ label: `${n} ${k}`, color: colorOf(n), dash: k.startsWith('val'), points: epochPoints(state.metrics.get(n)!, k) }))));
    chart(id, title, 'epoch', xs, series);
  };
  panel('chart-loss', 'loss per epoch', ['loss', 'valLoss']);
  panel('chart-accuracy', 'accuracy per epoch', ['accuracy', 'valAccuracy']);
  panel('chart-lr', 'learning rate', ['lr']);
  const steps = align(runs.map((n) => ({
    label: `${n} loss (smoothed)`, color: colorOf(n),
    points: state.metrics.get(n)!.filter((r) => r.kind === 'step' && typeof r.loss === 'number').map((r): [number, number] => [r.step as number, r.loss as number]),
  })));
  chart('chart-steps', 'training loss per step', 'step', steps.xs, steps.series.map((s) => ({ ...s, values: smooth(s.values, w) })));
}

// ---- one run in detail --------------------------------------------------------------------------

function histogramChart(host: HTMLElement, title: string, h: Hist): void {
  const div = el('div', { class: 'chart hist' });
  host.append(div);
  const xs = h.edges.slice(0, -1).map((e, i) => (e + h.edges[i + 1]) / 2);
  new uPlot({
    title, width: 300, height: 160, legend: { show: false },
    scales: { x: { time: false } },
    series: [{}, { stroke: '#0072b2', fill: 'rgba(0,114,178,0.3)', paths: uPlot.paths.bars!({ size: [0.9] }), points: { show: false } }],
  }, [xs, h.counts], div);
}

function renderRecord(lines: RecordLine[]): void {
  const host = $('record');
  host.replaceChildren();
  // A resumed run may have recorded a step twice (after its last checkpoint, before the crash): keep the latest.
  const recs = [...new Map(lines.filter((l) => l.kind === 'record').map((l) => [l.step, l])).values()].sort((a, b) => a.step - b.step);
  if (recs.length === 0) return;
  host.append(el('h3', {}, 'update/weight ratio per parameter (healthy ≈ 1e-3)'));
  const ratios = el('div', { id: 'chart-ratio', class: 'chart' });
  host.append(ratios);
  const names = [...new Set(recs.flatMap((r) => Object.keys(r.updateRatio)))];
  chart('chart-ratio', 'update / weight', 'step', recs.map((r) => r.step), names.map((n, i) => ({ label: n, color: COLORS[i % COLORS.length], values: recs.map((r) => r.updateRatio[n] ?? null) })), true);
  if (lines.some((l) => l.kind === 'capped')) host.append(el('p', {}, 'recording stopped at its size cap (maxBytes); later steps are not recorded'));
  const label = el('label', {}, 'step ');
  const slider = el('input', { type: 'range', min: '0', max: String(recs.length - 1), value: String(recs.length - 1), id: 'record-step' }) as HTMLInputElement;
  const shown = el('span');
  label.append(slider, shown);
  host.append(el('h3', {}, 'activation and gradient histograms'), label);
  const hists = el('div', { class: 'hists', id: 'hists' });
  host.append(hists);
  const draw = (): void => {
    const r = recs[Number(slider.value)];
    shown.textContent = ` ${r.step}`;
    hists.replaceChildren();
    for (const a of r.activations) histogramChart(hists, `activation ${a.name}`, a.histogram);
    for (const g of r.gradients) histogramChart(hists, `gradient ${g.name}`, g.histogram);
  };
  slider.addEventListener('input', draw);
  draw();
}

function renderAnalysis(run: string, a: { confusion: number[][]; perClassAccuracy: (number | null)[]; accuracy: number; weights?: string; misclassified: { label: number; predicted: number; confidence: number; image: string | null }[] } | null): void {
  const host = $('analysis');
  host.replaceChildren();
  if (a === null) return;
  host.append(el('h3', {}, `confusion matrix (${a.weights ?? 'best checkpoint'}, test accuracy ${(a.accuracy * 100).toFixed(2)}%; rows: true class, columns: predicted)`));
  const t = el('table', { class: 'confusion', id: 'confusion' });
  const head = el('tr');
  head.append(el('th'), ...a.confusion.map((_, j) => el('th', {}, String(j))), el('th', {}, 'accuracy'));
  t.append(head);
  const peak = Math.max(1, ...a.confusion.flat());
  a.confusion.forEach((row, i) => {
    const tr = el('tr');
    tr.append(el('th', {}, String(i)));
    row.forEach((v, j) => {
      const td = el('td', {}, String(v));
      const alpha = v / peak;
      td.style.background = i === j ? `rgba(0,158,115,${alpha})` : `rgba(213,94,0,${alpha})`;
      tr.append(td);
    });
    tr.append(el('td', {}, a.perClassAccuracy[i] === null ? '' : `${((a.perClassAccuracy[i] as number) * 100).toFixed(1)}%`));
    t.append(tr);
  });
  host.append(t);
  const imgs = a.misclassified.filter((m) => m.image !== null);
  if (imgs.length > 0) {
    host.append(el('h3', {}, 'misclassified test inputs'));
    for (const m of imgs) {
      const d = el('div', { class: 'mis' });
      d.append(el('img', { src: `/api/runs/${encodeURIComponent(run)}/${m.image!.split('/').map(encodeURIComponent).join('/')}`, alt: `true ${m.label}, predicted ${m.predicted}` }), el('span', {}, `${m.label}→${m.predicted} (${(m.confidence * 100).toFixed(0)}%)`));
      host.append(d);
    }
  }
}

function renderStudy(trials: Row[]): void {
  const host = $('study');
  host.replaceChildren();
  state.parallelAxes = [];
  if (trials.length === 0) return;
  // The latest record per trial id (a resumed study appends).
  const latest = [...new Map(trials.map((t) => [t.id as string, t])).values()];
  const params = [...new Set(latest.flatMap((t) => Object.keys((t.params as Row) ?? {})))];
  const cols = ['id', 'status', 'score', ...params, 'epochs', 'seconds'];
  const value = (t: Row, c: string): unknown => (params.includes(c) ? (t.params as Row)[c] : t[c]);
  let sortCol = 'score';
  let asc = false;
  host.append(el('h3', {}, `tune study: ${latest.length} trials (click a column to sort)`));
  const table = el('table', { id: 'trials' });
  host.append(table);
  const draw = (): void => {
    const rows = [...latest].sort((a, b) => {
      const x = value(a, sortCol);
      const y = value(b, sortCol);
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * (asc ? 1 : -1);
    });
    table.replaceChildren();
    const head = el('tr');
    for (const c of cols) {
      const th = el('th', { class: 'sortable', 'data-col': c }, c + (c === sortCol ? (asc ? ' ▲' : ' ▼') : ''));
      th.addEventListener('click', () => {
        asc = c === sortCol ? !asc : true;
        sortCol = c;
        draw();
      });
      head.append(th);
    }
    table.append(head);
    for (const t of rows) {
      const tr = el('tr');
      for (const c of cols) {
        const v = value(t, c);
        tr.append(el('td', {}, typeof v === 'number' ? fmt(v) : v === undefined || v === null ? '' : String(v)));
      }
      table.append(tr);
    }
  };
  draw();
  // Parallel coordinates: one axis per numeric hyperparameter and the score, each scaled to [0, 1]
  // (log scale for positive values over two decades or more, see scales.ts); every trial is a
  // line across the axes (uPlot with the axis index as x), and each axis's ticks are drawn on it.
  const axes = [...params.filter((p) => latest.every((t) => typeof (t.params as Row)[p] === 'number')), 'score'];
  const ok = latest.filter((t) => typeof t.score === 'number');
  if (axes.length < 2 || ok.length === 0) return;
  const scales = axes.map((a) => axisScale(ok.map((t) => value(t, a) as number)));
  state.parallelAxes = axes.map((name, i) => ({ name, kind: scales[i].kind, lo: scales[i].lo, hi: scales[i].hi, ticks: scales[i].ticks }));
  const { lo: sLo, hi: sHi } = scales[axes.length - 1];
  const logAxes = axes.filter((_, i) => scales[i].kind === 'log');
  host.append(el('h3', {}, `parallel coordinates (axes: ${axes.join(', ')}; each scaled to its range${logAxes.length ? `, log scale: ${logAxes.join(', ')}` : ''}; darker: better score)`));
  const div = el('div', { id: 'chart-parallel', class: 'chart' });
  host.append(div);
  state.charts.get('chart-parallel')?.destroy();
  const drawTicks = (u: uPlot): void => {
    const ctx = u.ctx;
    const px = window.devicePixelRatio || 1;
    ctx.save();
    ctx.fillStyle = '#333';
    ctx.strokeStyle = '#999';
    ctx.font = `${10 * px}px sans-serif`;
    ctx.textBaseline = 'middle';
    scales.forEach((sc, i) => {
      const x = u.valToPos(i, 'x', true);
      ctx.beginPath();
      ctx.moveTo(x, u.valToPos(0, 'y', true));
      ctx.lineTo(x, u.valToPos(1, 'y', true));
      ctx.stroke();
      // The last axis's labels go on its left so they stay inside the canvas.
      ctx.textAlign = i === scales.length - 1 ? 'right' : 'left';
      for (const t of sc.ticks) {
        const y = u.valToPos(t.at, 'y', true);
        ctx.beginPath();
        ctx.moveTo(x - 3 * px, y);
        ctx.lineTo(x + 3 * px, y);
        ctx.stroke();
        ctx.fillText(t.label, x + (i === scales.length - 1 ? -5 : 5) * px, y);
      }
    });
    ctx.restore();
  };
  state.charts.set('chart-parallel', new uPlot({
    width: 600, height: 260, legend: { show: false },
    // A margin above 1 and below 0 keeps the end ticks' labels inside the canvas.
    scales: { x: { time: false }, y: { range: [-0.05, 1.05] } },
    axes: [{ values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? axes[t] ?? '' : '')), splits: () => axes.map((_, i) => i) }, { show: false }],
    hooks: { draw: [drawTicks] },
    series: [{}, ...ok.map((t) => {
      const q = sHi > sLo ? ((t.score as number) - sLo) / (sHi - sLo) : 1;
      return { label: String(t.id), stroke: `rgba(0,114,178,${0.25 + 0.75 * q})`, width: 1.5 };
    })],
  }, [axes.map((_, i) => i), ...ok.map((t) => axes.map((a, i) => scales[i].norm(value(t, a) as number)))] as uPlot.AlignedData, div));
}

async function focus(name: string): Promise<void> {
  state.focus = name;
  renderRuns();
  const run = state.runs.find((r) => r.name === name);
  $('detail-title').textContent = `${run?.kind === 'study' ? 'Tune study' : 'Run'} ${name}`;
  const enc = encodeURIComponent(name);
  // A study's configuration is its search space.
  const [config, summary] = await Promise.all([api<unknown>(`/api/runs/${enc}/${run?.kind === 'study' ? 'space' : 'config'}`), api<unknown>(`/api/runs/${enc}/summary`)]);
  $('config').textContent = config === null ? '(none)' : JSON.stringify(config, null, 2);
  $('summary').textContent = summary === null ? '(not finished)' : JSON.stringify({ ...(summary as Row), history: undefined, ranked: undefined }, null, 2);
  renderRecord(run?.hasRecord ? ((await api<RecordLine[]>(`/api/runs/${enc}/record`)) ?? []) : []);
  renderAnalysis(name, run?.hasAnalysis ? await api(`/api/runs/${enc}/analysis`) : null);
  renderStudy(run?.kind === 'study' ? ((await api<Row[]>(`/api/runs/${enc}/trials`)) ?? []) : []);
}

// ---- live updates -------------------------------------------------------------------------------

function onRuns(runs: RunInfo[]): void {
  const had = new Set(state.runs.map((r) => r.name));
  state.runs = runs;
  // The newest run is selected at first, so the page shows something without a click.
  if (state.selected.size === 0 && had.size === 0) {
    const newest = [...runs].filter((r) => r.kind === 'run').sort((a, b) => b.modified - a.modified)[0];
    if (newest) state.selected.add(newest.name);
    if (state.focus === null && (newest ?? runs[0])) void focus((newest ?? runs[0]).name);
  }
  renderRuns();
  void loadSelected().then(renderCurves);
}

function onMetrics(m: { run: string; lines: Row[] }): void {
  const rows = state.metrics.get(m.run);
  if (rows === undefined) return; // not loaded: the API gives the whole file when it is selected
  const seen = new Set(rows.map((r) => JSON.stringify(r)));
  for (const l of m.lines) if (!seen.has(JSON.stringify(l))) rows.push(l);
  if (state.selected.has(m.run)) renderCurves();
}

function connect(): void {
  const es = new EventSource('/api/events');
  es.addEventListener('hello', () => void ($('live').textContent = 'live'));
  es.addEventListener('runs', (e) => onRuns(JSON.parse((e as MessageEvent<string>).data) as RunInfo[]));
  es.addEventListener('metrics', (e) => onMetrics(JSON.parse((e as MessageEvent<string>).data) as { run: string; lines: Row[] }));
  es.onerror = () => void ($('live').textContent = 'disconnected; retrying…');
}

$('smoothing').addEventListener('input', renderCurves);
connect();

/**
 * Training curves as pictures: loss, accuracy and learning rate per epoch, training solid and
 * validation dashed, one colour per run. One layout (pixel coordinates of every polyline) feeds
 * both the SVG writer and the PNG rasterizer (curves-png.ts), so the two always agree.
 */

/** One run's per-epoch logs (metrics.jsonl 'epoch' lines or trainer.history). */
export interface CurveRun {
  name: string;
  epochs: Record<string, unknown>[];
}

export interface CurveLine {
  run: string;
  key: string;
  color: string;
  dashed: boolean;
  /** Pixel coordinates, one per epoch that has a finite value. */
  points: [number, number][];
  /** The data behind the points: [epoch number (1-based), value]. */
  data: [number, number][];
}

export interface CurvePanel {
  title: string;
  /** Plot area in pixels: x0 left, x1 right, y0 top, y1 bottom. */
  area: { x0: number; x1: number; y0: number; y1: number };
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  lines: CurveLine[];
}

/** The layout of a training-curves figure: its size and the panels (one per group of metrics). */
export interface CurvesLayout {
  width: number;
  height: number;
  panels: CurvePanel[];
}

/** The panels and the log keys each draws (training first, validation dashed). */
export const CURVE_PANELS: { title: string; keys: string[] }[] = [
  { title: 'loss', keys: ['loss', 'valLoss'] },
  { title: 'accuracy', keys: ['accuracy', 'valAccuracy'] },
  { title: 'learning rate', keys: ['lr'] },
];

/** Colour-blind-safe (Okabe-Ito) colours, one per run, repeating after eight. */
export const RUN_COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#f0e442', '#000000'];

const PANEL_W = 360;
const PANEL_H = 240;
const PAD = { left: 56, right: 14, top: 28, bottom: 34 };
const LEGEND_H = 22;

/** Epoch number (1-based) of a log line: its `epoch` field + 1, else its position + 1. */
function epochNumber(row: Record<string, unknown>, i: number): number {
  return typeof row.epoch === 'number' && Number.isFinite(row.epoch) ? row.epoch + 1 : i + 1;
}

/** The panels (loss, accuracy, learning rate), axes and series of one or several runs, shared by the SVG and PNG renderers. */
export function curvesLayout(runs: readonly CurveRun[]): CurvesLayout {
  const panels: CurvePanel[] = CURVE_PANELS.map((spec, p) => {
    const area = { x0: p * PANEL_W + PAD.left, x1: (p + 1) * PANEL_W - PAD.right, y0: PAD.top, y1: PANEL_H - PAD.bottom };
    const series = runs.flatMap((run, r) =>
      spec.keys.map((key) => ({
        run: run.name,
        key,
        color: RUN_COLORS[r % RUN_COLORS.length],
        dashed: key.startsWith('val'),
        data: run.epochs.flatMap((row, i): [number, number][] => {
          const v = row[key];
          return typeof v === 'number' && Number.isFinite(v) ? [[epochNumber(row, i), v]] : [];
        }),
      })),
    ).filter((s) => s.data.length > 0);
    const xs = series.flatMap((s) => s.data.map((d) => d[0]));
    const ys = series.flatMap((s) => s.data.map((d) => d[1]));
    const xMin = xs.length ? Math.min(...xs) : 0;
    const xMax = xs.length ? Math.max(...xs) : 1;
    const yMin = ys.length ? Math.min(...ys) : 0;
    const yMax = ys.length ? Math.max(...ys) : 1;
    // A single epoch or a flat series still gets a visible line: the middle of the range.
    const sx = (x: number): number => (xMax > xMin ? area.x0 + ((x - xMin) / (xMax - xMin)) * (area.x1 - area.x0) : (area.x0 + area.x1) / 2);
    const sy = (y: number): number => (yMax > yMin ? area.y1 - ((y - yMin) / (yMax - yMin)) * (area.y1 - area.y0) : (area.y0 + area.y1) / 2);
    const lines = series.map((s) => ({ ...s, points: s.data.map(([x, y]): [number, number] => [sx(x), sy(y)]) }));
    return { title: spec.title, area, xMin, xMax, yMin, yMax, lines };
  });
  return { width: PANEL_W * CURVE_PANELS.length, height: PANEL_H + LEGEND_H * Math.max(1, runs.length), panels };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** A tick value as short text: three significant digits, exponent form when very large or small. */
export const num = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3))));

/** One text label of a panel: baseline at y, anchored at x; size is the SVG font size. */
export interface CurveLabel {
  role: 'title' | 'tick' | 'axis';
  text: string;
  x: number;
  y: number;
  anchor: 'start' | 'middle' | 'end';
  size: number;
}

/** The title, the y ticks (max, min), the x ticks (first, last epoch) and the axis name of a panel: shared by SVG and PNG. */
export function panelLabels(p: CurvePanel): CurveLabel[] {
  const { x0, x1, y0, y1 } = p.area;
  const mid = (x0 + x1) / 2;
  return [
    { role: 'title', text: p.title, x: mid, y: 18, anchor: 'middle', size: 13 },
    { role: 'tick', text: num(p.yMax), x: x0 - 4, y: y0 + 4, anchor: 'end', size: 10 },
    { role: 'tick', text: num(p.yMin), x: x0 - 4, y: y1, anchor: 'end', size: 10 },
    { role: 'tick', text: num(p.xMin), x: x0, y: y1 + 14, anchor: 'middle', size: 10 },
    { role: 'tick', text: num(p.xMax), x: x1, y: y1 + 14, anchor: 'middle', size: 10 },
    { role: 'axis', text: 'epoch', x: mid, y: y1 + 26, anchor: 'middle', size: 10 },
  ];
}

/** The baseline y of the first legend row (one row per run below the panels). */
export function legendTop(L: CurvesLayout, runs: number): number {
  return L.height - LEGEND_H * Math.max(1, runs) + 15;
}
export const LEGEND_ROW = LEGEND_H;

/** The curves of one or several runs as an SVG document (three panels and a legend). */
export function curvesSvg(runs: readonly CurveRun[]): string {
  const L = curvesLayout(runs);
  const parts: string[] = [];
  for (const p of L.panels) {
    const { x0, x1, y0, y1 } = p.area;
    parts.push(`<g class="panel" data-title="${esc(p.title)}">`);
    parts.push(`<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="#bbb"/>`);
    for (const t of panelLabels(p)) parts.push(`<text x="${t.x}" y="${t.y}" font-size="${t.size}" text-anchor="${t.anchor}">${esc(t.text)}</text>`);
    for (const l of p.lines) {
      const pts = l.points.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join(' ');
      parts.push(`<polyline data-run="${esc(l.run)}" data-key="${esc(l.key)}" fill="none" stroke="${l.color}" stroke-width="1.5"${l.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts}"/>`);
    }
    parts.push('</g>');
  }
  const legendY = legendTop(L, runs.length);
  runs.forEach((r, i) => {
    const y = legendY + i * LEGEND_H;
    const c = RUN_COLORS[i % RUN_COLORS.length];
    parts.push(`<line x1="10" y1="${y - 4}" x2="30" y2="${y - 4}" stroke="${c}" stroke-width="2"/><text x="36" y="${y}" font-size="11">${esc(r.name)} (solid: training, dashed: validation)</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" viewBox="0 0 ${L.width} ${L.height}" font-family="sans-serif">
<rect width="${L.width}" height="${L.height}" fill="white"/>
${parts.join('\n')}
</svg>
`;
}

/** Parses JSON lines into objects, skipping blank lines, non-objects and a half-written last line. */
export function parseJsonl(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const o = JSON.parse(line) as unknown;
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) out.push(o as Record<string, unknown>);
    } catch {
      // A line being written while we read is cut short; the next read gets it whole.
    }
  }
  return out;
}

/** The per-epoch lines of a metrics.jsonl text (step lines and broken lines are skipped). */
export function epochRowsFromJsonl(text: string): Record<string, unknown>[] {
  return parseJsonl(text).filter((o) => (o.kind ?? 'epoch') === 'epoch');
}

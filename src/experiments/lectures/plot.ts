/**
 * Curves of several arms on one chart (the mean over seeds, one colour per arm, with a legend).
 * Same hand-written SVG style as src/diagnostics/svg.ts, whose text helpers it reuses.
 */
import { esc, num } from '../../diagnostics/svg.js';

const W = 480;
const H = 280;
const PAD = 40;
const LEGEND = 130;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface Series {
  name: string;
  /** Values at x = 1, 2, … (epochs, or layers); non-finite points are skipped. */
  ys: readonly number[];
}

/** Mean over seeds of per-seed curves (shorter curves contribute where they have values). */
export function meanCurve(curves: readonly (readonly number[])[]): number[] {
  const len = Math.max(0, ...curves.map((c) => c.length));
  return Array.from({ length: len }, (_, i) => {
    const vs = curves.map((c) => c[i]).filter((v): v is number => v !== undefined);
    return vs.reduce((s, v) => s + v, 0) / vs.length;
  });
}

/** A line chart of several series against the epoch, y on a log axis when `logY`. */
export function curvesSvg(series: readonly Series[], title: string, yLabel: string, opts: { logY?: boolean; xLabel?: string } = {}): string {
  const ty = (y: number): number => (opts.logY ? Math.log10(y) : y);
  const pts = series.map((s) => s.ys.map((y, i) => [i + 1, ty(y)] as const).filter(([, y]) => Number.isFinite(y)));
  const all = pts.flat();
  const plotW = W - LEGEND;
  const x0 = 1;
  const x1 = Math.max(2, ...series.map((s) => s.ys.length));
  const y0 = all.length ? Math.min(...all.map((p) => p[1])) : 0;
  const y1 = all.length ? Math.max(...all.map((p) => p[1])) : 1;
  const sx = (x: number): number => PAD + ((x - x0) / (x1 - x0)) * (plotW - PAD - 10);
  const sy = (y: number): number => H - PAD - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * PAD - 10);
  const lab = (v: number): string => num(opts.logY ? 10 ** v : v);
  const lines = pts.map((p, k) => (p.length === 0 ? '' : `<polyline fill="none" stroke-width="1.5" stroke="${COLORS[k % COLORS.length]}" points="${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`));
  const legend = series.map((s, k) => {
    const y = PAD + k * 16;
    return `<line x1="${plotW + 4}" y1="${y}" x2="${plotW + 20}" y2="${y}" stroke="${COLORS[k % COLORS.length]}" stroke-width="2"/><text x="${plotW + 24}" y="${y + 4}" font-family="sans-serif" font-size="10">${esc(s.name)}${pts[k].length < s.ys.length ? ' (diverged)' : ''}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${plotW / 2}" y="16" font-family="sans-serif" font-size="12" text-anchor="middle">${esc(title)}</text>
<line x1="${PAD}" y1="${H - PAD}" x2="${plotW - 10}" y2="${H - PAD}" stroke="black"/>
<line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}" stroke="black"/>
<text x="${PAD}" y="${H - PAD + 14}" font-family="sans-serif" font-size="10" text-anchor="middle">1</text>
<text x="${plotW - 10}" y="${H - PAD + 14}" font-family="sans-serif" font-size="10" text-anchor="middle">${x1}</text>
<text x="${plotW / 2}" y="${H - 8}" font-family="sans-serif" font-size="10" text-anchor="middle">${esc(opts.xLabel ?? 'epoch')}</text>
<text x="${PAD - 4}" y="${sy(y1) + 4}" font-family="sans-serif" font-size="10" text-anchor="end">${lab(y1)}</text>
<text x="${PAD - 4}" y="${sy(y0) + 4}" font-family="sans-serif" font-size="10" text-anchor="end">${lab(y0)}</text>
<text x="12" y="${H / 2}" font-family="sans-serif" font-size="10" text-anchor="middle" transform="rotate(-90 12 ${H / 2})">${esc(yLabel)}${opts.logY ? ' (log)' : ''}</text>
${lines.join('\n')}
${legend.join('\n')}
</svg>
`;
}

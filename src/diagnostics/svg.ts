/**
 * Minimal SVG charts (a histogram, a line plot). Hand-written on purpose: an SVG is a few text
 * elements, so a chart library would add a dependency (and usually a DOM/canvas requirement)
 * for nothing; these files open in any browser.
 */
import type { Histogram } from './stats.js';

const W = 320;
const H = 200;
const PAD = 30;

/** Escapes text for an SVG/XML text node. */
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A short axis label for a number. */
export const num = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3))));

function frame(title: string, body: string, xLo: string, xHi: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="16" font-family="sans-serif" font-size="12" text-anchor="middle">${esc(title)}</text>
<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="black"/>
${body}
<text x="${PAD}" y="${H - PAD + 14}" font-family="sans-serif" font-size="10" text-anchor="middle">${esc(xLo)}</text>
<text x="${W - PAD}" y="${H - PAD + 14}" font-family="sans-serif" font-size="10" text-anchor="middle">${esc(xHi)}</text>
</svg>
`;
}

/** A bar chart of a histogram. */
export function histogramSvg(h: Histogram, title: string): string {
  const peak = Math.max(1, ...h.counts);
  const bw = (W - 2 * PAD) / h.counts.length;
  const bars = h.counts.map((c, i) => {
    const bh = (c / peak) * (H - 2 * PAD - 10);
    return `<rect x="${(PAD + i * bw).toFixed(2)}" y="${(H - PAD - bh).toFixed(2)}" width="${Math.max(bw - 1, 0.5).toFixed(2)}" height="${bh.toFixed(2)}" fill="steelblue"/>`;
  });
  return frame(title, bars.join('\n'), num(h.edges[0]), num(h.edges[h.edges.length - 1]));
}

/** A polyline of y against x (x on a log axis when `logX`); non-finite points are skipped. */
export function lineSvg(xs: readonly number[], ys: readonly number[], title: string, opts: { logX?: boolean; marker?: number } = {}): string {
  const tx = (x: number): number => (opts.logX ? Math.log10(x) : x);
  const pts = xs.map((x, i) => [tx(x), ys[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length === 0) return frame(title, '', '', '');
  const [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  const sx = (x: number): number => PAD + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * PAD);
  const sy = (y: number): number => H - PAD - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * PAD - 10);
  let body = `<polyline fill="none" stroke="steelblue" points="${pts.map(([x, y]) => `${sx(x).toFixed(2)},${sy(y).toFixed(2)}`).join(' ')}"/>`;
  if (opts.marker !== undefined && Number.isFinite(tx(opts.marker))) {
    const mx = sx(tx(opts.marker)).toFixed(2);
    body += `\n<line x1="${mx}" y1="${PAD}" x2="${mx}" y2="${H - PAD}" stroke="crimson" stroke-dasharray="4 2"/>`;
  }
  const lab = (v: number): string => num(opts.logX ? 10 ** v : v);
  return frame(title, body, lab(x0), lab(x1));
}

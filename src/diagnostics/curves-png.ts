/**
 * The curves layout rasterized to PNG: lines, frames, and the SVG's labels (titles, ticks, legend)
 * in a built-in 5×7 pixel font. For places that take only bitmaps (some markdown viewers, CI
 * artifact previews, TensorBoard).
 */
import { encodePng } from '../core/png.js';
import { drawText } from './bitmap-font.js';
import { curvesLayout, legendTop, LEGEND_ROW, panelLabels, RUN_COLORS, type CurveRun } from './curves.js';

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** RGBA pixels of the curves (white background). */
export function curvesPixels(runs: readonly CurveRun[]): { width: number; height: number; pixels: Uint8Array } {
  const L = curvesLayout(runs);
  const { width, height } = L;
  const px = new Uint8Array(width * height * 4).fill(255);
  const plot = (x: number, y: number, c: [number, number, number]): void => {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= width || yi >= height) return;
    const o = (yi * width + xi) * 4;
    px[o] = c[0];
    px[o + 1] = c[1];
    px[o + 2] = c[2];
  };
  // Sampled at half-pixel steps: simple, and fine for lines of a few hundred pixels.
  const segment = (ax: number, ay: number, bx: number, by: number, c: [number, number, number], dashed: boolean): void => {
    const n = Math.max(1, Math.ceil(2 * Math.hypot(bx - ax, by - ay)));
    for (let i = 0; i <= n; i++) {
      if (dashed && Math.floor(i / 10) % 2 === 1) continue;
      plot(ax + ((bx - ax) * i) / n, ay + ((by - ay) * i) / n, c);
    }
  };
  const grey: [number, number, number] = [187, 187, 187];
  const ink: [number, number, number] = [0, 0, 0];
  for (const p of L.panels) {
    const { x0, x1, y0, y1 } = p.area;
    segment(x0, y0, x1, y0, grey, false);
    segment(x0, y1, x1, y1, grey, false);
    segment(x0, y0, x0, y1, grey, false);
    segment(x1, y0, x1, y1, grey, false);
    for (const l of p.lines) {
      const c = rgb(l.color);
      if (l.points.length === 1) plot(l.points[0][0], l.points[0][1], c);
      for (let i = 1; i < l.points.length; i++) segment(l.points[i - 1][0], l.points[i - 1][1], l.points[i][0], l.points[i][1], c, l.dashed);
    }
    for (const t of panelLabels(p)) drawText(px, width, height, t.text, t.x, t.y, ink, t.anchor);
  }
  const legendY = legendTop(L, runs.length);
  runs.forEach((r, i) => {
    const y = legendY + i * LEGEND_ROW;
    const c = rgb(RUN_COLORS[i % RUN_COLORS.length]);
    segment(10, y - 4, 30, y - 4, c, false);
    segment(10, y - 3, 30, y - 3, c, false);
    drawText(px, width, height, `${r.name} (solid: training, dashed: validation)`, 36, y, ink);
  });
  return { width, height, pixels: px };
}

/** The curves of one or several runs as a PNG (lines, frames and labels). */
export function curvesPng(runs: readonly CurveRun[]): Uint8Array {
  const { width, height, pixels } = curvesPixels(runs);
  return encodePng(width, height, pixels, 4);
}

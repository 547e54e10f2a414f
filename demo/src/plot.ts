/** A small line chart on a canvas for the live curves (no chart library: two series, one axis). */
export interface Series {
  label: string;
  color: string;
  /** [x, y] points; x is the training step. */
  points: [number, number][];
  /** Draw a dot on each point (for sparse series such as the held-out accuracy). */
  dots?: boolean;
}

export function plot(canvas: HTMLCanvasElement, series: Series[], opts: { title: string; yMax: number; xMax: number; yFormat?: (y: number) => string; legendAtBottom?: boolean }): void {
  const ctx = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  const pad = 34;
  const fmt = opts.yFormat ?? ((y: number) => y.toFixed(1));
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#bbb';
  ctx.fillStyle = '#666';
  ctx.lineWidth = 1;
  ctx.font = '12px sans-serif';
  ctx.beginPath();
  ctx.moveTo(pad, 5);
  ctx.lineTo(pad, h - pad);
  ctx.lineTo(w - 5, h - pad);
  ctx.stroke();
  ctx.fillText(fmt(opts.yMax), 2, 14);
  ctx.fillText(fmt(0), 2, h - pad);
  ctx.fillText(`step ${opts.xMax}`, w - 70, h - 10);
  ctx.fillText(opts.title, pad + 8, 16);
  const xOf = (x: number) => pad + (x / Math.max(1, opts.xMax)) * (w - pad - 10);
  const yOf = (y: number) => h - pad - (Math.min(Math.max(y, 0), opts.yMax) / opts.yMax) * (h - pad - 10);
  series.forEach((s, k) => {
    ctx.fillStyle = ctx.strokeStyle = s.color;
    // Where the curves are not: the top right for falling ones, the bottom right for rising ones.
    ctx.fillText(s.label, w - 200, opts.legendAtBottom ? h - pad - 10 - 15 * (series.length - 1 - k) : 16 + 15 * k);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    s.points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(xOf(x), yOf(y)) : ctx.lineTo(xOf(x), yOf(y))));
    ctx.stroke();
    if (s.dots) for (const [x, y] of s.points) ctx.fillRect(xOf(x) - 2, yOf(y) - 2, 4, 4);
  });
}

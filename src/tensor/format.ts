import type { Tensor } from './tensor.js';

const EDGE = 3;
const SUMMARIZE_ABOVE = 1000;

function fmtValue(v: number, dtype: string): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (dtype === 'int32') return String(v);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(4);
  return v.toFixed(4);
}

/** PyTorch-style text: nested brackets, aligned columns, long dims summarized with '...'. */
export function formatTensor(t: Tensor): string {
  const values = t.backend.readSync(t.ownHandle);
  const summarize = t.size > SUMMARIZE_ABOVE;
  const strides: number[] = [];
  let acc = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= t.shape[d];
  }
  const shownIndices = (n: number): (number | null)[] => {
    const idx: (number | null)[] = [];
    if (summarize && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idx.push(i);
      idx.push(null);
      for (let i = n - EDGE; i < n; i++) idx.push(i);
    } else {
      for (let i = 0; i < n; i++) idx.push(i);
    }
    return idx;
  };
  // Format only the cells that are shown: printing a 1000×1000 weight must not build a million strings.
  const cells = new Map<number, string>();
  const collect = (dim: number, offset: number): void => {
    if (dim === t.shape.length) {
      cells.set(offset, fmtValue(values[offset], t.dtype));
      return;
    }
    for (const i of shownIndices(t.shape[dim])) if (i !== null) collect(dim + 1, offset + i * strides[dim]);
  };
  if (t.size > 0) collect(0, 0);
  let width = 0;
  for (const c of cells.values()) width = Math.max(width, c.length);
  const render = (dim: number, offset: number, indent: string): string => {
    const idx = shownIndices(t.shape[dim]);
    if (dim === t.shape.length - 1) {
      return '[' + idx.map((i) => (i === null ? '...' : cells.get(offset + i)!.padStart(width))).join(', ') + ']';
    }
    const sep = ',' + '\n'.repeat(t.shape.length - dim - 1) + indent + ' ';
    return '[' + idx.map((i) => (i === null ? '...' : render(dim + 1, offset + i * strides[dim], indent + ' '))).join(sep) + ']';
  };
  const body = t.shape.length === 0 ? cells.get(0)! : render(0, 0, '       ');
  const extras = [`shape=[${t.shape.join(', ')}]`, `dtype=${t.dtype}`];
  if (t.requiresGrad) extras.push('requiresGrad=true');
  return `tensor(${body}, ${extras.join(', ')})`;
}

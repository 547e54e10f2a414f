/**
 * CSV for tabular data: a small RFC 4180 parser (quoted fields, "" escapes, CRLF) and a loader
 * that turns numeric columns into a float32 feature matrix and one column into targets.
 * Every problem is reported with its line and column, because CSV files are edited by hand.
 */
import { GradkitError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { TensorDataset } from './dataset.js';
import { readTextFile } from './platform.js';
import { tensorFrom } from './util.js';

interface Row {
  line: number;
  cells: string[];
}

/** Splits CSV text into rows of raw cells (strings), keeping each row's starting line number. */
export function parseCsvRows(text: string, delimiter = ',', op = 'parseCsv'): Row[] {
  if (typeof text !== 'string') throw new GradkitError(op, `expected CSV text (a string), got ${typeof text}`);
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new GradkitError(op, `delimiter must be a single character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const rows: Row[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let rowLine = 1;
  let i = 0;
  let quoted = false;
  const endRow = (): void => {
    cells.push(cell);
    // A line with nothing on it is skipped, not read as a row with one empty cell.
    if (!(cells.length === 1 && cells[0].trim() === '')) rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = text[i];
        if (next !== undefined && next !== delimiter && next !== '\n' && next !== '\r') {
          throw new GradkitError(op, `line ${line}, column ${cells.length + 1}: unexpected ${JSON.stringify(next)} after a closing quote`);
        }
        continue;
      }
      if (ch === '\n') line++;
      cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
      i++;
    } else if (ch === delimiter) {
      cells.push(cell);
      cell = '';
      i++;
    } else if (ch === '\n' || ch === '\r') {
      endRow();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      cell += ch;
      i++;
    }
  }
  if (quoted) throw new GradkitError(op, `line ${rowLine}, column ${cells.length + 1}: a quoted field is never closed`);
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

/** Options of `parseCsv` and `loadCsv`: delimiter, header detection, the target column and its type, and ignored columns. */
export interface CsvOptions {
  /** Field separator (default ','). */
  delimiter?: string;
  /** Whether the first row names the columns; 'auto' (default): yes when a column is text there but numeric in the next row. */
  header?: boolean | 'auto';
  /** The target column, by name or 0-based index (default: none, every column is a feature). */
  target?: string | number;
  /** 'class' (labels → int32; text labels are numbered in order of first appearance), 'number' (float32 [N, 1]), or 'auto' (default: class when all values are integers or text). */
  targetType?: 'class' | 'number' | 'auto';
  /** Columns to leave out (names or indices). */
  ignore?: readonly (string | number)[];
}

/** A CSV file read as tensors: feature names, features x, optional targets y and class names, and a data set. */
export interface CsvData {
  /** Feature names, in the order of x's columns. */
  columns: string[];
  /** float32 [rows, features]. */
  x: Tensor;
  /** Targets when `target` was given. */
  y?: Tensor;
  /** For text class labels: classes[k] is the label numbered k. */
  classes?: string[];
  /** `new TensorDataset(x, y)` (or of x alone). */
  dataset: TensorDataset;
}

const isNumeric = (s: string): boolean => s.trim() !== '' && Number.isFinite(Number(s));

/**
 * Parses CSV text into tensors: `parseCsv(text, { target: 'species' })`.
 * Errors name the line and column: non-numeric or empty feature cells, rows with the wrong number of fields.
 */
export function parseCsv(text: string, opts: CsvOptions = {}, op = 'parseCsv'): CsvData {
  const rows = parseCsvRows(text, opts.delimiter ?? ',', op);
  if (rows.length === 0) throw new GradkitError(op, 'the CSV text has no rows');
  const headerMode = opts.header ?? 'auto';
  // 'auto': a header names columns, so some column is text in row 1 but a number below it
  // (a text label column alone is no evidence: its values are text too).
  const hasHeader =
    headerMode === 'auto' ? rows.length > 1 && rows[0].cells.some((c, j) => !isNumeric(c) && isNumeric(rows[1].cells[j] ?? '')) : headerMode;
  const width = rows[0].cells.length;
  const names = hasHeader ? rows[0].cells.map((c) => c.trim()) : Array.from({ length: width }, (_, i) => `column${i}`);
  const body = hasHeader ? rows.slice(1) : rows;
  if (body.length === 0) throw new GradkitError(op, 'the CSV text has a header but no data rows');
  for (const r of body) {
    if (r.cells.length !== width) {
      throw new GradkitError(op, `line ${r.line} has ${r.cells.length} fields, expected ${width} (like line ${rows[0].line})`);
    }
  }
  const resolve = (c: string | number, what: string): number => {
    const idx = typeof c === 'number' ? c : names.indexOf(c);
    if (!Number.isInteger(idx) || idx < 0 || idx >= width) {
      throw new GradkitError(op, `${what} ${JSON.stringify(c)} is not a column; columns are ${names.join(', ')}`);
    }
    return idx;
  };
  const targetIdx = opts.target !== undefined ? resolve(opts.target, 'target') : -1;
  const ignored = new Set((opts.ignore ?? []).map((c) => resolve(c, 'ignored column')));
  const featureIdx = names.map((_, i) => i).filter((i) => i !== targetIdx && !ignored.has(i));
  const x = new Float32Array(body.length * featureIdx.length);
  body.forEach((r, i) => {
    featureIdx.forEach((c, j) => {
      const s = r.cells[c];
      if (!isNumeric(s)) {
        const what = s.trim() === '' ? 'is empty' : `${JSON.stringify(s)} is not a number`;
        throw new GradkitError(op, `line ${r.line}, column ${c + 1} (${names[c]}): ${what}`);
      }
      x[i * featureIdx.length + j] = Number(s);
    });
  });
  const xt = tensorFrom(x, [body.length, featureIdx.length]);
  const out: CsvData = { columns: featureIdx.map((i) => names[i]), x: xt, dataset: new TensorDataset(xt) };
  if (targetIdx >= 0) {
    const cells = body.map((r) => r.cells[targetIdx].trim());
    const type = opts.targetType ?? 'auto';
    const numeric = cells.every(isNumeric);
    if (type === 'number' || (type === 'auto' && numeric && !cells.every((s) => Number.isInteger(Number(s))))) {
      const y = new Float32Array(cells.length);
      cells.forEach((s, i) => {
        if (!isNumeric(s)) throw new GradkitError(op, `line ${body[i].line}, column ${targetIdx + 1} (${names[targetIdx]}): target ${JSON.stringify(s)} is not a number`);
        y[i] = Number(s);
      });
      out.y = tensorFrom(y, [cells.length, 1]);
    } else if (type === 'class' || type === 'auto') {
      const y = new Int32Array(cells.length);
      if (numeric) {
        cells.forEach((s, i) => {
          const v = Number(s);
          if (!Number.isInteger(v) || v < 0) throw new GradkitError(op, `line ${body[i].line}, column ${targetIdx + 1} (${names[targetIdx]}): class label ${s} must be a non-negative integer`);
          y[i] = v;
        });
      } else {
        const classes: string[] = [];
        cells.forEach((s, i) => {
          if (s === '') throw new GradkitError(op, `line ${body[i].line}, column ${targetIdx + 1} (${names[targetIdx]}): the class label is empty`);
          let k = classes.indexOf(s);
          if (k < 0) k = classes.push(s) - 1;
          y[i] = k;
        });
        out.classes = classes;
      }
      out.y = tensorFrom(y, [cells.length]);
    } else {
      throw new GradkitError(op, `targetType must be 'class', 'number' or 'auto', got ${String(type)}`);
    }
    out.dataset = new TensorDataset(xt, out.y);
  }
  return out;
}

/** Reads a CSV file (through the platform's file reader) and parses it like `parseCsv`. */
export async function loadCsv(path: string, opts: CsvOptions = {}): Promise<CsvData> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (e) {
    if (e instanceof GradkitError) throw e;
    throw new GradkitError('loadCsv', `could not read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseCsv(text, opts, `loadCsv(${path})`);
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curvesSvg, curvesLayout, epochRowsFromJsonl, panelLabels } from '../../src/diagnostics/curves.js';
import { ADVANCE, FONT_5X7, GLYPH_H, GLYPH_W, drawText, textBox } from '../../src/diagnostics/bitmap-font.js';
import { curvesPixels, curvesPng } from '../../src/diagnostics/curves-png.js';
import { CurvesPlot } from '../../src/diagnostics/curves-callback.js';
import { encodePng, toGreyBytes } from '../../src/core/png.js';
import { memoryStorage } from '../../src/train/storage.js';
import type { Trainer } from '../../src/train/trainer.js';
import { decodePng } from '../helpers-png.js';

const HISTORY = [
  { epoch: 0, loss: 2.0, accuracy: 0.3, valLoss: 1.8, valAccuracy: 0.4, lr: 0.01 },
  { epoch: 1, loss: 1.0, accuracy: 0.6, valLoss: 1.2, valAccuracy: 0.55, lr: 0.005 },
  { epoch: 2, loss: 0.5, accuracy: 0.8, valLoss: 1.0, valAccuracy: 0.7, lr: 0.001 },
  { epoch: 3, loss: 0.25, accuracy: 0.9, valLoss: 1.1, valAccuracy: 0.72, lr: 0.0005 },
];

/** Every polyline of an SVG: its data attributes and points. */
function polylines(svg: string): { run: string; key: string; points: [number, number][] }[] {
  return [...svg.matchAll(/<polyline data-run="([^"]*)" data-key="([^"]*)"[^>]*points="([^"]*)"/g)].map((m) => ({
    run: m[1],
    key: m[2],
    points: m[3].split(' ').map((p) => p.split(',').map(Number) as [number, number]),
  }));
}

test('curves.svg: one point per epoch, values at the right coordinates', () => {
  const svg = curvesSvg([{ name: 'a', epochs: HISTORY }]);
  const lines = polylines(svg);
  assert.deepEqual(lines.map((l) => l.key).sort(), ['accuracy', 'loss', 'lr', 'valAccuracy', 'valLoss']);
  const L = curvesLayout([{ name: 'a', epochs: HISTORY }]);
  const lossPanel = L.panels[0];
  assert.equal(lossPanel.title, 'loss');
  // The loss panel spans the smallest and largest of loss and valLoss.
  assert.equal(lossPanel.yMin, 0.25);
  assert.equal(lossPanel.yMax, 2.0);
  const { x0, x1, y0, y1 } = lossPanel.area;
  for (const l of lines) {
    assert.equal(l.points.length, HISTORY.length, `${l.key} has one point per epoch`);
    for (const p of l.points) assert.ok(Number.isFinite(p[0]) && Number.isFinite(p[1]));
  }
  const loss = lines.find((l) => l.key === 'loss')!;
  // Epoch 1 at the left edge, epoch 4 at the right, evenly spaced.
  HISTORY.forEach((h, i) => {
    assert.ok(Math.abs(loss.points[i][0] - (x0 + (i / 3) * (x1 - x0))) < 0.01, `x of epoch ${i + 1}`);
    const want = y1 - ((h.loss - 0.25) / (2.0 - 0.25)) * (y1 - y0);
    assert.ok(Math.abs(loss.points[i][1] - want) < 0.01, `y of loss ${h.loss}: ${loss.points[i][1]} vs ${want}`);
  });
  // The biggest loss is at the top of the plot area, the smallest at the bottom (SVG y grows down).
  assert.ok(Math.abs(loss.points[0][1] - y0) < 0.01);
  assert.ok(Math.abs(loss.points[3][1] - y1) < 0.01);
  // Validation is dashed, training not.
  assert.match(svg, /data-key="valLoss"[^>]*stroke-dasharray/);
  assert.doesNotMatch(svg, /data-key="loss"[^>]*stroke-dasharray/);
});

test('curves.svg: several runs overlay with their own colours; missing keys and NaN are skipped', () => {
  const b = HISTORY.slice(0, 2).map((h) => ({ epoch: h.epoch, loss: h.loss * 2, accuracy: Number.NaN }));
  const lines = polylines(curvesSvg([{ name: 'a', epochs: HISTORY }, { name: 'b<&>', epochs: b }]));
  const bLines = lines.filter((l) => l.run === 'b&lt;&amp;&gt;');
  assert.deepEqual(bLines.map((l) => l.key), ['loss'], 'b has only loss (accuracy NaN, no validation)');
  assert.equal(bLines[0].points.length, 2);
  const svg = curvesSvg([{ name: 'a', epochs: HISTORY }, { name: 'b', epochs: b }]);
  const colours = [...svg.matchAll(/data-key="loss" fill="none" stroke="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(colours.length, 2);
  assert.notEqual(colours[0], colours[1]);
  // b's loss of 4.0 at epoch 1 is now the panel's top.
  const L = curvesLayout([{ name: 'a', epochs: HISTORY }, { name: 'b', epochs: b }]);
  assert.equal(L.panels[0].yMax, 4.0);
});

test('epochRowsFromJsonl keeps epoch lines and skips step lines and a half-written last line', () => {
  const text = '{"kind":"step","step":1,"loss":3}\n{"kind":"epoch","epoch":0,"loss":2}\n{"epoch":1,"loss":1}\n{"kind":"epoch","ep';
  assert.deepEqual(epochRowsFromJsonl(text), [{ kind: 'epoch', epoch: 0, loss: 2 }, { epoch: 1, loss: 1 }]);
});

test('encodePng round-trips through an independent reader (CRCs, zlib, pixels)', () => {
  const grey = toGreyBytes([0, 0.5, 1, 1, 0.5, 0]);
  assert.deepEqual([...grey], [0, 128, 255, 255, 128, 0]);
  const png = decodePng(encodePng(3, 2, grey, 1));
  assert.deepEqual([png.width, png.height, png.channels], [3, 2, 1]);
  assert.deepEqual([...png.pixels], [...grey]);
  assert.throws(() => encodePng(3, 2, grey, 4), /expected 24 bytes/);
});

test('curves.png draws the same lines as the SVG', () => {
  const runs = [{ name: 'a', epochs: HISTORY }];
  const png = decodePng(curvesPng(runs));
  const { width, height, pixels } = curvesPixels(runs);
  assert.deepEqual([png.width, png.height], [width, height]);
  assert.deepEqual(png.pixels, pixels);
  // The first loss point is coloured with the run's colour (#0072b2).
  const [x, y] = curvesLayout(runs).panels[0].lines[0].points[0].map(Math.round);
  const o = (y * width + x) * 4;
  assert.deepEqual([...png.pixels.subarray(o, o + 3)], [0x00, 0x72, 0xb2]);
});

/** Is the RGBA pixel at (x, y) dark (text ink, not the white background or a light frame)? */
function dark(img: { width: number; pixels: Uint8Array }, x: number, y: number): boolean {
  const o = (y * img.width + x) * 4;
  return img.pixels[o] + img.pixels[o + 1] + img.pixels[o + 2] < 150;
}

/** Reads text back from pixels: each 5×7 cell of the box is matched exactly against every glyph of the font. */
function readText(img: { width: number; pixels: Uint8Array }, box: { x0: number; y0: number; x1: number }): string {
  let out = '';
  for (let left = box.x0; left < box.x1; left += ADVANCE) {
    const cell: string[] = [];
    for (let r = 0; r < GLYPH_H; r++) {
      let row = '';
      for (let c = 0; c < GLYPH_W; c++) row += dark(img, left + c, box.y0 + r) ? '#' : '.';
      cell.push(row);
    }
    const hit = Object.entries(FONT_5X7).find(([, rows]) => rows.join() === cell.join());
    out += hit ? hit[0] : '?';
  }
  return out;
}

test('bitmap font: a string drawn into a blank image is exactly the glyphs of the font table', () => {
  const width = 40;
  const height = 12;
  const px = new Uint8Array(width * height * 4).fill(255);
  const box = drawText(px, width, height, '1e-3', 2, 9, [0, 0, 0]);
  assert.deepEqual(box, { x0: 2, y0: 2, x1: 2 + 4 * ADVANCE - 1, y1: 9 });
  const img = { width, pixels: px };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = Math.floor((x - 2) / ADVANCE);
      const c = (x - 2) % ADVANCE;
      const r = y - 2;
      const want = x >= 2 && i < 4 && c < GLYPH_W && r >= 0 && r < GLYPH_H && FONT_5X7['1e-3'[i]][r][c] === '#';
      assert.equal(dark(img, x, y), want, `pixel (${x}, ${y})`);
    }
  }
  assert.equal(readText(img, box), '1e-3');
  // Anchors: 'end' puts the last column at x, 'middle' centres the box on x.
  assert.equal(textBox('ab', 50, 10, 'end').x1, 50);
  assert.equal(textBox('abc', 50, 10, 'middle').x0, 50 - 8);
});

test('curves.png has the panel titles and tick labels as text, where the SVG puts them', () => {
  const runs = [{ name: 'a', epochs: HISTORY }];
  const png = decodePng(curvesPng(runs));
  const L = curvesLayout(runs);
  const texts: string[] = [];
  for (const p of L.panels) {
    for (const t of panelLabels(p)) {
      const box = textBox(t.text, t.x, t.y, t.anchor);
      let ink = 0;
      for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) if (dark(png, x, y)) ink++;
      assert.ok(ink > 0, `dark text pixels in the box of '${t.text}'`);
      texts.push(readText(png, box));
    }
  }
  assert.deepEqual(texts, [
    'loss', '2', '0.25', '1', '4', 'epoch',
    'accuracy', '0.9', '0.3', '1', '4', 'epoch',
    'learning rate', '0.01', '5.0e-4', '1', '4', 'epoch',
  ]);
});

test('CurvesPlot rewrites curves.svg and curves.png after every epoch', async () => {
  const storage = memoryStorage();
  const cb = new CurvesPlot({ storage, dir: 'runs/x' });
  const t = { history: HISTORY.slice(0, 2) } as unknown as Trainer;
  await cb.afterEpoch(t);
  const svg1 = new TextDecoder().decode(storage.files.get('runs/x/curves.svg'));
  assert.equal(polylines(svg1).find((l) => l.key === 'loss')!.points.length, 2);
  (t as unknown as { history: unknown[] }).history = HISTORY;
  await cb.afterEpoch(t);
  const svg2 = new TextDecoder().decode(storage.files.get('runs/x/curves.svg'));
  assert.equal(polylines(svg2).find((l) => l.key === 'loss')!.points.length, 4);
  assert.match(svg2, /data-run="x"/);
  assert.equal(decodePng(storage.files.get('runs/x/curves.png')!).channels, 4);
});

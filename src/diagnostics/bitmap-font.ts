/**
 * A tiny 5×7 pixel font for text in rasterized figures (curves.png), so the PNG needs no font
 * files or canvas. Covers digits, a–z (upper case is drawn as lower case), and the punctuation
 * that numbers and the curves' labels use. Each glyph is 7 rows of 5 columns, '#' is ink.
 */

export const GLYPH_W = 5;
export const GLYPH_H = 7;
/** Horizontal distance from one glyph to the next (one blank column between glyphs). */
export const ADVANCE = GLYPH_W + 1;

// prettier-ignore
export const FONT_5X7: Readonly<Record<string, readonly string[]>> = {
  '0': ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  '.': ['.....', '.....', '.....', '.....', '.....', '.##..', '.##..'],
  '-': ['.....', '.....', '.....', '#####', '.....', '.....', '.....'],
  '+': ['.....', '..#..', '..#..', '#####', '..#..', '..#..', '.....'],
  '(': ['...#.', '..#..', '.#...', '.#...', '.#...', '..#..', '...#.'],
  ')': ['.#...', '..#..', '...#.', '...#.', '...#.', '..#..', '.#...'],
  ':': ['.....', '.##..', '.##..', '.....', '.##..', '.##..', '.....'],
  ',': ['.....', '.....', '.....', '.....', '.##..', '..#..', '.#...'],
  '_': ['.....', '.....', '.....', '.....', '.....', '.....', '#####'],
  '/': ['.....', '....#', '...#.', '..#..', '.#...', '#....', '.....'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
  a: ['.....', '.....', '.###.', '....#', '.####', '#...#', '.####'],
  b: ['#....', '#....', '#.##.', '##..#', '#...#', '#...#', '####.'],
  c: ['.....', '.....', '.###.', '#....', '#....', '#...#', '.###.'],
  d: ['....#', '....#', '.##.#', '#..##', '#...#', '#...#', '.####'],
  e: ['.....', '.....', '.###.', '#...#', '#####', '#....', '.###.'],
  f: ['..##.', '.#..#', '.#...', '###..', '.#...', '.#...', '.#...'],
  g: ['.....', '.####', '#...#', '#...#', '.####', '....#', '.###.'],
  h: ['#....', '#....', '#.##.', '##..#', '#...#', '#...#', '#...#'],
  i: ['..#..', '.....', '.##..', '..#..', '..#..', '..#..', '.###.'],
  j: ['...#.', '.....', '..##.', '...#.', '...#.', '#..#.', '.##..'],
  k: ['#....', '#....', '#..#.', '#.#..', '##...', '#.#..', '#..#.'],
  l: ['.##..', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  m: ['.....', '.....', '##.#.', '#.#.#', '#.#.#', '#...#', '#...#'],
  n: ['.....', '.....', '#.##.', '##..#', '#...#', '#...#', '#...#'],
  o: ['.....', '.....', '.###.', '#...#', '#...#', '#...#', '.###.'],
  p: ['.....', '.....', '####.', '#...#', '####.', '#....', '#....'],
  q: ['.....', '.....', '.##.#', '#..##', '.####', '....#', '....#'],
  r: ['.....', '.....', '#.##.', '##..#', '#....', '#....', '#....'],
  s: ['.....', '.....', '.###.', '#....', '.###.', '....#', '####.'],
  t: ['.#...', '.#...', '###..', '.#...', '.#...', '.#..#', '..##.'],
  u: ['.....', '.....', '#...#', '#...#', '#...#', '#..##', '.##.#'],
  v: ['.....', '.....', '#...#', '#...#', '#...#', '.#.#.', '..#..'],
  w: ['.....', '.....', '#...#', '#...#', '#.#.#', '#.#.#', '.#.#.'],
  x: ['.....', '.....', '#...#', '.#.#.', '..#..', '.#.#.', '#...#'],
  y: ['.....', '.....', '#...#', '#...#', '.####', '....#', '.###.'],
  z: ['.....', '.....', '#####', '...#.', '..#..', '.#...', '#####'],
};

/** Characters the font lacks are drawn as this (a small box), so a missing glyph is visible, not silently dropped. */
const MISSING: readonly string[] = ['.....', '.###.', '.#.#.', '.#.#.', '.#.#.', '.###.', '.....'];

/** The glyph of one character (upper case folds to lower case). */
export function glyph(ch: string): readonly string[] {
  return FONT_5X7[ch] ?? FONT_5X7[ch.toLowerCase()] ?? MISSING;
}

export type TextAnchor = 'start' | 'middle' | 'end';

/** The pixel box a string occupies when drawn with its baseline at y (the SVG convention) and the given anchor at x. */
export function textBox(text: string, x: number, y: number, anchor: TextAnchor = 'start'): { x0: number; y0: number; x1: number; y1: number } {
  const w = text.length * ADVANCE - 1;
  const left = Math.round(anchor === 'start' ? x : anchor === 'middle' ? x - w / 2 : x - w);
  const top = Math.round(y) - GLYPH_H;
  return { x0: left, y0: top, x1: left + w, y1: top + GLYPH_H };
}

/**
 * Draws a string into RGBA pixels (width × height × 4), baseline at y, clipped at the edges.
 * Returns the box it drew into (x1, y1 exclusive).
 */
export function drawText(
  px: Uint8Array,
  width: number,
  height: number,
  text: string,
  x: number,
  y: number,
  color: readonly [number, number, number],
  anchor: TextAnchor = 'start',
): { x0: number; y0: number; x1: number; y1: number } {
  const box = textBox(text, x, y, anchor);
  [...text].forEach((ch, i) => {
    const rows = glyph(ch);
    for (let r = 0; r < GLYPH_H; r++) {
      for (let c = 0; c < GLYPH_W; c++) {
        if (rows[r][c] !== '#') continue;
        const xi = box.x0 + i * ADVANCE + c;
        const yi = box.y0 + r;
        if (xi < 0 || yi < 0 || xi >= width || yi >= height) continue;
        const o = (yi * width + xi) * 4;
        px[o] = color[0];
        px[o + 1] = color[1];
        px[o + 2] = color[2];
        px[o + 3] = 255;
      }
    }
  });
  return box;
}

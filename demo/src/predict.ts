/**
 * A drawing turned into a 28×28 image the way MNIST digits were made: the stroke's bounding box
 * scaled (aspect kept, by area averaging) to fit 20×20, then placed so its centre of mass sits at
 * the centre of the 28×28 frame. A model trained on MNIST-style digits expects exactly that
 * framing; centring the bounding box instead misreads e.g. a 7 whose mass sits in its top bar.
 */

/** The drawing on `pad` (white strokes on black) as 784 values in [0, 1], or null when empty. */
export function toDigit(pad: HTMLCanvasElement): Float32Array | null {
  const { width, height } = pad;
  const data = pad.getContext('2d')!.getImageData(0, 0, width, height).data;
  return frameDigit((x, y) => data[(y * width + x) * 4]! / 255, width, height);
}

/** The MNIST framing of a width×height grey image given by `at(x, y)` in [0, 1]; null when blank. */
export function frameDigit(at: (x: number, y: number) => number, width: number, height: number): Float32Array | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (at(x, y) > 0.08) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale));
  const th = Math.max(1, Math.round(bh * scale));
  // Each target pixel is the mean of the source pixels that fall in it (or, when enlarging a
  // tiny drawing, the source pixel under its centre).
  const sum = new Float64Array(tw * th);
  const count = new Float64Array(tw * th);
  if (scale < 1) {
    for (let y = y0; y <= y1; y++) {
      const v = Math.min(th - 1, Math.floor((y - y0) * scale));
      for (let x = x0; x <= x1; x++) {
        const u = Math.min(tw - 1, Math.floor((x - x0) * scale));
        sum[v * tw + u]! += at(x, y);
        count[v * tw + u]! += 1;
      }
    }
  } else {
    for (let v = 0; v < th; v++) {
      for (let u = 0; u < tw; u++) {
        sum[v * tw + u] = at(x0 + Math.min(bw - 1, Math.floor((u + 0.5) / scale)), y0 + Math.min(bh - 1, Math.floor((v + 0.5) / scale)));
        count[v * tw + u] = 1;
      }
    }
  }
  let mass = 0, mx = 0, my = 0;
  const box = new Float64Array(tw * th);
  for (let i = 0; i < box.length; i++) {
    const b = count[i]! > 0 ? sum[i]! / count[i]! : 0;
    box[i] = b;
    mass += b;
    mx += b * (i % tw);
    my += b * Math.floor(i / tw);
  }
  // Shift so the centre of mass (pixel centres) lands on the frame's centre, (13.5, 13.5).
  const ox = Math.round(13.5 - (mass > 0 ? mx / mass : (tw - 1) / 2));
  const oy = Math.round(13.5 - (mass > 0 ? my / mass : (th - 1) / 2));
  const out = new Float32Array(784);
  for (let v = 0; v < th; v++) {
    for (let u = 0; u < tw; u++) {
      const X = u + ox;
      const Y = v + oy;
      if (X >= 0 && X < 28 && Y >= 0 && Y < 28) out[Y * 28 + X] = box[v * tw + u]!;
    }
  }
  return out;
}

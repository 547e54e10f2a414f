/**
 * A drawing turned into a 28×28 image the way MNIST digits were made (the stroke's bounding box
 * scaled into the central 20×20, aspect kept), for the predictor worker.
 */

/** The drawing on `pad` (white strokes on black) as 784 values in [0, 1], or null when empty. */
export function toDigit(pad: HTMLCanvasElement): Float32Array | null {
  const { width, height } = pad;
  const data = pad.getContext('2d')!.getImageData(0, 0, width, height).data;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4]! > 20) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const ctx = small.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, 28, 28);
  ctx.drawImage(pad, x0, y0, bw, bh, 14 - (bw * scale) / 2, 14 - (bh * scale) / 2, bw * scale, bh * scale);
  const px = ctx.getImageData(0, 0, 28, 28).data;
  const out = new Float32Array(784);
  for (let i = 0; i < 784; i++) out[i] = px[i * 4]! / 255;
  return out;
}

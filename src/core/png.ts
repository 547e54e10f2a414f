/**
 * A tiny PNG encoder (8-bit RGBA or greyscale, no interlace): run pictures, misclassified inputs
 * and TensorBoard images need PNG bytes, and the format is three chunks around a zlib stream.
 * fflate does the deflate; crc-32 the chunk checksums. No Node imports, so it runs in browsers.
 */
import { zlibSync } from 'fflate';
import CRC32 from 'crc-32';
import { GradkitError } from './errors.js';
import { concatBytes } from './bytes.js';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  // The CRC covers the type and the data, not the length.
  view.setUint32(8 + data.length, CRC32.buf(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

/**
 * Encodes `pixels` (row-major, `channels` bytes per pixel: 1 grey, 3 RGB, 4 RGBA) as a PNG file.
 */
export function encodePng(width: number, height: number, pixels: Uint8Array, channels: 1 | 3 | 4 = 4): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new GradkitError('encodePng', `width and height must be positive integers, got ${width}x${height}`);
  if (pixels.length !== width * height * channels) throw new GradkitError('encodePng', `expected ${width * height * channels} bytes for ${width}x${height}x${channels}, got ${pixels.length}`);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6; // colour type
  // Each row starts with filter byte 0 (none): the images are small and deflate copes well.
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', zlibSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))];
  return concatBytes(parts);
}

/** Greyscale bytes from floats: min..max of the values map to 0..255 (a constant image is mid-grey). */
export function toGreyBytes(values: ArrayLike<number>): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isFinite(x)) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  const out = new Uint8Array(values.length);
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    out[i] = !Number.isFinite(x) ? 0 : span > 0 ? Math.round(((x - lo) / span) * 255) : 128;
  }
  return out;
}

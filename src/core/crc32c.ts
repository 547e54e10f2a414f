/**
 * CRC-32C (Castagnoli), the checksum of checkpoint/model-file integrity records and of
 * TensorBoard's TFRecord framing. Computed by the `crc-32` package (pure JS, no Node imports, so
 * the core stays platform-free); this file only gives it an unsigned, typed face.
 */
import CRC32C from 'crc-32/crc32c.js';

/** The CRC-32C of `bytes` as an unsigned 32-bit integer (pass `seed` to continue a running CRC). */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  return CRC32C.buf(bytes, seed) >>> 0;
}

/** TFRecord's masked CRC: `((crc >>> 15) | (crc << 17)) + 0xa282ead8`, unsigned. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

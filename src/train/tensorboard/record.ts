/**
 * TFRecord framing, the container of TensorBoard event files: each record is
 *   uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes · data · uint32 masked CRC-32C of the data.
 */
import { maskedCrc32c } from '../../core/crc32c.js';

/** One TFRecord frame: uint64 length, masked CRC-32C of the length, the data, masked CRC-32C of the data. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  // Lengths here are far below 2^32, so the high word is 0.
  view.setUint32(0, data.length, true);
  view.setUint32(4, 0, true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

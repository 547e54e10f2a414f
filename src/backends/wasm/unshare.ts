/**
 * Turns the kernel module's `(import "env" "memory" (memory N M shared))` into a plain
 * (non-shared) memory import, so the same binary runs where SharedArrayBuffer is missing (a page
 * that is not cross-origin isolated). Only the limits flag byte changes (0x03 shared+max → 0x01
 * max), so the patch is one byte in place: no second binary to ship, no re-encoding. The kernels'
 * atomic instructions stay valid — the threads proposal allows them on unshared memory — and with
 * one thread nothing waits on them.
 */

function readU32(bytes: Uint8Array, pos: { at: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos.at++];
    if (b === undefined) throw new RangeError('gradkit wasm: truncated LEB128 in the kernel binary');
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
  }
}

/** A copy of `bytes` whose memory imports are not shared; throws when the layout is unexpected. */
export function unshareMemoryImport(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = bytes.slice();
  const pos = { at: 8 }; // after the magic number and version
  let patched = 0;
  while (pos.at < out.length) {
    const id = out[pos.at++];
    const size = readU32(out, pos);
    const end = pos.at + size;
    if (id === 2) {
      const count = readU32(out, pos);
      for (let i = 0; i < count; i++) {
        // Read each length before moving: `pos.at += readU32(…)` would add it to the old position.
        const moduleLen = readU32(out, pos);
        pos.at += moduleLen;
        const fieldLen = readU32(out, pos);
        pos.at += fieldLen;
        const kind = out[pos.at++];
        if (kind === 0) readU32(out, pos); // function: type index
        else if (kind === 1) { pos.at++; skipLimits(out, pos); } // table: reftype + limits
        else if (kind === 2) {
          const flag = out[pos.at]!;
          if (flag === 0x02 || flag === 0x03) { out[pos.at] = flag & ~0x02; patched++; }
          skipLimits(out, pos);
        } else if (kind === 3) pos.at += 2; // global: valtype + mutability
        else if (kind === 4) { pos.at++; readU32(out, pos); } // tag
        else throw new RangeError(`gradkit wasm: unknown import kind ${kind} in the kernel binary`);
      }
      break;
    }
    pos.at = end;
  }
  if (patched === 0) throw new RangeError('gradkit wasm: the kernel binary imports no shared memory to unshare');
  return out;
}

function skipLimits(bytes: Uint8Array, pos: { at: number }): void {
  const flag = bytes[pos.at++]!;
  readU32(bytes, pos);
  if (flag & 0x01) readU32(bytes, pos);
}

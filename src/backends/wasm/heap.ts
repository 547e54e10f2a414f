/**
 * The allocator of wasm memory above the fixed low area (pool control blocks, job descriptors):
 * first fit over an address-ordered free list, 64-byte aligned, neighbours coalesced on free.
 * When no free range fits it grows the memory (up to `limitBytes`); at the limit `alloc` answers
 * -1 and the caller decides (a resident tensor block falls back to a plain JS array; a scratch
 * chunk throws, and the kernel falls back to its reference path).
 *
 * Two kinds of block come out of it and so can never overlap: resident tensor blocks (owned by a
 * tensor until backend.free) and the chunks of the per-call scratch arena (see WasmRuntime).
 */
export class Heap {
  /** Free ranges, sorted by address, never adjacent (coalesced): starts and sizes in bytes. */
  private starts: number[] = [];
  private sizes: number[] = [];
  /** The end of the managed space: everything in [base, end) is a live block or a free range. */
  private end: number;
  /** Bytes and count of live blocks, and each block's size by address. */
  private readonly live = new Map<number, number>();
  liveBytes = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    /** The memory may not grow past this many bytes (a multiple of 64 KiB). */
    readonly limitBytes: number,
  ) {
    this.end = align64(base);
  }

  get liveBlocks(): number {
    return this.live.size;
  }

  /** A block of at least `bytes` (64-byte aligned), or -1 when the memory limit forbids it. */
  alloc(bytes: number): number {
    const size = Math.max(64, align64(bytes));
    const starts = this.starts, sizes = this.sizes;
    for (let i = 0; i < starts.length; i++) {
      if (sizes[i] < size) continue;
      const at = starts[i];
      if (sizes[i] === size) {
        starts.splice(i, 1);
        sizes.splice(i, 1);
      } else {
        starts[i] = at + size;
        sizes[i] -= size;
      }
      return this.track(at, size);
    }
    // Nothing fits: take from the end (extending a free range that touches it, if any).
    const last = starts.length - 1;
    const tail = last >= 0 && starts[last] + sizes[last] === this.end ? last : -1;
    const at = tail >= 0 ? starts[tail] : this.end;
    const newEnd = at + size;
    if (!this.ensure(newEnd)) return -1;
    if (tail >= 0) {
      starts.pop();
      sizes.pop();
    }
    this.end = newEnd;
    return this.track(at, size);
  }

  /** Returns a block; freeing an address that is not a live block throws (a double free). */
  free(at: number): void {
    const size = this.live.get(at);
    if (size === undefined) throw new Error(`gradkit wasm: freeing ${at}, which is not a live block`);
    this.live.delete(at);
    this.liveBytes -= size;
    const starts = this.starts, sizes = this.sizes;
    // First free range after the block.
    let lo = 0, hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] < at) lo = mid + 1;
      else hi = mid;
    }
    const joinPrev = lo > 0 && starts[lo - 1] + sizes[lo - 1] === at;
    const joinNext = lo < starts.length && at + size === starts[lo];
    if (joinPrev && joinNext) {
      sizes[lo - 1] += size + sizes[lo];
      starts.splice(lo, 1);
      sizes.splice(lo, 1);
    } else if (joinPrev) {
      sizes[lo - 1] += size;
    } else if (joinNext) {
      starts[lo] = at;
      sizes[lo] += size;
    } else {
      starts.splice(lo, 0, at);
      sizes.splice(lo, 0, size);
    }
  }

  /** Free ranges (for tests): how fragmented the space is. */
  get freeRanges(): number {
    return this.starts.length;
  }

  private track(at: number, size: number): number {
    this.live.set(at, size);
    this.liveBytes += size;
    return at;
  }

  /** Grows the memory so that it holds `bytes`; false when that passes the limit. */
  private ensure(bytes: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return true;
    if (bytes > this.limitBytes) return false;
    const pages = Math.ceil((bytes - have) / 65536);
    try {
      this.memory.grow(pages);
    } catch {
      // The engine refused (address space or a host limit): as at the cap.
      return false;
    }
    return true;
  }
}

/** Rounds up to a multiple of 64 with arithmetic, not bit operations, which wrap past 2^31. */
export function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

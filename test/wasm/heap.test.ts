import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Heap, align64 } from '../../src/backends/wasm/heap.js';
import { MAX_PAGES } from '../../src/backends/wasm/runtime.js';
import { Random } from '../../src/index.js';

// The allocator behind the wasm backend's resident blocks and scratch chunks (issue 13, item 3):
// first fit, 64-byte aligned, coalescing, refusing (-1) at its memory limit.

const PAGE = 65536;
const BASE = 128 * 1024;

function memory(maxPages: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 2, maximum: maxPages, shared: true });
}

/** The free gaps of [BASE, limit) around the live blocks, as the model sees them. */
function largestGap(live: Map<number, number>, limit: number): number {
  const blocks = [...live].sort((a, b) => a[0] - b[0]);
  let at = BASE, best = 0;
  for (const [start, size] of blocks) {
    best = Math.max(best, start - at);
    at = start + size;
  }
  return Math.max(best, limit - at);
}

test('random allocations and frees under a limit: aligned, inside the limit, never overlapping; refused only when no gap fits', () => {
  const limit = 64 * PAGE; // 4 MiB
  const heap = new Heap(memory(limit / PAGE), BASE, limit);
  const rng = new Random(41);
  const live = new Map<number, number>();
  let refused = 0;
  for (let op = 0; op < 20000; op++) {
    if (live.size > 0 && rng.uniform() < 0.45) {
      const keys = [...live.keys()];
      const at = keys[rng.int(0, keys.length)];
      heap.free(at);
      live.delete(at);
      continue;
    }
    // Sizes from 1 byte to 512 KiB, log-uniform: many small blocks between a few big ones.
    const bytes = Math.max(1, Math.floor(Math.exp(rng.uniform() * Math.log(512 * 1024))));
    const size = Math.max(64, align64(bytes));
    const at = heap.alloc(bytes);
    if (at < 0) {
      refused++;
      assert.ok(largestGap(live, limit) < size, `op ${op}: ${size} bytes refused while a gap of ${largestGap(live, limit)} was free`);
      continue;
    }
    assert.equal(at % 64, 0);
    assert.ok(at >= BASE && at + size <= limit, `op ${op}: block [${at}, ${at + size}) outside [${BASE}, ${limit})`);
    for (const [s, n] of live) assert.ok(at + size <= s || s + n <= at, `op ${op}: [${at}, ${at + size}) overlaps [${s}, ${s + n})`);
    live.set(at, size);
    assert.equal(heap.liveBlocks, live.size);
  }
  assert.ok(refused > 0, 'the run reached the limit');
  for (const at of live.keys()) heap.free(at);
  assert.equal(heap.liveBytes, 0);
  assert.ok(heap.freeRanges <= 1, `every free range coalesced: ${heap.freeRanges}`);
  assert.equal(heap.alloc(limit - BASE), BASE, 'the whole space is one block again');
});

test('at the real 2 GiB cap: blocks fill the memory, holes are reused first fit, a request larger than every hole is refused', () => {
  const limit = MAX_PAGES * PAGE;
  const heap = new Heap(memory(MAX_PAGES), BASE, limit);
  const block = 64 << 20;
  const blocks: number[] = [];
  for (;;) {
    const at = heap.alloc(block);
    if (at < 0) break;
    blocks.push(at);
  }
  // 2 GiB minus the low 128 KiB holds 31 blocks of 64 MiB.
  assert.equal(blocks.length, Math.floor((limit - BASE) / block));
  // Free every other block: half the memory free, in 64 MiB holes.
  for (let i = 0; i < blocks.length; i += 2) heap.free(blocks[i]);
  assert.equal(heap.alloc(2 * block), -1, 'no hole holds 128 MiB');
  assert.equal(heap.alloc(block), blocks[0], 'first fit: the lowest hole');
  assert.equal(heap.alloc(block / 2), blocks[2], 'the next hole');
  heap.free(blocks[0]);
  heap.free(blocks[2]);
  for (let i = 1; i < blocks.length; i += 2) heap.free(blocks[i]);
  assert.equal(heap.liveBytes, 0);
  assert.ok(heap.freeRanges <= 1);
  assert.equal(heap.alloc(limit - BASE), BASE, 'coalesced back into one 2 GiB range');
});

test('freeing an address that is not a live block throws', () => {
  const heap = new Heap(memory(16), BASE, 16 * PAGE);
  const at = heap.alloc(100);
  heap.free(at);
  assert.throws(() => heap.free(at), /not a live block/);
  assert.throws(() => heap.free(at + 64), /not a live block/);
});

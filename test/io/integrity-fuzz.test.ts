/**
 * Fuzzing the integrity check (issue 11, item 1): seeded random single-byte changes of a real
 * checkpoint and a real model file. Every one must either be refused with a clear error (a
 * GradkitError, one line, naming the file) or be provably harmless: the byte lies outside every
 * tensor's data, the header JSON parses to the same object, and what loads is identical to the
 * original. Zero silent wrong loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from '../../src/index.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/index.js';
import { currentCheckpoint, currentModelFile, layout } from './integrity-helpers.js';

const PER_FILE = 3000;

/** mulberry32: a tiny seeded generator, so a failure reproduces from its seed and index. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

interface Tally { detected: number; harmless: number; headerMutations: number; dataMutations: number }

/**
 * `load` decodes bytes and returns a canonical byte form of everything it loaded (so equal
 * bytes mean an identical load); it must throw for a damaged file.
 */
function fuzz(original: Uint8Array, path: string, seed: number, load: (b: Uint8Array, warn: (w: string) => void) => Uint8Array): Tally {
  const { dataStart, header } = layout(original);
  const warnings: string[] = [];
  const reference = load(original, (w) => warnings.push(w));
  assert.deepEqual(warnings, [], 'the intact file loads without a warning');
  const next = rng(seed);
  const tally: Tally = { detected: 0, harmless: 0, headerMutations: 0, dataMutations: 0 };
  for (let i = 0; i < PER_FILE; i++) {
    // Half the changes land in the 8-byte length or the header (small but dense with meaning), half anywhere.
    const at = i % 2 === 0 ? Math.floor(next() * dataStart) : Math.floor(next() * original.length);
    const mask = 1 + Math.floor(next() * 255);
    const bytes = original.slice();
    bytes[at] ^= mask;
    if (at < dataStart) tally.headerMutations++;
    else tally.dataMutations++;
    const where = `mutation ${i} (seed ${seed}): byte ${at} ^= 0x${mask.toString(16)}`;
    const warned: string[] = [];
    let loaded: Uint8Array;
    try {
      loaded = load(bytes, (w) => warned.push(w));
    } catch (e) {
      const err = e as Error;
      assert.equal(err.name, 'GradkitError', `${where}: ${err.stack}`);
      assert.ok(!err.message.includes('\n'), `${where}: error is not one line: ${err.message}`);
      assert.ok(err.message.includes(path), `${where}: error does not name the file: ${err.message}`);
      tally.detected++;
      continue;
    }
    // It loaded: that is only acceptable when it provably changed nothing.
    assert.ok(at >= 8 && at < dataStart, `${where}: loaded despite a change ${at < 8 ? 'in the header length' : 'in tensor data'}`);
    const text = new TextDecoder().decode(bytes.subarray(8, dataStart));
    assert.deepEqual(JSON.parse(text), header, `${where}: loaded although the header now means something else`);
    assert.deepEqual(warned, [], `${where}: loaded with a warning (${warned.join('; ')})`);
    assert.ok(sameBytes(loaded, reference), `${where}: loaded different contents`);
    tally.harmless++;
  }
  assert.equal(tally.detected + tally.harmless, PER_FILE);
  return tally;
}

test(`fuzz: ${PER_FILE} single-byte changes of a real checkpoint — each refused or provably harmless`, (ctx) => {
  const PATH = 'runs/fuzz/last.ckpt';
  const t = fuzz(currentCheckpoint(), PATH, 11, (b, onWarning) => encodeCheckpoint(decodeCheckpoint(b, PATH, { onWarning })));
  // Every change inside a tensor must be caught (CRC-32C catches every burst up to 32 bits).
  ctx.diagnostic(JSON.stringify(t));
  assert.ok(t.dataMutations > 1000 && t.headerMutations > 1000, JSON.stringify(t));
  assert.ok(t.detected >= t.dataMutations, JSON.stringify(t));
});

test(`fuzz: ${PER_FILE} single-byte changes of a real model file — each refused or provably harmless`, (ctx) => {
  const PATH = 'models/fuzz.safetensors';
  const t = fuzz(currentModelFile(), PATH, 12, (b, onWarning) => {
    // The rebuilt model's weights and buffers plus every metadata string, in one byte form.
    const { model, metadata } = io.loadModel(b, { path: PATH, onWarning });
    return io.saveSafetensors(model.stateDict(), metadata);
  });
  ctx.diagnostic(JSON.stringify(t));
  assert.ok(t.dataMutations > 1000 && t.headerMutations > 1000, JSON.stringify(t));
  assert.ok(t.detected >= t.dataMutations, JSON.stringify(t));
});

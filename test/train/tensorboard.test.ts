import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import CRC32C from 'crc-32/crc32c.js';
import { EventWriter, histogramOf, TensorBoard } from '../../src/train/tensorboard/index.js';
import { memoryStorage } from '../../src/train/storage.js';
import { encodePng } from '../../src/core/png.js';
import type { Trainer } from '../../src/train/trainer.js';
import '../../src/index.js';
import { Linear } from '../../src/nn/index.js';

// The reader's own schema, written as .proto text (tensorflow/core/util/event.proto and
// framework/summary.proto, the fields TensorBoard uses), independent of the writer's JSON.
const PROTO = `
syntax = "proto3";
package tf;
message HistogramProto { double min = 1; double max = 2; double num = 3; double sum = 4; double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true]; repeated double bucket = 7 [packed = true]; }
message Summary {
  message Image { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
  message Value { string node_name = 7; string tag = 1; float simple_value = 2; bytes obsolete_old_style_histogram = 3;
    Image image = 4; HistogramProto histo = 5; }
  repeated Value value = 1;
}
message Event { double wall_time = 1; int64 step = 2; string file_version = 3; bytes graph_def = 4; Summary summary = 5; }
`;
const Event = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('tf.Event');

function masked(bytes: Uint8Array): number {
  const crc = CRC32C.buf(bytes) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Splits a TFRecord file into its records, checking both CRCs of each. */
function readRecords(file: Uint8Array): Uint8Array[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < file.length) {
    const len = Number(view.getBigUint64(off, true));
    assert.equal(view.getUint32(off + 8, true), masked(file.subarray(off, off + 8)), `length CRC of the record at ${off}`);
    const data = file.subarray(off + 12, off + 12 + len);
    assert.equal(view.getUint32(off + 12 + len, true), masked(data), `data CRC of the record at ${off}`);
    out.push(data);
    off += 16 + len;
  }
  assert.equal(off, file.length, 'no trailing bytes');
  return out;
}

type Decoded = { wall_time: number; step?: number; file_version?: string; summary?: { value: { tag: string; simple_value?: number; histo?: Record<string, number | number[]>; image?: { height: number; width: number; colorspace: number; encoded_image_string: Uint8Array } }[] } };
const decode = (r: Uint8Array): Decoded => Event.toObject(Event.decode(r), { longs: Number, bytes: Uint8Array as unknown as typeof String, arrays: true }) as Decoded;

test('an event file read back by an independent TFRecord + protobuf reader: scalars, histograms, image bytes', async () => {
  const storage = memoryStorage();
  const w = new EventWriter(storage, 'run/tb', { host: 'box 1', now: () => 1_700_000_000_500 });
  assert.equal(w.path, 'run/tb/events.out.tfevents.1700000000.box_1');
  const values = [0.5, -1.25, 3, 3, 0.125, 2, -1.25, 7];
  const png = encodePng(2, 2, Uint8Array.from([0, 85, 170, 255]), 1);
  w.addScalar('epoch/loss', 0.75, 10, 123.5);
  w.addScalar('epoch/loss', 0.5, 20, 124.5);
  w.addHistogram('weights/w', values, 20, { bins: 4 });
  w.addImage('misclassified/0', png, { width: 2, height: 2, colorspace: 1 }, 20);
  await w.flush();
  w.addScalar('epoch/accuracy', 0.875, 30);
  await w.flush(); // a second flush adds to the same file
  const events = readRecords(storage.files.get(w.path)!).map(decode);
  assert.equal(events.length, 6);
  assert.equal(events[0].file_version, 'brain.Event:2');
  assert.equal(events[0].wall_time, 1_700_000_000.5);
  assert.deepEqual(events.slice(1).map((e) => [e.step, e.summary!.value[0].tag]), [[10, 'epoch/loss'], [20, 'epoch/loss'], [20, 'weights/w'], [20, 'misclassified/0'], [30, 'epoch/accuracy']]);
  assert.equal(events[1].wall_time, 123.5);
  assert.equal(events[1].summary!.value[0].simple_value, 0.75);
  assert.equal(events[2].summary!.value[0].simple_value, 0.5);
  assert.equal(events[5].summary!.value[0].simple_value, 0.875);
  const h = events[3].summary!.value[0].histo!;
  const expected = histogramOf(values, 4);
  assert.deepEqual(
    { min: h.min, max: h.max, num: h.num, sum: h.sum, sumSquares: h.sum_squares, bucketLimit: h.bucket_limit, bucket: h.bucket },
    expected,
  );
  const img = events[4].summary!.value[0].image!;
  assert.deepEqual([img.width, img.height, img.colorspace], [2, 2, 1]);
  assert.deepEqual([...img.encoded_image_string], [...png]);
});

test('histogramOf: buckets are closed on the right and count every finite value once', () => {
  const h = histogramOf([0, 1, 2, 3, 4, Number.NaN, 4], 4);
  assert.deepEqual(h.bucketLimit, [1, 2, 3, 4]);
  // 0 and 1 in (-, 1]; 2 in (1, 2]; 3 in (2, 3]; 4 and 4 in (3, 4].
  assert.deepEqual(h.bucket, [2, 1, 1, 2]);
  assert.equal(h.num, 6);
  assert.equal(h.sumSquares, 0 + 1 + 4 + 9 + 16 + 16);
  assert.deepEqual(histogramOf([5, 5], 10).bucket, [2]);
});

test('the TensorBoard callback logs epoch metrics against the step, and weight/gradient histograms', async () => {
  const storage = memoryStorage();
  const model = new Linear(3, 2);
  const cb = new TensorBoard({ storage, dir: 'r/tensorboard', histograms: true, everySteps: 2, now: () => 5000 });
  const t = { training: true, step: 2, batchIndex: 0, numBatches: 1, model, loss: { item: () => 1.5 }, readLoss: () => 1.5, logs: { epoch: 0, loss: 1.25, valAccuracy: 0.5 } } as unknown as Trainer;
  for (const p of model.parameters()) p.grad = p.mul(2);
  await cb.afterBackward(t);
  await cb.afterBatch(t);
  await cb.afterEpoch(t);
  const events = readRecords(storage.files.get('r/tensorboard/events.out.tfevents.5.gradkit')!).map(decode);
  const tags = events.slice(1).map((e) => `${e.step}:${e.summary!.value[0].tag}`);
  const names = [...model.namedParameters()].map(([n]) => n);
  assert.deepEqual(tags, ['2:step/loss', '2:epoch/loss', '2:epoch/valAccuracy', ...names.map((n) => `2:weights/${n}`), ...names.map((n) => `2:gradients/${n}`)]);
  const w = await [...model.namedParameters()][0][1].data();
  const hw = events.find((e) => e.summary?.value[0].tag === `weights/${names[0]}`)!.summary!.value[0].histo!;
  assert.equal(hw.num, w.length);
  assert.ok(Math.abs((hw.sum as number) - Array.from(w).reduce((s, v) => s + v, 0)) < 1e-6);
  const hg = events.find((e) => e.summary?.value[0].tag === `gradients/${names[0]}`)!.summary!.value[0].histo!;
  assert.ok(Math.abs((hg.max as number) - 2 * Math.max(...w)) < 1e-6, 'gradient histogram holds the gradient (2·w here)');
});

test('a second writer with the same file name (a resume within the same second) keeps the earlier events', async () => {
  const storage = memoryStorage();
  const a = new EventWriter(storage, 'tb', { now: () => 1000 });
  a.addScalar('x', 1, 1);
  await a.flush();
  const b = new EventWriter(storage, 'tb', { now: () => 1000 });
  b.addScalar('x', 2, 2);
  await b.flush();
  const events = readRecords(storage.files.get(a.path)!).map(decode);
  assert.deepEqual(events.filter((e) => e.summary).map((e) => [e.step, e.summary!.value[0].simple_value]), [[1, 1], [2, 2]]);
});

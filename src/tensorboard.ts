/**
 * `gradkit/tensorboard`: TensorBoard event files written from TypeScript (TFRecord framing,
 * Event/Summary protos encoded with protobufjs) and the Trainer callback that writes them. A
 * separate entry so that protobufjs is not part of a bundle of the main `gradkit` entry.
 *
 * ```ts
 * import { TensorBoard } from 'gradkit/tensorboard';
 * new train.Trainer({ ..., callbacks: [new TensorBoard({ storage, dir: 'runs/a/tensorboard' })] });
 * ```
 */
export { TensorBoard, EventWriter, frameRecord, histogramOf, type TensorBoardOptions, type EventWriterOptions, type HistogramData } from './train/tensorboard/index.js';

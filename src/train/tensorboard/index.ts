/** TensorBoard event files from TypeScript: TFRecord framing, Event protos, and a Trainer callback. */
export { frameRecord } from './record.js';
export { EventWriter, histogramOf, type EventWriterOptions, type HistogramData, type AppendBytes } from './writer.js';
export { TensorBoard, type TensorBoardOptions } from './callback.js';

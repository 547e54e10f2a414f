/**
 * The part of TensorFlow's event.proto / summary.proto that TensorBoard needs for scalars,
 * histograms and images, as protobufjs reflection JSON (field numbers from tensorflow/core/util/
 * event.proto and tensorflow/core/framework/summary.proto; names do not go on the wire).
 * protobufjs is imported on first use so code that never writes TensorBoard files never loads it.
 */
import type * as Protobuf from 'protobufjs';

const descriptor = {
  nested: {
    tensorboard: {
      nested: {
        Event: {
          fields: {
            wallTime: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            fileVersion: { type: 'string', id: 3 },
            summary: { type: 'Summary', id: 5 },
          },
        },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Value: {
              fields: {
                tag: { type: 'string', id: 1 },
                simpleValue: { type: 'float', id: 2 },
                image: { type: 'Image', id: 4 },
                histo: { type: 'HistogramProto', id: 5 },
              },
            },
            Image: {
              fields: {
                height: { type: 'int32', id: 1 },
                width: { type: 'int32', id: 2 },
                colorspace: { type: 'int32', id: 3 },
                encodedImageString: { type: 'bytes', id: 4 },
              },
            },
          },
        },
        HistogramProto: {
          fields: {
            min: { type: 'double', id: 1 },
            max: { type: 'double', id: 2 },
            num: { type: 'double', id: 3 },
            sum: { type: 'double', id: 4 },
            sumSquares: { type: 'double', id: 5 },
            bucketLimit: { rule: 'repeated', type: 'double', id: 6, options: { packed: true } },
            bucket: { rule: 'repeated', type: 'double', id: 7, options: { packed: true } },
          },
        },
      },
    },
  },
};

let eventType: Promise<Protobuf.Type> | null = null;

/** The Event message type (loads protobufjs the first time). */
export function loadEventType(): Promise<Protobuf.Type> {
  eventType ??= import('protobufjs/light.js').then((m) => {
    const protobuf = (m as unknown as { default: typeof Protobuf }).default ?? (m as unknown as typeof Protobuf);
    return protobuf.Root.fromJSON(descriptor).lookupType('tensorboard.Event');
  });
  return eventType;
}

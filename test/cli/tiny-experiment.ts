/** A 2,010-parameter CNN on 240 digits: about a second per epoch; checkpoints of ~26 kB. */
export const TINY = {
  name: 'tiny', seed: 3, epochs: 1,
  data: { dataset: 'digits', trainSize: 240, testSize: 80, batchSize: 40, validationFraction: 0.25, evalBatchSize: 100 },
  model: { layers: [{ type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1 }, { type: 'maxPool2d', kernelSize: 4 }, { type: 'relu' }, { type: 'flatten' }, { type: 'linear', outFeatures: 10 }] },
  optimizer: { type: 'adamw', lr: 0.01 },
  earlyStopping: false,
};

/**
 * The library end to end on a toy problem: data → preprocessing → nn → AdamW + cosine schedule
 * → Trainer with early stopping → evaluation. Run: node --import tsx examples/spirals.ts
 */
import * as g from '../src/index.js';
const { nn, optim, data, train } = g;

g.manualSeed(0);
const { x, y } = data.makeSpirals({ samplesPerClass: 200, classes: 3, seed: 1 });
const all = new data.TensorDataset(x, y);
const [trainSet, validSet] = data.randomSplit(all, [0.8, 0.2], { seed: 2 });

const model = new nn.Sequential(
  new nn.Linear(2, 64), new nn.ReLU(),            // He init by default (layer followed by ReLU)
  new nn.Linear(64, 64), new nn.ReLU(),
  new nn.Linear(64, 3),
);
const optimizer = new optim.AdamW(model.parameters(), { lr: 1e-2, weightDecay: 1e-4 });
const epochs = 60;
const trainer = new train.Trainer({
  model,
  optimizer,
  trainData: new data.DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: 3 }),
  validData: new data.DataLoader(validSet, { batchSize: 256 }),
  callbacks: [
    new train.LrSchedule({
      scheduler: new optim.LrScheduler(optimizer, (lr) => optim.cosineAnnealing({ baseLr: lr, tMax: epochs })),
      interval: 'epoch',
    }),
    new train.EarlyStopping({ monitor: 'valLoss', patience: 10, restoreBestWeights: true }),
  ],
});
const result = await trainer.fit({ epochs });
const last = result.history[result.history.length - 1];
console.log(`backend ${g.backendName()}; ${result.epochs} epochs; valAccuracy ${last.valAccuracy?.toFixed(3)}`);
console.log(model.toString());

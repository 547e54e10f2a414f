/**
 * The smallest end-to-end training run: a 2-8-1 tanh network learns XOR with plain gradient
 * descent written out by hand. Run with `npm start`.
 */
import * as g from '../src/index.js';

g.manualSeed(0);
const x = g.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = g.tensor([[0], [1], [1], [0]]);
const w1 = g.randn([2, 8], { std: 1, requiresGrad: true });
const b1 = g.zeros([8], { requiresGrad: true });
const w2 = g.randn([8, 1], { std: 0.5, requiresGrad: true });
const b2 = g.zeros([1], { requiresGrad: true });
const params = [w1, b1, w2, b2];
const lr = 0.5;

let loss = Infinity;
for (let step = 0; step <= 2000; step++) {
  const h = x.matmul(w1).add(b1).tanh();
  const logits = h.matmul(w2).add(b2);
  const l = g.sub(g.softplus(logits), logits.mul(y)).mean(); // binary cross-entropy with logits
  l.backward();
  g.noGrad(() => {
    for (const p of params) {
      p.assign(p.sub(p.grad!.mul(lr)));
      p.grad = null;
    }
  });
  loss = l.item();
  if (step % 500 === 0) console.log(`step ${step}: loss ${loss.toFixed(4)}`);
}
const pred = g.noGrad(() => x.matmul(w1).add(b1).tanh().matmul(w2).add(b2).sigmoid());
console.log(`backend: ${g.backendName()}`);
console.log('predictions:', (pred.toArray() as number[][]).map((r) => r[0].toFixed(3)).join(' '));
if (loss > 0.05) {
  console.error(`XOR did not converge (loss ${loss})`);
  process.exit(1);
}

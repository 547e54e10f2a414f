/**
 * Containers and blocks (Sequential, Residual, BasicBlock, ResNet) and the layers that are the
 * identity at inference (Identity, Dropout, AlphaDropout, GaussianNoise; DropConnect is its
 * wrapped layer with the full weight).
 */
import { Sequential } from '../../../nn/containers.js';
import { Identity } from '../../../nn/basic.js';
import { AlphaDropout, DropConnect, Dropout, GaussianNoise } from '../../../nn/regularization.js';
import { BasicBlock, ResNet, Residual } from '../../../nn/residual.js';
import { registerOnnxConverter, type OnnxConverter } from '../registry.js';

registerOnnxConverter(Sequential, (m, x, ctx) => {
  let h = x;
  let i = 0;
  for (const child of m) h = ctx.convert(child, h, String(i++));
  return h.name;
});

const identity: OnnxConverter = (_m, x) => x.name;
registerOnnxConverter(Identity, identity);
registerOnnxConverter(Dropout, identity);
registerOnnxConverter(AlphaDropout, identity);
registerOnnxConverter(GaussianNoise, identity);
registerOnnxConverter(DropConnect, (m, x, ctx) => ctx.convert(m.layer, x, 'layer').name);

registerOnnxConverter(Residual, (m, x, ctx) => {
  const y = ctx.convert(m.block, x, 'block');
  const s = m.shortcut === null ? x : ctx.convert(m.shortcut, x, 'shortcut');
  return ctx.node('Add', [y.name, s.name]);
});

registerOnnxConverter(BasicBlock, (m, x, ctx) => {
  const b1 = ctx.convert(m.bn1, ctx.convert(m.conv1, x, 'conv1'), 'bn1');
  const h = { name: ctx.node('Relu', [b1.name]), shape: b1.shape };
  const f = ctx.convert(m.bn2, ctx.convert(m.conv2, h, 'conv2'), 'bn2');
  const s = m.shortcut === null ? x : ctx.convert(m.shortcut, x, 'shortcut');
  return ctx.node('Relu', [ctx.node('Add', [f.name, s.name])]);
});

registerOnnxConverter(ResNet, (m, x, ctx) => {
  const stages = ctx.convert(m.stages, ctx.convert(m.stem, x, 'stem'), 'stages');
  return ctx.convert(m.fc, ctx.convert(m.pool, stages, 'pool'), 'fc').name;
});

/** The zoo's architecture modules: VGG and the Inception block (its branches joined by Concat). */
import { VGG } from '../../../zoo/vgg.js';
import { InceptionBlock } from '../../../zoo/inception.js';
import { onnxAttr } from '../graph.js';
import { registerOnnxConverter } from '../registry.js';

registerOnnxConverter(VGG, (m, x, ctx) => {
  const features = ctx.convert(m.features, x, 'features');
  return ctx.convert(m.classifier, ctx.convert(m.flatten, features, 'flatten'), 'classifier').name;
});

registerOnnxConverter(InceptionBlock, (m, x, ctx) => {
  const branches = [m.branch1, m.branch2, m.branch3, m.branch4].map((b, i) => ctx.convert(b, x, `branch${i + 1}`).name);
  return ctx.node('Concat', branches, { axis: onnxAttr.int(1) });
});

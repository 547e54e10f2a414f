/** Architecture builders from the lectures: VGG, ResNet (basic blocks), Inception blocks, MLPs. */
export { vgg, VGG, type VggOptions } from './vgg.js';
export { InceptionBlock, type InceptionOptions } from './inception.js';
export { mlp, type MlpOptions, type ActivationName } from './mlp.js';
export { resnet18, resnet34, type ResNetLayoutOptions } from './resnets.js';
export { resnet, ResNet, BasicBlock, type ResNetOptions, type BasicBlockOptions } from '../nn/residual.js';
export { build, registerArchitecture, architectures, type Architecture } from './architecture.js';
export { load, list, fromBytes as loadPretrainedBytes, LAYERS_BUILDER, type Pretrained, type PretrainedInfo, type PretrainedPreprocessing } from './pretrained.js';

/** The public `nn.init` namespace: the initializers plus LSUV (kept in its own file because it needs the layers). */
export * from './init.js';
export { lsuv, lsuvAsync, type LsuvOptions, type LsuvLayerReport } from './lsuv.js';

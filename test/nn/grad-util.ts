import * as g from '../../src/index.js';
import { expectGrad, type ExpectGradOptions } from '../helpers.js';

type ModuleGradOptions = ExpectGradOptions & { reduce?: (y: g.Tensor) => g.Tensor };

/** The module called through functionalCall on inputs followed by its parameters, reduced to a scalar. */
function moduleObjective(module: g.nn.AnyModule, nInputs: number, opts: ModuleGradOptions): { leaves: g.Tensor[]; f: (...xs: g.Tensor[]) => g.Tensor } {
  const named = [...module.namedParameters()];
  const names = named.map(([n]) => n);
  const reduce = opts.reduce ?? ((y: g.Tensor) => y.square().sum());
  const f = (...xs: g.Tensor[]) => {
    const params = new Map(names.map((n, i) => [n, xs[nInputs + i]]));
    return reduce(g.nn.functionalCall(module, params, ...xs.slice(0, nInputs)));
  };
  return { leaves: named.map(([, p]) => p), f };
}

/**
 * gradCheck of a module as a function of its inputs and all its parameters (called through
 * functionalCall, so the checked leaves are the ones it uses), on any backend (see expectGrad):
 * on webgpu the module's gradients are compared with the reference backend's. A module with
 * buffers (running statistics) cannot run there on the device's buffers: pass copies of them
 * (normalization.test.ts) or use seq-helpers' expectModuleGrad, which does.
 */
export async function expectModuleGrad(module: g.nn.AnyModule, inputs: g.Tensor[], opts: ModuleGradOptions = {}): Promise<void> {
  const { leaves, f } = moduleObjective(module, inputs.length, opts);
  await expectGrad(f, [...inputs, ...leaves], opts);
}

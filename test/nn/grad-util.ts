import * as g from '../../src/index.js';
import { assertGrad } from '../helpers.js';

/**
 * gradCheck of a module as a function of its inputs and all its parameters: the module is
 * called through functionalCall so the checked leaves are the ones it uses.
 */
export function assertModuleGrad(module: g.nn.AnyModule, inputs: g.Tensor[], opts: g.GradCheckOptions & { reduce?: (y: g.Tensor) => g.Tensor } = {}): void {
  const named = [...module.namedParameters()];
  const names = named.map(([n]) => n);
  const reduce = opts.reduce ?? ((y: g.Tensor) => y.square().sum());
  assertGrad((...xs: g.Tensor[]) => {
    const params = new Map(names.map((n, i) => [n, xs[inputs.length + i]]));
    return reduce(g.nn.functionalCall(module, params, ...xs.slice(0, inputs.length)));
  }, [...inputs, ...named.map(([, p]) => p)], opts);
}

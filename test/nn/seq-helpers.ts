/** Test helpers shared by the residual, recurrent and attention suites (not a test file itself). */
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import type { GradCheckOptions } from '../../src/index.js';
import { assertGrad } from '../helpers.js';

/**
 * Gradient check through a module's inputs *and* parameters. The module is converted to
 * float64; inside the checked function every parameter field is temporarily replaced by the
 * tensor gradCheck passes in (layers read their weights from their fields), then restored.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any module signature
export function assertModuleGrad(module: g.nn.Module<any[], any>, inputs: g.Tensor[], run: (...xs: g.Tensor[]) => g.Tensor, opts: GradCheckOptions = {}): void {
  module.to('float64');
  const owners = new Map([...module.namedModules()]);
  const named = [...module.namedParameters()];
  const slots = named.map(([name]) => {
    const dot = name.lastIndexOf('.');
    const owner = owners.get(dot < 0 ? '' : name.slice(0, dot)) as unknown as Record<string, unknown>;
    return { owner, field: name.slice(dot + 1) };
  });
  const swapped = (args: g.Tensor[]): g.Tensor => {
    const saved = slots.map(({ owner, field }) => owner[field]);
    slots.forEach(({ owner, field }, i) => { owner[field] = args[inputs.length + i]; });
    try {
      return run(...args.slice(0, inputs.length));
    } finally {
      slots.forEach(({ owner, field }, i) => { owner[field] = saved[i]; });
    }
  };
  // A parameter the forward never reads would pass gradCheck vacuously (0 = 0): first make sure
  // every swapped-in tensor really receives a gradient.
  const probes = named.map(([, p]) => g.Tensor.fromArray(p.dataSync(), p.shape, { requiresGrad: true }));
  swapped([...inputs, ...probes]).square().sum().backward();
  named.forEach(([name], i) => {
    const gr = probes[i].grad;
    assert.ok(gr !== null && gr.dataSync().some((v) => v !== 0), `parameter ${name} gets no gradient: forward does not use it`);
  });
  assertGrad((...args) => swapped(args), [...inputs, ...named.map(([, p]) => p)], opts);
}

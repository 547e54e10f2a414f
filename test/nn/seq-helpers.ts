/** Test helpers shared by the residual, recurrent and attention suites (not a test file itself). */
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectGrad, FLOAT, type ExpectGradOptions } from '../helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any module signature
type AnyModule = g.nn.Module<any[], any>;

/** Where each named tensor (parameter or buffer) of `module` lives: the owning module and its field. */
function fieldSlots(module: AnyModule, names: string[]): { owner: Record<string, unknown>; field: string }[] {
  const owners = new Map([...module.namedModules()]);
  return names.map((name) => {
    const dot = name.lastIndexOf('.');
    const owner = owners.get(dot < 0 ? '' : name.slice(0, dot)) as unknown as Record<string, unknown>;
    return { owner, field: name.slice(dot + 1) };
  });
}

/**
 * `run` with the module's parameter fields replaced by `args[inputs.length…]` (restored after).
 * `buffersFor` gives replacements for the buffer fields too (null: leave the module's own).
 */
function swappedRun(module: AnyModule, nInputs: number, run: (...xs: g.Tensor[]) => g.Tensor, buffersFor: () => g.Tensor[] | null): (args: g.Tensor[]) => g.Tensor {
  const paramSlots = fieldSlots(module, [...module.namedParameters()].map(([n]) => n));
  const bufferSlots = fieldSlots(module, [...module.namedBuffers()].map(([n]) => n));
  return (args) => {
    const buffers = buffersFor();
    const slots = buffers === null ? paramSlots : [...paramSlots, ...bufferSlots];
    const values = buffers === null ? args.slice(nInputs) : [...args.slice(nInputs), ...buffers];
    const saved = slots.map(({ owner, field }) => owner[field]);
    slots.forEach(({ owner, field }, i) => { owner[field] = values[i]; });
    try {
      return run(...args.slice(0, nInputs));
    } finally {
      slots.forEach(({ owner, field }, i) => { owner[field] = saved[i]; });
    }
  };
}

/**
 * Gradient check through a module's inputs *and* parameters, on any backend (see expectGrad):
 * inside the checked function every parameter field is temporarily replaced by the tensor passed
 * in (layers read their weights from their fields), then restored. The module is converted to
 * FLOAT, and on a backend without float64 its gradients are compared with the reference
 * backend's. When the
 * checked function runs again on the reference backend, the module's buffers (BatchNorm running
 * statistics) are replaced there by reference copies of their values taken before the check, so
 * that run never touches the device's tensors; on the module's own backend they are its own.
 */
export async function expectModuleGrad(module: AnyModule, inputs: g.Tensor[], run: (...xs: g.Tensor[]) => g.Tensor, opts: ExpectGradOptions = {}): Promise<void> {
  module.to(FLOAT);
  const named = [...module.namedParameters()];
  const home = g.backendName();
  const snapshot = await Promise.all([...module.namedBuffers()].map(async ([, b]) => ({ values: (await b.data()).slice(), shape: b.shape })));
  const swapped = swappedRun(module, inputs.length, run, () => (g.backendName() === home ? null : snapshot.map((s) => g.Tensor.fromArray(s.values, s.shape))));
  const probes = await Promise.all(named.map(async ([, p]) => g.Tensor.fromArray(await p.data(), p.shape, { requiresGrad: true })));
  swapped([...inputs, ...probes]).square().sum().backward();
  for (const [i, [name]] of named.entries()) {
    const gr = probes[i].grad;
    assert.ok(gr !== null && (await gr.data()).some((v) => v !== 0), `parameter ${name} gets no gradient: forward does not use it`);
  }
  await expectGrad((...args) => swapped(args), [...inputs, ...named.map(([, p]) => p)], opts);
}

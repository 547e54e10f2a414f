import type { MatmulParams } from '../../backend/kernels.js';
import { matmul as referenceMatmul } from '../reference/matmul.js';
import { JOB_GEMM, threadsFor } from './jobs.js';
import type { Buf, WasmRuntime } from './runtime.js';
import { isF32 } from './wasmelementwise.js';

/**
 * Batched float32 GEMM in wasm. The transpose flags become element strides (A(i,p) at
 * i·rsA + p·csA), so one kernel serves all four cases; a zero batch stride shares one operand
 * across the batch exactly as the reference does. Other dtypes take the reference path.
 */
export function makeMatmul(rt: WasmRuntime) {
  return function matmul(a: Buf, b: Buf, p: MatmulParams): Buf {
    if (!isF32(a) || !isF32(b)) return referenceMatmul(rt.array(a), rt.array(b), p);
    const { batch, m, k, n, transA, transB, strideA, strideB } = p;
    const outLen = batch * m * n;
    if (outLen === 0) return new Float32Array(0);
    const flops = 2 * batch * m * n * k;
    const nt = threadsFor(flops, rt.threads);
    if (!rt.canHold(4 * (a.length + b.length + outLen) + rt.gemmWsBytes * nt)) return referenceMatmul(rt.array(a), rt.array(b), p);
    rt.reset();
    const pa = rt.ptr(a);
    const pb = rt.ptr(b);
    const ws = rt.alloc(rt.gemmWsBytes * nt);
    const pc = rt.output(outLen);
    const [rsA, csA] = transA ? [1, m] : [k, 1];
    const [rsB, csB] = transB ? [1, k] : [n, 1];
    rt.runJob(
      [JOB_GEMM, batch, m, n, k, pa, rsA, csA, strideA, pb, rsB, csB, strideB, pc, n, m * n, 0, ws, rt.gemmWsBytes],
      nt,
    );
    return rt.finish(pc, outLen);
  };
}

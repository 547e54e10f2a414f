/**
 * Messages a library process (child.ts, memory.ts) sends to the orchestrator, one JSON object
 * per stdout line behind a marker, so that whatever else a library prints (tfjs greets Node
 * users) cannot be mistaken for a result.
 */
import type { BenchResult } from './report.js';
import type { Workload } from './spec.js';

export const MARK = '@@bench ';

/** A gradkit backend as the listing reports it; `software` only for webgpu on a software adapter. */
export interface BackendEntry {
  name: string;
  priority: number;
  available: boolean;
  describe?: string;
  error?: string;
  software?: boolean;
}

export type Message =
  | { type: 'backends'; backends: BackendEntry[] }
  /** `software`: the adapter's label when the library runs on a software GPU adapter (its speed means nothing). */
  | { type: 'info'; library: string; threads: number; describe: string; software?: string }
  | { type: 'start'; workload: Workload }
  | { type: 'result'; result: BenchResult; losses?: number[]; peakRssMB?: number }
  | { type: 'profile'; workload: Workload; text: string }
  /** The GEMM's ceiling measured in this process (gradkit-wasm's micro-kernel on L1-resident panels), GFLOP/s. */
  | { type: 'ceiling'; library: string; oneThread: number; allThreads: number; threads: number }
  | { type: 'fatal'; message: string }
  | { type: 'epoch'; epoch: number; samples: number; seconds: number; loss: number; rssMB: number; heapMB: number; externalMB: number }
  | { type: 'done'; peakRssMB: number };

export function send(m: Message): void {
  process.stdout.write(MARK + JSON.stringify(m) + '\n');
}

export function parseLine(line: string): Message | null {
  if (!line.startsWith(MARK)) return null;
  try {
    return JSON.parse(line.slice(MARK.length)) as Message;
  } catch {
    return null;
  }
}

export const mb = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));

/** Peak resident set of this process so far (resourceUsage reports KiB). */
export const peakRssMB = (): number => Number((process.resourceUsage().maxRSS / 1024).toFixed(1));

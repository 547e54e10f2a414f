/**
 * Command-line parsing for `npm run bench`. Pure (no I/O) so it is unit-tested; unknown flags
 * and unknown names fail loudly with the accepted values, since a typo silently measuring
 * nothing would waste a whole run.
 */
import { PEERS, WEBGPU_LIB, WORKLOADS, WORKLOAD_GROUPS, type Workload } from './spec.js';

export interface BenchOptions {
  quick: boolean;
  /** Path for the JSON report, or null for none. */
  json: string | null;
  /** Workloads to run, in canonical order. */
  workloads: Workload[];
  /** Library filter: exact names ('gradkit-wasm', 'tfjs-cpu'), or 'gradkit' for every gradkit backend; null = all. */
  libs: string[] | null;
  /** Run the RSS-per-epoch memory check (default on; `--no-memory` skips it). */
  memory: boolean;
  /** Epochs of the memory run (default 20, quick 5). */
  memoryEpochs: number;
  /** The python that runs the PyTorch peer; null tries python3 on PATH, then /usr/bin/python3. */
  python: string | null;
  /** Print a per-kernel time breakdown for gradkit workloads. */
  profile: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --quick              short run (< 2 minutes)
  --json FILE          write {"machine", "results"} to FILE (atomically)
  --only LIST          workloads or groups, comma-separated: ${[...WORKLOADS, ...Object.keys(WORKLOAD_GROUPS)].join(', ')}
  --libs LIST          libraries, comma-separated: gradkit (all backends), gradkit-<backend>, ${PEERS.join(', ')},
                       webgpu (= ${WEBGPU_LIB}: run where a WebGPU adapter exists; a software one is labelled),
                       rawops-<backend> (opt-in comparison: the same models in raw ops with a plain-loop Adam)
  --python PATH        python for the pytorch peer (default: python3, then /usr/bin/python3; skipped
                       with one line when none imports torch)
  --memory-epochs N    epochs of the gradkit memory run (default 20; --quick: 5)
  --no-memory          skip the memory run
  --profile            after measuring, time each gradkit kernel for a few steps and print where the time goes
  --help               this text`;

export class ArgError extends Error {
  constructor(message: string) {
    super(`bench: ${message}\n${USAGE}`);
    this.name = 'ArgError';
  }
}

function splitList(flag: string, value: string | undefined): string[] {
  if (value === undefined || value.startsWith('--')) throw new ArgError(`${flag} needs a value`);
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new ArgError(`${flag} got an empty list`);
  return items;
}

function resolveWorkloads(items: string[]): Workload[] {
  const chosen = new Set<Workload>();
  for (const item of items) {
    const group = WORKLOAD_GROUPS[item];
    if (group) group.forEach((w) => chosen.add(w));
    else if ((WORKLOADS as readonly string[]).includes(item)) chosen.add(item as Workload);
    else throw new ArgError(`unknown workload '${item}'; expected one of ${[...WORKLOADS, ...Object.keys(WORKLOAD_GROUPS)].join(', ')}`);
  }
  return WORKLOADS.filter((w) => chosen.has(w));
}

function checkLib(name: string): string {
  if (name === 'webgpu') return WEBGPU_LIB;
  if (name === 'gradkit' || /^(gradkit|rawops)-[a-z0-9_-]+$/.test(name) || (PEERS as readonly string[]).includes(name)) return name;
  throw new ArgError(`unknown library '${name}'; expected gradkit, gradkit-<backend>, webgpu, ${PEERS.join(', ')}, rawops-<backend>`);
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  const opts: BenchOptions = { quick: false, json: null, workloads: [...WORKLOADS], libs: null, memory: true, memoryEpochs: 0, python: null, profile: false, help: false };
  let epochs: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    // Accept --flag=value as well as --flag value.
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--quick': opts.quick = true; break;
      case '--no-memory': opts.memory = false; break;
      case '--profile': opts.profile = true; break;
      case '--help': case '-h': opts.help = true; break;
      case '--json': {
        const v = value();
        if (v === undefined || v === '' || v.startsWith('--')) throw new ArgError('--json needs a file name');
        opts.json = v;
        break;
      }
      case '--python': {
        const v = value();
        if (v === undefined || v === '' || v.startsWith('--')) throw new ArgError('--python needs a path or command name');
        opts.python = v;
        break;
      }
      case '--only': opts.workloads = resolveWorkloads(splitList('--only', value())); break;
      case '--libs': opts.libs = [...new Set(splitList('--libs', value()).map(checkLib))]; break;
      case '--memory-epochs': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 2) throw new ArgError(`--memory-epochs must be an integer >= 2 (one to settle, one to compare), got '${v}'`);
        epochs = n;
        break;
      }
      default: throw new ArgError(`unknown argument '${a}'`);
    }
  }
  opts.memoryEpochs = epochs ?? (opts.quick ? 5 : 20);
  return opts;
}

/**
 * Whether a library passes the --libs filter ('gradkit' selects every gradkit backend). The
 * rawops-<backend> comparison is never selected by default, only when named.
 */
export function libSelected(lib: string, filter: readonly string[] | null): boolean {
  if (filter === null) return !lib.startsWith('rawops-');
  return filter.includes(lib) || (lib.startsWith('gradkit-') && filter.includes('gradkit'));
}

/**
 * `npm run bench`: gradkit (every available backend) against @tensorflow/tfjs (cpu, wasm),
 * @jax-js/jax and, where python3 imports torch, PyTorch (libs/torch.ts) on issue 3's workloads.
 * Each library runs in its own process (child.ts; PyTorch's is python); this file schedules
 * them, enforces time limits, prints the table, the ratios of the best gradkit backend to each
 * peer, the training-loss sanity check and the memory run, and writes --json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgError, USAGE, libSelected, parseArgs, type BenchOptions } from './args.js';
import { runOrder, watchdogMs } from './budget.js';
import { machineInfo } from './machine.js';
import { relaxedSimdFlagForChildren } from '../src/platform/relaxed-simd-node.js';
import { parseLine, type BackendEntry, type Message } from './protocol.js';
import {
  buildReport, computeRatios, fmtValue, formatPeerRatios, formatRatios, formatTable, lossAgreement, memoryVerdict, writeJsonAtomic, type BenchResult, type MachineInfo,
} from './report.js';
import { envNote, probeTorch, torchArgs, torchEnv, writeTorchInputs } from './libs/torch.js';
import { MLP, PEERS, WEBGPU_LIB, cnnFeatures, CNN, unitOf, type Workload } from './spec.js';
import { lossTrend } from './timing.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);

/** A non-Node library process (the PyTorch peer): program, leading arguments, environment. */
interface ChildCommand {
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

interface ChildRun {
  messages: Message[];
  /** Set when the process was killed by the watchdog or exited abnormally. */
  failure: string | null;
}

/**
 * Node flags for every library's process alike. On Node 20, WebAssembly relaxed SIMD (FMA) is
 * behind a V8 flag; Node ≥ 22 has it on by default. Every child gets the flag, so each library
 * runs with the wasm features a current Node gives it (gradkit then picks its FMA kernels).
 */
const relaxedFlag = relaxedSimdFlagForChildren();
const CHILD_NODE_FLAGS: string[] = relaxedFlag ? [relaxedFlag] : [];

/**
 * Runs a bench script in a child process, collecting protocol messages. `limitFor` gives the
 * time allowed from each 'start' message (or from launch); past it the child is killed.
 */
function runChild(script: string | ChildCommand, args: string[], onMessage: (m: Message) => void, limitFor: (m: Message | null) => number): Promise<ChildRun> {
  const cmd: ChildCommand = typeof script === 'string' ? { file: process.execPath, args: [...CHILD_NODE_FLAGS, '--import', 'tsx', path.join(here, script)] } : script;
  return new Promise((resolve) => {
    const child = spawn(cmd.file, [...cmd.args, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], ...(cmd.env ? { env: cmd.env } : {}) });
    const messages: Message[] = [];
    let failure: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    let stderrTail = '';
    const arm = (m: Message | null): void => {
      clearTimeout(timer);
      const ms = limitFor(m);
      timer = setTimeout(() => {
        failure = `killed after ${(ms / 1000).toFixed(0)} s without finishing`;
        child.kill('SIGKILL');
      }, ms);
    };
    arm(null);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = parseLine(line);
      if (m === null) return; // library chatter (tfjs greets Node users); not ours to show
      messages.push(m);
      onMessage(m);
      if (m.type === 'start' || m.type === 'info' || m.type === 'result' || m.type === 'epoch') arm(m);
    });
    child.stderr.on('data', (d: Buffer) => { stderrTail = (stderrTail + d.toString()).slice(-2000); });
    // A program that cannot be started (a python removed since the probe) emits 'error', not always 'close'.
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ messages, failure: failure ?? `could not start ${cmd.file}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failure === null && code !== 0) {
        const last = stderrTail.trim().split('\n').filter((l) => l.trim()).slice(-3).join(' | ');
        failure = `process exited with ${signal ?? `code ${code}`}${last ? `: ${last}` : ''}`;
      }
      resolve({ messages, failure });
    });
  });
}

interface LibOutcome {
  results: BenchResult[];
  losses: Map<Workload, number[]>;
  describe: string;
  peakRssMB: number | null;
  profiles: string[];
  ceiling?: { oneThread: number; allThreads: number; threads: number };
}

/**
 * In --quick each library gets this much wall time in all (the run must stay under two minutes
 * on a shared 2-core machine); what does not fit is reported as not measured, never dropped.
 */
export const QUICK_LIBRARY_SHARE_MS = 16000;

/** Measures one library; when its process dies mid-workload, records why and restarts it for the rest. */
async function runLibrary(lib: string, opts: BenchOptions, command: string | ChildCommand = 'child.ts', argsFor: (todo: Workload[]) => string[] = (todo) =>
  ['--lib', lib, '--workloads', todo.join(','), ...(opts.quick ? ['--quick'] : []), ...(opts.profile ? ['--profile'] : [])]): Promise<LibOutcome> {
  const out: LibOutcome = { results: [], losses: new Map(), describe: lib, peakRssMB: null, profiles: [] };
  const started = performance.now();
  const share = opts.quick ? QUICK_LIBRARY_SHARE_MS : Infinity;
  const left = (): number => share - (performance.now() - started);
  const shareNote = `not measured in --quick: ${lib}'s ${(QUICK_LIBRARY_SHARE_MS / 1000).toFixed(0)} s share of the run was used up`;
  const notePeak = (mb: number | undefined): void => {
    if (mb !== undefined) out.peakRssMB = Math.max(out.peakRssMB ?? 0, mb);
  };
  let todo = runOrder(opts.workloads, opts.quick);
  let threads = 1;
  // A software GPU adapter's label (from the library's 'info'): printed with each of its figures.
  let software: string | undefined;
  while (todo.length > 0) {
    if (left() <= 0) {
      for (const w of todo) out.results.push({ workload: w, library: lib, threads, value: null, unit: unitOf(w), note: shareNote });
      process.stdout.write(`  ${lib}: ${todo.join(', ')} ${shareNote}\n`);
      break;
    }
    let current: Workload | null = null;
    const run = await runChild(
      command,
      argsFor(todo),
      (m) => {
        if (m.type === 'info') {
          out.describe = m.describe;
          threads = m.threads;
          software = m.software;
        } else if (m.type === 'start') {
          current = m.workload;
          process.stdout.write(`  ${lib} ${m.workload} ... `);
        } else if (m.type === 'result') {
          out.results.push(m.result);
          notePeak(m.peakRssMB);
          if (m.losses && m.losses.length > 0) out.losses.set(m.result.workload, m.losses);
          todo = todo.filter((w) => w !== m.result.workload);
          current = null;
          // The adapter is named on the library's first line; each figure says what it is not.
          const sw = (m.result.software ?? software) !== undefined ? ' [software adapter: not a GPU speed]' : '';
          process.stdout.write(m.result.value === null ? `n/a (${m.result.note})\n` : `${fmtValue(m.result.value)} ${m.result.unit}${sw}${m.result.note ? ` (${m.result.note})` : ''}\n`);
        } else if (m.type === 'fatal') {
          for (const w of todo) out.results.push({ workload: w, library: lib, threads, value: null, unit: unitOf(w), note: m.message });
          todo = [];
          process.stdout.write(`  ${lib}: ${m.message}\n`);
        } else if (m.type === 'ceiling') {
          out.ceiling = { oneThread: m.oneThread, allThreads: m.allThreads, threads: m.threads };
          process.stdout.write(`  GEMM ceiling now (micro-kernel, L1-resident panels): ${m.oneThread.toFixed(1)} GFLOP/s on 1 thread, ${m.allThreads.toFixed(1)} on ${m.threads}\n`);
        } else if (m.type === 'profile') {
          process.stdout.write(`${m.text}\n`);
          out.profiles.push(m.text);
        } else if (m.type === 'done') {
          notePeak(m.peakRssMB);
        }
      },
      (m) => {
        const limit = m === null || m.type === 'info' ? 120000 : watchdogMs((m.type === 'start' ? m.workload : todo[0]) ?? opts.workloads[0], opts.quick);
        return Math.max(500, Math.min(limit, left()));
      },
    );
    if (todo.length === 0) break;
    const w: Workload = current ?? todo[0];
    const killed = run.failure?.startsWith('killed') ?? false;
    const note = killed && left() <= 0
      ? shareNote
      : killed
        ? `too slow to measure here: no result within ${(watchdogMs(w, opts.quick) / 1000).toFixed(0)} s, process killed`
        : `cannot run: ${run.failure ?? 'process ended without reporting'}`;
    process.stdout.write(current !== null ? `n/a (${note})\n` : `  ${lib} ${w}: n/a (${note})\n`);
    out.results.push({ workload: w, library: lib, threads, value: null, unit: unitOf(w), note });
    todo = todo.filter((x) => x !== w);
  }
  return out;
}

/**
 * The PyTorch peer: finds a python that imports torch (else prints one line and returns null),
 * writes the shared inputs to a temp folder, and measures in a python process whose environment
 * lacks OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, pins the thread count to gradkit's and does not
 * spin-wait (torchEnv says why).
 */
async function runTorch(opts: BenchOptions, outcomes: Map<string, LibOutcome>): Promise<{ outcome: LibOutcome; note: string; python: string; version: string } | null> {
  // A CPU backend's threads (webgpu reports 1: the GPU's parallelism is not threads).
  const gradkitThreads = [...outcomes].filter(([l]) => l.startsWith('gradkit-') && l !== WEBGPU_LIB).flatMap(([, o]) => o.results)[0]?.threads;
  const threads = gradkitThreads ?? (Number(process.env.GRADKIT_NUM_THREADS) || availableParallelism());
  const te = torchEnv(process.env, threads);
  const probe = probeTorch(opts.python, te.env);
  if (!probe.ok) {
    console.log(`  ${probe.message}`);
    return null;
  }
  const note = envNote(te);
  console.log(`  ${probe.python}: torch ${probe.version}; ${note}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'gradkit-bench-torch-'));
  try {
    writeTorchInputs(dir, opts.workloads, opts.quick);
    const outcome = await runLibrary('pytorch', opts, { file: probe.python, args: [], env: te.env }, (todo) => torchArgs(dir, todo, threads));
    return { outcome, note, python: probe.python, version: probe.version };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface MemoryOutcome {
  backend: string;
  epochs: { epoch: number; samples: number; seconds: number; loss: number; rssMB: number; heapMB: number; externalMB: number }[];
  peakRssMB: number | null;
  note?: string;
  error?: string;
}

async function runMemory(backend: string, opts: BenchOptions): Promise<MemoryOutcome> {
  // The reference backend is ~40× slower: shrink its epochs so the run stays minutes, and say so.
  const full = opts.quick ? MLP.epochSamples / 4 : MLP.epochSamples;
  const samples = backend === 'reference' ? full / 8 : full;
  const out: MemoryOutcome = { backend, epochs: [], peakRssMB: null };
  if (samples !== MLP.epochSamples) out.note = `epochs of ${samples} samples (not ${MLP.epochSamples}) to keep ${opts.quick ? '--quick' : 'the run'} short on '${backend}'`;
  // One deadline for the whole run (not per epoch): --quick must stay short even on a loaded machine.
  const deadline = performance.now() + (opts.quick ? 25000 : 600000);
  const run = await runChild('memory.ts', ['--backend', backend, '--epochs', String(opts.memoryEpochs), '--samples', String(samples)], (m) => {
    if (m.type === 'epoch') {
      out.epochs.push(m);
      process.stdout.write(`  epoch ${String(m.epoch).padStart(2)}: ${m.seconds.toFixed(2)} s, loss ${m.loss.toFixed(4)}, RSS ${m.rssMB} MB, heap ${m.heapMB} MB, external ${m.externalMB} MB\n`);
    } else if (m.type === 'done') out.peakRssMB = m.peakRssMB;
    else if (m.type === 'fatal') out.error = m.message;
  }, () => Math.max(100, deadline - performance.now()));
  if (run.failure) out.error = run.failure;
  return out;
}

function printLossSanity(outcomes: Map<string, LibOutcome>): void {
  console.log('\nTraining-loss sanity (mean of first vs last quarter of all steps run; same data and initial weights everywhere):');
  // The gradkit library with the most steps per workload is the yardstick for agreement.
  const yardstick = (w: Workload): [string, number[]] | undefined =>
    [...outcomes].filter(([lib, o]) => lib.startsWith('gradkit-') && (o.losses.get(w)?.length ?? 0) > 0)
      .map(([lib, o]): [string, number[]] => [lib, o.losses.get(w)!])
      .sort((a, b) => b[1].length - a[1].length)[0];
  for (const [lib, o] of outcomes) {
    for (const [w, losses] of o.losses) {
      if (!w.endsWith('-train')) continue;
      const t = lossTrend(losses);
      let line = `  ${lib.padEnd(18)} ${w.padEnd(13)} first loss ${losses[0].toFixed(4)}; `;
      if (t === null) line += `${losses.length} step${losses.length === 1 ? '' : 's'} ran, too few for a trend`;
      else line += `${t.first.toFixed(4)} → ${t.last.toFixed(4)} over ${losses.length} steps: ${t.decreased ? 'decreasing' : lib.startsWith('gradkit-') ? 'NOT DECREASING (check the model!)' : 'not decreasing'}`;
      const ref = yardstick(w);
      if (ref && ref[0] !== lib) {
        const a = lossAgreement(ref[1], losses);
        if (a) {
          const what = a.steps === 1 ? 'first loss' : `first ${a.steps} losses`;
          const verb = a.maxRelDiff < 1e-3 ? (a.steps === 1 ? 'matches' : 'match') : (a.steps === 1 ? 'DIFFERS FROM' : 'DIFFER FROM');
          line += `; ${what} ${verb} ${ref[0]} (max rel. diff ${a.maxRelDiff.toExponential(1)}`;
          // Where they part says what kind of difference it is (see lossAgreement).
          line += a.maxRelDiff < 1e-3 ? ')' : `; per step ${a.relDiffs.map((d) => d.toExponential(0)).join(', ')})`;
        }
      }
      console.log(line);
    }
  }
}

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  if (cnnFeatures() !== 800) throw new Error(`CNN spec gives ${cnnFeatures()} features after the second pool, expected 800`);
  const t0 = performance.now();
  const machine: MachineInfo = { ...machineInfo(), nodeFlags: CHILD_NODE_FLAGS };
  console.log(`gradkit benchmark${opts.quick ? ' (--quick)' : ''}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${(machine.loadAverage as number[]).join(' ')}`);
  if (relaxedFlag) console.log(`Every library process runs with ${relaxedFlag} (this Node keeps WebAssembly relaxed SIMD behind it; Node ≥ 22 has it on by default).`);
  console.log(`CNN: ${CNN.c1}/${CNN.c2} channels, ${cnnFeatures()} features before the linear layer. Numbers are medians; the machine may be shared, so expect noise.\n`);

  // Which gradkit backends exist here (asked in a child so no worker pool starts in this process).
  const backends: BackendEntry[] = [];
  const listing = await runChild('child.ts', ['--list'], (m) => { if (m.type === 'backends') backends.push(...m.backends); }, () => 120000);
  if (backends.length === 0) console.log(`gradkit backends could not be listed: ${listing.failure ?? 'no answer'}`);
  // webgpu needs a device acquired first: probed in a process of its own (a driver crash there
  // costs only webgpu), and only when it would be run. No adapter: one line, and the run goes on.
  if (libSelected(WEBGPU_LIB, opts.libs)) {
    const found: BackendEntry[] = [];
    const probe = await runChild('child.ts', ['--probe-webgpu'], (m) => { if (m.type === 'backends') found.push(...m.backends); }, () => 90000);
    const gpu = found[0] ?? { name: 'webgpu', priority: 0, available: false, error: `the probe failed (${probe.failure ?? 'no answer'})` };
    if (gpu.available) backends.push(gpu);
    else console.log(`gradkit backend 'webgpu': skipped, ${gpu.error ?? 'no WebGPU adapter'}`);
  }
  backends.sort((a, b) => b.priority - a.priority);
  for (const b of backends) {
    console.log(`gradkit backend '${b.name}' (priority ${b.priority}): ${b.available ? b.describe ?? 'available' : `not available here${b.error ? `: ${b.error}` : ''}`}`);
  }
  const gradkitLibs = backends.filter((b) => b.available).map((b) => `gradkit-${b.name}`);
  // The raw-ops comparison reads synchronously, which webgpu cannot.
  const rawLibs = gradkitLibs.filter((l) => l !== WEBGPU_LIB).map((l) => `rawops-${l.slice('gradkit-'.length)}`);
  const libs = [...gradkitLibs, ...rawLibs, ...PEERS].filter((l) => libSelected(l, opts.libs));
  for (const wanted of opts.libs ?? []) {
    // (webgpu without an adapter has had its one line already.)
    if (wanted !== 'gradkit' && wanted !== WEBGPU_LIB && !libs.includes(wanted)) console.log(`--libs ${wanted}: no such library available here (gradkit backends: ${gradkitLibs.join(', ') || 'none'}; rawops-<backend> for the same backends)`);
  }

  const outcomes = new Map<string, LibOutcome>();
  let torch: { note: string; python: string; version: string } | null = null;
  const describeOf = (lib: string): string | undefined => backends.find((b) => `gradkit-${b.name}` === lib && b.software)?.describe;
  for (const lib of libs) {
    // A software adapter is named at once: none of its figures is a GPU speed.
    console.log(`\n${lib}${describeOf(lib) ? `: ${describeOf(lib)}` : ''}`);
    if (lib === 'pytorch') {
      const t = await runTorch(opts, outcomes);
      if (t === null) continue;
      torch = { note: t.note, python: t.python, version: t.version };
      outcomes.set(lib, t.outcome);
      console.log(`  ${t.outcome.describe}; peak RSS ${t.outcome.peakRssMB ?? '?'} MB`);
      continue;
    }
    const o = await runLibrary(lib, opts);
    outcomes.set(lib, o);
    console.log(`  ${o.describe}; peak RSS ${o.peakRssMB ?? '?'} MB`);
  }
  const results = [...outcomes.values()].flatMap((o) => o.results);

  let memory: MemoryOutcome | null = null;
  // The memory run's training loop reads synchronously: a CPU backend's.
  const best = backends.find((b) => b.available && b.name !== 'webgpu');
  if (opts.memory && best && libSelected(`gradkit-${best.name}`, opts.libs)) {
    console.log(`\nMemory: MLP training on gradkit-${best.name}, ${opts.memoryEpochs} epochs`);
    memory = await runMemory(best.name, opts);
  }

  console.log('\nResults (higher is better):');
  console.log(formatTable(results));
  console.log('\nRatios, best gradkit backend ÷ peer (> 1: gradkit faster):');
  const ratios = computeRatios(results);
  console.log(formatRatios(ratios));
  const torchLine = formatPeerRatios(ratios, 'pytorch', 'gradkit ÷ PyTorch');
  if (torchLine && torch) console.log(`\n${torchLine}\n${torch.note[0].toUpperCase()}${torch.note.slice(1)}; same shapes, batch sizes, data and initial weights.`);
  printLossSanity(outcomes);
  const ceilings = printCeilings(outcomes, results);

  const peaks = [...outcomes].map(([lib, o]) => `${lib} ${o.peakRssMB ?? '?'} MB`).join(', ');
  console.log(`\nPeak RSS per library process: ${peaks || 'none'}`);
  let memorySummary: Record<string, unknown> | null = null;
  if (memory) {
    if (memory.epochs.length >= 2) {
      const v = memoryVerdict(memory.epochs.map((e) => e.rssMB));
      const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
      console.log(`Memory run (gradkit-${memory.backend}${memory.note ? `, ${memory.note}` : ''}): RSS after epoch 1 ${v.baselineMB} MB; epochs 2–${memory.epochs.length}: median ${v.levelMB} MB, range ${v.minMB}–${v.maxMB} MB (largest distance from the median ${pct(v.maxChange)}; largest vs epoch 1 ${pct(v.growthOverFirst)}): ${v.flat ? 'flat within 10%' : 'NOT flat within 10%'}; peak RSS ${memory.peakRssMB ?? '?'} MB${memory.error ? `; stopped early: ${memory.error}` : ''}`);
      memorySummary = { library: `gradkit-${memory.backend}`, ...v, peakRssMB: memory.peakRssMB, epochs: memory.epochs, ...(memory.note ? { note: memory.note } : {}), ...(memory.error ? { error: memory.error } : {}) };
    } else {
      console.log(`Memory run failed: ${memory.error ?? 'fewer than two epochs completed'}`);
      memorySummary = { library: `gradkit-${memory.backend}`, error: memory.error ?? 'fewer than two epochs completed', epochs: memory.epochs };
    }
  }

  if (opts.json) {
    const descriptions = Object.fromEntries([...outcomes].map(([lib, o]) => [lib, o.describe]));
    writeJsonAtomic(opts.json, buildReport(machine, results, {
      quick: opts.quick,
      libraries: descriptions,
      peakRssMB: Object.fromEntries([...outcomes].map(([lib, o]) => [lib, o.peakRssMB])),
      ratios,
      ...(ceilings ? { gemmCeiling: ceilings } : {}),
      ...(memorySummary ? { memory: memorySummary } : {}),
      ...(torch ? { pytorch: { python: torch.python, torch: torch.version, environment: torch.note } } : {}),
    }));
    console.log(`\nWrote ${opts.json}`);
  }
  console.log(`\nTotal time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

/**
 * The SGEMM figures as a share of the ceiling measured in the same process: how much of what the
 * machine allowed at that moment the whole GEMM (packing, cache misses, edges, threads) reached.
 */
function printCeilings(outcomes: Map<string, LibOutcome>, results: readonly BenchResult[]): Record<string, unknown> | null {
  const o = outcomes.get('gradkit-wasm');
  if (!o?.ceiling) return null;
  const c = o.ceiling;
  const shares: Record<string, number> = {};
  const parts: string[] = [];
  for (const r of results) {
    if (r.library !== 'gradkit-wasm' || !r.workload.startsWith('sgemm') || r.value === null) continue;
    const share = r.value / (r.threads > 1 ? c.allThreads : c.oneThread);
    shares[r.workload] = Number(share.toFixed(3));
    parts.push(`${r.workload} ${(100 * share).toFixed(0)}%`);
  }
  console.log(`\nGEMM ceiling measured in the gradkit-wasm process (its micro-kernel on L1-resident panels): ${c.oneThread.toFixed(1)} GFLOP/s on 1 thread, ${c.allThreads.toFixed(1)} on ${c.threads}.`);
  if (parts.length > 0) console.log(`gradkit-wasm SGEMM as a share of it: ${parts.join(', ')}`);
  return { oneThread: Number(c.oneThread.toFixed(2)), allThreads: Number(c.allThreads.toFixed(2)), threads: c.threads, shares };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
